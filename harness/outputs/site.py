"""A static leaderboard site (asv-style): one self-contained index.html, no JavaScript, no server."""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd

from tinyperf.outputs.leaderboard import OURS
from tinyperf.engine.summary import is_invalid

MODEL_TITLES = {"kws": "Keyword spotting (kws01)", "vww": "Visual wake words (vww01)",
                "ic": "Image classification (ic01)", "ad": "Anomaly detection (ad01)"}
CSS = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
table{border-collapse:collapse;width:100%;margin:.5rem 0 2rem}th,td{padding:.25rem .5rem;border-bottom:1px solid #ddd;
text-align:left;font-size:.9rem}td.n{text-align:right;font-variant-numeric:tabular-nums}tr.ours{background:#fff6d6}
.note{color:#666;font-size:.85rem}svg text{font-size:11px;font-family:system-ui,sans-serif}"""


def _bar_chart(rows: pd.DataFrame, width: int = 900) -> str:
    """Horizontal bars of throughput on a log scale (results span five orders of magnitude)."""
    rows = rows[rows["Result"] > 0].head(25)
    if rows.empty:
        return ""
    lo = math.floor(math.log10(rows["Result"].min()))
    hi = math.ceil(math.log10(rows["Result"].max())) or 1
    hi = max(hi, lo + 1)
    label_w, bar_h = 260, 16
    plot_w = width - label_w - 80
    out = [f'<svg width="{width}" height="{bar_h * len(rows) + 30}" role="img" aria-label="throughput chart">']
    for i, (_, r) in enumerate(rows.iterrows()):
        y = i * bar_h + 4
        w = max(1.0, (math.log10(r["Result"]) - lo) / (hi - lo) * plot_w)
        ours = r.get("Organization") == OURS
        label = html.escape(f"{r.get('Organization', '')} · {r.get('BoardName', '')}"[:42])
        out.append(f'<text x="{label_w - 6}" y="{y + 11}" text-anchor="end">{label}</text>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 4}" '
                   f'fill="{"#e69f00" if ours else "#0072b2"}"/>')
        out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 11}">{r["Result"]:,.1f}</text>')
    axis_y = bar_h * len(rows) + 20
    for e in range(lo, hi + 1):
        x = label_w + (e - lo) / (hi - lo) * plot_w
        out.append(f'<text x="{x:.1f}" y="{axis_y}" text-anchor="middle" fill="#666">1e{e}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _cell(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return '<td class="n">–</td>'
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f'<td class="n">{int(v):,}</td>'
    if isinstance(v, float):
        return f'<td class="n">{v:,.3f}</td>'
    return f"<td>{html.escape(str(v))}</td>"


def write_site(board: pd.DataFrame, out_dir: Path, title: str = "tinyperf leaderboard") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = [(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
              f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>"),
             ("<p class='note'>Throughput in inferences per second (higher is better), latency = 1000 / throughput. "
              "Highlighted rows are runs measured with tinyperf; '–' means not measured; a result marked as "
              "not valid breaks the MLPerf Tiny run rules. Energy in uJ/inference. Arena bytes: the TensorFlow Lite Micro "
              "tensor arena (RAM) the model needs; flash bytes: its .tflite flatbuffer (firmware code comes on top); "
              "both measured by tinyperf on the model file, so published rows show '–'.</p>")]
    cols = ["Rank", "Organization", "BoardName", "Division", "Result", "latency_ms", "Accuracy", "Power",
            "ArenaBytes", "FlashBytes", "InferenceFramework", "SoftwareNotes"]
    for model, group in board.groupby("Model", sort=True):
        parts.append(f"<h2>{html.escape(MODEL_TITLES.get(model, model))}</h2>")
        parts.append(_bar_chart(group))
        parts.append("<table><tr>" + "".join(f"<th>{c.replace('_', ' ')}</th>" for c in cols) + "<th>rules</th></tr>")
        for _, r in group.iterrows():
            cls = ' class="ours"' if r.get("Organization") == OURS else ""
            cells = "".join(_cell(r.get(c)) for c in cols)
            reason = r.get("InvalidReason")
            reason = f": {html.escape(reason)}" if isinstance(reason, str) else ""
            cells += f"<td>not a valid MLPerf result{reason}</td>" if is_invalid(r.get("Valid")) else "<td></td>"
            parts.append(f"<tr{cls}>{cells}</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    index = out_dir / "index.html"
    index.write_text("\n".join(parts))
    board.to_csv(out_dir / "leaderboard.csv", index=False)
    return index
