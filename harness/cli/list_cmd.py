"""`tinyperf list workloads|runners|energy-monitors|outputs`: what each entry-point group holds."""

from __future__ import annotations

import argparse

from rich.table import Table

from tinyperf.device_runners.registry import available_runners
from tinyperf.core.console import console
from tinyperf.workloads.catalog import BROKEN as BROKEN_WORKLOADS
from tinyperf.workloads.catalog import WORKLOADS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list workloads, runners, energy monitors or output formats",
                       description="List what tinyperf knows: the built-ins and every installed plug-in.")
    p.add_argument("what", choices=tuple(TABLES))
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    console.print(TABLES[args.what]())
    return 0


def workloads_table() -> Table:
    """One workload a row, its facts as wrapped lines: at 80 columns no file name is cut."""
    t = Table(title="workloads")
    t.add_column("id", no_wrap=True)
    t.add_column("task")
    t.add_column("reference model", overflow="fold")  # a long name folds, never ends in "…"
    for w in WORKLOADS.values():
        target = w.scoring.target(w.quality_target)
        facts = (f"[dim]input {'x'.join(map(str, w.input_shape[1:]))} · {target}\n"
                 f"default infer N W: {w.default_n} {w.default_warmup}[/]")
        t.add_row(w.id, f"{w.task}\n{facts}", f"{w.architecture}\n{w.reference_model}")
    for name, why in BROKEN_WORKLOADS.items():  # registered but unusable: say why, as for runners
        t.add_row(name, f"[yellow]{why}[/]", "")
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


def monitors_table() -> Table:
    from tinyperf.device_runners.energy import ENERGY_MONITORS, broken_monitors, monitors

    t = Table(title="energy monitors (entry-point group tinyperf.energy_monitors)")
    t.add_column("name", no_wrap=True)
    t.add_column("--energy-monitor", overflow="fold")
    t.add_column("status", overflow="fold", ratio=1)
    for name, cls in monitors().items():
        t.add_row(name, cls.spec_form(), "[green]registered[/]" + (" · emulated (`tinyperf emulate`)" if cls.emulated else ""))
    for name, why in broken_monitors().items():
        t.add_row(name, ENERGY_MONITORS.entries()[name].value, f"[yellow]{why}[/]")
    return t


def outputs_table() -> Table:
    from tinyperf.core.registry import Broken
    from tinyperf.engine.output_formats import OUTPUT_FORMATS

    t = Table(title="output formats (entry-point group tinyperf.outputs)")
    t.add_column("name", no_wrap=True)
    t.add_column("what it writes", overflow="fold", ratio=1)
    for name, fmt in OUTPUT_FORMATS.load_all().items():
        if isinstance(fmt, Broken):
            t.add_row(name, f"[yellow]{fmt.reason}[/]")
        else:
            doc = (getattr(fmt, "__doc__", None) or OUTPUT_FORMATS.entries()[name].value).strip().splitlines()[0]
            t.add_row(name, doc)
    return t


TABLES = {"workloads": workloads_table, "runners": runners_table, "energy-monitors": monitors_table,
          "outputs": outputs_table}
