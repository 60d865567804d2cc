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
from tinyperf.workloads.scoring import SCORINGS

INVALID_NOTE = "* not a valid MLPerf Tiny result (see below)"  # the mark and words of `tinyperf show`
WITHHELD = "‡"


def _present(v: Any) -> bool:
    return v is not None and v is not pd.NA and not (isinstance(v, float) and pd.isna(v))


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


def _speedup_cell(r: dict[str, Any]) -> str:
    """The speed-up, its verdict under it and then its interval: one narrow column, 80 columns in all."""
    speedup = r.get("speedup_vs_first")
    lines = [f"{speedup:.2f}x" if _present(speedup) else MISSING]
    verdicts = [str(r["verdict"])] if _present(r.get("verdict")) else []
    q = r.get("quality_verdict")
    if _present(q) and q != "no significant difference":
        verdicts.append(str(q))
    if verdicts:
        lines.append("; ".join(verdicts))
    if _present(r.get("speedup_low")):
        lines.append(f"[dim]{r['speedup_low']:.2f}–{r['speedup_high']:.2f}x[/]")
    return "\n".join(lines)


def compare_renderables(table: pd.DataFrame) -> list[RenderableType]:
    """The comparison as printed: a table grouped by workload, then the legend and the footnotes.

    Numbers are never cut: numeric columns do not wrap and the text columns fold instead; run ids
    are replaced by short labels explained in the legend. Each speed-up has its verdict and then
    its interval under it; latency (1000 / throughput) is in --csv.
    """
    from tinyperf.engine.significance import MIN_EFFECT
    from tinyperf.engine.summary import is_invalid
    from tinyperf.outputs.compare_stats import row_flags

    has_energy = table["energy_uj_per_inf"].notna().any() if "energy_uj_per_inf" in table else False
    synthetic = bool(table["synthetic_weights"].fillna(False).astype(bool).any())
    invalid_rows = table[table["valid"].map(is_invalid)]
    withheld = [w for w in dict.fromkeys(table["quality_withheld"]) if _present(w)]
    flagged = [r for _, r in table.iterrows() if row_flags(r.to_dict())]
    levels = table["speedup_level"].dropna() if "speedup_level" in table else pd.Series(dtype=float)
    min_effect = table.attrs.get("min_effect", MIN_EFFECT)
    notes = ["– = not measured"]
    if len(invalid_rows):
        notes.append(INVALID_NOTE)
    if synthetic:
        notes.append("† architecture only, synthetic weights")
    if withheld:
        notes.append(f"{WITHHELD} quality withheld (see below)")
    if flagged:
        notes.append("~ stability warning (see below)")
    level_text = (f"{100 * levels.min():.1f} %" if len(levels) else "95 %")
    notes.append(f"speed-up = throughput / the first run's, with its {level_text} interval (Mann-Whitney over "
                 f"windows); a verdict needs the interval to exclude 1x and a change of {100 * min_effect:g} % or more")
    t = Table(title="comparison (against the first run of each workload)", title_justify="left",
              caption=" · ".join(notes), caption_justify="left")
    t.add_column("work-\nload", no_wrap=True)
    t.add_column("run", no_wrap=True)
    t.add_column("model", overflow="fold", min_width=8)
    t.add_column("inf/s", justify="right", no_wrap=True)
    t.add_column("speed-up\nverdict", min_width=11)  # the interval's bounds stay whole: "0.95–1.03x"
    if has_energy:
        t.add_column("uJ/inf", justify="right", no_wrap=True)
    t.add_column("quality", overflow="fold", min_width=9)  # words fold, "AUC 0.859" stays whole
    has_memory = "arena_bytes" in table and table["arena_bytes"].notna().any()
    if has_memory:
        t.add_column("RAM\nKB", justify="right", no_wrap=True)  # flash: in --csv (80 columns hold one more)
        notes.append("RAM = TFLite Micro tensor arena (KB = 1024 B; flash bytes in --csv)")
        t.caption = " · ".join(notes)
    groups = list(table.groupby("workload", sort=False))
    for gi, (wl, group) in enumerate(groups):
        for i, (_, r) in enumerate(group.iterrows()):
            rd = r.to_dict()
            if _present(r.get("model")):
                model = str(r.get("model")).removesuffix(".tflite")
            else:  # the model lives on the board: what it reports running, as `tinyperf show` says it
                model = f"{r.get('model_id')} (device)" if _present(r.get("model_id")) else f"on {r.get('device')}"
            quality = (MISSING + WITHHELD) if _present(r.get("quality_withheld")) else quality_cell(
                rd if any(_present(r.get(s.column)) for s in SCORINGS) else None)
            tp = fmt(r.get("throughput_ips"), ",.1f")
            if _present(r.get("throughput_ips")):
                tp += ("*" if is_invalid(r.get("valid")) else "") + row_flags(rd)
            cells = [wl if i == 0 else "", r["run"], model + (" †" if _present(r.get("synthetic_weights")) and bool(r["synthetic_weights"]) else ""),
                     tp, _speedup_cell(rd)]
            if has_energy:
                cells.append(fmt(r.get("energy_uj_per_inf"), ",.2f"))
            memory = [kib(r.get("arena_bytes"))] if has_memory else []
            t.add_row(*cells, quality, *memory, end_section=i == len(group) - 1 and gi < len(groups) - 1)
    out: list[RenderableType] = [t]
    for label, rows in table.groupby("run", sort=False):
        first = rows.iloc[0]
        runs = int(first.get("runs") or 1)
        if runs > 1:
            spreads = ", ".join(f"{r.workload} {r.run_spread_pct:.1f} %" for r in rows.itertuples()
                                if _present(r.run_spread_pct))
            out.append(Text.assemble((f"{label} ", "bold"), f"= {runs} runs combined (run-to-run spread of the "
                                     f"medians: {spreads or '–'}) · {_system(rows)} · {first['run_path']}"))
        else:
            out.append(Text.assemble((f"{label} ", "bold"), f"= {first['run_id']} · {_system(rows)} · {first['run_path']}"))
    for reason, rows in invalid_rows.groupby("invalid_reason", sort=False, dropna=False):
        which = "; ".join(f"{label} {', '.join(r['workload'])}" for label, r in rows.groupby("run", sort=False))
        out.append(Text(f"* not valid MLPerf Tiny results ({which}): {reason if _present(reason) else 'see tinyperf show'}"))
    for r in flagged:
        out.append(Text(f"~ {r['run']} {r['workload']}: {r['warnings']}"))
    for w in withheld:
        out.append(Text(f"{WITHHELD} {w}"))
    return out


def accuracy_text(model: str, value: Any) -> str | None:
    """Top-1 %, AUC or F1 as the published table means them (its Accuracy column mixes all three)."""
    from tinyperf.outputs.leaderboard import PUBLISHED_MODELS

    if not _present(value):
        return None
    kind = PUBLISHED_MODELS.get(model, "top-1 %")
    if kind == "top-1 %":
        return f"{float(value):.1f} %"
    return f"{kind} {float(value):.3f}"


def power_unit(group: pd.DataFrame) -> str | None:
    """The section's energy unit (uJ/inf, or mW for streaming wake word); None when rows mix units."""
    units = {str(u).strip().rstrip(".") for u, p in zip(group["PowerUnit"], group["Power"]) if _present(p) and _present(u)}
    if not units:
        return "uJ/inf"
    return units.pop() if len(units) == 1 else None


def row_marks(r: dict[str, Any]) -> str:
    """The marks of a row that is not a valid closed result (* invalid, † synthetic, ° open) and ~ busy."""
    from tinyperf.outputs.leaderboard import UNRANKED_MARKS

    u = r.get("Unranked")
    reasons = u.split(", ") if isinstance(u, str) else []
    marks = "".join(UNRANKED_MARKS[k] for k in UNRANKED_MARKS if k in reasons)
    return marks + ("~" if r.get("Busy") is True else "")


def section_title(model: str, cls: str) -> str:
    from tinyperf.outputs.leaderboard import WORKLOAD_OF_MODEL

    return f"{WORKLOAD_OF_MODEL.get(model, model)} · {cls}"


def leaderboard_renderables(board: pd.DataFrame, top: int) -> list[RenderableType]:
    """One table per workload and class of system: the valid closed results ranked fastest first
    (the first `top`), then the rows that are not ranked, marked, under a rule."""
    from tinyperf.outputs.leaderboard import OURS

    out: list[RenderableType] = []
    for (model, cls), group in board.groupby(["Model", "Class"], sort=False):
        ranked = group[group["Rank"].notna()]
        apart = group[group["Rank"].isna()]
        shown_r, shown_a = ranked.head(top), apart.head(top)
        unit = power_unit(group)
        notes = [f"ranked: top {len(shown_r)} of {len(ranked)}" if len(ranked) > len(shown_r)
                 else f"ranked: {len(ranked)}"]
        if len(apart):
            notes.append(f"not ranked: {len(shown_a)} of {len(apart)}" if len(apart) > len(shown_a)
                         else f"not ranked: {len(apart)}")
        if len(shown_r) < len(ranked) or len(shown_a) < len(apart):
            notes.append("all rows in --csv/--html")
        notes.append("– = not measured")
        if group["ArenaBytes"].notna().any():
            notes.append("RAM = TFLite Micro tensor arena of the model (KB = 1024 B; flash in --csv/--html)")
        marks = "".join(row_marks(r) for r in shown_a.to_dict("records")) + "".join(
            row_marks(r) for r in shown_r.to_dict("records"))
        for mark, words in (("*", INVALID_NOTE.removeprefix("* ")), ("†", "architecture only, synthetic weights"),
                            ("°", "open division (not the reference model)"), ("~", "measured on a busy machine")):
            if mark in marks:
                notes.append(f"{mark} {words}")
        t = Table(title=f"{section_title(model, cls)}: fastest first", title_justify="left",
                  caption=" · ".join(notes), caption_justify="left")
        t.add_column("rank", justify="right", no_wrap=True)
        # submitter (the published table's Organization) over the board: one wide cell wraps at words,
        # where two narrow ones split "STMicroelectronics" mid-word at 80 columns
        t.add_column("submitter\nboard", overflow="fold", ratio=1)
        for c in ("inf/s", "latency\nms"):
            t.add_column(c, justify="right", no_wrap=True)
        t.add_column("accuracy", overflow="fold", min_width=9)
        t.add_column(unit or "energy", justify="right", no_wrap=True)
        has_ram = bool(group["ArenaBytes"].notna().any())
        if has_ram:
            t.add_column("RAM\nKB", justify="right", no_wrap=True)
        rows = list(shown_r.iterrows()) + list(shown_a.iterrows())
        for k, (_, r) in enumerate(rows):
            rd = r.to_dict()
            ours = r.get("Organization") == OURS
            org = str(r.get("Organization"))
            if ours and _present(r.get("Runs")) and r["Runs"] > 1:
                spread = f", spread {r['RunSpreadPct']:.1f} %" if _present(r.get("RunSpreadPct")) else ""
                org += f" ({int(r['Runs'])} runs{spread})"
            power = fmt(r.get("Power"), ",.2f" if str(r.get("PowerUnit")).startswith("mW") else ",.1f")
            if unit is None and _present(r.get("Power")):
                power += f" {str(r.get('PowerUnit')).rstrip('.')}"
            ram = [kib(r.get("ArenaBytes"))] if has_ram else []
            t.add_row(str(r["Rank"]) if _present(r.get("Rank")) else MISSING, f"{org}\n[dim]{r.get('BoardName')}[/]",
                      fmt(r.get("Result"), ",.1f") + row_marks(rd), fmt(r.get("latency_ms"), ".3f"),
                      accuracy_text(model, r.get("Accuracy")) or MISSING, power, *ram,
                      style="bold yellow" if ours else None,
                      end_section=k == len(shown_r) - 1 and len(shown_a) > 0)
        out.append(t)
        invalid = group[group["Valid"].map(is_invalid_cell)]
        for reason, rows_ in invalid.groupby("InvalidReason", sort=False, dropna=False):
            who = ", ".join(f"{o} {b}" for o, b in zip(rows_["Organization"], rows_["BoardName"]))
            out.append(Text(f"* not valid MLPerf Tiny results ({who}): "
                            f"{reason if _present(reason) else 'see the run (tinyperf show)'}"))
    return out


def is_invalid_cell(v: Any) -> bool:
    from tinyperf.engine.summary import is_invalid

    return is_invalid(v)


