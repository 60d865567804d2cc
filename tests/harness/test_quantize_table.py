"""The variant comparison table: every value whole on an 80-column console."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tinyperf.quantize.evaluate import evaluate_model
from tinyperf.quantize.pipeline import DEFAULT_KERNELS, QuantizePlan, reference_record
from tinyperf.quantize.table import REFERENCE, comparison_frame, rich_table, variant_row
from tinyperf.outputs.report import fmt
from tests.harness.cli_helpers import rendered
from tinyperf.workloads.catalog import KWS01

MIN_WINDOW = 0.1
KERNELS = list(DEFAULT_KERNELS)


@pytest.fixture(scope="module")
def kws_frame(models_dir: Path, data_dir: Path, tmp_path_factory):
    """The official kws01 int8 model measured as `tinyperf quantize` measures every variant."""
    out = tmp_path_factory.mktemp("quantize-table")
    record = reference_record(QuantizePlan(workload="kws01", models_dir=str(models_dir)), KWS01)
    assert record is not None
    evaluation = evaluate_model(KWS01, REFERENCE, Path(record["path"]), str(data_dir / "kws01"), out / "runs",
                                MIN_WINDOW, KERNELS, None, set())
    assert not evaluation.errors, evaluation.errors
    return comparison_frame([variant_row(KWS01, record, evaluation, out, KERNELS, MIN_WINDOW)], KERNELS)


def test_every_value_is_whole_at_80_columns(kws_frame) -> None:
    text = rendered(rich_table(KWS01, kws_frame, KERNELS, MIN_WINDOW), width=80)
    assert "…" not in text
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    r = kws_frame.iloc[0]
    assert text.count(f"│ {REFERENCE} ") >= 2  # the variant column starts every part of the split table
    assert r["input_dtype"] in text
    assert f"{r['size_bytes'] / 1024:,.1f}" in text and f"{r['gzip_bytes'] / 1024:,.1f}" in text
    assert f"{r['accuracy']:.2f}" in text and f"{r['accuracy_heldout']:.2f}" in text
    for k in KERNELS:
        assert fmt(r[f"latency_ms_{k}"], ".3f") in text
    assert "ok" in text


def test_wide_console_keeps_one_table(kws_frame) -> None:
    text = rendered(rich_table(KWS01, kws_frame, KERNELS, MIN_WINDOW), width=200)
    assert text.count(f"│ {REFERENCE} ") == 1 and "held-out" in text and "xnnpack" in text


def test_ram_column_shows_the_arena_and_a_variant_tflm_cannot_run_is_missing_with_why(kws_frame, models_dir: Path,
                                                                                       tmp_path: Path) -> None:
    from tinyperf.core.memory import model_memory

    r = kws_frame.iloc[0]
    expected = model_memory(Path(r["file"]))["arena_bytes"]
    assert r["arena_bytes"] == expected and r["accuracy_kernels"] == "tflm-reference"
    # the published kws "float32" file is dynamic-range quantized (a hybrid), which TFLM has no kernels for
    hybrid = {"workload": "kws01", "variant": "dynamic", "title": "dynamic-range", "status": "ok",
              "path": str(models_dir / KWS01.reference_float_model)}
    frame = comparison_frame([variant_row(KWS01, hybrid, None, tmp_path, KERNELS, MIN_WINDOW),
                              *kws_frame.to_dict("records")], KERNELS)
    row = frame.iloc[0]
    assert row["arena_bytes"] is pd.NA and "hybrid" in row["memory_note"]
    text = rendered(rich_table(KWS01, frame, KERNELS, MIN_WINDOW), width=200)
    line = next(ln for ln in text.splitlines() if ln.startswith("│ dynamic"))
    assert "RAM KB" in text and f"{expected / 1024:,.1f}" in text
    ram = [c.strip() for c in line.strip("│").split("│")][5]  # variant, status, I/O, size, gzip, RAM
    assert ram == "–"
