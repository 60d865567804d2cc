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
#: runs measured under different load or CPU governor are different settings: never merged
IDENTITY = ["workload", "mode", *SYSTEM_KEYS, "model_sha256", "load_busy", "governor"]
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


#: what must agree between repeated runs combined into one row of a comparison
COMBINE_MUST_AGREE = ["runner", "device", "kernels", "threads", "hostname", "model_sha256", "dataset_sha256",
                      "harness_version", "load_busy", "governor"]


def _run_rows(label: str, run: Run) -> list[dict[str, Any]]:
    s = run.summary
    if s.empty:
        return []
    if "note" in s:
        s = s[s["note"].isna()]  # 'not measured' placeholders: shown as missing, never as 0
    rows = []
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
            "dataset_sha256": perf.get("dataset_sha256") or acc.get("dataset_sha256"),
            "warnings": " | ".join(str(w) for w in (perf.get("warnings"), acc.get("warnings")) if _present(w)) or None,
            "load_busy": perf.get("load_busy"), "governor": perf.get("governor"),
            "runs": 1, "run_spread_pct": None, "quality_withheld": None,
        })
    return rows


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and np.isnan(v)) and v is not pd.NA


def _window_throughputs(run: Run, wl: str) -> np.ndarray:
    w = run.windows
    if w.empty or "throughput_ips" not in w:
        return np.array([])
    sel = w[(w["workload"] == wl) & w["mode"].isin(["performance", "energy"])]
    return pd.to_numeric(sel["throughput_ips"], errors="coerce").dropna().to_numpy(dtype=np.float64)


def _combine(label: str, runs: list[Run], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Repeated runs of one system and model as one row: pooled windows, run-to-run spread shown."""
    for col in COMBINE_MUST_AGREE:
        values = {str(r.get(col)) for r in rows if _present(r.get(col))}
        if len(values) > 1:
            which = "; ".join(f"{r['run_path']} has {str(r.get(col))[:16]}" for r in rows if _present(r.get(col)))
            raise ResultsError(None, f"cannot combine the runs given as {label} for {rows[0]['workload']}: "
                               f"different {col} ({which})",
                               "combine (with commas) only repeated runs of one system and model under the same load; "
                               "compare the others as separate arguments")
    row = dict(rows[0])
    row["runs"] = len(rows)
    row["run_id"] = ", ".join(r["run_id"] for r in rows)
    row["run_path"] = ", ".join(r["run_path"] for r in rows)
    tps = [float(r["throughput_ips"]) for r in rows if _present(r.get("throughput_ips"))]
    if tps:
        pooled = np.concatenate([_window_throughputs(run, row["workload"]) for run in runs])
        row["throughput_ips"] = float(np.median(pooled)) if pooled.size else float(np.median(tps))
        row["latency_ms"] = 1000.0 / row["throughput_ips"]
        row["run_spread_pct"] = 100.0 * (max(tps) - min(tps)) / float(np.median(tps)) if len(tps) > 1 else None
    for col in ("top1_pct", "auc", "energy_uj_per_inf"):
        values = [float(r[col]) for r in rows if _present(r.get(col))]
        row[col] = float(np.median(values)) if values else None
    invalid = [r for r in rows if is_invalid(r.get("valid"))]
    if invalid:
        row["valid"] = False
        row["invalid_reason"] = "; ".join(dict.fromkeys(str(r.get("invalid_reason")) for r in invalid))
    row["warnings"] = " | ".join(dict.fromkeys(r["warnings"] for r in rows if _present(r.get("warnings")))) or None
    return row


def compare(groups: list[str | Path | list[str | Path]], level: float | None = None,
            min_effect: float | None = None) -> pd.DataFrame:
    """One row per workload and run, grouped by workload, the first run as the baseline: speed-up
    (new / base throughput) with its confidence interval and verdict (`tinyperf.engine.significance`).

    Each item of `groups` is a run directory or a list of repeated runs of one system, combined into
    one row (their windows pooled, the run-to-run spread in `run_spread_pct`); runs that differ in
    system, model, data or machine load are refused. Rows are labelled A, B, ... (column `run`) in
    the order given. Quality is compared only where every run scored byte-identical data for that
    workload; otherwise only those quality figures are withheld (NaN, reason in `quality_withheld`).
    """
    from tinyperf.engine.significance import LEVEL, MIN_EFFECT
    from tinyperf.outputs.compare_stats import add_intervals

    groups = [list(g) if isinstance(g, (list, tuple)) else [g] for g in groups]
    rows: list[dict[str, Any]] = []
    windows: dict[tuple[str, str], np.ndarray] = {}
    samples: dict[tuple[str, str], pd.DataFrame] = {}
    for label, group in zip(run_labels(len(groups)), groups):
        runs = [load_run(p) for p in group]
        per_run = [_run_rows(label, run) for run in runs]
        for wl in dict.fromkeys(r["workload"] for rs in per_run for r in rs):
            of_wl = [(run, r) for run, rs in zip(runs, per_run) for r in rs if r["workload"] == wl]
            rows.append(_combine(label, [run for run, _ in of_wl], [r for _, r in of_wl]) if len(of_wl) > 1
                        else of_wl[0][1])
            windows[(label, wl)] = np.concatenate([_window_throughputs(run, wl) for run, _ in of_wl])
            for run, _ in of_wl:
                if not run.samples.empty and (run.samples["workload"] == wl).any():
                    samples[(label, wl)] = run.samples[run.samples["workload"] == wl]
                    break
    if not rows:
        raise ResultsError(None, "none of these runs has results", "pass run directories that finished some work")
    table = pd.DataFrame(rows)
    order = {wl: i for i, wl in enumerate(dict.fromkeys(table["workload"]))}
    table = table.sort_values("workload", key=lambda col: col.map(order), kind="stable").reset_index(drop=True)
    for col in ("throughput_ips", "latency_ms", *scoring_columns()):
        table[col] = pd.to_numeric(table[col], errors="coerce")
    _withhold_quality(table)
    return add_intervals(table, windows, samples, LEVEL if level is None else level,
                         MIN_EFFECT if min_effect is None else min_effect)


def _same(column: pd.Series, value: Any) -> pd.Series:
    """Equality where a missing value matches a missing value (NaN == NaN is False in pandas)."""
    return column.isna() if value is None or (isinstance(value, float) and np.isnan(value)) else column == value


def _int_or_none(v: Any) -> int | None:
    return None if v is None or pd.isna(v) else int(v)


#: MLPerf Tiny published-table model names; sww (streaming wake word, v1.3) is published but not run here
PUBLISHED_MODELS = {"kws": "top-1 %", "vww": "top-1 %", "ic": "top-1 %", "ad": "AUC", "sww": "F1"}
#: the sections of a leaderboard: only rows of one class are comparable
CLASSES = ("microcontroller", "accelerator", "host CPU")
#: which runner measures which class of system (a runner not named here drives a board)
RUNNER_CLASS = {"host": "host CPU", "edgetpu": "accelerator"}
#: why a row is shown apart instead of ranked, with its mark (the marks `tinyperf show` uses)
UNRANKED_MARKS = {"invalid": "*", "synthetic": "†", "open": "°"}


def system_class(row: dict[str, Any]) -> str:
    """microcontroller, accelerator or host CPU: a published row naming an accelerator is an accelerator."""
    if row.get("Organization") == OURS:
        return RUNNER_CLASS.get(str(row.get("Runner")), "microcontroller")
    acc = row.get("AcceleratorModelName")
    return "accelerator" if isinstance(acc, str) and acc.strip() else "microcontroller"


def leaderboard_rows(runs: list[Run]) -> tuple[pd.DataFrame, list[str]]:
    """Our runs in the MLPerf Tiny published-results format, one row per workload and system,
    and a note per run that has nothing to rank (accuracy only)."""
    notes = [f"{r.path}: accuracy only, nothing to rank (run performance mode to place it)" for r in runs
             if not r.summary.empty and not r.summary["mode"].isin(["performance", "energy"]).any()]
    if not any(not r.summary.empty and r.summary["mode"].isin(["performance", "energy"]).any() for r in runs):
        return pd.DataFrame(columns=BOARD_COLUMNS), notes
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
            "SoftwareNotes": f"kernels={p.get('kernels')} threads={p.get('threads')}" + partial,
            "Source": "; ".join(sources), "Runs": int(p["runs"]), "Valid": p.get("valid"),
            "RunSpreadPct": p.get("run_spread_pct"),
            # RAM and flash on a microcontroller (tinyperf.core.memory); the published table has no such columns
            "ArenaBytes": _int_or_none(p.get("arena_bytes")), "FlashBytes": _int_or_none(p.get("model_flash_bytes")),
            "ArenaMethod": p.get("arena_method"),
            "InvalidReason": p.get("invalid_reason") if is_invalid(p.get("valid")) else None,
            "SyntheticWeights": bool(p.get("synthetic_weights")), "Runner": p.get("runner"),
            "Busy": p.get("load_busy"), "Warnings": p.get("warnings"),
        })
    return pd.DataFrame(out), notes


def read_published(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """A published MLPerf Tiny summary.csv (v1.2, or v1.3 with its sww rows and extra columns), typed,
    and a note per group of rows left out (a model or unit we cannot place)."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
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
    notes = []
    known = df["Model"].str.strip().isin(list(PUBLISHED_MODELS)) & (df["ResultUnit"].str.strip() == "inf./sec.")
    for (model, unit), rows in df[~known].groupby(["Model", "ResultUnit"]):
        notes.append(f"{path.name}: left out {len(rows)} row(s) of model {model!r} in {unit!r} (no section for it)")
    df = df[known].copy()
    if "PowerUnit" in df:
        df["PowerUnit"] = df["PowerUnit"].str.strip().where(df["Power"].notna(), None)
    df["Source"] = str(path)
    df["Valid"] = True
    df["SyntheticWeights"] = False
    return df, notes


#: every column a board has, whatever it was built from (a missing column must not crash a renderer)
BOARD_COLUMNS = PUBLISHED_COLUMNS + ["Source", "Runs", "Valid", "RunSpreadPct", "InvalidReason", "SyntheticWeights",
                                     "Runner", "Busy", "Warnings", "ArenaBytes", "FlashBytes", "ArenaMethod"]


def unranked_reasons(row: dict[str, Any]) -> list[str]:
    """Why a row is not ranked: 'invalid', 'synthetic', 'open' (none for a valid closed result)."""
    out = []
    if is_invalid(row.get("Valid")):
        out.append("invalid")
    if row.get("SyntheticWeights") is True or str(row.get("SyntheticWeights")).lower() == "true":
        out.append("synthetic")
    if str(row.get("Division", "")).strip().lower() != "closed":
        out.append("open")
    return out


def leaderboard(paths: list[str | Path], published: Path | list[Path] | None = None,
                classes: list[str] | None = None) -> pd.DataFrame:
    """Our runs and published tables, per model and class of system (`Class`): valid closed results
    ranked fastest first (`Rank`); invalid, synthetic-weight and open-division rows follow, unranked
    (`Rank` missing, `Unranked` says why). `Model` holds the published names kws/vww/ic/ad/sww
    (WORKLOAD_OF_MODEL maps them back). Notes on what was left out are in `board.attrs["notes"]`.
    """
    runs = [load_run(p) for p in paths]
    ours, notes = leaderboard_rows(runs)
    frames = [ours]
    pubs = [] if published is None else [published] if isinstance(published, (str, Path)) else list(published)
    for path in pubs:
        pub, pub_notes = read_published(Path(path))
        frames.append(pub)
        notes += pub_notes
    frames = [f for f in frames if not f.empty]
    if not frames:
        raise ResultsError(None, "nothing to rank: " + ("; ".join(notes) if notes else "no results"),
                           "pass runs with performance results and/or --published summary.csv")
    board = pd.concat(frames, ignore_index=True).reindex(columns=BOARD_COLUMNS)
    board["Result"] = pd.to_numeric(board["Result"], errors="coerce")
    board["latency_ms"] = 1000.0 / board["Result"]
    for col in ("ArenaBytes", "FlashBytes"):  # missing (a published row, a model TFLM cannot run) stays <NA>
        board[col] = pd.to_numeric(board[col], errors="coerce").astype("Int64") if col in board else pd.NA
    board["Class"] = [system_class(r) for r in board.to_dict("records")]
    if classes:
        board = board[board["Class"].isin(classes)]
    board["Unranked"] = [", ".join(unranked_reasons(r)) or None for r in board.to_dict("records")]
    board["_ranked"] = board["Unranked"].isna()
    order = {c: i for i, c in enumerate(CLASSES)}
    board = board.assign(_class=board["Class"].map(order)).sort_values(
        ["Model", "_class", "_ranked", "Result"], ascending=[True, True, False, False], na_position="last")
    board = board.reset_index(drop=True)
    ranks = board[board["_ranked"]].groupby(["Model", "Class"]).cumcount() + 1
    board["Rank"] = pd.Series(ranks, dtype="Int64").reindex(board.index)
    board = board.drop(columns=["_ranked", "_class"])
    board.attrs["notes"] = notes
    return board
