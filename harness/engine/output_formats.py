"""Output formats: what a finished (or interrupted) run writes beside its journal.

The engine knows only this protocol and the `tinyperf.outputs` entry-point group; the formats
themselves (parquet/CSV tables, results.txt, plug-ins) live in the outputs layer or elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from tinyperf.core.console import console
from tinyperf.core.registry import Broken, Registry

if TYPE_CHECKING:
    from tinyperf.engine.rundir import Run

GROUP = "tinyperf.outputs"
OUTPUT_FORMATS: Registry[OutputFormat] = Registry(GROUP, "output format")
#: formats written first, in this order: the others may read what they wrote (a failure there fails the run)
FIRST = ("tables", "results-txt")


class OutputFormat(Protocol):
    """Writes files for a run; called once when a run ends, again when `--resume` finishes it."""

    def write(self, run: Run) -> None: ...

    # optional: `missing(run) -> list[str]`, the files this format should have written but has not
    # (absent or empty); `tinyperf run --resume` of a complete run rebuilds outputs when any are


def missing_outputs(run: Run) -> list[str]:
    """Files the registered formats say a finished run should have and does not."""
    out: list[str] = []
    for fmt in OUTPUT_FORMATS.load_all().values():
        if isinstance(fmt, Broken):
            continue
        if isinstance(fmt, type):
            fmt = fmt()
        check = getattr(fmt, "missing", None)
        if check is not None:
            out.extend(check(run))
    return out


def write_outputs(run: Run) -> None:
    """Every registered format; one that fails is reported and the others still write."""
    formats = OUTPUT_FORMATS.load_all()
    order = [n for n in FIRST if n in formats] + [n for n in formats if n not in FIRST]
    for name in order:
        fmt = formats[name]
        if isinstance(fmt, Broken):
            console.print(f"[yellow]output format '{name}' skipped: {fmt.reason}[/]")
            continue
        if isinstance(fmt, type):
            fmt = fmt()
        try:
            fmt.write(run)
        except Exception as exc:  # a plugin's bug must not cost the run its other files
            if name in FIRST:
                raise
            console.print(f"[yellow]output format '{name}' failed: {exc}[/]")
