"""Merging runs into comparisons and leaderboards, pyperf-style: refuse what cannot be compared.

Two results of the same system (runner, device, kernels, threads, host) and the same model are
repeated measurements and are combined (median); they must agree on dataset and harness
version. Quality figures are compared only on byte-identical sample sets.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import ResultsError
from harness.results import Run, load_run

SYSTEM_KEYS = ["runner", "device", "kernels", "threads", "hostname"]
IDENTITY = ["workload", "mode", *SYSTEM_KEYS, "model_sha256"]
MUST_AGREE = ["dataset_sha256", "harness_version"]
OURS = "(tinyperf run)"

#: MLPerf Tiny published-table model names
MLPERF_MODEL = {"kws01": "kws", "vww01": "vww", "ic01": "ic", "ad01": "ad"}
PUBLISHED_COLUMNS = ["Organization", "Availability", "Division", "BoardName", "SystemDesc", "Model", "MlperfModel",
                     "Result", "ResultUnit", "Accuracy", "HasPower", "Power", "PowerUnit", "HostProcessorModelName",
                     "HostProcessorFrequency", "HostProcessorMemory", "AcceleratorModelName", "AcceleratorFrequency",
                     "AcceleratorMemory", "HardwareNotes", "InferenceFramework", "SoftwareLibraries", "SoftwareNotes"]


def _key_str(values: Iterable) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(IDENTITY, values))


def merge_runs(runs: list[Run]) -> pd.DataFrame:
    """One row per (workload, mode, system, model); repeated measurements combined by median."""
    frames = [r.summary.assign(run_path=str(r.path)) for r in runs if not r.summary.empty]
    if not frames:
        raise ResultsError(None, "none of these runs has results", "pass run directories that finished some work")
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[rows["note"].isna()] if "note" in rows else rows  # 'not measured' placeholders
    for col in IDENTITY + MUST_AGREE:
        if col not in rows:
            rows[col] = None
    merged = []
    for key, group in rows.groupby(IDENTITY, dropna=False, sort=False):
        for col in MUST_AGREE:
            values = set(group[col].dropna().astype(str))
            if len(values) > 1:
                raise ResultsError(", ".join(group["run_path"].unique()),
                                   f"cannot merge: same system and model ({_key_str(key)}) but different {col} "
                                   f"({', '.join(sorted(v[:16] for v in values))})",
                                   "compare runs made on the same data with the same tinyperf, or merge them separately")
        row = group.iloc[-1].to_dict()
        row["runs"] = len(group)
        for col in ("throughput_ips", "energy_uj_per_inf", "lat_median_us", "lat_p99_us"):
            if col in group and group[col].notna().any():
                row[col] = float(np.median(group[col].dropna()))
        if row.get("throughput_ips"):
            row["latency_ms"] = 1000.0 / row["throughput_ips"]
        for col in ("top1_pct", "auc"):
            if col in group and group[col].dropna().nunique() > 1:
                row[f"{col}_spread"] = float(group[col].max() - group[col].min())
        merged.append(row)
    return pd.DataFrame(merged)


def compare(paths: list[str | Path]) -> pd.DataFrame:
    """Each run side by side per workload, first run as the baseline (speed-up = its latency / latency).

    Quality is compared only where every run used byte-identical data for that workload.
    """
    runs = [load_run(p) for p in paths]
    frames = [r.summary.assign(run_path=str(r.path)) for r in runs if not r.summary.empty]
    if not frames:
        raise ResultsError(None, "none of these runs has results", "pass run directories that finished some work")
    table = pd.concat(frames, ignore_index=True)
    if "note" in table:
        table = table[table["note"].isna()]
    acc = table[table["mode"] == "accuracy"]
    for wl, group in acc.groupby("workload"):
        data = set(group["dataset_sha256"].dropna())
        if len(data) > 1:
            raise ResultsError(", ".join(group["run_path"]), f"{wl} accuracy was measured on different sample sets "
                               f"({', '.join(sorted(d[:12] for d in data))})",
                               "compare quality only on the same data (same --data-dir contents)")
    perf = table[table["mode"].isin(["performance", "energy"])].copy()
    if not perf.empty:
        base = perf.groupby("workload")["latency_ms"].transform("first")
        perf["speedup_vs_first"] = base / perf["latency_ms"]
    return pd.concat([perf, acc], ignore_index=True)


def leaderboard_rows(runs: list[Run]) -> pd.DataFrame:
    """Our runs in the MLPerf Tiny published-results format, one row per workload and system."""
    table = merge_runs(runs)
    out = []
    perf = table[table["mode"].isin(["performance", "energy"])]
    acc = table[table["mode"] == "accuracy"]
    for _, p in perf.iterrows():
        a = acc[(acc["workload"] == p["workload"]) & (acc["model_sha256"] == p["model_sha256"])
                & (acc["runner"] == p["runner"]) & (acc["hostname"] == p["hostname"])]
        quality = None
        if len(a):
            quality = a.iloc[0]["auc"] if pd.notna(a.iloc[0].get("auc")) else a.iloc[0].get("top1_pct")
        has_power = pd.notna(p.get("energy_uj_per_inf"))
        out.append({
            "Organization": OURS, "Availability": "-", "Division": "closed" if p.get("model_source") == "reference" else "open",
            "BoardName": p.get("cpu") if p.get("runner") == "host" else (p.get("device") or p.get("hostname")), "SystemDesc": f"{p['runner']} on {p.get('hostname')}",
            "Model": MLPERF_MODEL.get(p["workload"], p["workload"]), "MlperfModel": MLPERF_MODEL.get(p["workload"], p["workload"]),
            "Result": p["throughput_ips"], "ResultUnit": "inf./sec.",
            "Accuracy": quality if quality is not None and not pd.isna(quality) else None,
            "HasPower": bool(has_power), "Power": p.get("energy_uj_per_inf") if has_power else None, "PowerUnit": "uJ/inf.",
            "HostProcessorModelName": p.get("cpu"), "InferenceFramework": p.get("backend"),
            "SoftwareNotes": f"kernels={p.get('kernels')} threads={p.get('threads')} valid={p.get('valid')}"
                             + (" synthetic weights" if p.get("synthetic_weights") else ""),
            "Source": p.get("run_path"), "Valid": p.get("valid"),
        })
    return pd.DataFrame(out)


def read_published(path: Path) -> pd.DataFrame:
    """A published MLPerf Tiny summary.csv, typed (Result and Accuracy as numbers)."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    except (OSError, pd.errors.ParserError) as exc:
        raise ResultsError(path, f"cannot read the published results table ({exc})",
                           "pass an MLPerf Tiny summary.csv") from None
    missing = [c for c in ("Organization", "BoardName", "Model", "Result", "ResultUnit") if c not in df.columns]
    if missing:
        raise ResultsError(path, f"lacks column(s) {', '.join(missing)}", "pass an MLPerf Tiny summary.csv")
    for col in ("Result", "Accuracy", "Power"):
        if col in df:
            df[col] = pd.to_numeric(df[col], errors="coerce")
    if "HasPower" in df and "Power" in df:
        df.loc[df["HasPower"].str.lower() != "true", "Power"] = np.nan  # the table writes 0 for "not measured"
    df["Source"] = str(path)
    df["Valid"] = True
    return df


def leaderboard(paths: list[str | Path], published: Path | None = None) -> pd.DataFrame:
    """Our runs and, optionally, a published table: per model, fastest first."""
    runs = [load_run(p) for p in paths]
    ours = leaderboard_rows(runs) if runs else pd.DataFrame(columns=PUBLISHED_COLUMNS)
    frames = [ours]
    if published is not None:
        pub = read_published(Path(published))
        frames.append(pub[pub["ResultUnit"].str.strip() == "inf./sec."])
    board = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    board["latency_ms"] = 1000.0 / board["Result"]
    board = board.sort_values(["Model", "Result"], ascending=[True, False]).reset_index(drop=True)
    board["Rank"] = board.groupby("Model").cumcount() + 1
    return board
