"""The progress display of a run, built to fit the console: counts are never cut.

Rich shrinks every column of a too-wide progress line alike, which cut "48608/48608" to
"48608/486…" at 80 columns. Here only the description gives way: first it drops its
parenthesis ("kws01 performance (5 windows >= 10 s)" -> "kws01 performance"), then it ends
in "…"; on a very narrow console the bar shrinks with it. Counts and times never shrink.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

from tinyperf.core.console import console as default_console

#: cells of the bar; the rest of the line goes to the description
BAR_WIDTH = 20


class _Description:
    """The task description, shortened to the width it is given rather than wrapped or cut mid-count."""

    def __init__(self, text: str, status: str | None = None) -> None:
        self.full = Text.from_markup(text, style="bold")
        plain = self.full.plain
        self.short = self.full[:plain.index(" (")] if " (" in plain else self.full
        if status:  # live trouble (a device link recovering) outlasts the parenthesis
            tail = Text(f" · {status}", style="yellow")
            self.full = Text.assemble(self.full, tail)
            self.short = Text.assemble(self.short, tail)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(min(self.short.cell_len, options.max_width), self.full.cell_len)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = self.full if self.full.cell_len <= options.max_width else self.short
        text = text.copy()
        text.no_wrap = True
        text.overflow = "ellipsis"
        yield text


class DescriptionColumn(ProgressColumn):
    """With the bar, the only column that gives way when the line is too wide (its table column may collapse)."""

    def __init__(self) -> None:
        super().__init__(table_column=Column(no_wrap=False, overflow="ellipsis"))

    def render(self, task: Task) -> _Description:  # type: ignore[override]
        """`status`, a task field, is a callable asked at every refresh: progress made while a
        single long command is still running (a pilot window on a bad link) shows up live."""
        status = task.fields.get("status")
        return _Description(task.description, status() if callable(status) else None)


def _fixed() -> Column:
    return Column(no_wrap=True)


def run_progress(console: Console | None = None) -> Progress:
    """Spinner, description, bar, done/total, elapsed and time left: one line per task, any width."""
    return Progress(
        SpinnerColumn(table_column=_fixed()), DescriptionColumn(),
        BarColumn(bar_width=BAR_WIDTH, table_column=Column(no_wrap=False)), MofNCompleteColumn(table_column=_fixed()),
        TimeElapsedColumn(table_column=_fixed()), TextColumn("eta", table_column=_fixed()),
        TimeRemainingColumn(table_column=_fixed()),
        console=console or default_console, transient=False)
