"""The run's tables as files: parquet + CSV for windows, samples and summary (output format `tables`).

Every file is written to a temporary name and renamed into place, so a kill leaves the old file
or the new one, never half of one (a 0-byte samples.parquet is impossible).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from tinyperf.core.files import atomic_write, atomic_write_text
from tinyperf.engine.rundir import TABLES, Run


def write_tables(run: Run) -> None:
    """Materialize parquet + CSV tables."""
    for name in TABLES:
        df: pd.DataFrame = getattr(run, name)
        csv_df = df.copy()
        for col in csv_df.columns:
            if csv_df[col].map(lambda v: isinstance(v, (list, tuple, np.ndarray, dict))).any():
                csv_df[col] = csv_df[col].map(lambda v: json.dumps(v if isinstance(v, dict) else list(v))
                                              if isinstance(v, (list, tuple, np.ndarray, dict)) else None)
        error = run.path / f"{name}.parquet.error"
        try:
            atomic_write(run.path / f"{name}.parquet", lambda tmp: df.to_parquet(tmp, index=False))
            error.unlink(missing_ok=True)
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - never lose the CSV because of a parquet type quirk
            atomic_write_text(error, str(exc))
        atomic_write(run.path / f"{name}.csv", lambda tmp: csv_df.to_csv(tmp, index=False))


def missing_tables(run: Run) -> list[str]:
    """Table files a run should have and does not (absent or empty), relative to the run directory."""
    out = []
    for name in TABLES:
        parquet = run.path / f"{name}.parquet"
        if not (parquet.is_file() and parquet.stat().st_size) and not (run.path / f"{name}.parquet.error").is_file():
            out.append(parquet.name)
        csv = run.path / f"{name}.csv"
        if not (csv.is_file() and csv.stat().st_size):
            out.append(csv.name)
    return out


class TablesFormat:
    """The built-in format: parquet + CSV tables."""

    def write(self, run: Run) -> None:
        write_tables(run)

    def missing(self, run: Run) -> list[str]:
        return missing_tables(run)
