"""`tinyperf profile MODEL`: which layer costs what (MACs, bytes, host time per op)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tinyperf.device_runners.host import KERNELS
from tinyperf.core.console import console
from tinyperf.core.modelfile import check_tflite_file
from tinyperf.engine.models import resolve_model
from tinyperf.op_profile import OpCost, profile
from tinyperf.vela import DEFAULT_CONFIG, estimate
from tinyperf.outputs.report import FittedTable, fmt
from tinyperf.workloads.catalog import WORKLOADS, get_workload


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="per-op cost of a model: MACs, parameter/activation bytes, host time",
                       description="List every op of a model in execution order with its MACs (conv, depthwise, "
                       "dense and matmul ops; others count 0), parameter bytes (its constants in the flatbuffer), "
                       "activation bytes (its non-constant inputs and outputs) and host time on the chosen kernels. "
                       "Host time is measured by splitting: each op is cut out into a one-op model and invoked on "
                       "the values it sees in a full inference (median of repeats); the whole model is timed the "
                       "same way for comparison. It ranks the layers on this machine; it is not a board's time.")
    p.add_argument("model", metavar="MODEL", help=f"a .tflite file, or a workload ({', '.join(WORKLOADS)}) for its "
                   "reference model")
    p.add_argument("--models-dir", metavar="DIR", help="with a workload: folder of reference models (env TINYPERF_MODELS)")
    p.add_argument("--kernels", choices=KERNELS, default="reference",
                   help="kernels to time on (default: reference, LiteRT's reference kernels; tflm-reference: "
                   "TensorFlow Lite Micro)")
    p.add_argument("--vela", nargs="?", const=DEFAULT_CONFIG, metavar="CONFIG",
                   help=f"also print Arm Vela's Ethos-U NPU estimate (SRAM, flash, cycles; an estimate, not a "
                   f"measurement) for CONFIG (default {DEFAULT_CONFIG}); needs `pip install -e '.[vela]'`")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(handler=handle)


def model_path(arg: str, models_dir: str | None) -> Path:
    if arg in WORKLOADS:
        return resolve_model(get_workload(arg), None, models_dir, allow_default=False).path
    path = Path(arg).expanduser()
    check_tflite_file(path)
    return path


def table(path: Path, kernels: str, costs: list[OpCost], whole_us: float | None) -> FittedTable:
    total_macs = sum(c.macs for c in costs)
    total_us = sum(c.host_us or 0.0 for c in costs)
    t = FittedTable(title=f"{path.name}: {len(costs)} ops, {total_macs:,} MACs, host time on {kernels} kernels",
                    caption=f"host us: median per op, each op cut out and invoked alone on this machine (sum "
                            f"{total_us:,.1f} us; whole model timed the same way: {fmt(whole_us, ',.1f')} us) · "
                            "MACs: conv, depthwise, dense and matmul ops only")
    for header, justify in (("#", "right"), ("op", "left"), ("output", "left"), ("MACs", "right"), ("MACs %", "right"),
                            ("param B", "right"), ("act. B", "right"), ("host us", "right"), ("time %", "right")):
        t.add_column(header, justify=justify)
    for c in costs:
        t.add_row(str(c.index), c.type, "x".join(str(d) for d in c.output_shape), f"{c.macs:,}",
                  fmt(100.0 * c.macs / total_macs if total_macs else None, ".1f"), f"{c.param_bytes:,}",
                  f"{c.activation_bytes:,}", fmt(c.host_us, ",.1f"),
                  fmt(100.0 * c.host_us / total_us if c.host_us is not None and total_us else None, ".1f"))
    t.add_row("", "[bold]total[/]", "", f"[bold]{total_macs:,}[/]", "100.0", f"{sum(c.param_bytes for c in costs):,}",
              f"max {max((c.activation_bytes for c in costs), default=0):,}", f"{total_us:,.1f}", "100.0")
    return t


def handle(args: argparse.Namespace) -> int:
    path = model_path(args.model, args.models_dir)
    npu = estimate(path, args.vela) if args.vela else None  # first: a model Vela refuses fails fast
    costs, whole_us = profile(path, args.kernels)
    if args.json:
        print(json.dumps({"model": str(path), "kernels": args.kernels, "total_macs": sum(c.macs for c in costs),
                          "whole_model_us": whole_us, "ops": [vars(c) for c in costs],
                          **({"vela_estimate": {**vars(npu), "note": "estimate, not a measurement"}} if npu else {})},
                         indent=2))
        return 0
    console.print(table(path, args.kernels, costs, whole_us))
    if npu is not None:
        console.print(npu.line(), highlight=False, soft_wrap=True)
    return 0
