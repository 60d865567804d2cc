"""Run the TensorFlow conversion subprocess and read back one record per requested variant.

TensorFlow is slow to import and must never sit inside the process that times inferences, so
conversion happens in `python -m tinyperf.quantize.build`, run by the same worker routine as the
default models (tinyperf.engine.tf_worker).
The JSON records it writes are the truth; its stdout lines only drive the progress display.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from rich.markup import escape

from tinyperf.core.console import console
from tinyperf.engine.default_models import missing_build_packages
from tinyperf.engine.tf_worker import module_command, run_worker, spawn
from tinyperf.core.errors import ModelError
from tinyperf.quantize.build import variant_stem
from tinyperf.quantize.recipes import RECIPES

BUILD_MODULE = "tinyperf.quantize.build"
BUILD_TIMEOUT_S = 3600


def build_command(workload_id: str, keras_path: Path, out_dir: Path, variants: list[str],
                  calibration: Path | None, calibration_info: Path | None, sparsity: float, clusters: int) -> list[str]:
    cmd = module_command(BUILD_MODULE, "--workload", workload_id, "--keras", str(keras_path),
                         "--out", str(out_dir), "--variants", ",".join(variants), "--sparsity", str(sparsity),
                         "--clusters", str(clusters))
    if calibration is not None:
        cmd += ["--calibration", str(calibration)]
    if calibration_info is not None:
        cmd += ["--calibration-info", str(calibration_info)]
    return cmd


def missing_record(workload_id: str, variant: str, why: str) -> dict[str, Any]:
    recipe = RECIPES[variant]
    return {"workload": workload_id, "variant": variant, "title": recipe.title, "recipe_note": recipe.note,
            "io": recipe.io, "status": "failed", "error": why}


def build_variants(workload_id: str, keras_path: Path, out_dir: Path, variants: list[str],
                   calibration: Path | None, calibration_info: Path | None, sparsity: float,
                   clusters: int) -> list[dict[str, Any]]:
    """Convert every variant in one subprocess; returns their records (failed ones say why)."""
    missing = missing_build_packages()
    if importlib.util.find_spec("tensorflow_model_optimization") is None:
        missing.append("tensorflow-model-optimization")
    if missing:
        raise ModelError(keras_path, f"converting needs {' and '.join(missing)}, which is not installed",
                         "`pip install tensorflow tf-keras tensorflow-model-optimization`")
    out_dir.mkdir(parents=True, exist_ok=True)
    for variant in variants:  # never report a record left over from an earlier build in this folder
        (out_dir / f"{variant_stem(workload_id, variant)}.json").unlink(missing_ok=True)
    cmd = build_command(workload_id, keras_path, out_dir, variants, calibration, calibration_info, sparsity, clusters)
    log_path = out_dir / "build.log"
    title = f"converting {len(variants)} variant(s) with TensorFlow"
    with console.status(title) as status, log_path.open("w") as log:
        def show(line: str) -> None:
            log.write(line + "\n")
            kind, _, text = line.partition(": ")
            if kind == "done":
                console.print(f"  [green]✓[/] {escape(text)}", highlight=False)
            elif kind == "failed":
                console.print(f"  [red]✗ {escape(text)}[/]", highlight=False)
            elif kind == "step":
                status.update(f"{escape(f'[{text}]')} {title}")

        result = run_worker(lambda stderr: spawn(cmd, stderr), show, BUILD_TIMEOUT_S)
        log.write("--- stderr ---\n" + result.stderr)
    if result.returncode != 0:
        raise ModelError(keras_path, f"the TensorFlow converter failed before building any variant ({result.why()})",
                         f"see {log_path} for the full output")
    records = []
    for variant in variants:
        path = out_dir / f"{variant_stem(workload_id, variant)}.json"
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            records.append(missing_record(workload_id, variant, f"the converter wrote no record (see {log_path})"))
    return records

