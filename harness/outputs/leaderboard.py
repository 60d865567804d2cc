"""Merging runs into comparisons and leaderboards, pyperf-style: refuse what cannot be compared.

Two results of the same system (runner, device, kernels, threads, host) and the same model are
repeated measurements and are combined (median); they must agree on dataset and harness
version. Quality figures are compared only on byte-identical sample sets. Results that break the
rules are kept and flagged (`tinyperf.engine.summary.is_invalid`), never hidden.
"""

from __future__ import annotations

import csv
import string
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tinyperf.core.errors import ResultsError
from tinyperf.engine.rundir import RUN_JSON, Run, load_run
from tinyperf.engine.summary import is_invalid
from tinyperf.workloads.scoring import scoring_columns

SYSTEM_KEYS = ["runner", "device", "kernels", "threads", "hostname"]
IDENTITY = ["workload", "mode", *SYSTEM_KEYS, "model_sha256"]
MUST_AGREE = ["dataset_sha256", "harness_version"]
OURS = "(tinyperf run)"

#: MLPerf Tiny published-table model names
MLPERF_MODEL = {"kws01": "kws", "vww01": "vww", "ic01": "ic", "ad01": "ad"}
WORKLOAD_OF_MODEL = {model: wl for wl, model in MLPERF_MODEL.items()}
PUBLISHED_COLUMNS = ["Organization", "Availability", "Division", "BoardName", "SystemDesc", "Model", "MlperfModel",
                     "Result", "ResultUnit", "Accuracy", "HasPower", "Power", "PowerUnit", "HostProcessorModelName",
                     "HostProcessorFrequency", "HostProcessorMemory", "AcceleratorModelName", "AcceleratorFrequency",
                     "AcceleratorMemory", "HardwareNotes", "InferenceFramework", "SoftwareLibraries", "SoftwareNotes"]


def find_runs(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """The run directories among paths, and a one-line note per path skipped.

    `results/*` also matches folders that hold no run (results/quantize, a site folder, a CSV): those
    are skipped as long as a run remains. A path that does not exist is an error (a typo, not a glob).
    """
    runs: list[Path] = []
    skipped: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise ResultsError(p, "does not exist", "pass run directories written by `tinyperf run` (under results/ by default)")
        (runs if (p / RUN_JSON).is_file() else skipped).append(p)
    if skipped and not runs:
        load_run(skipped[0])  # raises the usual "is not a tinyperf run directory" error, with its fix
    return runs, [f"skipped {p}: not a run directory" for p in skipped]


def _key_str(values: Iterable) -> str:
    return ", ".join(f"{k}={str(v)[:12] if k == 'model_sha256' else v}" for k, v in zip(IDENTITY, values))


def _conflict(group: pd.DataFrame, col: str) -> str:
    """Which run has which value: the user must see which run to drop or re-run."""
    pairs = group[["run_path", col]].dropna().drop_duplicates()
    return "; ".join(f"{path} has {str(value)[:16]}" for path, value in pairs.itertuples(index=False))


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
                raise ResultsError(None, f"cannot merge: same system and model ({_key_str(key)}) but different {col} "
                                   f"({_conflict(group, col)})",
                                   "compare runs made on the same data with the same tinyperf, or merge them separately")
        row = group.iloc[-1].to_dict()
        row["runs"] = len(group)
        row["run_paths"] = list(dict.fromkeys(group["run_path"]))
        for col in ("throughput_ips", "energy_uj_per_inf", "lat_median_us", "lat_p99_us"):
            if col in group and group[col].notna().any():
                row[col] = float(np.median(group[col].dropna()))
        if row.get("throughput_ips"):
            row["latency_ms"] = 1000.0 / row["throughput_ips"]
        for col in scoring_columns():
            if col in group and group[col].dropna().nunique() > 1:
                row[f"{col}_spread"] = float(group[col].max() - group[col].min())
        merged.append(row)
    return pd.DataFrame(merged)


#: what compare() takes from each run's performance (or energy) and accuracy rows
PERF_FIELDS = ["kernels", "throughput_ips", "latency_ms", "lat_p99_us", "energy_uj_per_inf", "valid", "invalid_reason"]
QUALITY_FIELDS = [*scoring_columns(), "quality_target", "meets_target", "n_files", "complete"]
RUN_FIELDS = ["runner", "device", "threads", "model", "model_id", "model_sha256", "synthetic_weights", "hostname", "harness_version",
              "model_flash_bytes", "arena_bytes", "arena_nonpersistent_bytes", "arena_persistent_bytes", "arena_method",
              "memory_note"]


def run_labels(n: int) -> list[str]:
    """Short labels A, B, ... Z, AA, AB ...: a run id does not fit a table column on an 80-column terminal."""
    letters = string.ascii_uppercase
    return [letters[i] if i < 26 else letters[i // 26 - 1] + letters[i % 26] for i in range(n)]


def _first(summary: pd.DataFrame, modes: tuple[str, ...]) -> dict[str, Any]:
    sel = summary[summary["mode"].isin(modes)]
    return {} if sel.empty else sel.iloc[0].to_dict()


def _withhold_quality(table: pd.DataFrame) -> None:
    """Blank the quality of a workload whose runs scored different sample sets, and say why."""
    for wl, group in table.groupby("workload", sort=False):
        scored = group[group[scoring_columns()].notna().any(axis=1)]
        shas = scored.dropna(subset=["accuracy_dataset_sha256"])
        if shas["accuracy_dataset_sha256"].nunique() > 1:
            which = ", ".join(f"{r.run} dataset sha256 {r.accuracy_dataset_sha256[:12]}" for r in shas.itertuples())
            keep = table["workload"] != wl
            for col in QUALITY_FIELDS:
                table[col] = table[col].where(keep)  # upcasts bool columns instead of failing
            table.loc[group.index, "quality_withheld"] = f"{wl} quality withheld: the runs scored different {wl} " \
                                                         f"sample sets ({which})"


def compare(paths: list[str | Path]) -> pd.DataFrame:
    """One row per workload and run, grouped by workload, first run as the baseline
    (speed-up = its latency / latency).

    Runs are labelled A, B, ... (column `run`) in the order given. Quality is compared only where
    every run scored byte-identical data for that workload; otherwise only those quality figures
    are withheld (NaN, reason in `quality_withheld`) and the rest is kept.
    """
    runs = [load_run(p) for p in paths]
    rows = []
    for label, run in zip(run_labels(len(runs)), runs):
        s = run.summary
        if s.empty:
            continue
        if "note" in s:
            s = s[s["note"].isna()]  # 'not measured' placeholders: shown as missing, never as 0
        for wl, rows_of_wl in s.groupby("workload", sort=False):
            perf = _first(rows_of_wl, ("performance", "energy"))
            acc = _first(rows_of_wl, ("accuracy",))
            rows.append({
                "workload": wl, "run": label, "run_id": run.meta.get("run_id") or run.path.name, "run_path": str(run.path),
                **{k: (perf or acc).get(k) for k in RUN_FIELDS},
                **{k: perf.get(k) for k in PERF_FIELDS},
                "accuracy_kernels": acc.get("kernels"),
                **{k: acc.get(k) for k in QUALITY_FIELDS},
                "accuracy_dataset_sha256": acc.get("dataset_sha256"),
                "quality_withheld": None,
            })
    if not rows:
        raise ResultsError(None, "none of these runs has results", "pass run directories that finished some work")
    table = pd.DataFrame(rows)
    order = {wl: i for i, wl in enumerate(dict.fromkeys(table["workload"]))}
    table = table.sort_values("workload", key=lambda col: col.map(order), kind="stable").reset_index(drop=True)
    for col in ("throughput_ips", "latency_ms", *scoring_columns()):
        table[col] = pd.to_numeric(table[col], errors="coerce")
    base = table.groupby("workload", sort=False)["latency_ms"].transform("first")  # first run that measured it
    table["speedup_vs_first"] = base / table["latency_ms"]
    _withhold_quality(table)
    return table


def _same(column: pd.Series, value: Any) -> pd.Series:
    """Equality where a missing value matches a missing value (NaN == NaN is False in pandas)."""
    return column.isna() if value is None or (isinstance(value, float) and np.isnan(value)) else column == value


def _int_or_none(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


def leaderboard_rows(runs: list[Run]) -> pd.DataFrame:
    """Our runs in the MLPerf Tiny published-results format, one row per workload and system."""
    table = merge_runs(runs)
    out = []
    perf = table[table["mode"].isin(["performance", "energy"])]
    acc = table[table["mode"] == "accuracy"]
    for _, p in perf.iterrows():
        # the same system's quality: a board runs its own firmware (no model sha256: missing equals missing),
        # and two boards on one host are two systems (device)
        a = acc[(acc["workload"] == p["workload"]) & _same(acc["model_sha256"], p["model_sha256"])
                & (acc["runner"] == p["runner"]) & _same(acc["device"], p.get("device"))
                & (acc["hostname"] == p["hostname"])]
        same_kernels = a[(a["kernels"] == p["kernels"]) & (a["threads"] == p["threads"])]
        a = same_kernels if len(same_kernels) else a  # --kernels X scores with X too: that is this system's quality
        quality = None
        partial = ""
        sources = list(p["run_paths"])
        if len(a):
            best = a.iloc[0]
            quality = next((best[c] for c in reversed(scoring_columns()) if pd.notna(best.get(c))), None)
            if quality is not None and best.get("complete") is not None and not pd.isna(best.get("complete")) \
                    and not bool(best.get("complete")):
                files = best.get("n_files")
                partial = f" accuracy withheld: partial ({_int_or_none(files)} files)"  # never ranked as a result
                quality = None
            sources += [path for path in a.iloc[0]["run_paths"] if path not in sources]
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
                             + (" synthetic weights" if p.get("synthetic_weights") else "") + partial,
            # RAM and flash on a microcontroller (tinyperf.core.memory); the published table has no such columns
            "ArenaBytes": _int_or_none(p.get("arena_bytes")), "FlashBytes": _int_or_none(p.get("model_flash_bytes")),
            "ArenaMethod": p.get("arena_method"),
            "Source": "; ".join(sources), "Runs": len(sources), "Valid": p.get("valid"),
            "InvalidReason": p.get("invalid_reason") if is_invalid(p.get("valid")) else None,
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
    """Our runs and, optionally, a published table: per model, fastest first (`Model` holds the
    published table's names kws/vww/ic/ad; WORKLOAD_OF_MODEL maps them back to workload ids)."""
    runs = [load_run(p) for p in paths]
    ours = leaderboard_rows(runs) if runs else pd.DataFrame(columns=PUBLISHED_COLUMNS)
    frames = [ours]
    if published is not None:
        pub = read_published(Path(published))
        frames.append(pub[pub["ResultUnit"].str.strip() == "inf./sec."])
    board = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    board["latency_ms"] = 1000.0 / board["Result"]
    for col in ("ArenaBytes", "FlashBytes"):  # missing (a published row, a model TFLM cannot run) stays <NA>
        board[col] = pd.to_numeric(board[col], errors="coerce").astype("Int64") if col in board else pd.NA
    board = board.sort_values(["Model", "Result"], ascending=[True, False]).reset_index(drop=True)
    board["Rank"] = board.groupby("Model").cumcount() + 1
    return board
