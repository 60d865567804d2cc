"""From journalled rows to the headline figures, by the MLPerf Tiny rules.

Everything here is recomputed from the journal, so a resumed run and an uninterrupted one give
the same figures, and a partial run shows what it has.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tinyperf.engine.journal import Journal, Session, Skipped, load_latencies
from tinyperf.engine.stats import Stats
from tinyperf.workloads.catalog import WORKLOADS
from tinyperf.workloads.scoring import scoring_columns

#: the dataset a row names when the run had no sample set (performance on generated inputs)
SYNTHETIC_INPUTS = "synthetic inputs"
#: the rules: exactly 5 windows of at least 10 s
RULES_WINDOWS = 5
RULES_MIN_WINDOW_S = 10.0

#: a stable schema: every summary has these columns, missing values as NA (never 0)
SUMMARY_COLUMNS = [
    "run_id", "workload", "mode", "runner", "kernels", "threads", "backend", "device", "model", "model_id", "model_sha256",
    "model_source", "model_note", "synthetic_weights", "dataset", "dataset_sha256", "harness_version", "hostname",
    "machine", "cpu", "python", "started",
    "windows", "n_per_window", "warmup", "min_window_s", "window_min_s", "throughput_ips", "latency_ms",
    "throughput_rel_stdev", "lat_median_us", "lat_p90_us", "lat_p99_us", "lat_iqr_us", "lat_min_us", "lat_max_us",
    "cold_first_us", "energy_uj_per_inf", "power_mw", "voltage_mv", "valid", "invalid_reason", "warnings",
    *scoring_columns(), "quality_target", "meets_target", "n_files", "n_inferences", "complete", "run_status", "note",
    "arithmetic", "arithmetic_note", "timing_note",
    "model_flash_bytes", "arena_bytes", "arena_nonpersistent_bytes", "arena_persistent_bytes", "arena_method",
    "memory_note",
]

#: RAM and flash of the model (tinyperf.core.memory): from run.json, or from the device where it reports them
MEMORY_COLUMNS = ["flash_bytes", "ram_bytes", "model_flash_bytes", "arena_bytes", "arena_nonpersistent_bytes", "arena_persistent_bytes",
                  "arena_method", "memory_note"]
NO_DEVICE_MEMORY = "the device reports no memory figures and tinyperf has no model file to measure"


def memory_of(wmeta: dict[str, Any], session: dict[str, Any]) -> dict[str, Any]:
    """A device's own report wins; else the figures measured on the model file; else missing, with why."""
    reported = session.get("memory")
    source = reported if isinstance(reported, dict) and reported else (wmeta.get("memory") or {})
    out = {k: source.get(k) for k in MEMORY_COLUMNS}
    if not source and not wmeta.get("model"):
        out["memory_note"] = NO_DEVICE_MEMORY
    return out


def _provenance(meta: dict[str, Any], workload: str, session: dict[str, Any]) -> dict[str, Any]:
    wmeta = (meta.get("workloads") or {}).get(workload) or {}
    model = wmeta.get("model") or {}
    dataset = wmeta.get("dataset") or {}
    machine = meta.get("machine") or {}
    return {
        "run_id": meta.get("run_id"),
        "workload": workload,
        "runner": session.get("runner", (meta.get("config") or {}).get("runner")),
        "kernels": session.get("kernels"),
        "threads": session.get("threads"),
        "backend": session.get("backend"),
        "device": session.get("device"),
        "model": model.get("name"),
        "model_id": session.get("model_id"),  # what a device reports it runs (`profile`); None on the host
        "model_sha256": model.get("sha256"),
        "model_source": model.get("source"),
        "model_note": model.get("note") or None,
        "synthetic_weights": bool(model.get("synthetic_weights", False)),
        "dataset": dataset.get("path", SYNTHETIC_INPUTS if not dataset else None),
        "dataset_sha256": dataset.get("sha256"),
        "harness_version": machine.get("harness_version"),
        "hostname": machine.get("hostname"),
        "machine": machine.get("machine"),
        "cpu": machine.get("cpu"),
        "python": machine.get("python"),
        "started": meta.get("created"),
        "arithmetic": session.get("arithmetic"),
        "arithmetic_note": session.get("arithmetic_note"),
        **memory_of(wmeta, session),
        **_firmware_columns(session),
    }


def _firmware_columns(session: dict[str, Any]) -> dict[str, Any]:
    """A self-describing board's timing statement and build (serial runner, tinyperf firmware)."""
    if "firmware" not in session:
        return {}
    cols: dict[str, Any] = {"timing": session.get("timing")}
    cols.update({f"firmware_{k}": v for k, v in session["firmware"].items()
                 if not k.endswith("_bytes") and k != "timing"})
    return cols


def _latencies(path: Path | None, wrows: pd.DataFrame, problems: list[str]) -> np.ndarray | None:
    """Every window's per-inference latencies; a file that cannot be used is named in `problems`."""
    if path is None or "latencies_file" not in wrows:
        return None
    parts = []
    for rel in wrows["latencies_file"].dropna():
        got = load_latencies(path, rel)
        if isinstance(got, str):
            problems.append(f"latency percentiles leave out a window: {got}")
        else:
            parts.append(got)
    return np.concatenate(parts) if parts else None


def performance_summary(wl: str, wrows: pd.DataFrame, meta: dict[str, Any], path: Path | None) -> dict[str, Any]:
    min_window = float((meta.get("config") or {}).get("min_window", RULES_MIN_WINDOW_S))
    tp = Stats.of(wrows["throughput_ips"]) if len(wrows) else None
    out: dict[str, Any] = {"windows": len(wrows), "min_window_s": min_window}
    out["n_per_window"] = int(wrows["n"].iloc[-1]) if len(wrows) else None
    out["warmup"] = int(wrows["warmup"].iloc[-1]) if len(wrows) else None
    out["window_min_s"] = float(wrows["elapsed_s"].min()) if len(wrows) else None
    out["throughput_ips"] = tp.median if tp else None
    out["latency_ms"] = 1000.0 / tp.median if tp and tp.median > 0 else None
    out["throughput_rel_stdev"] = tp.relative_stdev if tp and tp.n > 1 else None
    warnings = []
    if tp and (w := tp.stability_warning("throughput across windows")):
        warnings.append(w)
    lat = _latencies(path, wrows, warnings)
    ls = Stats.of(lat / 1000.0) if lat is not None else None  # microseconds
    for key in ("median", "p90", "p99", "iqr", "min", "max"):
        out[f"lat_{key}_us"] = getattr(ls, key) if ls else None
    if ls and ls.n > 10 and ls.median > 0 and ls.iqr / ls.median > 0.25:
        warnings.append(f"per-inference latency spread is large (IQR {100 * ls.iqr / ls.median:.1f} % of the median)")
    cold = wrows["first_ns"].dropna() if "first_ns" in wrows else pd.Series(dtype=float)
    out["cold_first_us"] = float(cold.iloc[0]) / 1000.0 if len(cold) else None
    if "energy_uj_per_inf" in wrows and wrows["energy_uj_per_inf"].notna().any():
        e = Stats.of(wrows["energy_uj_per_inf"].dropna())
        out["energy_uj_per_inf"] = e.median if e else None
        if "energy_j" in wrows and "elapsed_s" in wrows:
            power = (wrows["energy_j"] / wrows["elapsed_s"]).dropna()
            out["power_mw"] = float(power.median() * 1000.0) if len(power) else None
        if "voltage_mv" in wrows and wrows["voltage_mv"].notna().any():
            volts = wrows["voltage_mv"].dropna().unique()
            out["voltage_mv"] = float(volts[0]) if len(volts) == 1 else None
            if len(volts) > 1:
                warnings.append(f"windows were measured at different supplies ({', '.join(f'{v:g}' for v in volts)} mV)")
    else:
        out["energy_uj_per_inf"] = None
    reasons = []
    if len(wrows) != RULES_WINDOWS:
        reasons.append(f"{len(wrows)} windows, the rules need exactly {RULES_WINDOWS}")
    if min_window < RULES_MIN_WINDOW_S:
        reasons.append(f"--min-window {min_window:g} s is below the rules' {RULES_MIN_WINDOW_S:g} s")
    if len(wrows) and out["window_min_s"] < min(min_window, RULES_MIN_WINDOW_S):
        reasons.append(f"shortest window lasted {out['window_min_s']:.2f} s")
    out["valid"] = not reasons
    out["invalid_reason"] = "; ".join(reasons) or None
    out["complete"] = len(wrows) >= RULES_WINDOWS
    out["warnings"] = " | ".join(warnings) or None
    return out


def accuracy_summary(wl: str, srows: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    workload = WORKLOADS[wl]
    wmeta = (meta.get("workloads") or {}).get(wl) or {}
    expected_files = (wmeta.get("dataset") or {}).get("files")
    out: dict[str, Any] = {**dict.fromkeys(scoring_columns()), "quality_target": workload.quality_target}
    out["n_inferences"] = len(srows)
    value, out["n_files"] = workload.scoring.aggregate(srows, workload.windows_per_file)
    out[workload.scoring.column] = value
    out["complete"] = expected_files is not None and out["n_files"] == expected_files
    if value is not None and not (isinstance(value, float) and math.isnan(value)):
        out["meets_target"] = bool(value >= workload.quality_target)
    else:
        out["meets_target"] = None
    return out


def is_invalid(valid: Any) -> bool:
    """A result the rules reject (valid is False); missing means not judged (accuracy rows), not invalid."""
    return valid is not None and not pd.isna(valid) and not bool(valid)


#: recovery counters a device session reports per row in `extra`: key, singular, plural
LINK_COUNTS = (("link_errors", "link error", "link errors"), ("retries", "retry", "retries"), ("resets", "reset", "resets"))


def _link_health(rows: pd.DataFrame) -> str | None:
    """A device link that needed redoing is worth knowing even when every figure was confirmed."""
    if "extra" not in rows or rows.empty:
        return None
    totals = dict.fromkeys((key for key, _, _ in LINK_COUNTS), 0)
    for extra in rows["extra"]:
        if isinstance(extra, dict):
            for key in totals:
                totals[key] += int(extra.get(key) or 0)
    if not any(totals.values()):
        return None
    counts = ", ".join(f"{totals[key]:,} {one if totals[key] == 1 else many}" for key, one, many in LINK_COUNTS)
    return f"the device link needed recovery ({counts}; see the device transcript in the run directory)"


def summarize(meta: dict[str, Any], journal: Journal, windows: pd.DataFrame,
              samples: pd.DataFrame, path: Path | None, status: str = "unknown") -> pd.DataFrame:
    """One row per workload and mode; `status` is the run's (a row of an unfinished run is partial)."""
    sessions = {(r.workload, r.mode): r.describe for r in journal.of(Session)}
    rows = []
    for (wl, mode), describe in sessions.items():
        if wl not in WORKLOADS:
            continue  # a hand-edited journal naming a workload this version does not know
        row = {**_provenance(meta, wl, describe), "mode": mode}
        if mode in ("performance", "energy"):
            wrows = windows[(windows["workload"] == wl) & (windows["mode"] == mode)] if len(windows) else windows
            row.update(performance_summary(wl, wrows, meta, path))
            row["timing_note"] = describe.get("timing_note")  # e.g. a host proxy for a microcontroller
        else:
            srows = samples[samples["workload"] == wl] if len(samples) else samples
            row.update(accuracy_summary(wl, srows, meta))
        link = _link_health(wrows if mode in ("performance", "energy") else srows)
        seen = journal.warnings(wl, mode)  # monitor and link warnings, as journalled when they happened
        row["warnings"] = " | ".join(w for w in (row.get("warnings"), *seen, link) if w) or None
        row["note"] = None
        row["run_status"] = status
        rows.append(row)
    for r in journal.of(Skipped):
        if (r.workload, r.mode) in sessions:
            continue
        row = {**_provenance(meta, r.workload, {}), "mode": r.mode, "note": r.reason, "run_status": status}
        rows.append(row)
    df = pd.DataFrame(rows)
    df = df.reindex(columns=SUMMARY_COLUMNS + [c for c in df.columns if c not in SUMMARY_COLUMNS])
    for col in ("threads", "windows", "n_per_window", "warmup", "n_inferences", "n_files", "model_flash_bytes",
                "arena_bytes", "arena_nonpersistent_bytes", "arena_persistent_bytes"):
        if col in df:
            df[col] = df[col].astype("Int64")  # counts stay integers; missing stays <NA>, never 0
    return df
