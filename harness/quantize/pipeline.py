"""`tinyperf quantize <workload>`: build every variant, measure each one, compare them.

Output folder layout:
    quantize.json               what was asked, the Keras model, calibration, machine, timings
    quantize.csv / .parquet     one row per variant (size, gzip size, accuracy, latency, deltas)
    variants/                   <workload>_<variant>.tflite + .json build records, calibration.npy/.json, build.log
    runs/<variant>/accuracy/... ordinary run directories (`tinyperf show` / load_run work on them)
    runs/<variant>/performance-<kernels>/...
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tinyperf.device_runners.host import KERNELS
from tinyperf.core import config
from tinyperf.core.console import console
from tinyperf.core.errors import DatasetError, ModelError, ResultsError, TinyperfError
from tinyperf.engine.models import resolve_model
from tinyperf.engine.orchestrator import RunPlan, dataset_for
from tinyperf.core.provenance import machine_metadata
from tinyperf.quantize.builder import build_variants
from tinyperf.quantize.evaluate import Evaluation, evaluate_model
from tinyperf.quantize.recipes import (DEFAULT_CALIBRATION, DEFAULT_CLUSTERS, DEFAULT_SPARSITY, RECIPES, VARIANTS)
from tinyperf.quantize.sources import CAVEAT, calibration_set, keras_model_path, path_sha256
from tinyperf.quantize.table import REFERENCE, comparison_frame, rich_table, variant_row, window_warning, write_frame
from tinyperf.core.files import atomic_write_text, json_default
from tinyperf.workloads.catalog import get_workload
from tinyperf.workloads.dataset import Dataset
from tinyperf.workloads.spec import Workload

DEFAULT_MIN_WINDOW = 1.0
DEFAULT_KERNELS = ("xnnpack", "reference")


@dataclass
class QuantizePlan:
    workload: str
    variants: list[str] = field(default_factory=lambda: list(VARIANTS))
    keras_model: str | None = None
    keras_dir: str | None = None
    models_dir: str | None = None
    data_dir: str | None = None
    calibration: int = DEFAULT_CALIBRATION
    out: str | None = None
    min_window: float = DEFAULT_MIN_WINDOW
    kernels: list[str] = field(default_factory=lambda: list(DEFAULT_KERNELS))
    threads: int | None = None
    sparsity: float = DEFAULT_SPARSITY
    clusters: int = DEFAULT_CLUSTERS
    reference: bool = True


@dataclass
class QuantizeResult:
    out: Path
    frame: pd.DataFrame
    ok: bool


def validate(plan: QuantizePlan) -> None:
    if not 0.0 <= plan.sparsity < 1.0:
        raise TinyperfError("--sparsity", f"{plan.sparsity:g} is outside [0, 1)", "pass a fraction such as 0.5")
    if plan.clusters < 2:
        raise TinyperfError("--clusters", f"{plan.clusters} clusters", "pass 2 or more (16 = 4-bit weights)")
    if plan.min_window <= 0:
        raise TinyperfError("--min-window", f"{plan.min_window:g} s", "pass a positive number of seconds")
    if plan.calibration < 1:
        raise TinyperfError("--calibration", f"{plan.calibration} samples", "pass 1 or more")
    bad = [k for k in plan.kernels if k not in KERNELS]
    if bad or not plan.kernels:
        raise TinyperfError("--kernels", f"unknown kernel back-end(s) {', '.join(bad) or '(none)'}",
                            f"use a comma-separated list of {', '.join(KERNELS)}")
    unknown = [v for v in plan.variants if v not in RECIPES]
    if unknown or not plan.variants:
        raise TinyperfError("--variants", f"unknown variant(s) {', '.join(unknown) or '(none)'}",
                            f"use a comma-separated list of {', '.join(VARIANTS)}")


def open_dataset(plan: QuantizePlan, workload: Workload) -> Dataset:
    dataset = dataset_for(RunPlan(workloads=[workload.id], data_dir=plan.data_dir, workloads_explicit=True), workload)
    if dataset is None:
        raise DatasetError(None, f"quantize needs the {workload.id} sample set (for calibration and accuracy)",
                           "pass --data-dir (or set TINYPERF_DATA) to a folder holding "
                           f"{workload.id}/y_labels.csv, or build it with `tinyperf datasets build {workload.id}`")
    return dataset


def output_folder(plan: QuantizePlan, workload: Workload) -> Path:
    if plan.out:
        out = Path(plan.out).expanduser()
    else:
        out = config.results_dir() / "quantize" / f"{workload.id}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    try:
        (out / "variants").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(out, f"cannot write here ({exc.strerror or exc})", "pass a writable folder with --out") from None
    return out.resolve()


def reference_record(plan: QuantizePlan, workload: Workload) -> dict[str, Any] | None:
    """The official int8 .tflite, if one is configured: the yardstick for the int8 variant."""
    if not plan.reference:
        return None
    try:
        model = resolve_model(workload, None, plan.models_dir, allow_default=False)
    except ModelError:
        return None
    return {"workload": workload.id, "variant": REFERENCE, "title": "official MLPerf Tiny int8 .tflite",
            "status": "ok", "path": str(model.path), "sha256": model.sha256, "size_bytes": model.size,
            "recipe_note": "the published reference model, evaluated the same way for comparison"}


def _save_meta(out: Path, meta: dict[str, Any]) -> None:
    atomic_write_text(out / "quantize.json", json.dumps(meta, indent=2, default=json_default) + "\n")


def run_quantize(plan: QuantizePlan) -> QuantizeResult:
    validate(plan)
    started = time.monotonic()
    workload = get_workload(plan.workload)
    keras_path = keras_model_path(workload, plan.keras_model, plan.keras_dir, plan.models_dir)
    dataset = open_dataset(plan, workload)
    out = output_folder(plan, workload)
    variants_dir = out / "variants"
    console.print(f"quantize [bold]{workload.id}[/]: {keras_path} -> {out}", highlight=False)
    meta: dict[str, Any] = {"plan": asdict(plan), "workload": workload.id,
                            "keras_model": {"path": str(keras_path), "sha256": path_sha256(keras_path)},
                            "dataset": {"path": str(dataset.root), "sha256": dataset.content_sha256,
                                        "files": len(dataset)},
                            "machine": machine_metadata(), "status": "running"}
    calibration_file = calibration_info = None
    exclude: set[str] = set()
    if any(RECIPES[v].calibrated for v in plan.variants):
        calib = calibration_set(workload, dataset, plan.calibration)
        calibration_file, calibration_info = variants_dir / "calibration.npy", variants_dir / "calibration.json"
        np.save(calibration_file, calib.inputs)
        calibration_info.write_text(json.dumps(calib.description, indent=2) + "\n")
        exclude = set(calib.files)
        meta["calibration"] = calib.description
        console.print(f"calibration: {calib.description['selection']} [dim]({CAVEAT})[/]", highlight=False)
    _save_meta(out, meta)

    records = build_variants(workload.id, keras_path, variants_dir, plan.variants, calibration_file,
                             calibration_info, plan.sparsity, plan.clusters)
    reference = reference_record(plan, workload)
    if reference is not None:
        records.append(reference)
    evaluations: dict[str, Evaluation] = {}
    runnable = [r for r in records if r.get("status") == "ok"]
    for i, record in enumerate(runnable, start=1):
        name = record["variant"]
        console.rule(f"[{i}/{len(runnable)}] {name}: {record.get('title')}")
        model = Path(record["path"]) if record.get("path") else variants_dir / record["file"]
        evaluations[name] = evaluate_model(workload, name, model, str(dataset.root), out / "runs", plan.min_window,
                                           plan.kernels, plan.threads, exclude)
    rows = [variant_row(workload, r, evaluations.get(r["variant"]), variants_dir, plan.kernels, plan.min_window)
            for r in records]
    frame = comparison_frame(rows, plan.kernels)
    write_frame(frame, out)
    ok = bool(len(frame)) and frame["error"].isna().all() and (frame["status"] == "ok").all()
    meta.update({"status": "complete" if ok else "complete with failures",
                 "elapsed_s": round(time.monotonic() - started, 1),
                 "failures": {r["variant"]: r["error"] for r in frame.to_dict("records") if r.get("error")}})
    _save_meta(out, meta)
    show(workload, frame, plan, out)
    return QuantizeResult(out, frame, ok)


def show(workload: Workload, frame: pd.DataFrame, plan: QuantizePlan, out: Path) -> None:
    console.print(rich_table(workload, frame, plan.kernels, plan.min_window))
    for r in frame.to_dict("records"):
        note = r.get("recipe_note")
        if note:
            console.print(f"[dim]{r['variant']}: {note}[/]", highlight=False)
    if "calibration" in frame and frame["calibration"].notna().any():
        console.print(f"[dim]calibration: {CAVEAT}[/]", highlight=False)
    warning = window_warning(plan.min_window)
    if warning:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    for r in frame.to_dict("records"):
        if isinstance(r.get("memory_note"), str) and pd.isna(r.get("arena_bytes")):
            console.print(f"[dim]{r['variant']}: RAM not measured: {r['memory_note']}[/]", highlight=False, soft_wrap=True)
    for r in frame.to_dict("records"):
        if r.get("error"):
            console.print(f"[red]{r['variant']} failed:[/] {r['error']}", highlight=False, soft_wrap=True)
    console.print(f"results: [bold]{out}[/] (quantize.csv, quantize.parquet, runs/, variants/)", highlight=False)
