"""A static leaderboard site (asv-style): one self-contained index.html, no JavaScript, no server.

It must read on a 1280 px page without sideways scrolling: the table has a fixed layout that
wraps text cells at words (never one word per line: the rules column has a minimum width), the
charts are scaled SVG (viewBox, width 100 %), every figure carries its unit, and numbers are
rounded as MLPerf Tiny publishes them. Rows that are not valid closed results are listed after the
ranked ones, grey and marked, in the table and in the chart.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import pandas as pd

from tinyperf.outputs.leaderboard import OURS, UNRANKED_MARKS
from tinyperf.outputs.rounding import accuracy_decimals, rounded

MODEL_TITLES = {"kws": "Keyword spotting (kws01)", "vww": "Visual wake words (vww01)",
                "ic": "Image classification (ic01)", "ad": "Anomaly detection (ad01)",
                "sww": "Streaming wake word (sww, published only)"}
ACCURACY_UNIT = {"kws": "top-1 %", "vww": "top-1 %", "ic": "top-1 %", "ad": "AUC", "sww": "F1"}
UNRANKED_WORDS = {"invalid": "not a valid MLPerf Tiny result", "synthetic": "architecture only, synthetic weights",
                  "open": "open division"}
CSS = """*{box-sizing:border-box}body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:1200px;
padding:0 1rem;color:#222}h2{margin-top:2rem}h3{margin:1rem 0 .25rem;font-size:1rem;color:#444}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin:.5rem 0 1.5rem}
th,td{padding:.25rem .4rem;border-bottom:1px solid #ddd;text-align:left;font-size:.85rem;vertical-align:top;
overflow-wrap:break-word}th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.ours{background:#fff6d6}tr.apart td{color:#777}tr.apart.ours{background:#fbf3dc}
.note{color:#555;font-size:.85rem}svg{width:100%;height:auto;max-width:1100px}
svg text{font-size:11px;font-family:system-ui,sans-serif}"""
#: table columns: header, width (of 1168 px usable), key
COLUMNS = [("rank", "5%"), ("submitter · board", "18%"), ("div.", "5%"), ("throughput<br>inf./s", "10%"),
           ("latency<br>ms", "8%"), ("accuracy", "8%"), ("energy", "10%"), ("RAM<br>KB", "6%"), ("flash<br>KB", "6%"),
           ("framework", "11%"), ("rules · notes", "13%")]


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _unranked(r: dict[str, Any]) -> list[str]:
    """Why a row is not ranked ('invalid', 'synthetic', 'open'); empty for a ranked row."""
    u = r.get("Unranked")
    return u.split(", ") if isinstance(u, str) and u else []


def _marks(r: dict[str, Any]) -> str:
    reasons = _unranked(r)
    return "".join(UNRANKED_MARKS[k] for k in UNRANKED_MARKS if k in reasons) + ("~" if r.get("Busy") is True else "")


def _bar_chart(rows: pd.DataFrame, width: int = 1100) -> str:
    """Horizontal bars of throughput (inf./s) on a log scale; unranked rows grey, hatched and marked."""
    rows = rows[pd.to_numeric(rows["Result"], errors="coerce") > 0].head(30)
    if rows.empty:
        return ""
    lo = math.floor(math.log10(rows["Result"].min()))
    hi = max(math.ceil(math.log10(rows["Result"].max())), lo + 1)
    label_w, bar_h = 330, 16
    plot_w = width - label_w - 90
    height = bar_h * len(rows) + 44
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="throughput in inferences per second">',
           '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
           '<rect width="6" height="6" fill="#ccc"/><line x1="0" y1="0" x2="0" y2="6" stroke="#888" stroke-width="2"/>'
           '</pattern></defs>']
    for i, r in enumerate(rows.to_dict("records")):
        y = i * bar_h + 4
        w = max(1.0, (math.log10(r["Result"]) - lo) / (hi - lo) * plot_w)
        ours = r.get("Organization") == OURS
        marks = _marks(r)
        fill = "url(#hatch)" if _unranked(r) else ("#e69f00" if ours else "#0072b2")
        rank = f"{int(r['Rank'])}. " if _num(r.get("Rank")) is not None else "– "
        label = html.escape(f"{rank}{r.get('Organization', '')} · {r.get('BoardName', '')}"[:52])
        out.append(f'<text x="{label_w - 6}" y="{y + 11}" text-anchor="end">{label}</text>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 4}" fill="{fill}"/>')
        out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 11}">{r["Result"]:,.1f}{html.escape(marks)}</text>')
    axis_y = bar_h * len(rows) + 20
    for e in range(lo, hi + 1):
        x = label_w + (e - lo) / (hi - lo) * plot_w
        out.append(f'<text x="{x:.1f}" y="{axis_y}" text-anchor="middle" fill="#666">{10.0 ** e:,g}</text>')
    out.append(f'<text x="{label_w + plot_w / 2:.0f}" y="{axis_y + 16}" text-anchor="middle" fill="#444">'
               'throughput, inferences per second (log scale; hatched = not ranked)</text>')
    out.append("</svg>")
    return "\n".join(out)


def _fmt(v: Any, spec: str, unit: str = "") -> str:
    f = _num(v)
    return "–" if f is None else f"{format(f, spec)}{unit}"


def _kib(v: Any) -> str:
    f = None if v is pd.NA else _num(v)
    return "–" if f is None else f"{f / 1024.0:,.1f}"


def _accuracy(model: str, v: Any) -> str:
    f = _num(v)
    if f is None:
        return "–"
    kind = ACCURACY_UNIT.get(model, "top-1 %")
    return f"{f:.1f} %" if kind == "top-1 %" else f"{kind} {f:.{accuracy_decimals(f)}f}"


def _energy_header(rows: pd.DataFrame) -> str:
    """The section's energy column: uJ/inf., or average power in mW (streaming wake word)."""
    units = {str(u).strip() for u in rows["PowerUnit"].dropna() if str(u).strip()}
    if units == {"mW"}:
        return "power<br>mW"
    return "energy<br>uJ/inf." if units <= {"uJ/inf.", "uJ/inf"} else "energy"


def _energy(r: dict[str, Any], header: str) -> str:
    """Published precision (4 decimals); the unit is in the header unless the section mixes units."""
    f = _num(r.get("Power"))
    if f is None:
        return "–"
    unit = "" if "<br>" in header else " " + html.escape(str(r.get("PowerUnit") or "uJ/inf.").strip())
    return f"{f:,.4f}{unit}"


def _notes(r: dict[str, Any]) -> str:
    reasons = _unranked(r)
    parts = []
    for key, words in UNRANKED_WORDS.items():
        if key in reasons:
            if key == "invalid" and isinstance(r.get("InvalidReason"), str):
                words = f"not a valid MLPerf result: {r['InvalidReason']}"
            parts.append(words)
    if r.get("Busy") is True:
        parts.append("measured on a busy machine")
    runs = _num(r.get("Runs"))
    if r.get("Organization") == OURS and runs and runs > 1:
        spread = _num(r.get("RunSpreadPct"))
        parts.append(f"{int(runs)} runs combined" + (f", spread {spread:.1f} %" if spread is not None else ""))
    return html.escape("; ".join(parts))


def _row(model: str, r: dict[str, Any], energy_header: str) -> str:
    classes = [c for c, on in (("ours", r.get("Organization") == OURS), ("apart", bool(_unranked(r)))) if on]
    cls = f' class="{" ".join(classes)}"' if classes else ""
    rank = str(int(r["Rank"])) if _num(r.get("Rank")) is not None else "–"
    who = f"{html.escape(str(r.get('Organization', '')))}<br><small>{html.escape(str(r.get('BoardName', '')))}</small>"
    cells = [f'<td class="n">{rank}</td>', f"<td>{who}</td>", f"<td>{html.escape(str(r.get('Division') or '–'))}</td>",
             f'<td class="n">{_fmt(r.get("Result"), ",.3f")}{html.escape(_marks(r))}</td>',
             f'<td class="n">{_fmt(r.get("latency_ms"), ",.4f")}</td>', f'<td class="n">{_accuracy(model, r.get("Accuracy"))}</td>',
             f'<td class="n">{_energy(r, energy_header)}</td>', f'<td class="n">{_kib(r.get("ArenaBytes"))}</td>',
             f'<td class="n">{_kib(r.get("FlashBytes"))}</td>', f"<td>{html.escape(str(r.get('InferenceFramework') or '–'))}</td>",
             f"<td>{_notes(r)}</td>"]
    return f"<tr{cls}>{''.join(cells)}</tr>"


def write_site(board: pd.DataFrame, out_dir: Path, title: str = "tinyperf leaderboard",
               extra_sections: list[str] | None = None) -> Path:
    """index.html (one section per workload, a table and chart per class of system) and leaderboard.csv.

    `extra_sections` are HTML fragments appended at the end (e.g. power traces of energy windows).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = [(f"<!doctype html><html><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
              f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"),
             ("<p class='note'>Throughput in inferences per second (inf./s, higher is better); latency = 1000 / "
              "throughput, in ms; energy per inference in uJ/inf. (streaming wake word: average power in mW); accuracy "
              "as top-1 %, AUC (ad01) or F1 (sww). Only valid closed-division results are ranked, separately for "
              "microcontrollers, accelerators and host CPUs; rows marked * (not a valid MLPerf Tiny result), "
              "† (architecture only, synthetic weights) or ° (open division) are listed after them, grey and unranked; "
              "~ = measured on a busy machine. Highlighted rows are runs measured with tinyperf; '–' = not measured. "
              "RAM: the TensorFlow Lite Micro tensor arena the model needs, flash: its .tflite flatbuffer (firmware "
              "code comes on top), in KB of 1024 B, both measured by tinyperf on the model file, so published rows "
              "show '–'.</p>")]
    for note in board.attrs.get("notes", []):
        parts.append(f"<p class='note'>Note: {html.escape(note)}</p>")
    colgroup = "<colgroup>" + "".join(f'<col style="width:{w}">' for _, w in COLUMNS) + "</colgroup>"
    for model, group in board.groupby("Model", sort=True):
        parts.append(f"<h2>{html.escape(MODEL_TITLES.get(model, model))}</h2>")
        for cls, rows in group.groupby("Class", sort=False):
            ranked = int(rows["Rank"].notna().sum())
            parts.append(f"<h3>{html.escape(str(cls))}: {ranked} ranked, {len(rows) - ranked} not ranked</h3>")
            parts.append(_bar_chart(rows))
            header = _energy_header(rows)
            parts.append("<table>" + colgroup + "<tr>" + "".join(
                f"<th>{header if h == 'energy' else h}</th>" for h, _ in COLUMNS) + "</tr>")
            parts.extend(_row(str(model), r, header) for r in rows.to_dict("records"))
            parts.append("</table>")
    parts.extend(extra_sections or [])
    parts.append("</body></html>")
    index = out_dir / "index.html"
    index.write_text("\n".join(parts))
    rounded(board).to_csv(out_dir / "leaderboard.csv", index=False)
    return index


def power_trace_sections(paths: list[Path]) -> list[str]:
    """For each run that kept an energy window's power trace: a heading and the trace as SVG."""
    from tinyperf.engine.rundir import load_run
    from tinyperf.outputs.plots import first_trace, power_trace_svg

    out = []
    for path in paths:
        run = load_run(path)
        found = first_trace(run)
        if found is None:
            continue
        wl, mode, window, trace, period = found
        if not out:
            out.append("<h2>Power traces of energy windows</h2>")
        out.append(f"<h3>{html.escape(wl)} · {html.escape(str(run.meta.get('run_id', path)))} · window {window}</h3>")
        out.append(power_trace_svg(trace, period, f"{wl} {mode} window {window}: power (mW) over time (s), "
                                   f"mean {float(pd.Series(trace).mean()) * 1000:,.3f} mW"))
    return out
