"""The run's tables as files: parquet + CSV for windows, samples and summary, and results.txt."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from tinyperf.core.files import atomic_write_text
from tinyperf.engine.rundir import TABLES, Run
from tinyperf.outputs.results_txt import results_txt


def write_tables(run: Run) -> None:
    """Materialize parquet + CSV tables and the checker-compatible results.txt files."""
    for name in TABLES:
        df: pd.DataFrame = getattr(run, name)
        csv_df = df.copy()
        for col in csv_df.columns:
            if csv_df[col].map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
                csv_df[col] = csv_df[col].map(lambda v: json.dumps(list(v)) if v is not None else None)
        try:
            df.to_parquet(run.path / f"{name}.parquet", index=False)
        except Exception as exc:  # never lose the CSV because of a parquet type quirk
            (run.path / f"{name}.parquet.error").write_text(str(exc))
        csv_df.to_csv(run.path / f"{name}.csv", index=False)
    for workload, text in results_txt(run).items():
        folder = run.path / workload
        folder.mkdir(exist_ok=True)
        atomic_write_text(folder / "results.txt", text)


class TablesFormat:
    """The built-in format: parquet + CSV tables and per-workload results.txt."""

    def write(self, run: Run) -> None:
        write_tables(run)
