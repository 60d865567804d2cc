"""A MLPerf Tiny submission tree from tinyperf runs, in the layout the official checker walks.

    <out>/<division>/<submitter>/
        results/<system>/<kws|vww|ic|ad>/<performance|accuracy|energy>/{log.txt,results.json,results.txt}
        systems/<system>.json
        code/<system>/README.md   (or a copy of the folder the user names)

results.txt is the official runner's file byte for byte where its format is fixed
(tinyperf.outputs.results_txt); log.txt is the runner's log style rebuilt from the journal, headed by
where the figures came from; results.json is the runner's per-window list. The layout is the v1.3
one (v1.4 adds only the ic2 benchmark), which the checker in ../shared/mlperf-tiny/tools accepts.

A result the rules reject (windows too short, not 5 windows, accuracy below the closed-division
target, a missing required mode, synthetic weights) is refused, naming the run and the reason,
unless `include_invalid` is set; then it is written as the official runner writes it (its ERROR
line instead of the median), so the checker rejects it too.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tinyperf.core.errors import ResultsError, TinyperfError
from tinyperf.core.files import atomic_write_text, json_default
from tinyperf.engine.rundir import Run
from tinyperf.engine.summary import is_invalid
from tinyperf.outputs.results_txt import CRLF, MODES, _rows, mode_results_txt
from tinyperf.workloads.catalog import WORKLOADS

#: checker versions whose tree layout this writes (results/<system>/<model>/<mode>/...)
VERSIONS = ("v1.3", "v1.4")
DEFAULT_VERSION = "v1.3"
DIVISIONS = ("closed", "open")
#: the benchmark folder name of each workload in a submission
BENCHMARK = {"kws01": "kws", "vww01": "vww", "ic01": "ic", "ad01": "ad"}
REQUIRED_MODES = ("performance", "accuracy")
STATUSES = ("available", "preview", "rdi")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")

#: every field of a v1.3 systems/<system>.json, in the order of a real accepted submission
SYSTEM_FIELDS = (
    "Submitter", "Division", "Status", "Board Name",
    "Board Memory capacity (not including SoC, processor, or accelerator)", "Board Memory type",
    "Board storage capacity", "Board storage type", "SoC Name",
    "SoC Memory capacity (not including processor or accelerator)", "SoC Memory type", "SoC storage capacity",
    "SoC storage type", "Processor(s) Name", "Processor(s) Frequencies", "Processor memory type and capacity",
    "Processor storage type and capacity", "Accelerator", "Accelerator(s) Frequencies",
    "Accelerator memory type and capacity", "Accelerator storage type and capacity", "Hardware Notes",
    "Inference Framework", "Software Libraries", "Operating System ", "Other Software Stack", "Software Notes",
    "Quantization Method", "Training framework (open division)", "ML Model Compiler(s)", "General Compiler(s)",
    "Other Software", "Training and Quantization Notes",
)


@dataclass
class Exported:
    """What was written: one entry per benchmark and mode, and the refusals that were overridden."""

    root: Path
    entries: list[tuple[str, str, Path]] = field(default_factory=list)  # (benchmark, mode, folder)
    invalid: list[str] = field(default_factory=list)


def check_name(option: str, value: str) -> str:
    """Submitter and system names become folder names the checker walks: no spaces, slashes or dots first."""
    if not _NAME.fullmatch(value or ""):
        raise TinyperfError(option, f"{value!r} cannot be a submission folder name",
                            "use letters, digits and _ . + - only, starting with a letter or digit "
                            "(e.g. NUCLEO_L4R5ZI-P)")
    return value


def load_system_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise TinyperfError(path, "does not exist", "pass the system description JSON with --system-json FILE") from None
    except json.JSONDecodeError as exc:
        raise TinyperfError(path, f"is not valid JSON ({exc.msg} at line {exc.lineno})",
                            "fix the file (a systems/<system>.json of a real submission is a template)") from None
    if not isinstance(data, dict):
        raise TinyperfError(path, "must hold one JSON object of field: value", "see systems/*.json in a submission")
    return data


def system_description(runs: list[Run], submitter: str, division: str, given: dict[str, Any] | None) -> dict[str, Any]:
    """Every field the checker reads, filled from the runs' provenance where they know it, then `given`."""
    rows = pd.concat([r.summary for r in runs], ignore_index=True) if runs else pd.DataFrame()

    def first(col: str) -> str:
        if rows.empty or col not in rows:
            return ""
        vals = rows[col].dropna().astype(str)
        vals = vals[vals != ""]
        return vals.iloc[0] if len(vals) else ""

    runner = first("runner")
    machine = runs[0].meta.get("machine", {}) if runs else {}
    host = runner in ("host", "")
    out = dict.fromkeys(SYSTEM_FIELDS, "")
    out.update({"Submitter": submitter, "Division": division.capitalize(), "Status": "Available",
                "Board Name": (machine.get("hostname") or "") if host else first("device"),
                "Processor(s) Name": first("cpu") if host else "",
                "Inference Framework": first("backend"),
                "Software Libraries": _kernels(rows),
                "Operating System ": machine.get("os", "") if host else "",
                "Software Notes": f"measured with tinyperf {first('harness_version')} ({runner} runner)".strip(),
                "Quantization Method": "TensorFlow Int8 Quantization (MLPerf Tiny reference models)"})
    for key, value in (given or {}).items():
        out[key] = value
    status = str(out.get("Status", "")).lower()
    if status not in STATUSES:
        raise TinyperfError("--system-json", f"Status {out.get('Status')!r} is not one the checker accepts",
                            f"set \"Status\" to one of {', '.join(s.capitalize() for s in STATUSES)}")
    return out


def _labels(run: Run, workload: str) -> dict[str, tuple[str, str]]:
    """file -> (classes, class) from the run's y_labels.csv, for results.json; empty where it is gone."""
    path = ((run.meta.get("workloads", {}).get(workload, {}).get("dataset") or {}).get("path"))
    labels: dict[str, tuple[str, str]] = {}
    try:
        with open(Path(path) / "y_labels.csv", newline="") as fh:
            for row in csv.reader(fh):
                if len(row) >= 3:
                    labels[row[0]] = (row[1], row[2])
    except (OSError, TypeError):
        pass
    return labels


def _kernels(rows: pd.DataFrame) -> str:
    """Which kernels each mode ran on (LiteRT: xnnpack for performance, reference for accuracy)."""
    if rows.empty or "kernels" not in rows:
        return ""
    pairs = rows.dropna(subset=["kernels"]).groupby("kernels", sort=False)["mode"].agg(lambda m: ", ".join(dict.fromkeys(m)))
    return "; ".join(f"{k} kernels ({modes})" for k, modes in pairs.items())


def _unique(runs: Any) -> list[Run]:
    seen: dict[int, Run] = {}
    for run in runs:
        seen.setdefault(id(run), run)
    return list(seen.values())


def _command(meta: dict[str, Any]) -> str:
    """The command line recorded in run.json (and each --resume after it)."""
    cmd = meta.get("command") or {}
    return str(cmd.get("argv", "")) if isinstance(cmd, dict) else " ".join(map(str, cmd))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def results_json(run: Run, workload: str, mode: str) -> list[dict[str, Any]]:
    """The official runner's results.json: one dict per window (or per accuracy inference)."""
    labels = _labels(run, workload)
    wl = WORKLOADS[workload]
    out: list[dict[str, Any]] = []
    code = {"performance": "p", "accuracy": "a", "energy": "e"}[mode]
    rows = _rows(run.samples if mode == "accuracy" else run.windows, workload, mode)
    for _, row in rows.iterrows():
        classes, cls = labels.get(row["file"], (None, None))
        if cls is None and "label" in row and pd.notna(row["label"]):
            cls = str(int(row["label"]))
        extra = row.get("extra") if isinstance(row.get("extra"), dict) else {}
        entry: dict[str, Any] = {"file": row["file"], "classes": classes, "class": cls,
                                 "bytes_to_send": str(wl.upload_bytes) if workload == "ad01" else None,
                                 "stride": str(wl.stride_bytes) if workload == "ad01" and getattr(wl, "stride_bytes", None) else None,
                                 "total_length": None}
        infer: dict[str, Any] = {}
        laps = extra.get("lap_us")
        if mode != "energy" and isinstance(laps, list) and len(laps) == 2:
            infer.update(start_time=laps[0], end_time=laps[1])
        if isinstance(row.get("results"), (list, tuple)):
            infer["results"] = list(row["results"])
        n = int(row["n"]) if mode != "accuracy" else 1
        if mode != "energy":
            infer["elapsed_time"] = round(float(row["elapsed_s"]) * 1e6) if pd.notna(row.get("elapsed_s")) else None
        infer.update(total_inferences=1, iterations=n, warmups=int(row["warmup"]) if mode != "accuracy" else 0)
        if mode == "performance" and pd.notna(row.get("throughput_ips")):
            infer["throughput"] = float(row["throughput_ips"])
        entry["infer"] = infer
        if mode == "energy":
            entry["power"] = {"energy_window": extra.get("energy_window"), "voltage": _voltage(row, run)}
        entry["mode"] = code
        out.append({k: _clean(v) for k, v in entry.items()})
    return out


def _voltage(row: pd.Series, run: Run) -> float | None:
    mv = row.get("voltage_mv")
    if mv is None or (isinstance(mv, float) and math.isnan(mv)):
        extra = row.get("extra") if isinstance(row.get("extra"), dict) else {}
        mv = extra.get("voltage_mv")
    return float(mv) / 1000.0 if mv is not None else None  # the runner records volts


def log_txt(run: Run, workload: str, mode: str, text: str, log_only: list[str]) -> str:
    """The runner's session log for one mode, rebuilt from the journal, headed by its provenance."""
    meta = run.meta
    srow = run.summary[(run.summary["workload"] == workload) & (run.summary["mode"] == mode)].iloc[0]
    lines = [f"tinyperf {srow.get('harness_version') or ''} run {meta.get('run_id')} ({run.path})",
             f"Command: {_command(meta)}",
             f"Runner: {srow.get('runner')}; device: {srow.get('device')}; backend: {srow.get('backend')}; "
             f"kernels: {srow.get('kernels')}",
             f"Model: {srow.get('model')} sha256 {srow.get('model_sha256')}",
             f"Dataset: {srow.get('dataset')} sha256 {srow.get('dataset_sha256')}"]
    if mode != "accuracy" and pd.notna(srow.get("invalid_reason")) and srow.get("invalid_reason"):
        lines.append(f"Not valid by the rules: {srow['invalid_reason']}")
    rows = _rows(run.samples if mode == "accuracy" else run.windows, workload, mode)
    for i, (_, row) in enumerate(rows.iterrows(), start=1):
        n = 1 if mode == "accuracy" else int(row["n"])
        warmup = 0 if mode == "accuracy" else int(row["warmup"])
        lines += [f"Loading file {row['file']} segment {int(row.get('window', 0) or 0) if mode == 'accuracy' else 0}",
                  "Load complete.", f"Running inference with {warmup}/{n} (warmup/measured) iterations ...", "done"]
        if mode == "energy":
            ew = (row.get("extra") or {}).get("energy_window") or {}
            lines.append(f"Energy window: samples {ew.get('start_sample')}..{ew.get('end_sample')}, "
                         f"{ew.get('energy_j')} J")
        elif pd.notna(row.get("elapsed_s")):
            elapsed = float(row["elapsed_s"])
            lines += [f"Performance results for window {i}:", f"  # Inferences : {n:>13}",
                      f"  Runtime      : {elapsed:>10.3f} sec.", f"  Throughput   : {n / elapsed if elapsed > 0 else 0:>10.3f} inf./sec."]
        if isinstance(row.get("results"), (list, tuple)):
            lines.append(f"  m-results    : {list(row['results'])}")
    lines.append("-" * 20)
    body = CRLF.join(lines) + CRLF + text
    return body + "".join(line + CRLF for line in log_only)


def _measured(row: pd.Series) -> bool:
    """A summary row with figures (not one that only says why a mode was skipped)."""
    return pd.notna(row.get("windows")) or pd.notna(row.get("n_inferences"))


def _false(value: Any) -> bool:
    """Explicitly False (missing is not judged)."""
    return value is not None and not pd.isna(value) and not bool(value)


def _validity_problems(run: Run, workload: str, mode: str, division: str) -> list[str]:
    row = run.summary[(run.summary["workload"] == workload) & (run.summary["mode"] == mode)].iloc[0]
    problems = []
    if bool(row.get("synthetic_weights")) and division == "closed":
        problems.append("the model has synthetic (untrained) weights")
    if mode in ("performance", "energy") and is_invalid(row.get("valid")):
        problems.append(str(row.get("invalid_reason") or "not valid by the rules"))
    if mode == "energy" and pd.isna(row.get("energy_uj_per_inf")):
        problems.append("no energy was measured")
    if mode == "accuracy":
        if _false(row.get("complete")):
            problems.append(f"accuracy ran on {row.get('n_files')} files, not the whole sample set")
        if division == "closed" and _false(row.get("meets_target")):
            problems.append(f"accuracy is below the closed-division target {row.get('quality_target')}")
    return problems


def export_submission(runs: list[Run], out: Path, submitter: str, system: str, *, division: str = "closed",
                      system_json: dict[str, Any] | None = None, code_dir: Path | None = None,
                      version: str = DEFAULT_VERSION, include_invalid: bool = False) -> Exported:
    """Write the tree; raise TinyperfError (nothing written) for anything the checker or the rules reject."""
    check_name("--submitter", submitter)
    check_name("--system", system)
    if division not in DIVISIONS:
        raise TinyperfError("--division", f"{division!r} is not a division", f"pass one of {', '.join(DIVISIONS)}")
    if version not in VERSIONS:
        raise TinyperfError("--version", f"{version} submissions have another layout than this exporter writes",
                            f"pass one of {', '.join(VERSIONS)}")
    # which run gives each (benchmark, mode)
    chosen: dict[tuple[str, str], Run] = {}
    for run in runs:
        if run.summary.empty:
            continue
        for _, row in run.summary.iterrows():
            wl, mode = row["workload"], row["mode"]
            if wl not in BENCHMARK or mode not in MODES or not _measured(row):
                continue
            if (wl, mode) in chosen:
                raise TinyperfError(run.path, f"{wl} {mode} is also in {chosen[(wl, mode)].path}",
                                    "pass one run per workload and mode")
            chosen[(wl, mode)] = run
    if not chosen:
        raise ResultsError(", ".join(str(r.path) for r in runs), "holds no finished kws01/vww01/ic01/ad01 result",
                           "pass run directories of `tinyperf run`")
    problems: list[str] = []
    for wl in dict.fromkeys(wl for wl, _ in chosen):
        for mode in REQUIRED_MODES:
            if (wl, mode) not in chosen:
                problems.append(f"{wl} has no {mode} run (the {version} checker requires performance and accuracy)")
    where: list[str] = []
    for (wl, mode), run in chosen.items():
        found = _validity_problems(run, wl, mode, division)
        problems += [f"{wl} {mode}: {p}" for p in found]
        if found and str(run.path) not in where:
            where.append(str(run.path))
    if problems and not include_invalid:
        raise TinyperfError(", ".join(where) or None, "; ".join(problems),
                            "export valid runs (5 windows of at least 10 s, whole accuracy sets), or pass "
                            "--include-invalid to write them with the official runner's ERROR lines")
    base = Path(out) / division / submitter
    results_root = base / "results" / system
    if results_root.exists() and any(results_root.iterdir()):
        raise ResultsError(results_root, "already holds results", "pass another --out, or remove that folder first")
    description = system_description(_unique(chosen.values()), submitter, division, system_json)
    done = Exported(Path(out), invalid=problems)
    for (wl, mode), run in sorted(chosen.items()):
        made = mode_results_txt(run, wl, mode)
        if made is None:
            continue
        text, log_only = made
        folder = results_root / BENCHMARK[wl] / mode
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "results.txt", text)
        atomic_write_text(folder / "log.txt", log_txt(run, wl, mode, text, log_only))
        atomic_write_text(folder / "results.json", json.dumps(results_json(run, wl, mode), default=json_default))
        done.entries.append((BENCHMARK[wl], mode, folder))
    systems = base / "systems"
    systems.mkdir(parents=True, exist_ok=True)
    atomic_write_text(systems / f"{system}.json", json.dumps(description, indent="\t") + "\n")
    _write_code(base / "code" / system, code_dir, _unique(chosen.values()), chosen)
    return done


def _write_code(folder: Path, code_dir: Path | None, runs: list[Run], chosen: dict[tuple[str, str], Run]) -> None:
    """code/<system>/: the user's folder copied (no caches, dot files or empty folders), else a README."""
    if code_dir is not None:
        code_dir = Path(code_dir)
        if not code_dir.is_dir():
            raise TinyperfError(code_dir, "is not a folder", "pass the folder of firmware/model sources with --code DIR")
        ignore = shutil.ignore_patterns("__pycache__", ".*", "*.pyc")
        shutil.copytree(code_dir, folder, ignore=ignore, symlinks=False, dirs_exist_ok=True)
        for d in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            if not any(d.iterdir()):
                d.rmdir()  # the checker rejects empty folders
        if folder.is_dir() and any(folder.iterdir()):
            return
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["# Code and models behind these results", "",
             "Measured with tinyperf, a benchmark harness that follows the MLPerf Tiny run rules. "
             "Per benchmark and mode, what ran:", ""]
    for (wl, mode), run in sorted(chosen.items()):
        row = run.summary[(run.summary["workload"] == wl) & (run.summary["mode"] == mode)].iloc[0]
        model = run.meta.get("workloads", {}).get(wl, {}).get("model", {})
        lines.append(f"- {BENCHMARK[wl]} {mode}: run `{run.meta.get('run_id')}`, runner {row.get('runner')}, "
                     f"device {row.get('device')}, back-end {row.get('backend')}; model `{model.get('name')}` "
                     f"(sha256 {model.get('sha256')}, source {model.get('source')})")
    lines += ["", "Commands:", ""]
    for run in runs:
        lines.append(f"    {_command(run.meta)}")
    atomic_write_text(folder / "README.md", "\n".join(lines) + "\n")
