"""The serial runner: a microcontroller flashed with MLPerf Tiny / EEMBC firmware, as a DeviceSession.

Resource (port or URL, baud) -> driver (direct EEMBC link, or through an interface board) ->
protocol (DutClient: identity, upload, infer with recovery) -> this session, which the harness
drives like any other runner: `load(bytes)` = `db load` + chunks, `infer(n, w)` = `infer N W`.

Energy mode: the DUT sits behind an interface board and is powered by an energy monitor; each
window's energy is the monitor's integral between the window's two timestamp events.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from tinyperf.device_runners.base import Inference, Runner, RunnerConfig
from tinyperf.device_runners.serial.driver import EembcLink
from tinyperf.device_runners.serial.interface_board import BOARDS, BoardLink, Stm32H573Link, link_class
from tinyperf.device_runners.serial.protocol import VERIFY_CHOICES, DutClient, WindowReply
from tinyperf.device_runners.serial.recovery import TRUST_NAME
from tinyperf.device_runners.serial.replies import MAX_PROTOCOL_COUNT
from tinyperf.device_runners.serial.resource import DEFAULT_BAUD, SerialResource
from tinyperf.device_runners.serial.transport import DEFAULT_TRANSCRIPT_MB, TRANSCRIPT_NAME, LineTransport, Transcript
from tinyperf.core.argtypes import check_option, non_negative_float, non_negative_int, positive_float, positive_int
from tinyperf.core.errors import DeviceError

ENERGY_DUT_BAUD = 9600
DEFAULT_VOLTAGE_MV = 1800  # the official MLPerf Tiny set-up (devices_*.yaml: voltage 1.8)
#: how long to wait for an interface board to come back after `setbaud` resets it
BOARD_RESET_S = 10.0
#: numeric options and the ranges that make sense (0 s of timeout or 0 baud would be replaced silently)
NUMBER_OPTIONS = {"baud": positive_int, "dut_baud": positive_int, "chunk_size": positive_int,
                  "timeout": positive_float, "infer_timeout": positive_float, "retries": non_negative_int,
                  "transcript_mb": non_negative_float, "voltage_mv": positive_int}


def _options(options: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (options or {}).items() if v is not None}


def _resource(opts: dict[str, Any]) -> SerialResource:
    """Where the DUT (or its interface board) is: --port and --baud."""
    port = opts.get("port")
    if not port:
        raise DeviceError(None, "the serial runner needs --port",
                          "pass --port /dev/ttyACM0 (list ports with `tinyperf devices`), or a URL: "
                          "socket://host:port, rfc2217://host:port")
    return SerialResource(str(port), int(opts.get("baud") or DEFAULT_BAUD))


def _check_energy_setup(opts: dict[str, Any]) -> None:
    """Energy mode needs an interface board and an energy monitor: say so before anything opens."""
    if (opts.get("interface_board") or "none") == "none":
        raise DeviceError(None, "energy mode needs the DUT behind an interface board (it is powered by the "
                          "energy monitor and isolated from the host)",
                          "pass --interface-board stm32h573 (or arduino) and --energy-monitor")
    if not opts.get("energy_monitor"):
        from tinyperf.device_runners.energy import monitor_forms

        raise DeviceError(None, "energy mode needs an energy monitor", f"pass --energy-monitor {monitor_forms()}")


def _check_firmware(url: str, ident: Any, wl: str) -> None:
    """The board's `profile` model id must be the workload's."""
    from tinyperf.workloads.catalog import WORKLOADS

    if ident.model is None:
        raise DeviceError(url, f"the DUT ('{ident.name}') names no model in its `profile` reply",
                          f"pass --no-model-check if its firmware is known to run {wl}")
    if ident.model != wl:
        raise DeviceError(url, f"the DUT ('{ident.name}') runs {ident.model} firmware, but the workload is {wl}",
                          f"flash {wl} firmware, or run --workload {ident.model}"
                          if ident.model in WORKLOADS
                          else f"flash {wl} firmware (or pass --no-model-check)")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def firmware_description(fw: dict[str, str]) -> dict[str, Any]:
    """What a self-describing firmware (`tinyperf-info`) adds to the session: how it was built, how
    its time is measured, and its flash and RAM (RAM = static data + heap + stack + the arena used)."""
    if not fw:
        return {}
    parts = [_int(fw.get(k)) for k in ("static-ram-bytes", "heap-bytes", "stack-bytes", "arena-used-bytes")]
    out: dict[str, Any] = {
        "firmware": {k.replace("-", "_"): v for k, v in fw.items()},
        "memory": {"flash_bytes": _int(fw.get("flash-bytes")), "arena_bytes": _int(fw.get("arena-used-bytes")),
                   "ram_bytes": sum(parts) if all(p is not None for p in parts) else None,
                   "model_flash_bytes": _int(fw.get("model-bytes")),
                   "arena_method": "reported by the firmware (TFLM arena_used_bytes)"},
    }
    if fw.get("timing"):
        out["timing"] = fw["timing"]
    if fw.get("machine"):
        out["device"] = f"{fw['machine']} ({fw.get('cpu', '?')})"
    if fw.get("kernels"):
        out["kernels"] = f"firmware: TFLM {fw['kernels']}, FC rounding {fw.get('fc-rounding', '?')}"
        out["arithmetic"] = f"TFLite Micro {fw['kernels']} kernels on the device, FC rescale rounding " \
                            f"{fw.get('fc-rounding', '?')}"
    return out


class SerialSession:
    """One open DUT; every byte of its dialogue goes to `serial-transcript.log` in the run dir."""

    def __init__(self, config: RunnerConfig):
        opts = _options(config.options)
        self.workload = config.workload
        self.mode = config.mode
        self.resource = _resource(opts)
        self.board = opts.get("interface_board") or "none"
        self.device_name = opts.get("device_name")
        if self.board not in BOARDS:
            raise DeviceError(None, f"--interface-board {self.board} is not one of {', '.join(BOARDS)}", None)
        if self.mode == "energy":
            _check_energy_setup(opts)
        self.requested_dut_baud = opts.get("dut_baud")
        self.dut_baud = int(self.requested_dut_baud or (ENERGY_DUT_BAUD if self.board != "none" else self.resource.baud))
        max_mb = opts.get("transcript_mb")
        if max_mb is not None and max_mb < 0:
            raise DeviceError(None, f"--transcript-mb {max_mb:g} is negative",
                              f"pass a size in MB (default {DEFAULT_TRANSCRIPT_MB}), or 0 to keep every byte")
        self.transcript = Transcript(Path(config.run_dir) / TRANSCRIPT_NAME if config.run_dir else None,
                                     max_mb=DEFAULT_TRANSCRIPT_MB if max_mb is None else float(max_mb))
        self.board_name: str | None = None
        self.board_dut_baud: int | None = None
        self.monitor: Any = None
        self.monitor_spec = opts.get("energy_monitor")
        self.voltage_mv = int(opts.get("voltage_mv") or DEFAULT_VOLTAGE_MV)
        self._pending_energy: dict[str, Any] = {}
        self._counts_at_last_report = (0, 0, 0, 0)
        self.link: EembcLink | None = None
        try:
            self.link = self._connect()
            self.client = DutClient(
                self.link, self.workload, mode=self.mode, timeout=float(opts.get("timeout") or 5.0),
                retries=int(opts.get("retries") if opts.get("retries") is not None else 5),
                verify=str(opts.get("verify") or "auto"), chunk_size=opts.get("chunk_size"),
                first_infer_timeout=float(opts.get("infer_timeout") or 120.0),
                on_window=self._on_window if self.mode == "energy" else None,
                trust_file=Path(config.run_dir) / TRUST_NAME if config.run_dir else None)
            self.identity = self.client.open(probe_timestamp=self.mode != "energy")
            self.firmware_info = self.client.query_info()
            if not opts.get("no_model_check"):
                self._check_model()
            if self.mode == "energy":
                self._open_monitor()
        except BaseException:
            self.close()
            raise

    # -- connection --------------------------------------------------------------------------
    def _connect(self) -> EembcLink:
        transport = LineTransport(self.resource.open(), self.resource.url, self.transcript)
        link = link_class(self.board)(transport, self.dut_baud)
        if isinstance(link, BoardLink):
            self.board_name = link.identify()
            if isinstance(link, Stm32H573Link):
                self.board_dut_baud = link.check_baud()
                wanted = int(self.requested_dut_baud or ENERGY_DUT_BAUD)
                if self.board_dut_baud is not None and self.board_dut_baud != wanted:
                    if not self.requested_dut_baud:
                        self.dut_baud = link.dut_baud = self.board_dut_baud  # use what the board is set to
                    else:
                        link = self._set_board_baud(link, wanted)
        return link

    def _set_board_baud(self, link: Stm32H573Link, baud: int) -> Stm32H573Link:
        """`setbaud` resets the board (its USB port may vanish for a moment): reopen, check again."""
        self.transcript.note(f"interface board DUT baud {self.board_dut_baud} -> {baud} (setbaud; the board resets)")
        link.set_baud(baud)
        link.transport.close()
        deadline = time.monotonic() + BOARD_RESET_S
        while True:
            time.sleep(0.2)
            try:
                new = Stm32H573Link(LineTransport(self.resource.open(), self.resource.url, self.transcript), baud)
                new.identify()
                self.board_dut_baud = new.check_baud()
                break
            except DeviceError:
                if time.monotonic() > deadline:
                    raise DeviceError(self.resource.url, f"the interface board did not come back within "
                                      f"{BOARD_RESET_S:g} s after `setbaud {baud}`",
                                      "replug the board's USB and retry") from None
        if self.board_dut_baud != baud:
            raise DeviceError(self.resource.url, f"the interface board reports DUT baud {self.board_dut_baud} "
                              f"after `setbaud {baud}`", "update the interface-board firmware")
        self.dut_baud = baud
        return new

    def _check_model(self) -> None:
        _check_firmware(self.resource.url, self.identity, self.workload.id)

    # -- energy ------------------------------------------------------------------------------
    def _open_monitor(self) -> None:
        try:
            from tinyperf.device_runners.energy import monitor_forms, open_energy_monitor
        except ImportError as exc:
            raise DeviceError(None, f"energy monitors are not available ({exc})", "reinstall tinyperf") from None
        if not self.monitor_spec:
            raise DeviceError(None, "energy mode needs an energy monitor", f"pass --energy-monitor {monitor_forms()}")
        log = self.transcript.path.with_name("energy-monitor-transcript.log") if self.transcript.path else None
        self.monitor = open_energy_monitor(self.monitor_spec, transcript=log)
        self.monitor.start(self.voltage_mv)

    def _on_window(self, stage: str, reply: WindowReply | None) -> None:
        """Energy bookkeeping around each `infer` attempt: which two events belong to this window.

        `mark()` waits until every pulse given so far has arrived (a failed attempt's or a reset's
        pulses included), so the next two events are this window's start and end.
        """
        mon = self.monitor
        if mon is None:
            return
        if stage == "start":
            self._pending_energy = {"first_event": mon.mark()}
            return
        first = self._pending_energy["first_event"]
        mon.wait_for_events(first + 2, timeout=max(30.0, 2.0 * (reply.host_s if reply else 0.0)))
        self._pending_energy["window"] = mon.window(first, first + 1)

    # -- DeviceSession -----------------------------------------------------------------------
    def live_status(self) -> str | None:
        """Asked by the progress display while a command runs: link trouble since the session opened."""
        c = self.client.counters
        if not (c.link_errors or c.retries or c.resets):
            return None
        return f"{c.link_errors:,} link errors, {c.retries:,} retries" + (f", {c.resets:,} resets" if c.resets else "")

    def warnings(self) -> list[str]:
        """Asked by the engine after each record and at close: what the energy monitor saw
        (buffer filling, values lost), journalled with the run so the summary and `show` carry it."""
        return list(self.monitor.warnings()) if self.monitor is not None else []

    def describe(self) -> dict[str, Any]:
        ident = self.identity
        info: dict[str, Any] = {
            "runner": "serial",
            "kernels": "device firmware",
            "threads": None,
            "backend": "device firmware (EEMBC serial protocol)",
            # a lab names each board: two boards with one firmware (one vendor string) are two systems
            "device": self.device_name or ident.name,
            "port": self.resource.url,
            "baud": self.resource.baud,
            "dut_name": ident.name,
            "profile": ident.profile,
            "model_id": ident.model,
            "timestamp_mode": ident.timestamp_mode,
            "device_clock": ident.clock,
            "interface_board": None if self.board == "none" else self.board,
            "chunk_size": self.client.chunk_size,
            "verify": self.client.verify,
        }
        info.update(firmware_description(self.firmware_info))
        if self.board != "none":
            info["board_name"] = self.board_name
            info["dut_baud"] = self.dut_baud
        if self.monitor is not None:
            info["energy_monitor"] = self.monitor.describe()
            info["voltage_mv"] = self.voltage_mv
        return info

    def load(self, data: bytes) -> None:
        if len(data) != self.workload.upload_bytes:
            raise DeviceError(self.resource.url, f"{self.workload.id} uploads {self.workload.upload_bytes} bytes "
                              f"per inference, got {len(data)}", "pass samples of the workload's input size")
        self.client.load(data)

    def infer(self, n: int, warmup: int) -> Inference:
        w = self.client.infer(n, warmup)
        extra = self._extra(w)
        energy_j = None
        if self.mode == "energy":
            window = self._pending_energy.get("window")
            if window is None:
                raise DeviceError(self.resource.url, "no energy window was recorded for this inference",
                                  "check the timestamp wire from the DUT to the energy monitor")
            energy_j = float(window.energy_j) if math.isfinite(window.energy_j) else None
            elapsed_s = float(window.duration_s)
            extra["energy_window"] = window.as_dict()
            extra["voltage_mv"] = self.voltage_mv
        elif w.elapsed_us is not None:
            elapsed_s = w.elapsed_us / 1e6
        else:
            elapsed_s = math.nan  # energy-mode firmware in accuracy mode: no timestamps printed
        return Inference(results=np.asarray(w.results, dtype=np.float64), n=n, warmup=warmup,
                         elapsed_s=elapsed_s, latencies_ns=None, first_ns=None, energy_j=energy_j, extra=extra)

    def _extra(self, w: WindowReply) -> dict[str, Any]:
        now = self.client.counters.snapshot()
        before = self._counts_at_last_report
        self._counts_at_last_report = now
        extra: dict[str, Any] = {"resets": now[0] - before[0], "retries": now[1] - before[1]}
        if now[2] != before[2]:
            extra["link_errors"] = now[2] - before[2]
        if now[3] != before[3]:
            extra["confirmations"] = now[3] - before[3]
        if w.laps is not None:
            extra["lap_us"] = list(w.laps)
            if w.wraps:
                extra["timer_wraps"] = w.wraps
        return extra

    def close(self) -> None:
        if self.monitor is not None:
            try:
                self.monitor.close()
            except Exception:  # closing must not hide the error that got us here
                pass
            self.monitor = None
        if self.link is not None:
            self.link.transport.close()
            self.link = None
        self.transcript.close()


class SerialRunner(Runner):
    name = "serial"
    summary = "a board running MLPerf Tiny (EEMBC) firmware on a serial port, socket:// or rfc2217:// URL"
    needs_model = False
    modes = ("performance", "accuracy", "energy")
    kernels = ()
    default_kernels: dict[str, str] = {}
    max_window_inferences = MAX_PROTOCOL_COUNT  # `infer N`: the firmware reads N with atoi(), a 32-bit int

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument("--port", metavar="PORT",
                           help="serial port or URL of the DUT (or of its interface board): /dev/ttyACM0, COM3, "
                           "socket://host:port, rfc2217://host:port (`tinyperf devices` lists ports)")
        group.add_argument("--device-name", metavar="NAME",
                           help="name of this board in results and leaderboards (default: the DUT's `name` "
                           "vendor string; a lab run passes each board's inventory name)")
        group.add_argument("--baud", type=NUMBER_OPTIONS["baud"], metavar="N",
                           help=f"baud rate of the port (default {DEFAULT_BAUD}; some ad01 firmware uses 921600)")
        group.add_argument("--interface-board", choices=BOARDS, metavar="KIND",
                           help="reach the DUT through an interface board: stm32h573 (enhanced board), arduino "
                           "(IO manager), or none (default: the DUT's own port). Energy mode needs a board")
        group.add_argument("--dut-baud", type=NUMBER_OPTIONS["dut_baud"], metavar="N",
                           help="baud between interface board and DUT (default: the board's `checkbaud`; "
                           "a different value is set with `setbaud`)")
        group.add_argument("--chunk-size", type=NUMBER_OPTIONS["chunk_size"], metavar="BYTES",
                           help="payload bytes per `db` command (default 31 direct, 26 through a board)")
        group.add_argument("--timeout", type=NUMBER_OPTIONS["timeout"], metavar="S",
                           help="silence allowed before a reply to an ordinary command (default 5 s; `infer` "
                           "waits > 2x the expected window)")
        group.add_argument("--infer-timeout", type=NUMBER_OPTIONS["infer_timeout"], metavar="S",
                           help="silence allowed for the first `infer` of a session, before its duration is "
                           "known (default 120 s)")
        group.add_argument("--retries", type=NUMBER_OPTIONS["retries"], metavar="N",
                           help="redo a failed command (garbled reply, reset, error) at most N times (default 5)")
        group.add_argument("--verify", choices=VERIFY_CHOICES,
                           help="auto (default): read every upload back, read results twice, check timestamps against "
                           "the host clock, and repeat inferences until their replies agree after the first link "
                           "error; always: repeat from the start (noisy links); never: trust the link")
        group.add_argument("--transcript-mb", type=NUMBER_OPTIONS["transcript_mb"], metavar="MB",
                           help=f"rotate {TRANSCRIPT_NAME} past MB, keeping the newest bytes in two files "
                           f"(default {DEFAULT_TRANSCRIPT_MB}; 0 keeps every byte)")
        group.add_argument("--no-model-check", action="store_true", default=None,
                           help="do not require the DUT's `profile` model id to match the workload")
        from tinyperf.device_runners.energy import monitor_forms

        group.add_argument("--energy-monitor", metavar="SPEC",
                           help=f"energy mode: {monitor_forms()} (the registered energy monitors)")
        group.add_argument("--voltage-mv", type=NUMBER_OPTIONS["voltage_mv"], metavar="MV",
                           help=f"energy mode: DUT supply set on the monitor (default {DEFAULT_VOLTAGE_MV})")

    @classmethod
    def availability(cls) -> str | None:
        try:
            import serial  # noqa: F401
        except ImportError as exc:
            return f"pyserial is not importable ({exc}); `pip install pyserial`"
        return None

    @classmethod
    def preflight(cls, options: dict[str, Any]) -> None:
        opts = _options(options)
        for key, parse in NUMBER_OPTIONS.items():  # the CLI parses these; a Python caller's values too
            check_option(f"--{key.replace('_', '-')}", opts.get(key), parse, DeviceError)
        _resource(opts).check_exists()

    def open(self, config: RunnerConfig) -> SerialSession:
        return SerialSession(config)

    @classmethod
    def check_plan(cls, workloads: list[str], modes: list[str], options: dict[str, Any]) -> None:
        """Energy set-up and the board's firmware, checked before a run directory exists (a
        failed run would only advise a --resume that fails the same way)."""
        opts = _options(options)
        if "energy" in modes:
            _check_energy_setup(opts)
        if opts.get("no_model_check"):
            return
        ident = cls._identity(opts)
        for wl in workloads:
            _check_firmware(cls._url(opts), ident, wl)

    @staticmethod
    def _url(opts: dict[str, Any]) -> str:
        return _resource(opts).url

    @classmethod
    def _identity(cls, options: dict[str, Any]) -> Any:
        """Ask the board who it is (one short session, no run directory, no monitor)."""
        from tinyperf.workloads.catalog import KWS01

        probe = dict(options or {}, no_model_check=True)
        session = SerialSession(RunnerConfig(workload=KWS01, mode="accuracy", options=probe))
        try:
            return session.identity
        finally:
            session.close()

    @classmethod
    def device_workloads(cls, options: dict[str, Any]) -> list[str]:
        """The workload the board's firmware runs (its `profile` model id), so a run without
        --workload benchmarks what is flashed instead of failing on the other three."""
        from tinyperf.workloads.catalog import WORKLOADS

        model = cls._identity(_options(options)).model
        return [model] if model in WORKLOADS else []
