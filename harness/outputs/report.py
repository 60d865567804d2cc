"""Terminal rendering of runs: the summary table people read after `tinyperf run`/`show`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from tinyperf.engine.rundir import Run
from tinyperf.engine.summary import SYNTHETIC_INPUTS, is_invalid
from tinyperf.workloads.catalog import WORKLOADS
from tinyperf.workloads.scoring import SCORINGS

MISSING = "[dim]–[/]"  # explained in the table caption: never shown as 0

#: free text (quality notes) may wrap between words, but gets at least this many cells first
WRAP_WIDTH = 20


@dataclass(frozen=True)
class FitColumn:
    header: str
    justify: str = "left"
    wrap: bool = False  # free text that may break between words; everything else never breaks


class FittedTable:
    """A table that never truncates a cell, whatever the console width.

    Rich squeezes a too-wide table by cutting every cell ("97…"). Instead, when the console is
    too narrow for every column, this prints several tables that each repeat the key (first)
    column; when even the key and one other column do not fit, one block of `column  value`
    lines per row. Numbers and identifiers are never wrapped; only `wrap` columns break, and
    only between words.
    """

    def __init__(self, title: str | None = None, caption: str | None = None) -> None:
        self.title = title
        self.caption = caption
        self.columns: list[FitColumn] = []
        self.rows: list[list[str]] = []

    def add_column(self, header: str, justify: str = "left", wrap: bool = False) -> None:
        self.columns.append(FitColumn(header, justify, wrap))

    def add_row(self, *cells: str) -> None:
        self.rows.append([str(c) for c in cells])

    def _needed(self, i: int) -> int:
        """Cells column i needs so that none of its values is cut (or wrapped, unless `wrap`)."""
        texts = [Text.from_markup(self.columns[i].header).plain] + [Text.from_markup(r[i]).plain for r in self.rows]
        lines = [line for t in texts for line in t.split("\n")]
        longest = max((cell_len(line) for line in lines), default=1)
        if not self.columns[i].wrap:
            return max(longest, 1)
        word = max((cell_len(w) for line in lines for w in line.split()), default=1)
        return max(word, min(longest, WRAP_WIDTH))

    def table(self, indices: list[int], title: str | None = None, caption: str | None = None) -> Table:
        t = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
        for i in indices:
            c = self.columns[i]
            t.add_column(c.header, justify=c.justify, no_wrap=not c.wrap, min_width=self._needed(i))  # type: ignore[arg-type]
        for r in self.rows:
            t.add_row(*(r[i] for i in indices))
        return t

    def _width(self, console: Console, options: ConsoleOptions, indices: list[int]) -> int:
        return console.measure(self.table(indices), options=options.update_width(100_000)).minimum

    def groups(self, console: Console, options: ConsoleOptions) -> list[list[int]] | None:
        """Column groups (each starting with the key column) that fit; None when none can."""
        width = options.max_width
        everything = list(range(len(self.columns)))
        if self._width(console, options, everything) <= width:
            return [everything]
        out: list[list[int]] = []
        current = [0]
        for i in everything[1:]:
            if self._width(console, options, current + [i]) <= width:
                current.append(i)
                continue
            if len(current) == 1:
                return None
            out.append(current)
            current = [0, i]
            if self._width(console, options, current) > width:
                return None
        out.append(current)
        return out

    def vertical(self) -> Table:
        """One block per row, `column value` lines, no borders: the narrowest layout there is."""
        t = Table(title=self.title, caption=self.caption, title_justify="left", caption_justify="left",
                  show_header=False, box=None, pad_edge=False)
        t.add_column("column", no_wrap=True, style="dim")
        t.add_column("value", overflow="fold")
        for k, r in enumerate(self.rows):
            if k:
                t.add_row("", "")
            for i, c in enumerate(self.columns):
                t.add_row(c.header.replace("\n", " "), f"[bold]{r[i]}[/]" if i == 0 else r[i])
        return t

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        groups = self.groups(console, options) if self.columns else [[]]
        if groups is None:
            yield self.vertical()
            return
        if len(groups) == 1:
            yield self.table(groups[0], self.title, self.caption)
            return
        for k, g in enumerate(groups):
            yield self.table(g, self.title if k == 0 else None)
        if self.caption:  # under all the parts, as wide as the console rather than the last part
            yield Text.from_markup(self.caption, style="table.caption")


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def fmt(v: Any, spec: str, missing: str = MISSING) -> str:
    f = _num(v)
    return missing if f is None else format(f, spec)


def _row(df: pd.DataFrame, wl: str, mode: str) -> dict[str, Any] | None:
    if df.empty:
        return None
    sel = df[(df["workload"] == wl) & (df["mode"] == mode)]
    return None if sel.empty else sel.iloc[0].to_dict()


def quality_cell(acc: dict[str, Any] | None) -> str:
    if acc is None:
        return MISSING
    scored = [(s, _num(acc.get(s.column))) for s in SCORINGS]
    scored = [(s, v) for s, v in scored if v is not None]
    if not scored:
        return MISSING  # why is listed under the table
    scoring, value = scored[-1]
    text = scoring.cell(value)
    if acc.get("complete") is False:
        text += f" [yellow](partial: {acc.get('n_files')} files)[/]"
    elif acc.get("meets_target") is False:
        text += " [red](below target)[/]"
    return text


def device_model_ids(run: Run) -> dict[str, str]:
    """Per workload, the model id a device reported (`profile`), for runs whose model stays on it."""
    if "model_id" not in run.summary:
        return {}
    known = run.summary.dropna(subset=["model_id"])
    return dict(zip(known["workload"], known["model_id"].astype(str)))


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def summary_table(run: Run) -> FittedTable:
    """One row per workload; columns with nothing measured are left out to keep it readable."""
    s = run.summary
    workloads = list(dict.fromkeys(s["workload"])) if not s.empty else []
    on_device = device_model_ids(run) if any(_text(m) is None for m in s["model"]) else {}
    rows = []
    for wl in workloads:
        perf = _row(s, wl, "performance") or _row(s, wl, "energy") or {}
        acc = _row(s, wl, "accuracy")
        any_row = perf or acc or {}
        model = _text(any_row.get("model"))
        if model is not None:
            model = model.removesuffix(".tflite")
        else:  # the model lives on the device: say what it reported, not where it ran
            model = f"{on_device.get(wl, 'unknown')} (device)"
        synthetic = bool(any_row.get("synthetic_weights"))
        invalid = is_invalid(perf.get("valid"))
        quality = quality_cell(acc)
        target = WORKLOADS[wl].quality_target if wl in WORKLOADS else None
        if target is not None and acc is not None and any(_num(acc.get(s.column)) is not None for s in SCORINGS):
            quality += f" [dim](target {target:g}{WORKLOADS[wl].scoring.unit})[/]"
        kernels = [k for k in (_text(perf.get("kernels")), _text((acc or {}).get("kernels"))) if k]
        devices = [_text(r.get("device")) for r in (perf, acc or {}) if r and r.get("runner") not in (None, "host")]
        synthetic_inputs = bool(perf) and perf.get("dataset") == SYNTHETIC_INPUTS
        rows.append({
            "RAM KB": kib(any_row.get("arena_bytes")), "flash KB": kib(any_row.get("model_flash_bytes")),
            "arithmetic": _text((acc or {}).get("arithmetic")), "proxy": _text(perf.get("timing_note")),
            "workload": wl, "model": model + (" †" if synthetic else ""), "synthetic": synthetic, "invalid": invalid,
            "synthetic_inputs": synthetic_inputs,
            "inf/s": fmt(perf.get("throughput_ips"), ",.1f") + ("*" if invalid else ""),
            "latency ms": fmt(perf.get("latency_ms"), ".3f"),
            "p99 us": fmt(perf.get("lat_p99_us"), ",.1f"),
            "uJ/inf": fmt(perf.get("energy_uj_per_inf"), ",.2f"),
            "quality": quality,
            "kernels": " / ".join(dict.fromkeys(kernels)) or "-",  # a value used twice is said once
            "device": " / ".join(dict.fromkeys(d for d in devices if d)) or "-",
        })
    notes = ["– = not measured"]
    if any(r["invalid"] for r in rows):
        notes.append("* not a valid MLPerf Tiny result (see below)")
    if any(r["synthetic"] for r in rows):
        notes.append("† architecture only, synthetic weights")
    if any(r["synthetic_inputs"] for r in rows):
        every = all(r["synthetic_inputs"] for r in rows)
        if not every:
            for r in rows:
                r["workload"] += " §" if r["synthetic_inputs"] else ""
        notes.append(("inputs" if every else "§ inputs") + ": synthetic (no sample set; pass --data-dir for the real ones)")
    once = {}  # the same everywhere: said once, under the table, instead of a column
    for c in ("kernels", "device"):
        values = {r[c] for r in rows}
        if len(values) == 1:
            once[c] = next(iter(values))
            if once[c] != "-":
                notes.insert(0, f"{c}: {once[c]}")
    for key, label in (("arithmetic", "accuracy arithmetic"), ("proxy", "timings")):
        values = {r[key] for r in rows if r[key]}
        notes.extend(f"{label}: {v}" for v in sorted(values))
    if any(r["RAM KB"] != MISSING for r in rows):
        notes.append(MEMORY_NOTE)
    table = FittedTable(title=f"tinyperf run {run.meta.get('run_id')} — {run.status}", caption=" · ".join(notes))
    columns = [c for c in ("workload", "model", "inf/s", "latency ms", "p99 us", "uJ/inf", "quality", "RAM KB",
                           "flash KB", "device", "kernels")
               if c in ("workload", "model", "quality")
               or (c in ("kernels", "device") and c not in once)
               or (c not in ("kernels", "device") and any(r[c] not in (MISSING, "-") for r in rows))]
    for c in columns:
        table.add_column(c, justify="right" if c in NUMERIC_COLUMNS else "left", wrap=c in ("quality", "device"))  # kernels: identifiers, never broken
    for r in rows:
        table.add_row(*(r[c] for c in columns))
    return table


NUMERIC_COLUMNS = ("inf/s", "latency ms", "p99 us", "uJ/inf", "RAM KB", "flash KB")
#: what the memory columns mean, wherever they are shown
MEMORY_NOTE = ("RAM = TFLite Micro tensor arena; flash = the .tflite flatbuffer (firmware code comes on top); "
               "KB = 1024 bytes")


def kib(v: Any) -> str:
    """Bytes as KB (1024) with one decimal; missing stays missing."""
    f = _num(v)
    return MISSING if f is None else f"{f / 1024.0:,.1f}"


def warnings_of(run: Run) -> list[str]:
    """Invalid results, unstable measurements and what was not measured (grouped by reason)."""
    out = list(run.problems)  # journal lines that could not be used
    s = run.summary
    if s.empty:
        return out
    skipped: dict[tuple[str, str], list[str]] = {}
    invalid: dict[tuple[str, str], list[str]] = {}
    memory: dict[str, list[str]] = {}
    for _, row in s.iterrows():
        if isinstance(row.get("invalid_reason"), str):
            invalid.setdefault((row["mode"], row["invalid_reason"]), []).append(row["workload"])
        if isinstance(row.get("warnings"), str):
            out.append(f"{row['workload']} {row['mode']}: {row['warnings']}")
        if isinstance(row.get("note"), str):
            skipped.setdefault((row["mode"], row["note"]), []).append(row["workload"])
        if isinstance(row.get("arithmetic_note"), str):
            out.append(f"{row['workload']} {row['mode']}: {row['arithmetic_note']}")
        if isinstance(row.get("memory_note"), str) and _num(row.get("arena_bytes")) is None:
            memory.setdefault(row["memory_note"], []).append(row["workload"])
    for (mode, reason), wls in invalid.items():
        out.insert(0, f"*not valid MLPerf Tiny {mode} results ({', '.join(wls)}): {reason}")
    for (mode, note), wls in skipped.items():
        out.append(f"{mode} not measured for {', '.join(wls)}: {note}")
    for note, wls in memory.items():
        out.append(f"RAM (tensor arena) not measured for {', '.join(dict.fromkeys(wls))}: {note}")
    return out
