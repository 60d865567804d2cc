"""The run's tables as files: parquet + CSV for windows, samples and summary (output format `tables`)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from tinyperf.engine.rundir import TABLES, Run


def write_tables(run: Run) -> None:
    """Materialize parquet + CSV tables."""
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


class TablesFormat:
    """The built-in format: parquet + CSV tables."""

    def write(self, run: Run) -> None:
        write_tables(run)
