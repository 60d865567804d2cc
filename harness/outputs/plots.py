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


def _buckets(power_w: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean power per bucket and bucket edges (sample indices), lost samples (NaN) left out."""
    edges = np.linspace(0, len(power_w), min(count, len(power_w)) + 1).astype(int)
    means = np.array([np.nanmean(power_w[a:b]) if b > a and np.isfinite(power_w[a:b]).any() else np.nan
                      for a, b in zip(edges[:-1], edges[1:])])
    return means, edges


def power_trace_bars(power_w: np.ndarray, period_s: float, title: str, rows: int = 12, width: int = 40) -> Table:
    """An energy window's power over time, as rows of mean power (mW) per slice of the window."""
    means, edges = _buckets(np.asarray(power_w, dtype=np.float64), rows)
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    table.add_column("time s", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("mW", justify="right", no_wrap=True)
    peak = np.nanmax(means) if np.isfinite(means).any() else 1.0
    for (a, b), m in zip(zip(edges[:-1], edges[1:]), means):
        label = f"{a * period_s:.2f}–{b * period_s:.2f}"
        table.add_row(label, f"[magenta]{_bar(m / peak if peak else 0, width)}[/]" if np.isfinite(m) else "",
                      f"{m * 1000:,.3f}" if np.isfinite(m) else "–")
    lost = int(np.isnan(power_w).sum())
    table.caption = (f"{len(power_w):,} samples every {period_s * 1000:g} ms; mean {np.nanmean(power_w) * 1000:,.3f} mW"
                     + (f"; {lost:,} lost on the line" if lost else ""))
    table.caption_justify = "left"
    return table


def power_trace_png(power_w: np.ndarray, period_s: float, title: str, path) -> bool:
    """The trace drawn with matplotlib into `path` (PNG); False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    t = np.arange(len(power_w)) * period_s
    fig, ax = plt.subplots(figsize=(8, 3), dpi=100)
    ax.plot(t, np.asarray(power_w) * 1000.0, linewidth=0.7, color="#7b3294")
    ax.set_xlabel("time in window (s)")
    ax.set_ylabel("power (mW)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def power_trace_svg(power_w: np.ndarray, period_s: float, title: str, width: int = 1000, height: int = 220,
                    points: int = 500) -> str:
    """The trace as an inline SVG line (mean power per slice), with time and power axes and units."""
    import html

    means, edges = _buckets(np.asarray(power_w, dtype=np.float64), points)
    finite = means[np.isfinite(means)]
    if finite.size == 0:
        return ""
    lo, hi = 0.0, float(finite.max()) * 1.1 or 1.0
    left, bottom, top = 70, 40, 24
    plot_w, plot_h = width - left - 20, height - bottom - top
    duration = len(power_w) * period_s
    pts = []
    for (a, b), m in zip(zip(edges[:-1], edges[1:]), means):
        if np.isfinite(m):
            x = left + (a + b) / 2 / len(power_w) * plot_w
            y = top + plot_h - (m - lo) / (hi - lo) * plot_h
            pts.append(f"{x:.1f},{y:.1f}")
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">',
           f'<text x="{left}" y="14">{html.escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#ccc"/>',
           f'<polyline fill="none" stroke="#7b3294" stroke-width="1" points="{" ".join(pts)}"/>']
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        y = top + plot_h - k / 4 * plot_h
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#666">{v * 1000:,.2f}</text>')
        x = left + k / 4 * plot_w
        out.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#666">{duration * k / 4:.2f}</text>')
    out.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 4}" text-anchor="middle" fill="#444">time in window (s)</text>')
    out.append(f'<text x="14" y="{top + plot_h / 2:.0f}" transform="rotate(-90 14 {top + plot_h / 2:.0f})" '
               'text-anchor="middle" fill="#444">power (mW)</text>')
    out.append("</svg>")
    return "\n".join(out)


def first_trace(run) -> tuple[str, str, int, np.ndarray, float] | None:
    """(workload, mode, window, power W, period s) of the first window of `run` that kept a power trace."""
    from tinyperf.engine.rundir import load_trace

    w = run.windows
    if w.empty or "trace_file" not in w:
        return None
    for _, r in w.iterrows():
        if isinstance(r.get("trace_file"), str):
            return r["workload"], r["mode"], int(r["window"]), load_trace(run, r["trace_file"]), float(r["trace_period_s"])
    return None
