"""`tinyperf compare` and `tinyperf leaderboard`: the commands; the tables are tinyperf.outputs.compare."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinyperf.core.argtypes import positive_int
from tinyperf.core.console import console, err_console


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare runs side by side per workload (first run = baseline)",
                       description="Compare run directories per workload, one row per run, with speed-up relative "
                       "to the first run. Quality is withheld for a workload whose runs scored different sample "
                       "sets. Folders without a run (e.g. results/quantize when you pass results/*) are skipped.")
    p.add_argument("runs", nargs="+", help="run directories")
    p.add_argument("--csv", metavar="FILE", help="also write the comparison as CSV")
    p.set_defaults(handler=handle_compare)

    b = sub.add_parser("leaderboard", help="rank runs (and a published MLPerf Tiny table) per workload",
                       description="Build a leaderboard in the MLPerf Tiny published-results format from run "
                       "directories, optionally merged with a published summary.csv, as a table, CSV and static site. "
                       "Repeated runs of the same system and model are combined (median); runs whose metadata "
                       "conflict are refused. Folders without a run (e.g. results/quantize) are skipped.")
    b.add_argument("runs", nargs="*", help="run directories")
    b.add_argument("--published", metavar="CSV", help="an MLPerf Tiny results summary.csv to rank against")
    b.add_argument("--csv", metavar="FILE", help="write the leaderboard as CSV")
    b.add_argument("--html", metavar="DIR", help="write a static site (index.html + leaderboard.csv) into DIR")
    b.add_argument("--top", type=positive_int, default=10, help="rows per workload in the terminal table")
    b.set_defaults(handler=handle_leaderboard)


def handle_compare(args: argparse.Namespace) -> int:
    from tinyperf.outputs.compare import compare_renderables
    from tinyperf.outputs.leaderboard import compare, find_runs

    runs, skipped = find_runs(args.runs)
    for note in skipped:
        err_console.print(f"note: {note}", highlight=False)
    table = compare(runs)
    for part in compare_renderables(table):
        console.print(part, highlight=False)
    if args.csv:
        table.to_csv(args.csv, index=False)
        console.print(f"wrote {args.csv}")
    return 0


def handle_leaderboard(args: argparse.Namespace) -> int:
    from tinyperf.core.errors import TinyperfError
    from tinyperf.outputs.compare import leaderboard_renderables
    from tinyperf.outputs.leaderboard import find_runs, leaderboard
    from tinyperf.outputs.site import write_site

    if not args.runs and not args.published:
        raise TinyperfError(None, "nothing to rank", "pass run directories and/or --published summary.csv")
    runs, skipped = find_runs(args.runs)
    for note in skipped:
        err_console.print(f"note: {note}", highlight=False)
    board = leaderboard(runs, Path(args.published) if args.published else None)
    for part in leaderboard_renderables(board, args.top):
        console.print(part, highlight=False)
    if args.csv:
        board.to_csv(args.csv, index=False)
        console.print(f"wrote {args.csv}")
    if args.html:
        index = write_site(board, Path(args.html))
        console.print(f"wrote {index}")
    return 0
