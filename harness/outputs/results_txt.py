"""results.txt: the figures of a run as the MLPerf Tiny submission checker reads them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from tinyperf.core.files import atomic_write_text
from tinyperf.workloads.scoring import SCORINGS

if TYPE_CHECKING:
    from tinyperf.engine.rundir import Run


def _fmt(x: float, digits: int) -> str:
    return f"{x:.{digits}f}"


def results_txt(summary: pd.DataFrame) -> dict[str, str]:
    """Per workload, the lines the MLPerf Tiny submission checker greps (byte-compatible)."""
    out: dict[str, list[str]] = {}
    if summary.empty:
        return {}
    for _, row in summary.iterrows():
        lines = out.setdefault(row["workload"], [])
        mode = row["mode"]
        if mode in ("performance", "energy") and pd.notna(row.get("throughput_ips")):
            if mode == "performance":
                lines.append(f"Median throughput is {_fmt(row['throughput_ips'], 3)} inf./sec.")
            if pd.notna(row.get("energy_uj_per_inf")):
                lines.append(f"Median energy cost is {_fmt(row['energy_uj_per_inf'], 3)} uJ/inf.")
        elif mode == "accuracy":
            for scoring in SCORINGS:  # the checker's line for whichever headline the row holds
                if pd.notna(row.get(scoring.column)):
                    lines.append(scoring.results_line(float(row[scoring.column])))
    return {wl: "\n".join(lines) + "\n" for wl, lines in out.items() if lines}


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
        for workload, text in results_txt(run.summary).items():
            folder = run.path / workload
            folder.mkdir(exist_ok=True)
            reason = partial_reason(run, workload)
            if reason is None:
                atomic_write_text(folder / RESULTS_TXT, text)
                (folder / PARTIAL_TXT).unlink(missing_ok=True)
            else:
                atomic_write_text(folder / PARTIAL_TXT, f"PARTIAL ({reason}): not a result; finish it with "
                                  f"`tinyperf run --resume {run.path}`\n" + text)
                (folder / RESULTS_TXT).unlink(missing_ok=True)

    def missing(self, run: Run) -> list[str]:
        out = []
        for workload in results_txt(run.summary):
            f = run.path / workload / (RESULTS_TXT if partial_reason(run, workload) is None else PARTIAL_TXT)
            if not (f.is_file() and f.stat().st_size):
                out.append(f"{workload}/{f.name}")
        return out
