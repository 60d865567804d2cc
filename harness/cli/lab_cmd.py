"""`tinyperf lab check`: probe every board of a lab inventory at once and print its health."""

from __future__ import annotations

import argparse
import json

from tinyperf.core.argtypes import positive_float
from tinyperf.core.console import console


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lab", help="device labs: check the boards of a lab inventory (run them with `run --lab`)",
                       description="A lab inventory (YAML) lists boards by port, URL or labgrid place. "
                       "`tinyperf run --lab FILE` runs a suite on all of them at once.")
    kinds = p.add_subparsers(dest="lab_command", metavar="<lab command>", required=True)
    c = kinds.add_parser("check", help="ask every board who it is, in parallel, and print a health table",
                         description="Probe every board (`name%`, `profile%`) in parallel: reachable, the workload "
                         "its firmware runs, the baud that answered (the configured rate first, then 115200, "
                         "921600, 9600), and who holds a labgrid place. Exit status 1 if a board is not healthy.")
    c.add_argument("inventory", metavar="LAB_YAML", help="the lab inventory")
    c.add_argument("--boards", metavar="A,B", help="only these boards (comma-separated names)")
    c.add_argument("--timeout", type=positive_float, default=0.5, metavar="S", help="wait per question and rate")
    c.add_argument("--json", action="store_true", help="print JSON instead of a table")
    c.set_defaults(handler=handle_check)


def handle_check(args: argparse.Namespace) -> int:
    from tinyperf.lab.health import check_lab
    from tinyperf.lab.inventory import load_inventory
    from tinyperf.lab.report import health_table

    inv = load_inventory(args.inventory)
    boards = inv.select(_names(args.boards))
    rows = check_lab(inv, boards, args.timeout)
    if args.json:
        print(json.dumps([{"board": h.board.name, "resource": h.resource, "reachable": h.reachable, "vendor": h.vendor,
                           "firmware": h.firmware, "baud": h.baud, "configured_baud": h.configured_baud,
                           "wrong_baud": h.wrong_baud, "locked_by": h.locked_by, "ok": h.ok, "note": h.note or None}
                          for h in rows], indent=2))
    else:
        console.print(health_table(rows))
    return 0 if all(h.ok for h in rows) else 1


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None
