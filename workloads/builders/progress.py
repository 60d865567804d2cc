"""A rich progress bar for builds that can be switched off (library use, tests, nested bars)."""

from __future__ import annotations

from types import TracebackType

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

from tinyperf.core.console import console


class BuildProgress:
    """`with BuildProgress("kws01", 1000) as bar: bar.advance()`; a no-op when disabled."""

    def __init__(self, description: str, total: int, enabled: bool = True):
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) if enabled else None
        self._description, self._total = description, total
        self._task = None

    def __enter__(self) -> BuildProgress:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task(self._description, total=self._total)
        return self

    def advance(self, n: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, n)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()
