"""`tinyperf list workloads|runners`."""

from __future__ import annotations

import argparse

from rich.table import Table

from device_runners.registry import available_runners
from harness.console import console
from workloads.catalog import WORKLOADS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list workloads or runners", description="List what tinyperf knows.")
    p.add_argument("what", choices=("workloads", "runners"))
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.what == "workloads":
        t = Table(title="workloads")
        for c in ("id", "task", "reference model", "input", "target", "default N W"):
            t.add_column(c)
        for w in WORKLOADS.values():
            target = f"top-1 >= {w.quality_target:g} %" if w.scoring == "top1" else f"AUC >= {w.quality_target:g}"
            t.add_row(w.id, w.task, f"{w.architecture}\n{w.reference_model}", "x".join(map(str, w.input_shape[1:])),
                      target, f"{w.default_n} {w.default_warmup}")
    else:
        t = Table(title="runners (entry-point group tinyperf.runners)")
        for c in ("name", "modes", "kernels", "status", "description"):
            t.add_column(c)
        for name, cls in available_runners().items():
            reason = cls.availability()
            t.add_row(name, ", ".join(cls.modes), ", ".join(cls.kernels) or "-",
                      "[green]available[/]" if not reason else f"[yellow]{reason}[/]", cls.summary)
    console.print(t)
    return 0
