"""`tinyperf emulate`: virtual hardware to try the serial runner without a board.

`tinyperf emulate dut --workload kws01 --pty` starts a virtual MLPerf Tiny DUT (the EEMBC
firmware's protocol, quirks included, outputs from the real model on reference kernels) and
prints the port to pass to `tinyperf run --runner serial --port ...`. `tinyperf emulate lpm01a`
starts a virtual energy monitor.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from tinyperf.cli import options
from tinyperf.core.argtypes import non_negative_float, non_negative_int, positive_float, positive_int
from tinyperf.core.console import console, err_console
from tinyperf.core.errors import TinyperfError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("emulate", help="run virtual hardware (a DUT, an interface board, an LPM01A)",
                       description="Virtual boards that speak the real protocols, for trying the serial "
                       "runner without hardware.")
    kinds = p.add_subparsers(dest="emulated", metavar="<device>")
    _add_dut(kinds)
    _add_board(kinds)
    try:
        from tinyperf.device_runners.emulators.lpm01a import add_lpm01a_subcommand
    except ImportError:
        pass
    else:
        add_lpm01a_subcommand(kinds)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def _add_dut(kinds: argparse._SubParsersAction) -> None:
    from tinyperf.device_runners.emulators.dut import RESULT_FORMATS

    d = kinds.add_parser(
        "dut", help="a virtual DUT running MLPerf Tiny (EEMBC) firmware",
        description="A virtual board: the EEMBC test-harness protocol exactly (quirks included), outputs "
        "from the real model on LiteRT reference kernels (= TFLite Micro), timestamps from a deterministic "
        "clock advanced --us-per-inference per inference (a 10 s window costs no wall time).")
    options.add_workload(d, repeatable=False, required=True, help="firmware for this workload")
    options.add_model(d, help="the .tflite the firmware runs (default: the reference model)")
    options.add_models_dir(d, help="folder of reference models (env TINYPERF_MODELS)")
    where = d.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal (default); prints its path")
    where.add_argument("--tcp", type=non_negative_int, metavar="PORT",
                       help="serve on 127.0.0.1:PORT (open as socket://127.0.0.1:PORT; 0 = any free port)")
    d.add_argument("--mode", choices=("performance", "energy"), default="performance",
                   help="firmware timestamp mode: performance prints m-lap-us; energy pulses a GPIO instead")
    d.add_argument("--baud", type=positive_int, metavar="N",
                   help="the DUT UART's rate (default 115200, 9600 in energy mode); a host at another rate "
                   "reads garbage, as from a real board")
    d.add_argument("--baud-limit", type=positive_int, metavar="N",
                   help="throttle the host link to N baud (10 bits per byte, real time); default: no limit")
    d.add_argument("--us-per-inference", type=positive_float, metavar="US",
                   help="simulated compute time per inference (default: the workload's published reference latency)")
    d.add_argument("--realtime", action="store_true",
                   help="emulated compute takes its time on the wall clock (a 10 s window lasts 10 s), for hosts "
                   "that time windows themselves, such as the official MLPerf Tiny runner; default: instant")
    d.add_argument("--start-us", type=non_negative_int, default=0, metavar="US",
                   help="clock value at power-on; near 4294967296 the 32-bit m-lap-us counter soon wraps")
    d.add_argument("--faults", metavar="SPEC", default="",
                   help="inject faults, e.g. drop=0.01,garble=0.01,stall=3@12,reset@40,slow=0.2,error@7,seed=1")
    d.add_argument("--vendor", metavar="NAME", help="vendor string for m-name-dut-[...] (default 'tinyperf emulator')")
    d.add_argument("--model-id", metavar="ID", help="model id the `profile` command reports (default: the workload)")
    d.add_argument("--result-format", choices=RESULT_FORMATS, default="reference",
                   help="results as printed by: reference (kws truncated 3 decimals, vww/ic %%0.3f, ad 6 "
                   "decimals), fixed3, fixed6, truncated3")
    d.add_argument("--interface-board", choices=("none", "stm32h573", "arduino"), default="none",
                   help="put a virtual interface board in front of the DUT (the host talks to the board)")
    d.add_argument("--dut-baud", type=positive_int, default=9600, metavar="N", help="DUT rate behind the interface board")
    from tinyperf.device_runners.energy import monitors

    emulated = [name for name, cls in monitors().items() if cls.emulated]
    d.add_argument("--energy-monitor", choices=("none", *emulated), default="none",
                   help=f"also run a virtual energy monitor ({', '.join(emulated)}) that records the DUT's "
                   "timestamp pulses (energy mode)")
    d.add_argument("--power-mw", type=non_negative_float, default=5.0, help="power the emulated DUT draws (LPM01A)")
    d.add_argument("--voltage-mv", type=positive_int, default=1800,
                   help="voltage at which it draws --power-mw (LPM01A; default 1800, the official set-up's)")
    d.add_argument("--buff-percent", type=non_negative_int, default=0, metavar="P",
                   help="buffer fill the LPM01A's status lines report (fault: a monitor falling behind)")
    d.add_argument("--ready-file", metavar="FILE",
                   help="write the port(s) as JSON to FILE once serving (for scripts)")
    d.set_defaults(handler=handle_dut)


def handle_dut(args: argparse.Namespace) -> int:
    from tinyperf.device_runners.emulators.rig import start_rig
    from tinyperf.engine.models import resolve_model
    from tinyperf.workloads.catalog import get_workload

    wl = get_workload(args.workload)
    model = resolve_model(wl, args.model, args.models_dir)
    if model.synthetic_weights:
        err_console.print(f"[yellow]note:[/] no {wl.id} reference model found; the firmware runs "
                          f"{model.path.name} ({model.note})", highlight=False)
    lpm = None
    if args.energy_monitor == "lpm01a":
        lpm = {"power_mw": args.power_mw, "voltage_mv": args.voltage_mv, "buff_percent": args.buff_percent}
    try:
        rig = start_rig(wl.id, model.path, tcp_port=args.tcp, baud=args.baud, baud_limit=args.baud_limit,
                        us_per_inference=args.us_per_inference, mode=args.mode, vendor=args.vendor,
                        faults=args.faults, start_us=args.start_us, result_format=args.result_format,
                        interface_board=args.interface_board, dut_baud=args.dut_baud, model_id=args.model_id,
                        lpm01a=lpm, realtime=args.realtime)
    except OSError as exc:
        raise TinyperfError("--tcp" if args.tcp is not None else "--pty", f"cannot serve ({exc})",
                            "pick another --tcp port, or use --pty") from None
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    board = "" if args.interface_board == "none" else f" behind a {args.interface_board} interface board"
    pace = ", real time" if args.realtime else ""
    console.print(f"{wl.id} DUT emulator{board} on [bold]{rig.url}[/] ({args.mode} mode, "
                  f"{rig.dut.us_per_inference:g} us/inference{pace}); Ctrl-C to stop", highlight=False)
    if rig.monitor_url:
        console.print(f"LPM01A emulator on [bold]{rig.monitor_url}[/] ({args.power_mw} mW)", highlight=False)
    if args.ready_file:
        Path(args.ready_file).write_text(json.dumps({"port": rig.url, "monitor": rig.monitor_url,
                                                     "pid": __import__("os").getpid()}))
    try:
        while not stop.wait(0.5):
            pass
    finally:
        rig.close()
        if rig.faults.injected:
            console.print(f"faults injected: {rig.faults.injected}", highlight=False)
    return 0


def _add_board(kinds: argparse._SubParsersAction) -> None:
    from tinyperf.device_runners.qemu.build import KERNELS
    from tinyperf.workloads.catalog import WORKLOADS

    b = kinds.add_parser(
        "board", help="a virtual microcontroller: real TFLM + CMSIS-NN firmware under qemu-system-arm",
        description="Builds MLPerf Tiny DUT firmware (TFLite Micro, CMSIS-NN or reference kernels, the official "
        "EEMBC API) for an emulated Cortex-M, boots it under qemu-system-arm -icount and serves its UART. "
        "Benchmark it with `tinyperf run --runner serial --port ...`. Timing is emulated: instructions at a "
        "nominal rate, not a real board's cycles.")
    b.add_argument("--workload", "-w", required=True, choices=list(WORKLOADS), help="firmware for this workload")
    b.add_argument("--model", metavar="FILE", help="the int8 .tflite to embed (default: the reference model)")
    b.add_argument("--models-dir", metavar="DIR", help="folder of reference models (env TINYPERF_MODELS)")
    b.add_argument("--kernels", choices=KERNELS, default="cmsis-nn", help="TFLM kernels (default cmsis-nn)")
    b.add_argument("--single-rounding", action="store_true",
                   help="CMSIS-NN fully connected rescale rounds once, as LiteRT's reference kernels do "
                   "(outputs then equal the host runner's bit for bit); default: TFLM as shipped")
    b.add_argument("--machine", default="mps2-an386", help="emulated machine (default mps2-an386, Cortex-M4F)")
    b.add_argument("--mode", choices=("performance", "energy"), default="performance",
                   help="firmware timestamp mode (energy: a GPIO pulse; nothing measures it under QEMU)")
    b.add_argument("--fault-at-infer", type=positive_int, metavar="N",
                   help="build a firmware that traps (a hard fault) on its N-th inference, to see a stuck board")
    where = b.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal (default); prints its path")
    where.add_argument("--tcp", type=non_negative_int, metavar="PORT",
                       help="serve on 127.0.0.1:PORT (open as socket://127.0.0.1:PORT; 0 = any free port)")
    b.add_argument("--mirror", metavar="DIR", help="where the pinned firmware-source archives are, if not cached "
                   "(env TINYPERF_MIRROR)")
    b.add_argument("--ready-file", metavar="FILE", help="write the port, QEMU's pid and the build record as JSON")
    b.set_defaults(handler=handle_board)


def handle_board(args: argparse.Namespace) -> int:
    import os

    from tinyperf.device_runners.qemu.build import BuildOptions, FirmwareSources, build_firmware, machines
    from tinyperf.device_runners.qemu.machine import QemuBoard
    from tinyperf.core import config
    from tinyperf.fetch.firmware import cached_sources, fetch_firmware_sources
    from tinyperf.engine.models import resolve_model
    from tinyperf.workloads.catalog import get_workload

    wl = get_workload(args.workload)
    model = resolve_model(wl, args.model, args.models_dir)
    src = cached_sources() or fetch_firmware_sources(args.mirror)
    options = BuildOptions(wl, model.path, kernels=args.kernels, single_rounding=args.single_rounding,
                           machine=args.machine, mode=args.mode, fault_at_infer=args.fault_at_infer)
    image = build_firmware(options, FirmwareSources(src.roots, src.versions), config.cache_dir() / "firmware-build",
                           log=lambda m: err_console.print(m, highlight=False))
    rec = image.record
    how = "cached" if image.cached else f"built in {rec['build_seconds']:.1f} s"
    err_console.print(f"firmware {how}: flash {rec['flash_bytes']:,} B (model {rec['model_flash_bytes']:,} B), "
                      f"static RAM {rec['static_ram_bytes']:,} B + stack {rec['stack_bytes']:,} B; {image.elf}",
                      highlight=False)
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        board = QemuBoard(image.elf, machines()[args.machine], tcp_port=args.tcp)
    except OSError as exc:
        raise TinyperfError("--tcp" if args.tcp is not None else "--pty", f"cannot serve ({exc})",
                            "pick another --tcp port, or use --pty") from None
    try:
        console.print(f"{wl.id} firmware ({args.kernels}) on {args.machine} under QEMU on [bold]{board.url}[/] "
                      f"(timing emulated: -icount shift={rec['icount_shift']}); Ctrl-C to stop", highlight=False)
        if args.ready_file:
            Path(args.ready_file).write_text(json.dumps({"port": board.url, "pid": os.getpid(),
                                                         "qemu_pid": board.pid, "build": rec}))
        while not stop.wait(0.5):
            if not board.running():
                err_console.print(f"[red]QEMU stopped[/]: {board.output()[-300:]}", highlight=False)
                return 1
    finally:
        board.stop()
    return 0
