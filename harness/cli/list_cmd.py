"""`tinyperf list workloads|runners`."""

from __future__ import annotations

import argparse

from rich.table import Table

from tinyperf.device_runners.registry import available_runners
from tinyperf.core.console import console
from tinyperf.workloads.catalog import WORKLOADS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list workloads or runners", description="List what tinyperf knows.")
    p.add_argument("what", choices=("workloads", "runners"))
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    console.print(workloads_table() if args.what == "workloads" else runners_table())
    return 0


def workloads_table() -> Table:
    """One workload a row, its facts as wrapped lines: at 80 columns no file name is cut."""
    t = Table(title="workloads")
    t.add_column("id", no_wrap=True)
    t.add_column("task")
    t.add_column("reference model", overflow="fold")  # a long name folds, never ends in "…"
    for w in WORKLOADS.values():
        target = f"top-1 >= {w.quality_target:g} %" if w.scoring == "top1" else f"AUC >= {w.quality_target:g}"
        facts = (f"[dim]input {'x'.join(map(str, w.input_shape[1:]))} · {target}\n"
                 f"default infer N W: {w.default_n} {w.default_warmup}[/]")
        t.add_row(w.id, f"{w.task}\n{facts}", f"{w.architecture}\n{w.reference_model}")
    return t


def runners_table() -> Table:
    """One runner a row: name and status in narrow columns, the words in a wide one that wraps."""
    t = Table(title="runners (entry-point group tinyperf.runners)")
    t.add_column("name", no_wrap=True)
    t.add_column("status", min_width=9, max_width=24)
    t.add_column("what it runs", overflow="fold", ratio=1)
    for name, cls in available_runners().items():
        reason = cls.availability()
        status = "[green]available[/]" if not reason else f"[yellow]{reason}[/]"
        modes = f"modes: {', '.join(cls.modes)}" + (f"; kernels: {', '.join(cls.kernels)}" if cls.kernels else "")
        t.add_row(name, status, f"{cls.summary}\n[dim]{modes}[/]")
    return t
