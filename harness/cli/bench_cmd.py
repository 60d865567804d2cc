"""`tinyperf bench`: measure the harness itself."""

from __future__ import annotations

import argparse

from rich.table import Table

from tinyperf.cli import options
from tinyperf.core.argtypes import positive_int
from tinyperf.device_runners.host import HostRunner
from tinyperf.core.console import console
from tinyperf.core.errors import TinyperfError
from tinyperf.engine.models import resolve_model
from tinyperf.workloads.catalog import get_workload


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure the harness itself: timing overhead, serial upload speed",
                       description="overhead: compare the harness's timed inference window with a bare LiteRT "
                       "invoke() loop on the same interpreter, interleaved (target: within 10 %). "
                       "upload: time one sample upload to a serial board (--port) against the wire time of the "
                       "bytes the protocol exchanges (target: within 10 %).")
    p.add_argument("what", choices=("overhead", "upload"), help="what to measure")
    p.add_argument("--port", metavar="PORT", help="upload: the board (device path, socket:// or rfc2217:// URL)")
    p.add_argument("--baud", type=positive_int, default=115200, help="upload: line rate, for the wire-time bound (default 115200)")
    options.add_workload(p, help="repeatable; default: ad01 for overhead (the fastest model, where overhead shows "
                         "most), vww01 for upload (the largest input)")
    options.add_models_dir(p, help="overhead: folder of reference .tflite models "
                           "(env TINYPERF_MODELS; default: the cache, else the built-in architectures)")
    options.add_data_dir(p, help="take the first performance sample from here (else synthetic)")
    options.add_kernels(p, HostRunner.kernels, default=HostRunner.default_kernels["performance"],
                        help="overhead: LiteRT kernel back-end (default xnnpack, as performance runs use)")
    p.add_argument("-n", type=positive_int, default=20000, metavar="N", help="overhead: inferences per repeat (default 20000)")
    p.add_argument("--repeats", type=positive_int, default=7, metavar="R",
                   help="overhead: interleaved repeats of each loop (default 7)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    return handle_upload(args) if args.what == "upload" else handle_overhead(args)


def handle_upload(args: argparse.Namespace) -> int:
    from tinyperf.device_runners.base import RunnerConfig
    from tinyperf.device_runners.serial.bench import measure_upload
    from tinyperf.device_runners.serial.runner import SerialRunner
    from tinyperf.engine.orchestrator import RunPlan, dataset_for, synthetic_items

    if not args.port:
        raise TinyperfError(None, "`tinyperf bench upload` needs the board", "pass --port (see `tinyperf devices`)")
    t = Table(title=f"upload speed at {args.baud} baud (wire time = every byte both ways, 10 bits per byte)")
    for c in ("workload", "bytes", "measured s", "wire s", "ratio", "payload kB/s"):
        t.add_column(c, justify="right")
    for wl_id in args.workload or ["vww01"]:
        wl = get_workload(wl_id)
        ds = dataset_for(RunPlan(workloads=[wl_id], data_dir=args.data_dir), wl) if args.data_dir else None
        data = (ds.performance_items(1)[0] if ds else synthetic_items(wl, 1)[0]).data
        session = SerialRunner().open(RunnerConfig(workload=wl, mode="accuracy",
                                                   options={"port": args.port, "baud": args.baud}))
        try:
            with console.status(f"uploading one {wl_id} sample ({len(data):,} B)"):
                r = measure_upload(session, data, args.baud)
        finally:
            session.close()
        t.add_row(wl_id, f"{len(data):,}", f"{r.seconds:.3f}", f"{r.wire_s:.3f}", f"{r.ratio:.3f}",
                  f"{len(data) / r.seconds / 1000:.2f}")
    console.print(t)
    return 0


def handle_overhead(args: argparse.Namespace) -> int:
    from tinyperf.bench import measure_overhead
    from tinyperf.engine.orchestrator import RunPlan, dataset_for, synthetic_items

    t = Table(title=f"harness overhead ({args.kernels} kernels, 1 thread)")
    for c in ("workload", "bare invoke() us/inf", "harness us/inf", "ratio", "within 10 %"):
        t.add_column(c, justify="right")
    worst = 0.0
    models = []
    for wl_id in args.workload or ["ad01"]:
        wl = get_workload(wl_id)
        model = resolve_model(wl, None, args.models_dir)
        models.append(f"{wl_id}: {model.path} (sha256 {model.sha256[:12]}{', ' + model.note if model.note else ''})")
        ds = dataset_for(RunPlan(workloads=[wl_id], data_dir=args.data_dir), wl) if args.data_dir else None
        item = ds.performance_items(1)[0] if ds else synthetic_items(wl, 1)[0]
        with console.status(f"measuring {wl_id} ({args.repeats} x {args.n} inferences each way)"):
            r = measure_overhead(wl, model.path, item.data, args.kernels, args.n, args.repeats)
        worst = max(worst, r.ratio)
        t.add_row(wl_id, f"{r.bare_us:.3f}", f"{r.harness_us:.3f}", f"{r.ratio:.3f}",
                  "[green]yes[/]" if r.ratio <= 1.10 else "[red]no[/]")
    t.caption = "models: " + "; ".join(models)
    console.print(t)
    if worst > 1.10:
        raise TinyperfError(None, f"harness overhead {worst - 1:.1%} exceeds 10 %", "see the table above")
    return 0
