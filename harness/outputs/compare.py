"""Compare and leaderboard tables as the terminal shows them (rich renderables).

Run rendering lives in report.py; this is its counterpart for several runs: `tinyperf compare`
and `tinyperf leaderboard` only print what these functions build.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from tinyperf.outputs.report import MISSING, fmt, kib, quality_cell
from tinyperf.workloads.scoring import SCORINGS, TOP1

INVALID_NOTE = "* not a valid MLPerf Tiny result (see below)"  # the mark and words of `tinyperf show`
WITHHELD = "‡"


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and pd.isna(v))


def _system(rows: pd.DataFrame) -> str:
    """A run's system in words: runner, device, kernels (accuracy's if they differ), threads."""
    def one(col: str) -> str:
        values = (int(v) if col == "threads" else v for v in rows[col] if _present(v))  # 1, not 1.0
        return " / ".join(str(v) for v in dict.fromkeys(values))

    kernels, acc_kernels = one("kernels"), one("accuracy_kernels")
    if acc_kernels and not kernels:
        kernels = f"{acc_kernels} (accuracy only)"
    elif acc_kernels and acc_kernels != kernels:
        kernels = f"{kernels} (accuracy {acc_kernels})"
    threads = one("threads")
    parts = [one("runner"), one("device"), kernels, f"{threads} thread{'s' if threads not in ('1', '') else ''}"
             if threads else ""]
    return " · ".join(p for p in parts if p)


def compare_renderables(table: pd.DataFrame) -> list[RenderableType]:
    """The comparison as printed: a table grouped by workload, then the legend and the footnotes.

    Numbers are never cut: numeric columns do not wrap and the text columns fold instead; run ids
    are replaced by short labels explained in the legend.
    """
    from tinyperf.engine.summary import is_invalid

    has_energy = table["energy_uj_per_inf"].notna().any() if "energy_uj_per_inf" in table else False
    synthetic = bool(table["synthetic_weights"].fillna(False).astype(bool).any())
    invalid_rows = table[table["valid"].map(is_invalid)]
    withheld = [w for w in dict.fromkeys(table["quality_withheld"]) if _present(w)]
    notes = ["– = not measured"]
    if len(invalid_rows):
        notes.append(INVALID_NOTE)
    if synthetic:
        notes.append("† architecture only, synthetic weights")
    if withheld:
        notes.append(f"{WITHHELD} quality withheld (see below)")
    t = Table(title="comparison (speed-up relative to the first run of each workload)", title_justify="left",
              caption=" · ".join(notes), caption_justify="left")
    t.add_column("workload", no_wrap=True)
    t.add_column("run", no_wrap=True)
    t.add_column("model", overflow="fold", min_width=8)
    for c in ("inf/s", "latency\nms", "speed-\nup") + (("uJ/inf",) if has_energy else ()):
        t.add_column(c, justify="right", no_wrap=True)
    t.add_column("quality", overflow="fold", min_width=9)  # words fold, "AUC 0.859" stays whole
    has_memory = "arena_bytes" in table and table["arena_bytes"].notna().any()
    if has_memory:
        t.add_column("RAM\nKB", justify="right", no_wrap=True)  # flash: in --csv (80 columns hold one more)
        notes.append("RAM = TFLite Micro tensor arena (KB = 1024 B; flash bytes in --csv)")
        t.caption = " · ".join(notes)
    groups = list(table.groupby("workload", sort=False))
    for gi, (wl, group) in enumerate(groups):
        for i, (_, r) in enumerate(group.iterrows()):
            if _present(r.get("model")):
                model = str(r.get("model")).removesuffix(".tflite")
            else:  # the model lives on the board: what it reports running, as `tinyperf show` says it
                model = f"{r.get('model_id')} (device)" if _present(r.get("model_id")) else f"on {r.get('device')}"
            quality = (MISSING + WITHHELD) if _present(r.get("quality_withheld")) else quality_cell(
                r.to_dict() if any(_present(r.get(s.column)) for s in SCORINGS) else None)
            speedup = r.get("speedup_vs_first")
            cells = [wl if i == 0 else "", r["run"], model + (" †" if _present(r.get("synthetic_weights")) and bool(r["synthetic_weights"]) else ""),
                     fmt(r.get("throughput_ips"), ",.1f") + ("*" if is_invalid(r.get("valid")) else ""),
                     fmt(r.get("latency_ms"), ".4f"), fmt(speedup, ".2f") + ("x" if _present(speedup) else "")]
            if has_energy:
                cells.append(fmt(r.get("energy_uj_per_inf"), ",.2f"))
            memory = [kib(r.get("arena_bytes"))] if has_memory else []
            t.add_row(*cells, quality, *memory, end_section=i == len(group) - 1 and gi < len(groups) - 1)
    out: list[RenderableType] = [t]
    for label, rows in table.groupby("run", sort=False):
        first = rows.iloc[0]
        out.append(Text.assemble((f"{label} ", "bold"), f"= {first['run_id']} · {_system(rows)} · {first['run_path']}"))
    for reason, rows in invalid_rows.groupby("invalid_reason", sort=False, dropna=False):
        which = "; ".join(f"{label} {', '.join(r['workload'])}" for label, r in rows.groupby("run", sort=False))
        out.append(Text(f"* not valid MLPerf Tiny results ({which}): {reason if _present(reason) else 'see tinyperf show'}"))
    for w in withheld:
        out.append(Text(f"{WITHHELD} {w}"))
    return out


def _accuracy_cell(workload: str, value: Any) -> str:
    """Top-1 % or AUC, labelled as `tinyperf show` labels them (the published table mixes both)."""
    from tinyperf.workloads.catalog import WORKLOADS

    if not _present(value):
        return MISSING
    scoring = WORKLOADS[workload].scoring if workload in WORKLOADS else TOP1
    return quality_cell({scoring.column: value})


def leaderboard_renderables(board: pd.DataFrame, top: int) -> list[RenderableType]:
    """One table per workload, fastest first, the first `top` rows; invalid runs marked as `show` marks them."""
    from tinyperf.outputs.leaderboard import OURS, WORKLOAD_OF_MODEL
    from tinyperf.engine.summary import is_invalid

    out: list[RenderableType] = []
    for model, group in board.groupby("Model", sort=True):
        wl = WORKLOAD_OF_MODEL.get(model, model)
        shown = group.head(top)
        invalid = shown[shown["Valid"].map(is_invalid)]
        notes = [f"top {len(shown)} of {len(group)}; all rows in --csv/--html" if len(group) > len(shown)
                 else f"all {len(group)} row{'s' if len(group) > 1 else ''}", "– = not measured",
                 "RAM = TFLite Micro tensor arena of the model (KB = 1024 B; flash in --csv/--html)"]
        if len(invalid):
            notes.append(INVALID_NOTE)
        t = Table(title=f"{wl}: fastest first", title_justify="left", caption=" · ".join(notes), caption_justify="left")
        t.add_column("rank", justify="right", no_wrap=True)
        # submitter (the published table's Organization) over the board: one wide cell wraps at words,
        # where two narrow ones split "STMicroelectronics" mid-word at 80 columns
        t.add_column("submitter\nboard", overflow="fold", ratio=1)
        for c in ("inf/s", "latency\nms"):
            t.add_column(c, justify="right", no_wrap=True)
        t.add_column("accuracy", overflow="fold", min_width=9)
        t.add_column("uJ/inf", justify="right", no_wrap=True)
        t.add_column("RAM\nKB", justify="right", no_wrap=True)
        for _, r in shown.iterrows():
            ours = r.get("Organization") == OURS
            org = str(r.get("Organization"))
            if ours and _present(r.get("Runs")) and r["Runs"] > 1:
                org += f" ({int(r['Runs'])} runs)"
            t.add_row(str(r["Rank"]), f"{org}\n[dim]{r.get('BoardName')}[/]",
                      fmt(r.get("Result"), ",.1f") + ("*" if is_invalid(r.get("Valid")) else ""),
                      fmt(r.get("latency_ms"), ".3f"), _accuracy_cell(wl, r.get("Accuracy")),
                      fmt(r.get("Power"), ",.1f"), kib(r.get("ArenaBytes")), style="bold yellow" if ours else None)
        out.append(t)
        for reason, rows in invalid.groupby("InvalidReason", sort=False, dropna=False):
            ranks = ", ".join(str(r) for r in rows["Rank"])
            out.append(Text(f"* not valid MLPerf Tiny results (rank {ranks}): "
                            f"{reason if _present(reason) else 'see the run (tinyperf show)'}"))
    return out
