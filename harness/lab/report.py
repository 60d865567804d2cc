"""What a lab run and a lab check print: one table row per board, then the merged leaderboard."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table

from tinyperf.lab.health import Health
from tinyperf.lab.labrun import LabRun, lab_leaderboard

STATUS_STYLE = {"complete": "green", "incomplete": "yellow", "failed": "red", "skipped": "yellow"}


def _num(value: Any, fmt: str) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(v) else format(v, fmt)


def _text(value: Any) -> str:
    """A label or name; missing (None, NaN) is '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return str(value)


def health_table(rows: list[Health]) -> Table:
    t = Table(title="lab check")
    for col in ("board", "resource", "reachable", "firmware", "baud", "locked by", "note"):
        t.add_column(col, overflow="fold")
    for h in rows:
        style = "green" if h.ok else ("yellow" if h.reachable or h.locked_by else "red")
        baud = str(h.baud) if h.baud else "–"
        if h.wrong_baud:
            baud = f"[bold yellow]{h.baud} (configured {h.configured_baud})[/]"
        t.add_row(h.board.name, h.resource, f"[{style}]{'yes' if h.reachable else 'no'}[/]", h.firmware or "–",
                  baud, h.locked_by or "–", h.note)
    return t


def boards_table(lab: LabRun) -> Table:
    t = Table(title=f"lab run {lab.dir.name}")
    for col in ("board", "status", "workloads", "wall s", "run directory", "note"):
        t.add_column(col, overflow="fold")
    for b in lab.boards:
        s = lab.states[b.name]
        style = STATUS_STYLE.get(s.status, "")
        t.add_row(b.name, f"[{style}]{s.status}[/]" if style else s.status, ", ".join(s.workloads) or "–",
                  _num(s.wall_s, ".1f"), s.run_dir or "–", s.note)
    return t


def leaderboard_table(lab: LabRun) -> Table | None:
    board = lab_leaderboard(lab)
    if board is None or board.empty:
        return None
    t = Table(title="merged leaderboard (fastest first per model)")
    for col in ("model", "rank", "board", "hardware", "processor", "clock", "inf/s", "latency ms", "accuracy", "valid"):
        t.add_column(col, overflow="fold")
    for r in board.itertuples():
        valid = "yes" if r.Valid is True else ("no" if r.Valid is False else "–")
        t.add_row(str(r.Model), str(r.Rank), _text(r.LabBoard), _text(r.Board), _text(r.Processor), _text(r.Clock),
                  _num(r.Result, ".2f"), _num(r.latency_ms, ".3f"), _num(r.Accuracy, ".3g"), valid)
    return t
