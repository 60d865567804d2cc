"""The comparison of all variants: one row each, as a DataFrame (quantize.csv / .parquet) and a
rich table. Missing values stay missing (NA, shown as –), never 0.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from tinyperf.core.memory import model_memory
from tinyperf.quantize.evaluate import Evaluation
from tinyperf.quantize.inspect import gzip_size, model_summary
from tinyperf.quantize.recipes import BASELINE
from tinyperf.outputs.report import MISSING, FittedTable, fmt, kib
from tinyperf.engine.summary import RULES_MIN_WINDOW_S
from tinyperf.workloads.spec import Workload

REFERENCE = "reference"  # the official int8 .tflite, evaluated alongside for comparison


def _value(d: dict[str, Any], key: str) -> float | None:
    v = d.get(key)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def metric_name(workload: Workload) -> str:
    return workload.scoring.column


def variant_row(workload: Workload, record: dict[str, Any], evaluation: Evaluation | None, out_dir: Path,
                kernels: list[str], min_window: float) -> dict[str, Any]:
    metric = metric_name(workload)
    row: dict[str, Any] = {
        "workload": workload.id, "variant": record["variant"], "title": record.get("title"),
        "status": record.get("status"), "file": None, "sha256": record.get("sha256"),
        "size_bytes": record.get("size_bytes"), "gzip_bytes": None, "input_dtype": None, "output_dtype": None,
        "metric": metric,
    }
    path = out_dir / record["file"] if record.get("file") else None
    if record.get("path"):
        path = Path(record["path"])
    if path is not None and path.is_file():
        row["file"] = str(path)
        row["size_bytes"] = path.stat().st_size
        row["gzip_bytes"] = gzip_size(path)
        try:
            row.update(model_summary(path))
        except Exception as exc:  # statistics are extras; a model LiteRT cannot open is reported below
            row["weights_error"] = str(exc)
        # RAM on a microcontroller: the TFLM arena; a variant TFLM cannot run keeps it missing, with why
        memory = model_memory(path)
        row.update({k: memory.get(k) for k in ("arena_bytes", "arena_nonpersistent_bytes", "arena_persistent_bytes",
                                               "arena_method", "memory_note")})
    errors = [record["error"]] if record.get("error") else []
    if evaluation is not None:
        acc = evaluation.accuracy
        row["accuracy"] = _value(acc, metric)
        row["accuracy_arithmetic"] = acc.get("arithmetic")
        row["accuracy_kernels"] = acc.get("kernels")
        row["accuracy_heldout"] = _value(evaluation.heldout, metric)
        row["n_files"] = acc.get("n_files")
        row["n_inferences"] = acc.get("n_inferences")
        row["heldout_files"] = evaluation.heldout.get("n_files")
        for kernel in kernels:
            perf = evaluation.performance.get(kernel, {})
            row[f"latency_ms_{kernel}"] = _value(perf, "latency_ms")
            row[f"throughput_ips_{kernel}"] = _value(perf, "throughput_ips")
        row["runs"] = json.dumps(evaluation.runs)
        errors += evaluation.errors
    row["min_window_s"] = min_window
    row["mlperf_valid_window"] = min_window >= RULES_MIN_WINDOW_S
    row["recipe_note"] = record.get("recipe_note")
    calibration = record.get("calibration") or {}
    row["calibration"] = calibration.get("selection")
    row["build_seconds"] = record.get("build_seconds")
    row["error"] = " | ".join(errors) or None
    return row


def comparison_frame(rows: list[dict[str, Any]], kernels: list[str]) -> pd.DataFrame:
    """Rows plus the deltas and speed-ups against the float32 variant."""
    df = pd.DataFrame(rows)
    for col in ("accuracy", "accuracy_heldout", *(f"latency_ms_{k}" for k in kernels)):
        if col not in df:
            df[col] = None
        df[col] = pd.to_numeric(df[col], errors="coerce")
    base = df[(df["variant"] == BASELINE) & (df["status"] == "ok")]
    b = base.iloc[0] if len(base) else None
    nan = float("nan")
    df["delta_vs_float32"] = df["accuracy"] - b["accuracy"] if b is not None else nan
    df["delta_heldout_vs_float32"] = df["accuracy_heldout"] - b["accuracy_heldout"] if b is not None else nan
    for k in kernels:
        df[f"speedup_{k}"] = b[f"latency_ms_{k}"] / df[f"latency_ms_{k}"] if b is not None else nan
    for col in ("size_bytes", "gzip_bytes", "n_files", "n_inferences", "heldout_files", "weights",
                "max_distinct_per_channel", "arena_bytes", "arena_nonpersistent_bytes", "arena_persistent_bytes"):
        if col in df:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    return df


def write_frame(df: pd.DataFrame, out_dir: Path) -> list[Path]:
    paths = [out_dir / "quantize.csv"]
    df.to_csv(paths[0], index=False)
    try:
        df.to_parquet(out_dir / "quantize.parquet", index=False)
        paths.append(out_dir / "quantize.parquet")
    except Exception as exc:  # never lose the CSV because of a parquet type quirk
        (out_dir / "quantize.parquet.error").write_text(str(exc))
    return paths


def _kb(v: Any) -> str:
    return fmt(None if v is None or pd.isna(v) else float(v) / 1024.0, ",.1f")


def _quality(workload: Workload, v: Any) -> str:
    return fmt(v, f".{workload.scoring.fine_digits}f")


def _delta(workload: Workload, v: Any) -> str:
    return fmt(v, f"+.{workload.scoring.fine_digits}f")


#: the accuracy arithmetic in a table cell
ARITHMETIC_SHORT = {"tflm-reference": "TFLM", "reference": "LiteRT ref", "builtin": "LiteRT", "xnnpack": "XNNPACK"}


def window_warning(min_window: float) -> str | None:
    if min_window >= RULES_MIN_WINDOW_S:
        return None
    return (f"latency windows of {min_window:g} s are NOT an MLPerf-valid window length (the rules need "
            f"{RULES_MIN_WINDOW_S:g} s): a quick comparison; pass --min-window {RULES_MIN_WINDOW_S:g} for valid figures")


def rich_table(workload: Workload, df: pd.DataFrame, kernels: list[str], min_window: float) -> FittedTable:
    """One row per variant; on a narrow console it splits into parts that repeat the variant column."""
    unit = workload.scoring.heading()
    table = FittedTable(title=f"{workload.id}: quantization and compression variants")
    table.add_column("variant")
    table.add_column("status")
    table.add_column("I/O")
    for header in ("size KB", "gzip KB", "RAM KB\n(arena)", "sparsity", unit, "Δ vs fp32", f"{unit}\nheld-out"):
        table.add_column(header, justify="right")
    table.add_column("arith-\nmetic")
    for k in kernels:
        table.add_column(f"ms\n{k}", justify="right")
        table.add_column("speed-\nup", justify="right")
    for _, r in df.iterrows():
        status = "[green]ok[/]" if r["status"] == "ok" and not r.get("error") else (
            "[yellow]partial[/]" if r["status"] == "ok" else "[red]failed[/]")
        io = r.get("input_dtype")
        cells = [str(r["variant"]), status, str(io) if isinstance(io, str) else MISSING, _kb(r.get("size_bytes")),
                 _kb(r.get("gzip_bytes")), kib(r.get("arena_bytes")), fmt(r.get("weight_sparsity"), ".0%"),
                 _quality(workload, r.get("accuracy")), _delta(workload, r.get("delta_vs_float32")),
                 _quality(workload, r.get("accuracy_heldout")), ARITHMETIC_SHORT.get(r.get("accuracy_kernels"), MISSING)]
        for k in kernels:
            cells += [fmt(r.get(f"latency_ms_{k}"), ".3f"), fmt(r.get(f"speedup_{k}"), ".2f", MISSING) + (
                "×" if pd.notna(r.get(f"speedup_{k}")) else "")]
        table.add_row(*cells)
    caption = ["– = not measured", f"accuracy: every sample{' and window' if workload.window_bytes else ''}, in "
               "TFLite Micro's arithmetic (TFLM) where TFLM runs the variant, else LiteRT's reference kernels (LiteRT ref)",
               "RAM: the TFLite Micro tensor arena (– where TFLM cannot run the variant: see below)"]
    caption.append(f"latency: median over 5 windows of >= {min_window:g} s"
                   + (" (short: see the warning below)" if min_window < RULES_MIN_WINDOW_S else ""))
    table.caption = "; ".join(caption)
    return table
