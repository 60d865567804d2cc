"""Terminal rendering of runs: the summary table people read after `tinyperf run`/`show`."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from rich.table import Table

from harness.results import Run
from workloads.catalog import WORKLOADS

MISSING = "[dim]–[/]"  # explained in the table caption: never shown as 0


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
    if _num(acc.get("auc")) is not None:
        text = f"AUC {acc['auc']:.3f}"
    elif _num(acc.get("top1_pct")) is not None:
        text = f"{acc['top1_pct']:.1f} %"
    else:
        return MISSING  # why is listed under the table
    if acc.get("complete") is False:
        text += f" [yellow](partial: {acc.get('n_files')} files)[/]"
    elif acc.get("meets_target") is False:
        text += " [red](below target)[/]"
    return text


def summary_table(run: Run) -> Table:
    """One row per workload; columns with nothing measured are left out to keep it readable."""
    s = run.summary
    workloads = list(dict.fromkeys(s["workload"])) if not s.empty else []
    rows = []
    for wl in workloads:
        perf = _row(s, wl, "performance") or _row(s, wl, "energy") or {}
        acc = _row(s, wl, "accuracy")
        any_row = perf or acc or {}
        model = any_row.get("model")
        model = str(model).removesuffix(".tflite") if isinstance(model, str) else f"on {any_row.get('device') or 'device'}"
        synthetic = bool(any_row.get("synthetic_weights"))
        invalid = perf.get("valid") is not None and not pd.isna(perf.get("valid")) and not perf["valid"]
        quality = quality_cell(acc)
        target = WORKLOADS[wl].quality_target if wl in WORKLOADS else None
        if target is not None and acc is not None and (_num(acc.get("top1_pct")) is not None or _num(acc.get("auc")) is not None):
            quality += f" [dim](target {target:g}{' %' if WORKLOADS[wl].scoring == 'top1' else ''})[/]"
        rows.append({
            "workload": wl, "model": model + (" †" if synthetic else ""), "synthetic": synthetic, "invalid": invalid,
            "inf/s": fmt(perf.get("throughput_ips"), ",.1f") + ("*" if invalid else ""),
            "latency ms": fmt(perf.get("latency_ms"), ".3f"),
            "p99 us": fmt(perf.get("lat_p99_us"), ",.1f"),
            "uJ/inf": fmt(perf.get("energy_uj_per_inf"), ",.2f"),
            "quality": quality,
            "kernels": " / ".join(k for k in (perf.get("kernels"), (acc or {}).get("kernels")) if isinstance(k, str)) or "-",
        })
    notes = ["– = not measured"]
    if any(r["invalid"] for r in rows):
        notes.append("* not a valid MLPerf Tiny result (see below)")
    if any(r["synthetic"] for r in rows):
        notes.append("† architecture only, synthetic weights")
    kernel_sets = {r["kernels"] for r in rows}
    one_kernel_set = len(kernel_sets) == 1
    if one_kernel_set:  # the same everywhere: say it once, under the table
        notes.insert(0, f"kernels: {next(iter(kernel_sets))}")
    table = Table(title=f"tinyperf run {run.meta.get('run_id')} — {run.status}", title_justify="left",
                  caption=" · ".join(notes), caption_justify="left")
    columns = [c for c in ("workload", "model", "inf/s", "latency ms", "p99 us", "uJ/inf", "quality", "kernels")
               if c in ("workload", "model", "quality")
               or (c == "kernels" and not one_kernel_set)
               or (c != "kernels" and any(r[c] not in (MISSING, "-") for r in rows))]
    for c in columns:
        table.add_column(c, justify="right" if c in ("inf/s", "latency ms", "p99 us", "uJ/inf") else "left",
                         no_wrap=c == "workload", min_width=12 if c == "model" else None)
    for r in rows:
        table.add_row(*(r[c] for c in columns))
    return table


def warnings_of(run: Run) -> list[str]:
    """Invalid results, unstable measurements and what was not measured (grouped by reason)."""
    out = []
    s = run.summary
    if s.empty:
        return out
    skipped: dict[tuple[str, str], list[str]] = {}
    invalid: dict[tuple[str, str], list[str]] = {}
    for _, row in s.iterrows():
        if isinstance(row.get("invalid_reason"), str):
            invalid.setdefault((row["mode"], row["invalid_reason"]), []).append(row["workload"])
        if isinstance(row.get("warnings"), str):
            out.append(f"{row['workload']} {row['mode']}: {row['warnings']}")
        if isinstance(row.get("note"), str):
            skipped.setdefault((row["mode"], row["note"]), []).append(row["workload"])
    for (mode, reason), wls in invalid.items():
        out.insert(0, f"*not valid MLPerf Tiny {mode} results ({', '.join(wls)}): {reason}")
    for (mode, note), wls in skipped.items():
        out.append(f"{mode} not measured for {', '.join(wls)}: {note}")
    return out
