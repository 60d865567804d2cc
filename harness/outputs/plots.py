"""Terminal plots: a latency histogram reads faster than a column of percentiles."""

from __future__ import annotations

import math

import numpy as np
from rich.table import Table

BLOCKS = " ▏▎▍▌▋▊▉█"


def _bar(fraction: float, width: int) -> str:
    cells = max(0.0, min(1.0, fraction)) * width
    full = int(cells)
    rest = int((cells - full) * (len(BLOCKS) - 1))
    return "█" * full + (BLOCKS[rest] if rest and full < width else "")


#: the bins span these percentiles; what lies outside is counted in open-ended rows ("≥ x")
TAIL_PERCENTILES = (0.5, 99.5)


def latency_histogram(latencies_us: np.ndarray, title: str, bins: int = 16, width: int = 40) -> Table:
    """Equal bins between the 0.5th and 99.5th percentile, plus open-ended rows for the tails.

    A few slow outliers would otherwise stretch the bins until everything sits in one; and the
    tails must not be folded into the end bins, where they look like a mode ("8.4–8.7: 6,510").
    """
    a = np.asarray(latencies_us, dtype=np.float64)
    lo, hi = np.percentile(a, TAIL_PERCENTILES)
    if hi <= lo:
        hi = lo + max(abs(lo) * 1e-3, 1e-3)
    edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(a, edges)  # the last bin includes hi itself
    below, above = int((a < lo).sum()), int((a > hi).sum())
    d = max(1, min(4, math.ceil(-math.log10(edges[1] - edges[0]))))  # enough decimals that bins differ
    rows = [(f"< {lo:,.{d}f}", below, True)] if below else []
    rows += [(f"{edges[i]:,.{d}f}–{edges[i + 1]:,.{d}f}", int(c), False) for i, c in enumerate(counts)]
    rows += [(f"≥ {hi:,.{d}f}", above, True)] if above else []
    table = Table(title=title, title_justify="left", show_header=True, box=None, pad_edge=False)
    table.add_column("latency us", justify="right", no_wrap=True)
    table.add_column("", justify="left", no_wrap=True)
    table.add_column("count", justify="right", no_wrap=True)
    peak = max(c for _, c, _ in rows) or 1
    median = float(np.median(a))
    for k, (label, c, tail) in enumerate(rows):
        i = k - (1 if below else 0)  # index into the bins
        inside = not tail and (edges[i] <= median < edges[i + 1] or (i == bins - 1 and median == hi))
        mark = " [bold]◀ median[/]" if inside else ""
        colour = "dim cyan" if tail else "cyan"
        table.add_row(label, f"[{colour}]{_bar(c / peak, width)}[/]{mark}", f"{c:,}")
    if below or above:
        table.caption = (f"< and ≥ rows: the {below + above:,} inferences ({(below + above) / a.size:.1%}) "
                         f"beyond the {TAIL_PERCENTILES[0]:g}th–{TAIL_PERCENTILES[1]:g}th percentiles "
                         f"(max {a.max():,.1f} us)")
        table.caption_justify = "left"
    return table


def window_bars(throughputs: list[float], title: str, width: int = 40) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    table.add_column("window", justify="right")
    table.add_column("")
    table.add_column("inf/s", justify="right")
    peak = max(throughputs) if throughputs else 1.0
    for i, t in enumerate(throughputs):
        table.add_row(str(i), f"[green]{_bar(t / peak, width)}[/]", f"{t:,.1f}")
    return table
