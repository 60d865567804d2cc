"""results.txt as the official MLPerf Tiny runner writes it, and a reader for every results.txt.

The official runner (mlcommons/tiny `benchmark/runner`) writes one results.txt per mode, with CRLF
line ends (it ran on Windows for every published v1.3 result):

- performance: a block per window (`Performance results for window 1`, `    # Inferences : 250`,
  `    Runtime: 10.862042 sec.`, `    Throughput: 23.01593015383295 inf./sec.`, and
  `    Runtime requirements have been met.` when the window lasted over 10 s), then
  `MMDD.HHMMSS ulp-mlperf: Median throughput is     23.032 inf./sec.` between two rules, or, for a
  run the runner rejects, its `ERROR 1 - ...` (not 5 windows) or `ERROR 2 - ...` (the 5 windows
  took under 10 s together) line instead of the median;
- accuracy: `MMDD.HHMMSS ulp-mlperf: Top 1% = 90.2` and `... AUC = 0.995` (both lines for every
  workload: for classifiers the AUC is one-vs-rest over the normalised outputs, for ad01 the
  "Top 1%" is the runner's best mean of precision and recall over 100 thresholds);
- energy: `Power Edition Output`, a block per trial (`Energy data for trial 0`, elapsed time,
  inferences, power, total energy, energy per inference), then
  `Median energy cost is 1430.6681 uJ/inf.` (4 decimals) between two rules.

`mode_results_txt` builds one mode's file byte for byte in those formats from a run's tables; the
submission exporter writes them as they are, and a run directory's `<workload>/results.txt` holds
the blocks of every mode the run measured, one after the other. The timestamp prefix is the local
time of the mode's last journalled row (the official runner stamps the time it printed the line).

`parse_results_txt` reads any results.txt: these official formats, the older tinyperf lines
(`Median throughput is 5.497 inf./sec.`, `Top-1: 90.1%`, `AUC: 0.86`, ...) and real submissions.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tinyperf.core.files import atomic_write_text
from tinyperf.engine.summary import RULES_MIN_WINDOW_S, RULES_WINDOWS
from tinyperf.workloads.catalog import WORKLOADS
from tinyperf.workloads.scoring import AUC, TOP1, roc_auc

if TYPE_CHECKING:
    from tinyperf.engine.rundir import Run

CRLF = "\r\n"
RULE = "-" * 57
PREFIX = "ulp-mlperf: "
#: the official runner's lines for a performance run its rules reject
ERROR_LOOP_COUNT = "ERROR 1 - loop_count was not exactly 5."
ERROR_DURATION = "ERROR 2 - loop exited before 10 seconds elapsed."
ERROR_ENERGY_DURATION = "ERROR: Not valid for submission.  All inference times must be at least 10 seconds."
ERROR_ENERGY_COUNT = f"ERROR: Not valid for submission.  Energy mode must include exactly {RULES_WINDOWS} measurements."
MODES = ("performance", "accuracy", "energy")


def stamp(t: float | None) -> str:
    """`0726.010245 `: the official runner's time prefix (local time, as it prints datetime.now())."""
    when = datetime.fromtimestamp(t) if t is not None and math.isfinite(t) else datetime.now()
    return when.strftime("%m%d.%H%M%S ")


def _last_t(rows: pd.DataFrame) -> float | None:
    if rows is None or rows.empty or "t" not in rows:
        return None
    t = pd.to_numeric(rows["t"], errors="coerce").dropna()
    return float(t.max()) if len(t) else None


def _rows(df: pd.DataFrame, workload: str, mode: str) -> pd.DataFrame:
    if df is None or df.empty or "workload" not in df:
        return pd.DataFrame()
    sel = df[(df["workload"] == workload) & (df["mode"] == mode)]
    return sel.sort_values("window") if "window" in sel else sel


def _elapsed_us(row: pd.Series) -> int:
    """The window as the DUT's two timestamps give it (whole microseconds, as m-lap-us prints)."""
    extra = row.get("extra")
    laps = extra.get("lap_us") if isinstance(extra, dict) else None
    if isinstance(laps, (list, tuple)) and len(laps) == 2:
        return int((int(laps[1]) - int(laps[0])) % 2**32)
    return int(round(float(row["elapsed_s"]) * 1e6))


def performance_lines(windows: pd.DataFrame, t: float | None) -> list[str]:
    """Per-window blocks and the median (or the official ERROR line) of one performance run."""
    lines: list[str] = []
    throughputs = []
    durations = []
    for i, (_, row) in enumerate(windows.iterrows(), start=1):
        elapsed_us = _elapsed_us(row)
        runtime = elapsed_us / 1e6
        # the measured throughput: from a DUT's timestamps it is the runner's N / (lap difference / 1e6)
        # exactly; on the host it keeps its sub-microsecond time, so the median equals the summary's
        measured = row.get("throughput_ips")
        throughput = float(measured) if measured is not None and pd.notna(measured) else (
            int(row["n"]) / runtime if elapsed_us > 0 else 0)
        throughputs.append(throughput)
        durations.append(runtime)
        lines += [f"Performance results for window {i}", f"    # Inferences : {int(row['n'])}",
                  f"    Runtime: {runtime} sec.", f"    Throughput: {throughput} inf./sec."]
        if runtime > RULES_MIN_WINDOW_S:
            lines.append("    Runtime requirements have been met.")
    ts = stamp(t)
    if len(throughputs) != RULES_WINDOWS:
        lines.append(f"{ts}{PREFIX}{ERROR_LOOP_COUNT}")
    elif sum(durations) < RULES_MIN_WINDOW_S:
        # the runner's own test: its loop of 5 windows ended within 10 s of wall time (each window's
        # 10 s shows only as the missing "Runtime requirements have been met." line)
        lines.append(f"{ts}{PREFIX}{ERROR_DURATION}")
    else:
        lines += [f"{ts}{PREFIX}{RULE}", f"{ts}{PREFIX}Median throughput is {float(np.median(throughputs)):>10.3f} inf./sec.",
                  f"{ts}{PREFIX}{RULE}"]
    return lines


def energy_lines(windows: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(results.txt lines, log-only ERROR lines) of one energy run, as the official runner prints them."""
    lines = ["Power Edition Output"]
    per_inf: list[float] = []
    times: list[float] = []
    for i, (_, row) in enumerate(windows.iterrows()):
        extra = row.get("extra") if isinstance(row.get("extra"), dict) else {}
        ew = extra.get("energy_window") or {}
        if "start_sample" in ew and "end_sample" in ew:
            elapsed = ew["end_sample"] / 1000 - ew["start_sample"] / 1000  # the runner's ts_samp_nums / 1000
        else:
            elapsed = float(row["elapsed_s"])
        energy = float(row["energy_j"]) if pd.notna(row.get("energy_j")) else math.nan
        n = int(row["n"])
        per_inf.append(energy / n)
        times.append(elapsed)
        warning = "" if elapsed >= RULES_MIN_WINDOW_S else "  <<<< below minimum duration"
        power = 1e3 * energy / elapsed if elapsed > 0 else math.nan
        lines += [f"Energy data for trial {i}", f"  Elapsed time  : {elapsed}{warning}", f"  Inferences    : {n}",
                  f"  Power         : {power:5.4f} mW.", f"  Total Energy  : {energy * 1e6:.3f} uJ",
                  f"  Energy/Inf    : {energy / n * 1e6:.3f} uJ/inf"]
    median = float(np.median(per_inf)) if per_inf else math.nan
    lines += [RULE, f"Median energy cost is {1e6 * median:5.4f} uJ/inf.", RULE]
    errors = []
    if any(t < RULES_MIN_WINDOW_S for t in times):
        errors.append(ERROR_ENERGY_DURATION)
    if len(times) != RULES_WINDOWS:
        errors.append(ERROR_ENERGY_COUNT)
    return lines, errors


def _normalised(results: list[float]) -> np.ndarray:
    v = np.asarray(results, dtype=np.float64)
    total = v.sum()
    return v / total if total else v


def official_accuracy(workload: str, samples: pd.DataFrame) -> tuple[float | None, float | None]:
    """(Top 1%, AUC) as the official runner computes them from the reported outputs, where it can."""
    if samples.empty or "results" not in samples:
        return None, None
    wl = WORKLOADS[workload]
    if not wl.scoring.classifies:
        per_file = samples.groupby("file", sort=False).agg(score=("score", "mean"), label=("label", "first"))
        scores, labels = per_file["score"].to_numpy(float), per_file["label"].to_numpy(int)
        return _threshold_accuracy(scores, labels), roc_auc(scores, labels)
    probs = np.stack([_normalised(r) for r in samples["results"]])
    labels = samples["label"].to_numpy(int)
    top1 = 100.0 * float(np.mean(np.argmax(probs, axis=1) == labels))
    if probs.shape[1] == 2:
        return top1, roc_auc(probs[:, 1], labels)
    aucs = [roc_auc(probs[:, c], labels == c) for c in range(probs.shape[1])]
    aucs = [a for a in aucs if not math.isnan(a)]
    return top1, (float(np.mean(aucs)) if len(aucs) == probs.shape[1] else None)


def _threshold_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """The runner's ad01 'Top 1%': best mean of precision and recall over 100 score thresholds."""
    lo, hi = float(np.amin(scores)), float(np.amax(scores))
    best = 0.0
    for threshold in lo + np.arange(0.0, 1.0, 0.01) * (hi - lo):
        pred = scores > threshold
        tp = np.sum(pred[labels == 1])
        fp = np.sum(pred[labels == 0])
        fn = np.sum(~pred[labels == 1])
        precision = tp / (tp + fp + 1e-8)
        recall = tp / (tp + fn + 1e-8)
        best = max(best, 100 * (precision + recall) / 2)
    return float(best)


def accuracy_lines(workload: str, summary_row: pd.Series, samples: pd.DataFrame, t: float | None) -> list[str]:
    top1, auc = official_accuracy(workload, samples)
    if top1 is None and pd.notna(summary_row.get("top1_pct")):
        top1 = float(summary_row["top1_pct"])
    if pd.notna(summary_row.get("auc")):
        auc = float(summary_row["auc"])  # the file-level AUC tinyperf reports is the runner's for ad01
    ts = stamp(t)
    lines = []
    if top1 is not None and not math.isnan(top1):
        lines.append(f"{ts}{PREFIX}{TOP1.results_line(top1)}")
    if auc is not None and not math.isnan(auc):
        lines.append(f"{ts}{PREFIX}{AUC.results_line(auc)}")
    return lines


def mode_results_txt(run: Run, workload: str, mode: str) -> tuple[str, list[str]] | None:
    """(results.txt text, log-only lines) of one workload and mode in the official format, or None."""
    summary = run.summary
    srow = summary[(summary["workload"] == workload) & (summary["mode"] == mode)] if not summary.empty else summary
    if srow.empty:
        return None
    if mode == "accuracy":
        samples = _rows(run.samples, workload, "accuracy")
        lines, log_only = accuracy_lines(workload, srow.iloc[0], samples, _last_t(samples)), []
    else:
        windows = _rows(run.windows, workload, mode)
        if windows.empty:
            return None
        if mode == "energy":
            lines, log_only = energy_lines(windows)
        else:
            lines, log_only = performance_lines(windows, _last_t(windows)), []
    if not lines:
        return None
    return CRLF.join(lines) + CRLF, log_only


def results_txt(run: Run) -> dict[str, str]:
    """Per workload, the official blocks of every mode the run measured (performance, accuracy, energy)."""
    out: dict[str, str] = {}
    if run.summary.empty:
        return out
    for workload in dict.fromkeys(run.summary["workload"]):
        parts = [made[0] for mode in MODES if (made := mode_results_txt(run, workload, mode))]
        if parts:
            out[workload] = "".join(parts)
    return out


# ---- reading any results.txt ----------------------------------------------------------------------

_PATTERNS = {
    # the checker's own expressions, with the prefix made optional (older tinyperf lines had none)
    "throughput_ips": re.compile(r"(?:.* )?(?:Median|Estimated) throughput(?: is|:)\s+([\d.]+) inf\./sec\."),
    "top1_pct": re.compile(r"(?:.* )?Top[- ]1%?\s?[:=] ([\d.]+)"),
    "auc": re.compile(r"(?:.* )?AUC\s?[:=] ([\d.]+)"),
    "energy_uj_per_inf": re.compile(r"(?:.* )?Median energy cost is\s*([\d.]+) uJ/inf"),
    "power_mw": re.compile(r"^\s*Power\s+: ([\d.]+) mW"),
}
_ERROR = re.compile(r"(?:.* )?(ERROR\b.*)$")


def parse_results_txt(text: str) -> dict[str, Any]:
    """Figures of a results.txt in any format tinyperf or the official runner wrote.

    Keys present only where the file states them: throughput_ips, top1_pct, auc, energy_uj_per_inf,
    errors (the official runner's ERROR lines). Per-trial power lines are not the headline, so
    `power_mw` is kept only for streaming wake word files that have no energy median.
    """
    out: dict[str, Any] = {}
    errors: list[str] = []
    powers: list[float] = []
    for raw in text.splitlines():
        line = raw.strip("\r")
        for key, pattern in _PATTERNS.items():
            m = pattern.match(line)
            if m:
                if key == "power_mw":
                    powers.append(float(m[1]))
                else:
                    out[key] = float(m[1])
        m = _ERROR.match(line)
        if m:
            errors.append(m[1].strip())
    if powers and "energy_uj_per_inf" not in out:
        out["power_mw"] = float(np.median(powers))
    if errors:
        out["errors"] = errors
    return out


#: what each figure is called when a folder of results.txt files is shown
FIGURES = ("throughput_ips", "top1_pct", "auc", "energy_uj_per_inf", "power_mw")


def read_results_files(path: str | Path) -> pd.DataFrame:
    """Every results.txt under `path` (a file, an official runner session, a submission tree, a run
    directory), one row per file: where it is, the benchmark and mode its folders name, its figures.

    Folders are read the way the checker lays them out (`.../<benchmark>/<mode>/results.txt`); a
    tinyperf run directory's `<workload>/results.txt` holds every mode, so its mode is left missing.
    """
    root = Path(path)
    files = [root] if root.is_file() else sorted(root.rglob("results.txt"))
    rows = []
    for f in files:
        figures = parse_results_txt(f.read_text(errors="replace"))
        parent = f.parent
        mode = parent.name if parent.name in MODES else None
        benchmark = parent.parent.name if mode else parent.name
        rows.append({"file": str(f), "benchmark": benchmark, "mode": mode,
                     **{k: figures.get(k) for k in FIGURES}, "errors": "; ".join(figures.get("errors", [])) or None})
    return pd.DataFrame(rows, columns=["file", "benchmark", "mode", *FIGURES, "errors"])


# ---- the output format ----------------------------------------------------------------------------

RESULTS_TXT = "results.txt"
PARTIAL_TXT = "results.partial.txt"


def _false(v: object) -> bool:
    return v is not None and not pd.isna(v) and not bool(v)


def partial_reason(run: Run, workload: str) -> str | None:
    """Why a workload's figures are partial (run unfinished, a mode short of its files or windows), else None."""
    if run.status != "complete":
        return f"run {run.status}"
    rows = run.summary[run.summary["workload"] == workload] if not run.summary.empty else run.summary
    for _, r in rows.iterrows():
        if _false(r.get("complete")):
            counted = f"{r.get('n_files')} files" if r["mode"] == "accuracy" else f"{r.get('windows')} windows"
            return f"{r['mode']} covers {counted} only"
    return None


class ResultsTxtFormat:
    """The built-in format `results-txt`: `<workload>/results.txt` in the run directory.

    Partial figures (an unfinished run, an accuracy row short of files) never go to results.txt,
    which the submission checker would accept: they go to `results.partial.txt` under a PARTIAL
    line, and a stale results.txt is removed. Finishing the run swaps them back.
    """

    def write(self, run: Run) -> None:
        for workload, text in results_txt(run).items():
            folder = run.path / workload
            folder.mkdir(exist_ok=True)
            reason = partial_reason(run, workload)
            if reason is None:
                atomic_write_text(folder / RESULTS_TXT, text)
                (folder / PARTIAL_TXT).unlink(missing_ok=True)
            else:
                atomic_write_text(folder / PARTIAL_TXT, f"PARTIAL ({reason}): not a result; finish it with "
                                  f"`tinyperf run --resume {run.path}`" + CRLF + text)
                (folder / RESULTS_TXT).unlink(missing_ok=True)

    def missing(self, run: Run) -> list[str]:
        out = []
        for workload in results_txt(run):
            f = run.path / workload / (RESULTS_TXT if partial_reason(run, workload) is None else PARTIAL_TXT)
            if not (f.is_file() and f.stat().st_size):
                out.append(f"{workload}/{f.name}")
        return out
