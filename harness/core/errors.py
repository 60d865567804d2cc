"""User-facing errors: one line that names the file, what is wrong and the fix.

The CLI prints these without a traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class TinyperfError(Exception):
    """Bad input or environment that the user can fix."""

    def __init__(self, where: str | Path | None, problem: str, fix: str | None = None):
        self.where = str(where) if where is not None else None
        self.problem = problem
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        head = f"{self.where}: " if self.where else ""
        tail = f" Fix: {self.fix}" if self.fix else ""
        return f"{head}{self.problem}.{tail}" if not self.problem.endswith(".") else f"{head}{self.problem}{tail}"


class DatasetError(TinyperfError):
    """A sample set (y_labels.csv or its .bin files) is missing or malformed."""


class ModelError(TinyperfError):
    """A model file is missing, corrupt or does not fit the workload."""


class DeviceError(TinyperfError):
    """A device under test did not answer as the protocol says."""


class ResultsError(TinyperfError):
    """An output or run directory cannot be written, read or resumed."""
