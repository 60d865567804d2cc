"""`tinyperf compare` and `tinyperf leaderboard`: the commands; the tables are tinyperf.outputs.compare."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinyperf.core.argtypes import positive_int
from tinyperf.core.console import console, err_console


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare runs side by side per workload (first run = baseline)",
                       description="Compare run directories per workload, one row per run, with speed-up relative "
                       "to the first run, its confidence interval (Mann-Whitney over windows) and a verdict: faster, "
                       "slower or no significant difference. Quality is withheld for a workload whose runs scored different sample "
                       "sets. Folders without a run (e.g. results/quantize when you pass results/*) are skipped.")
    p.add_argument("runs", nargs="+", help="run directories; repeated runs of one system joined by commas "
                   "(r1,r2,r3) are combined into one row")
    p.add_argument("--csv", metavar="FILE", help="also write the comparison as CSV (rounded as published)")
    p.add_argument("--fail-on-regression", metavar="PCT", default=None,
                   help="exit 1 when a run is significantly slower (or less accurate) than the first by more "
                   "than PCT (e.g. 5%%)")
    p.add_argument("--min-effect", type=_fraction, default=0.05, metavar="PCT",
                   help="smallest change given a verdict, within run-to-run noise below it (default 5%%)")
    p.set_defaults(handler=handle_compare)

    b = sub.add_parser("leaderboard", help="rank runs (and a published MLPerf Tiny table) per workload",
                       description="Build a leaderboard in the MLPerf Tiny published-results format from run "
                       "directories, optionally merged with a published summary.csv, as a table, CSV and static site. "
                       "Only valid closed-division results are ranked, per class of system (microcontroller, accelerator, "
                       "host CPU); invalid, synthetic-weight and open rows are listed apart, marked. Repeated runs of the "
                       "same system and model under the same load are combined (median); runs whose metadata conflict are refused. Folders without a run (e.g. results/quantize) are skipped.")
    b.add_argument("runs", nargs="*", help="run directories")
    b.add_argument("--published", metavar="CSV", action="append",
                   help="an MLPerf Tiny results summary.csv to rank against (v1.2 or v1.3; repeatable)")
    b.add_argument("--class", dest="classes", action="append", choices=["microcontroller", "accelerator", "host CPU"],
                   help="only this class of system (repeatable; default: every class, each its own section)")
    b.add_argument("--csv", metavar="FILE", help="write the leaderboard as CSV")
    b.add_argument("--html", metavar="DIR", help="write a static site (index.html + leaderboard.csv) into DIR")
    b.add_argument("--top", type=positive_int, default=10, help="rows per workload in the terminal table")
    b.set_defaults(handler=handle_leaderboard)


def _fraction(text: str) -> float:
    from tinyperf.outputs.compare_stats import parse_threshold

    try:
        return parse_threshold(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _groups(args_runs: list[str]) -> list[list[str]]:
    """Each argument is a run directory, or repeated runs of one system joined by commas."""
    return [[p for p in a.split(",") if p] for a in args_runs]


def handle_compare(args: argparse.Namespace) -> int:
    from tinyperf.core.errors import TinyperfError
    from tinyperf.outputs.compare import compare_renderables
    from tinyperf.outputs.compare_stats import parse_threshold, regressions
    from tinyperf.outputs.leaderboard import compare, find_runs
    from tinyperf.outputs.rounding import rounded

    threshold = None
    if args.fail_on_regression is not None:
        try:
            threshold = parse_threshold(args.fail_on_regression)
        except ValueError as exc:
            raise TinyperfError(None, f"--fail-on-regression: {exc}", "pass e.g. --fail-on-regression 5%") from None
    groups = []
    for group in _groups(args.runs):
        runs, skipped = find_runs(group)
        for note in skipped:
            err_console.print(f"note: {note}", highlight=False)
        if runs:
            groups.append(runs)
    table = compare(groups, min_effect=args.min_effect)
    table.attrs["min_effect"] = args.min_effect
    for part in compare_renderables(table):
        console.print(part, highlight=False)
    if args.csv:
        rounded(table).to_csv(args.csv, index=False)
        console.print(f"wrote {args.csv}")
    if threshold is not None:
        found = regressions(table, threshold)
        for reg in found:
            err_console.print(f"regression: {reg.message}", highlight=False)
        if found:
            return 1
        console.print(f"no regression beyond {100 * threshold:g} % (significant at the stated level)")
    return 0


def handle_leaderboard(args: argparse.Namespace) -> int:
    from tinyperf.core.errors import TinyperfError
    from tinyperf.outputs.compare import leaderboard_renderables
    from tinyperf.outputs.leaderboard import find_runs, leaderboard
    from tinyperf.outputs.rounding import rounded
    from tinyperf.outputs.site import power_trace_sections, write_site

    if not args.runs and not args.published:
        raise TinyperfError(None, "nothing to rank", "pass run directories and/or --published summary.csv")
    runs, skipped = find_runs(args.runs) if args.runs else ([], [])
    for note in skipped:
        err_console.print(f"note: {note}", highlight=False)
    board = leaderboard(runs, [Path(p) for p in args.published or []], args.classes or None)
    for note in board.attrs.get("notes", []):
        err_console.print(f"note: {note}", highlight=False)
    for part in leaderboard_renderables(board, args.top):
        console.print(part, highlight=False)
    if args.csv:
        rounded(board).to_csv(args.csv, index=False)
        console.print(f"wrote {args.csv}")
    if args.html:
        index = write_site(board, Path(args.html), extra_sections=power_trace_sections(runs))
        console.print(f"wrote {index}")
    return 0
