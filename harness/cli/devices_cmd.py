"""`tinyperf devices`: list serial ports and ask each who it is (vendor, model id, baud that answered)."""

from __future__ import annotations

import argparse
import json

from tinyperf.core.argtypes import positive_float, positive_int
from tinyperf.core.console import console
from tinyperf.core.errors import TinyperfError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "devices", help="list serial ports and identify MLPerf Tiny boards on them",
        description="List serial ports (path, USB VID:PID, description) and probe each USB port with the "
        "EEMBC `name%` command at 115200, 921600 and 9600 baud: a DUT shows its vendor string and model id, "
        "an interface board the DUT behind it. A board that answers only at another baud than --baud is "
        "reported as a baud mismatch.")
    p.add_argument("--port", action="append", metavar="PORT",
                   help="probe this port or URL (socket://, rfc2217://) instead of listing; repeatable")
    p.add_argument("--baud", type=positive_int, default=115200, help="the baud rate you intend to use (tried first)")
    p.add_argument("--bauds", default="115200,921600,9600", metavar="LIST",
                   help="rates to try, comma-separated")
    p.add_argument("--timeout", type=positive_float, default=0.5, metavar="S", help="wait per question and rate")
    p.add_argument("--no-probe", action="store_true", help="only list ports, send nothing")
    p.add_argument("--all", action="store_true", help="also list and probe ports without a USB id (ttyS...)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from rich.table import Table

    from tinyperf.device_runners.serial.discovery import PortInfo, list_ports, probe

    try:
        bauds = tuple(int(b) for b in args.bauds.split(",") if b.strip())
    except ValueError:
        raise TinyperfError("--bauds", f"'{args.bauds}' is not a comma-separated list of rates",
                            "write e.g. --bauds 115200,921600,9600") from None
    ports = [PortInfo(p) for p in args.port] if args.port else list_ports(include_all=args.all)
    rows = []
    for info in ports:
        result = None if args.no_probe else probe(info.device, args.baud, bauds, args.timeout)
        rows.append((info, result))
    if args.json:
        out = []
        for info, r in rows:
            item = {"port": info.device, "usb": info.usb_id, "description": info.description, "hint": info.hint}
            if r is not None:
                item.update({"answer": r.kind, "vendor": r.vendor, "profile": r.profile, "model": r.model,
                             "board": r.board, "baud": r.answered_baud, "baud_mismatch": r.baud_mismatch,
                             "tried": [list(t) for t in r.tried], "note": r.note or None})
            out.append(item)
        print(json.dumps(out, indent=2))
        return 0
    if not rows:
        console.print("no USB serial ports found (plug the board in; `--all` lists legacy ports; "
                      "`--port URL` probes a socket:// or rfc2217:// port)")
        return 0
    table = Table(title="serial ports")
    for col in ("port", "USB", "description", "answer", "vendor", "model", "baud", "note"):
        table.add_column(col, overflow="fold")
    for info, r in rows:
        desc = info.description or ""
        if info.hint and info.hint not in desc:
            desc = f"{desc} ({info.hint})" if desc else info.hint
        if r is None:
            table.add_row(info.device, info.usb_id or "", desc, "", "", "", "", "not probed")
            continue
        answer = {"dut": "DUT", "interface-board": "interface board"}.get(r.kind, r.kind)
        note = r.note
        style = "bold yellow" if r.baud_mismatch else ("red" if r.kind == "error" else "")
        table.add_row(info.device, info.usb_id or "", desc, answer, r.vendor or "", r.model or "",
                      str(r.answered_baud or ""), f"[{style}]{note}[/]" if style and note else note)
    console.print(table)
    return 0
