"""The run's tables as files: parquet + CSV for windows, samples and summary, and results.txt.

Every file is written to a temporary name and renamed into place, so a kill leaves the old file
or the new one, never half of one. Figures of an unfinished run (or an accuracy row short of
files) are partial: they go to `<workload>/results.partial.txt` under a PARTIAL line, and no
`results.txt` exists for them, so the submission checker can never take them for a result.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from tinyperf.core.files import atomic_write_text
from tinyperf.engine.rundir import TABLES, Run
from tinyperf.outputs.results_txt import results_txt

RESULTS_TXT = "results.txt"
PARTIAL_TXT = "results.partial.txt"


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """`write(tmp)` then rename over `path` (fsynced first): all of the new file or the old one."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def partial_reason(run: Run, workload: str) -> str | None:
    """Why a workload's figures are partial (run unfinished, accuracy short of files), else None."""
    if run.status != "complete":
        return f"run {run.status}"
    rows = run.summary[run.summary["workload"] == workload] if not run.summary.empty else run.summary
    short = [r for _, r in rows.iterrows() if _false(r.get("complete"))]
    if short:
        r = short[0]
        return f"{r['mode']} covers {r.get('n_files') if r['mode'] == 'accuracy' else r.get('windows')} " \
               f"{'files' if r['mode'] == 'accuracy' else 'windows'} only"
    return None


def _false(v: object) -> bool:
    return v is not None and not pd.isna(v) and not bool(v)


def write_tables(run: Run) -> None:
    """Materialize parquet + CSV tables and the checker-compatible results.txt files."""
    for name in TABLES:
        df: pd.DataFrame = getattr(run, name)
        csv_df = df.copy()
        for col in csv_df.columns:
            if csv_df[col].map(lambda v: isinstance(v, (list, tuple, np.ndarray, dict))).any():
                csv_df[col] = csv_df[col].map(lambda v: json.dumps(v if isinstance(v, dict) else list(v))
                                              if v is not None and not (isinstance(v, float) and np.isnan(v)) else None)
        error = run.path / f"{name}.parquet.error"
        try:
            _atomic(run.path / f"{name}.parquet", lambda tmp: df.to_parquet(tmp, index=False))
            error.unlink(missing_ok=True)
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - never lose the CSV to a parquet type quirk
            atomic_write_text(error, str(exc))
        _atomic(run.path / f"{name}.csv", lambda tmp: csv_df.to_csv(tmp, index=False))
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


def missing_tables(run: Run) -> list[str]:
    """Table files a run should have and does not (absent or empty), relative to the run directory."""
    out = []
    for name in TABLES:
        have_parquet = (run.path / f"{name}.parquet").is_file() or (run.path / f"{name}.parquet.error").is_file()
        if not have_parquet or ((run.path / f"{name}.parquet").is_file()
                                and (run.path / f"{name}.parquet").stat().st_size == 0):
            out.append(f"{name}.parquet")
        csv = run.path / f"{name}.csv"
        if not csv.is_file() or csv.stat().st_size == 0:
            out.append(f"{name}.csv")
    for workload in results_txt(run.summary):
        f = run.path / workload / (RESULTS_TXT if partial_reason(run, workload) is None else PARTIAL_TXT)
        if not f.is_file() or f.stat().st_size == 0:
            out.append(str(f.relative_to(run.path)))
    return out


class TablesFormat:
    """The built-in format: parquet + CSV tables and per-workload results.txt."""

    def write(self, run: Run) -> None:
        write_tables(run)

    def missing(self, run: Run) -> list[str]:
        return missing_tables(run)
