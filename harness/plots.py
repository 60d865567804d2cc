"""Terminal plots: a latency histogram reads faster than a column of percentiles."""

from __future__ import annotations

import numpy as np
from rich.table import Table

BLOCKS = " ▏▎▍▌▋▊▉█"


def _bar(fraction: float, width: int) -> str:
    cells = max(0.0, min(1.0, fraction)) * width
    full = int(cells)
    rest = int((cells - full) * (len(BLOCKS) - 1))
    return "█" * full + (BLOCKS[rest] if rest and full < width else "")


def latency_histogram(latencies_us: np.ndarray, title: str, bins: int = 16, width: int = 40) -> Table:
    """Histogram between the 0.5th and 99.5th percentile; the tails are counted in the end rows."""
    a = np.asarray(latencies_us, dtype=np.float64)
    lo, hi = np.percentile(a, [0.5, 99.5])
    if hi <= lo:
        hi = lo + max(abs(lo) * 1e-3, 1e-3)
    edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(np.clip(a, lo, hi), edges)
    table = Table(title=title, title_justify="left", show_header=True, box=None, pad_edge=False)
    table.add_column("latency us", justify="right")
    table.add_column("", justify="left")
    table.add_column("count", justify="right")
    peak = counts.max() or 1
    median = float(np.median(a))
    for i, c in enumerate(counts):
        label = f"{edges[i]:,.1f}–{edges[i + 1]:,.1f}"
        mark = " [bold]◀ median[/]" if edges[i] <= median < edges[i + 1] else ""
        table.add_row(label, f"[cyan]{_bar(c / peak, width)}[/]{mark}", f"{c:,}")
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
