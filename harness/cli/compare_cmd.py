"""`tinyperf compare` and `tinyperf leaderboard`: merge runs, refuse what cannot be compared."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from harness.console import console
from harness.report import fmt


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare runs side by side (first run = baseline)",
                       description="Merge run directories and compare them per workload. Repeated runs of the same "
                       "system and model are combined (median); runs whose metadata conflict are refused.")
    p.add_argument("runs", nargs="+", help="run directories")
    p.add_argument("--csv", metavar="FILE", help="also write the comparison as CSV")
    p.set_defaults(handler=handle_compare)

    b = sub.add_parser("leaderboard", help="rank runs (and a published MLPerf Tiny table) per workload",
                       description="Build a leaderboard in the MLPerf Tiny published-results format from run "
                       "directories, optionally merged with a published summary.csv, as a table, CSV and static site.")
    b.add_argument("runs", nargs="*", help="run directories")
    b.add_argument("--published", metavar="CSV", help="an MLPerf Tiny results summary.csv to rank against")
    b.add_argument("--csv", metavar="FILE", help="write the leaderboard as CSV")
    b.add_argument("--html", metavar="DIR", help="write a static site (index.html + leaderboard.csv) into DIR")
    b.add_argument("--top", type=int, default=10, help="rows per workload in the terminal table")
    b.set_defaults(handler=handle_leaderboard)


def handle_compare(args: argparse.Namespace) -> int:
    from harness.leaderboard import compare

    table = compare(args.runs)
    t = Table(title="comparison (speed-up relative to the first run)")
    for c in ("workload", "run", "system", "model", "inf/s", "latency ms", "speed-up", "quality"):
        t.add_column(c, justify="right" if c in ("inf/s", "latency ms", "speed-up") else "left")
    for _, r in table.iterrows():
        system = f"{r.get('runner')} {r.get('kernels')} x{r.get('threads')}"
        if r["mode"] == "accuracy":
            q = fmt(r.get("auc"), ".3f") if r.get("workload") == "ad01" else fmt(r.get("top1_pct"), ".1f") + " %"
            t.add_row(r["workload"], Path(r["run_path"]).name, system, str(r.get("model")), "", "", "", q)
        else:
            t.add_row(r["workload"], Path(r["run_path"]).name, system, str(r.get("model")),
                      fmt(r.get("throughput_ips"), ",.1f"), fmt(r.get("latency_ms"), ".4f"),
                      fmt(r.get("speedup_vs_first"), ".2f") + "x", "")
    console.print(t)
    if args.csv:
        table.to_csv(args.csv, index=False)
        console.print(f"wrote {args.csv}")
    return 0


def handle_leaderboard(args: argparse.Namespace) -> int:
    from harness.errors import TinyperfError
    from harness.leaderboard import OURS, leaderboard
    from harness.site import write_site

    if not args.runs and not args.published:
        raise TinyperfError(None, "nothing to rank", "pass run directories and/or --published summary.csv")
    board = leaderboard(args.runs, Path(args.published) if args.published else None)
    for model, group in board.groupby("Model", sort=True):
        t = Table(title=f"{model}: fastest first")
        for c in ("rank", "organization", "board", "inf/s", "latency ms", "accuracy", "uJ/inf"):
            t.add_column(c)
        for _, r in group.head(args.top).iterrows():
            style = "bold yellow" if r.get("Organization") == OURS else None
            invalid = " (invalid)" if r.get("Valid") is False or r.get("Valid") == False else ""  # noqa: E712
            t.add_row(str(r["Rank"]), str(r.get("Organization")) + invalid, str(r.get("BoardName"))[:40],
                      fmt(r.get("Result"), ",.1f"), fmt(r.get("latency_ms"), ".3f"), fmt(r.get("Accuracy"), ".3g"),
                      fmt(r.get("Power"), ",.1f"), style=style)
        console.print(t)
    if args.csv:
        board.to_csv(args.csv, index=False)
        console.print(f"wrote {args.csv}")
    if args.html:
        index = write_site(board, Path(args.html))
        console.print(f"wrote {index}")
    return 0
