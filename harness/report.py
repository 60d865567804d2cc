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
        return f"[dim]not measured[/]" + (f" [dim]({acc['note']})[/]" if acc.get("note") else "")
    if acc.get("complete") is False:
        text += f" [yellow](partial: {acc.get('n_files')} files)[/]"
    elif acc.get("meets_target") is False:
        text += " [red](below target)[/]"
    return text


def summary_table(run: Run) -> Table:
    """One row per workload; columns with nothing measured are left out to keep it readable."""
    s = run.summary
    table = Table(title=f"tinyperf run {run.meta.get('run_id')} — {run.status}", title_justify="left",
                  caption="– = not measured", caption_justify="left")
    workloads = list(dict.fromkeys(s["workload"])) if not s.empty else []
    rows = []
    for wl in workloads:
        perf = _row(s, wl, "performance") or _row(s, wl, "energy") or {}
        acc = _row(s, wl, "accuracy")
        any_row = perf or acc or {}
        model = str(any_row.get("model") or "-")
        if any_row.get("synthetic_weights"):
            model += "\n[dim]architecture only, synthetic weights[/]"
        valid = None
        if perf.get("valid") is not None and not pd.isna(perf.get("valid")):
            valid = "[green]yes[/]" if perf["valid"] else "[yellow]no*[/]"
        quality = quality_cell(acc)
        target = WORKLOADS[wl].quality_target if wl in WORKLOADS else None
        if target is not None and acc is not None and (_num(acc.get("top1_pct")) is not None or _num(acc.get("auc")) is not None):
            quality += f" [dim](target {target:g}{' %' if WORKLOADS[wl].scoring == 'top1' else ''})[/]"
        rows.append({
            "workload": wl, "model": model,
            "inf/s": fmt(perf.get("throughput_ips"), ",.1f"),
            "latency ms": fmt(perf.get("latency_ms"), ".3f"),
            "p99 us": fmt(perf.get("lat_p99_us"), ",.1f"),
            "uJ/inf": fmt(perf.get("energy_uj_per_inf"), ",.2f"),
            "quality": quality,
            "kernels": " / ".join(k for k in (perf.get("kernels"), (acc or {}).get("kernels")) if k) or "-",
            "valid": valid or "-",
        })
    columns = [c for c in ("workload", "model", "inf/s", "latency ms", "p99 us", "uJ/inf", "quality", "kernels", "valid")
               if c in ("workload", "model", "quality") or any(r[c] not in (MISSING, "-") for r in rows)]
    for c in columns:
        table.add_column(c, justify="right" if c in ("inf/s", "latency ms", "p99 us", "uJ/inf") else "left")
    for r in rows:
        table.add_row(*(r[c] for c in columns))
    return table


def warnings_of(run: Run) -> list[str]:
    out = []
    s = run.summary
    if s.empty:
        return out
    for _, row in s.iterrows():
        if isinstance(row.get("invalid_reason"), str):
            out.append(f"{row['workload']} {row['mode']}: *not a valid MLPerf Tiny result: {row['invalid_reason']}")
        if isinstance(row.get("warnings"), str):
            out.append(f"{row['workload']} {row['mode']}: {row['warnings']}")
        if isinstance(row.get("note"), str):
            out.append(f"{row['workload']} {row['mode']}: not measured — {row['note']}")
    return out
