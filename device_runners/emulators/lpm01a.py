"""A virtual X-NUCLEO-LPM01A on a pty or a TCP port, so energy mode can be tried without hardware.

It speaks the PowerShield line protocol (prompt, acks, errors with `Error detail:`, version,
status) and, once started, streams 1 kHz energy samples for a DUT drawing a configured power, in
the time of an `EmulatedClock`: every sample up to `clock.now_us()` is sent in chunks, several
values to a line, with a `TimeStamp: ..., buff NN%` line every 1000 samples. When the emulated
DUT executes `timestamp`, `event_at(clock_us)` puts an `event NN ris` line (numbered 00, 01, ... as
the real firmware does) at the matching sample position and sends the samples up to it at once, so
a host that reads the monitor as soon as `infer` returns (the MLPerf Tiny runner) finds each window's
samples and both its events in that window's capture.

The DUT is modelled as a constant current I = power / configured voltage, so at the configured
voltage it draws exactly `power_mw`, and at the voltage the host sets with `volt` it draws I x V.

Why samples are otherwise held back: the fast DUT emulator advances the clock by a whole window's
compute time and then reports the closing timestamp. The stream releases samples only once the clock
has shown a value for `hold_s` of wall time (0.1 s), so that timestamp still lands at its exact
position. `pwr off` is accepted during an acquisition (the runner sends it before `stop`): the
stream goes on with zero-energy samples.

`idle_power_mw` lets the DUT draw another power between windows, so a window placed at the wrong
samples shows in its energy. It takes the events as start/end pairs in order (1st opens, 2nd
closes, ...), so use it only where every pulse belongs to a window (not with a DUT whose boot
timestamp reaches the monitor).

Fault knobs: `firmware` older than 1.0.6 (answers `error pwr off`), `buff_percent` (status lines
report the monitor falling behind), `lose_partial_every` (bytes lost at a line edge leave a partial
value), `errors` (command word -> `Error detail` text to refuse it with), `stop_completes=False`
(`stop` is acknowledged but `Acquisition completed` never comes).
"""

from __future__ import annotations

import argparse
import collections
import shlex
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from tinyperf.device_runners.emulators.clock import EmulatedClock
from tinyperf.device_runners.emulators.wire import Endpoint, PtyEndpoint, TcpEndpoint
from tinyperf.device_runners.energy.lpm01a import LCD_WIDTH, MIN_FIRMWARE, VOLTAGE_RANGE_MV
from tinyperf.device_runners.energy.lpm01a_codec import (PROMPT, format_event, format_status, format_value,
                                                         parse_version)
from tinyperf.core.argtypes import non_negative_float, non_negative_int, positive_int

FREQS = ("100k", "50k", "20k", "10k", "5k", "2k", "1k", "500", "200", "100", "50", "20", "10", "5", "2", "1")
HELP = ["help", "echo <text>", "powershield", "version", "range", "status", "htc", "hrc", "lcd <1|2> \"<text>\"",
        "psrst", "volt <value>|get", "freq <value>", "acqtime <value>|inf", "acqmode dyn|stat",
        "funcmode optim|high", "output current|energy", "format ascii_dec|bin_hexa", "trigsrc sw|d7",
        "trigdelay <value>", "currthres <value>", "pwr on|off|auto [nostatus]|get", "pwrend on|off",
        "eventsrc d7 ris|fal", "targrst <value>", "start", "stop"]


#: what the firmware still serves while it acquires; `pwr off` (sent by the MLPerf Tiny runner before
#: `stop`) cuts the DUT's supply and the stream goes on with zero-energy samples
ACQUIRING_COMMANDS = ("stop", "status", "echo", "help", "version", "powershield", "pwr")


@dataclass
class EmulatorStats:
    """What the emulator sent, for tests and for the person watching it."""

    samples: int = 0
    events: int = 0
    late_events: int = 0  # reported after their sample position was already sent
    lost_values: int = 0  # values truncated by the lose_partial_every fault
    commands: list[str] = field(default_factory=list)


class LPM01AEmulator:
    """Protocol and sample stream of the monitor; a link (pty or TCP) carries its bytes."""

    def __init__(self, clock: EmulatedClock, power_mw: float = 5.0, voltage_mv: int = 1800, *,
                 firmware: str = "1.0.6", board_id: str = "TINYPERF0000EMU1", values_per_line: int = 8,
                 buff_percent: int = 0, lose_partial_every: int = 0, errors: dict[str, str] | None = None,
                 idle_power_mw: float | None = None, stop_completes: bool = True, hold_s: float = 0.1, tick_s: float = 0.01):
        self.clock = clock
        self.current_a = power_mw / 1000.0 / (voltage_mv / 1000.0)
        # between windows (after an odd number of events) the DUT may draw another power
        self.idle_current_a = self.current_a if idle_power_mw is None else idle_power_mw / power_mw * self.current_a
        self.firmware = firmware
        self.board_id = board_id
        self.values_per_line = max(1, values_per_line)
        self.buff_percent = buff_percent
        self.lose_partial_every = lose_partial_every
        self.errors = dict(errors or {})
        self.stop_completes = stop_completes
        self.hold_s = hold_s
        self.tick_s = tick_s
        self.stats = EmulatorStats()
        #: set by the endpoint (tinyperf.device_runners.emulators.wire) that carries the bytes to the host
        self.emit: Callable[[bytes], None] = lambda data: None
        self._lock = threading.RLock()
        self._reset_state()
        self._inbuf = b""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._emit_loop, name="lpm01a-emulator", daemon=True)
        self._thread.start()

    def _reset_state(self) -> None:
        self.host_control = False
        self.lcd = ["", ""]
        self.settings = {"volt": "3300m", "freq": "100", "acqtime": "10", "output": "current",
                         "format": "ascii_dec", "trigsrc": "sw", "trigdelay": "1m", "pwr": "auto",
                         "eventsrc": "", "acqmode": "dyn", "funcmode": "optim", "pwrend": "on",
                         "currthres": "1m"}
        self.powered = False
        self.acquiring = False
        self._t0 = 0
        self._sent = 0  # samples sent in this acquisition
        self._events: list[tuple[int, int]] = []  # (sample position, number) not yet sent
        self._event_no = 0
        self._in_window = False
        self._lines = 0
        self._seen: collections.deque[tuple[float, int]] = collections.deque()

    # ---- wiring ---------------------------------------------------------------------------------
    def boot(self) -> None:
        """Nothing to announce: the monitor speaks only when spoken to."""

    def _send(self, data: bytes) -> None:
        self.emit(data)

    def receive(self, data: bytes) -> None:
        """Bytes from the host: run every complete command line."""
        self._inbuf += data
        while True:
            cut = min((i for i in (self._inbuf.find(b"\n"), self._inbuf.find(b"\r")) if i >= 0), default=-1)
            if cut < 0:
                return
            line, self._inbuf = self._inbuf[:cut], self._inbuf[cut + 1:]
            text = line.decode("ascii", errors="replace").strip()
            if text:
                self.handle(text)

    def event_at(self, clock_us: int) -> None:
        """The DUT pulsed its timestamp pin at `clock_us` (EmulatedClock time)."""
        with self._lock:
            if not self.acquiring or not self.settings["eventsrc"] or clock_us < self._t0:
                return
            pos = round((clock_us - self._t0) / 1000)
            if pos < self._sent:
                self.stats.late_events += 1
                pos = self._sent
            self._events.append((pos, self._event_no))
            self._event_no += 1
            self.stats.events += 1
            # the pulse's samples and its event line go out now, before the DUT can answer the host:
            # a host that reads the monitor as soon as `infer` returns finds the whole window
            self._emit_until(self._t0 + pos * 1000, final=True)

    def timestamp(self) -> None:
        """Same as `event_at(clock.now_us())`, for callers that do not carry the time."""
        self.event_at(self.clock.now_us())

    @property
    def acquisition_start_us(self) -> int:
        """Clock time of `start`: sample i covers [start + i ms, start + (i+1) ms)."""
        return self._t0

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)

    # ---- protocol -------------------------------------------------------------------------------
    def _out(self, *lines: str, prompt: bool = True) -> None:
        text = "".join(f"{line}\r\n" for line in lines) + (PROMPT if prompt else "")
        self._send(text.encode("ascii"))

    def _ack(self, cmd: str, value: str = "") -> None:
        self._out(f"ack {cmd}" + (f" {value}" if value else ""))

    def _error(self, cmd: str, detail: str) -> None:
        self._out(f"error {cmd}", f"Error detail: {detail}")

    def handle(self, text: str) -> None:
        with self._lock:
            self.stats.commands.append(text)
            try:
                args = shlex.split(text)
            except ValueError:
                args = text.split()
            word = args[0].lower()
            if word in self.errors:
                return self._error(text, self.errors[word])
            if self.acquiring and word not in ACQUIRING_COMMANDS:
                return self._error(text, "acquisition in progress, send stop first")
            handler = getattr(self, f"_cmd_{word}", None)
            if handler is None:
                return self._error(text, f"unknown command '{word}', type help")
            handler(text, args[1:])

    def _cmd_help(self, text: str, args: list[str]) -> None:
        self._send(b"ack help\r\n")
        self._out(*HELP)

    def _cmd_echo(self, text: str, args: list[str]) -> None:
        self._ack(text)

    def _cmd_powershield(self, text: str, args: list[str]) -> None:
        self._send(b"ack powershield\r\n")
        self._out(f"PowerShield present {self.board_id}")

    def _cmd_version(self, text: str, args: list[str]) -> None:
        self._ack("version", self.firmware)

    def _cmd_range(self, text: str, args: list[str]) -> None:
        self._ack("range", "100n 50m" if self.settings["acqmode"] == "dyn" else "2n 200m")

    def _cmd_status(self, text: str, args: list[str]) -> None:
        self._ack("status", "ok")

    def _cmd_htc(self, text: str, args: list[str]) -> None:
        self.host_control = True
        self._ack("htc")

    def _cmd_hrc(self, text: str, args: list[str]) -> None:
        self.host_control = False
        self._ack("hrc")

    def _cmd_psrst(self, text: str, args: list[str]) -> None:
        self._ack("psrst")
        self._reset_state()

    def _cmd_lcd(self, text: str, args: list[str]) -> None:
        if not self.host_control:
            return self._error(text, "host control required (send htc first)")
        if len(args) != 2 or args[0] not in ("1", "2") or '"' not in text:
            return self._error(text, 'usage: lcd <1|2> "<text>"')
        if len(args[1]) > LCD_WIDTH:
            return self._error(text, f"string longer than {LCD_WIDTH} characters")
        self.lcd[int(args[0]) - 1] = args[1]
        self._ack(f"lcd {args[0]}", f'"{args[1]}"')

    def _setting(self, text: str, args: list[str], name: str, valid: Callable[[str], bool], usage: str) -> None:
        if len(args) == 1 and args[0] == "get":
            return self._ack(name, self.settings[name])
        if len(args) != 1 or not valid(args[0]):
            return self._error(text, usage)
        self.settings[name] = args[0]
        self._ack(name, args[0])

    def _cmd_volt(self, text: str, args: list[str]) -> None:
        lo, hi = VOLTAGE_RANGE_MV
        self._setting(text, args, "volt", lambda v: _millis(v) is not None and lo <= _millis(v) <= hi,
                      f"value out of range [{lo}m; {hi}m]")

    def _cmd_freq(self, text: str, args: list[str]) -> None:
        self._setting(text, args, "freq", lambda v: v in FREQS, "value not among " + ", ".join(FREQS))

    def _cmd_acqtime(self, text: str, args: list[str]) -> None:
        self._setting(text, args, "acqtime", lambda v: v in ("inf", "0") or _millis(v) is not None,
                      "value must be inf, 0 or a duration in [100u; 100]")

    def _cmd_acqmode(self, text: str, args: list[str]) -> None:
        self._setting(text, args, "acqmode", lambda v: v in ("dyn", "stat"), "value must be dyn or stat")

    def _cmd_funcmode(self, text: str, args: list[str]) -> None:
        self._setting(text, args, "funcmode", lambda v: v in ("optim", "high"), "value must be optim or high")

    def _cmd_output(self, text: str, args: list[str]) -> None:
        self._setting(text, args, "output", lambda v: v in ("current", "energy"), "value must be current or energy")

    def _cmd_format(self, text: str, args: list[str]) -> None:
        self._setting(text, args, "format", lambda v: v in ("ascii_dec", "bin_hexa"),
                      "value must be ascii_dec or bin_hexa")

    def _cmd_trigsrc(self, text: str, args: list[str]) -> None:
        self._setting(text, args, "trigsrc", lambda v: v in ("sw", "d7"), "value must be sw or d7")

    def _cmd_trigdelay(self, text: str, args: list[str]) -> None:
        self._setting(text, args, "trigdelay", lambda v: _millis(v) is not None and 0 <= _millis(v) <= 30000,
                      "value out of range [0; 30]")

    def _cmd_currthres(self, text: str, args: list[str]) -> None:
        self._setting(text, args, "currthres", lambda v: _millis(v) is not None, "value out of range [100n; 50m]")

    def _cmd_pwrend(self, text: str, args: list[str]) -> None:
        self._setting(text, args, "pwrend", lambda v: v in ("on", "off"), "value must be on or off")

    def _cmd_targrst(self, text: str, args: list[str]) -> None:
        self._ack(text)

    def _cmd_eventsrc(self, text: str, args: list[str]) -> None:
        if len(args) != 2 or args[0] != "d7" or args[1] not in ("ris", "fal"):
            return self._error(text, "usage: eventsrc d7 ris|fal")
        self.settings["eventsrc"] = " ".join(args)
        self._ack(text)

    def _cmd_pwr(self, text: str, args: list[str]) -> None:
        if args[:1] == ["get"]:
            return self._ack("pwr", "on" if self.powered else "off")
        if not args or args[0] not in ("on", "off", "auto") or args[1:] not in ([], ["nostatus"]):
            return self._error(text, "usage: pwr on|off|auto [nostatus]")
        if args[0] == "off" and (parse_version(self.firmware) or MIN_FIRMWARE) < MIN_FIRMWARE:
            return self._error(text, "invalid parameter")
        self.settings["pwr"] = args[0]
        self.powered = args[0] == "on"
        self._ack(text)

    def _cmd_start(self, text: str, args: list[str]) -> None:
        if (self.settings["output"], self.settings["format"], self.settings["freq"]) != ("energy", "ascii_dec", "1k"):
            return self._error(text, "this emulator streams only output energy, format ascii_dec, freq 1k")
        if self.settings["pwr"] == "auto":
            self.powered = True
        self._t0 = self.clock.now_us()
        self._sent = 0
        self._events = []
        self._event_no = 0
        self._in_window = False
        self._lines = 0
        self._seen.clear()
        self.acquiring = True
        self._send(b"ack start\r\n")

    def _cmd_stop(self, text: str, args: list[str]) -> None:
        if not self.acquiring:
            return self._error(text, "no acquisition in progress")
        self._send(b"ack stop\r\n")
        self._emit_until(self.clock.now_us(), final=True)
        self.acquiring = False
        if self.settings["pwrend"] == "off":
            self.powered = False
        if self.stop_completes:
            self._out("Acquisition completed")

    # ---- sample stream --------------------------------------------------------------------------
    def _sample_j(self, in_window: bool) -> float:
        if not self.powered:
            return 0.0
        volts = (_millis(self.settings["volt"]) or 3300) / 1000.0
        return (self.current_a if in_window else self.idle_current_a) * volts * 1e-3

    def _emit_loop(self) -> None:
        while not self._stop.wait(self.tick_s):
            with self._lock:
                if not self.acquiring:
                    continue
                wall, now = time.monotonic(), self.clock.now_us()
                self._seen.append((wall, now))
                while len(self._seen) > 1 and self._seen[1][0] <= wall - self.hold_s:
                    self._seen.popleft()
                if self._seen[0][0] <= wall - self.hold_s:
                    self._emit_until(self._seen[0][1])

    def _emit_until(self, clock_us: int, final: bool = False) -> None:
        """Send every whole sample that ends by `clock_us`, with events and status lines in place."""
        target = max(self._sent, (clock_us - self._t0) // 1000)
        if target == self._sent and not (final and self._events):
            return
        values = {w: format_value(self._sample_j(w)) for w in (False, True)}
        out: list[str] = []
        row: list[str] = []
        pending = sorted(self._events)

        def put_event() -> None:
            flush_row()
            out.append(format_event(pending.pop(0)[1]))
            self._in_window = not self._in_window  # each `infer N W` pulses at its start and its end

        def flush_row() -> None:
            if row:
                out.append(self._damage(" ".join(row)))
                row.clear()

        i = self._sent
        while i < target:
            while pending and pending[0][0] <= i:
                put_event()
            # values up to the next event, status line or end of this chunk, a row at a time
            next_status = (i // 1000 + 1) * 1000
            stop = min(target, next_status, pending[0][0] if pending else target)
            while i < stop:
                take = min(self.values_per_line - len(row), stop - i)
                row.extend([values[self._in_window]] * take)
                i += take
                if len(row) == self.values_per_line:
                    flush_row()
            if i == next_status:
                flush_row()
                out.append(format_status(i, self.buff_percent))
        if final:  # events reported at the very end of the stream
            while pending and pending[0][0] <= i:
                put_event()
        flush_row()
        self._events = pending
        self.stats.samples += target - self._sent
        self._sent = target
        if out:
            self._send(("\r\n".join(out) + "\r\n").encode("ascii"))

    def _damage(self, line: str) -> str:
        """The lose_partial_every fault: bytes lost at a line edge, alternately its head and its tail."""
        self._lines += 1
        if not self.lose_partial_every or self._lines % self.lose_partial_every or len(line) < 8:
            return line
        self.stats.lost_values += 1
        return line[3:] if (self._lines // self.lose_partial_every) % 2 else line[:-3]


def _millis(value: str) -> int | None:
    """`1800m` -> 1800, `3` -> 3000, `100u` -> 0: values in thousandths of the unit."""
    scale = {"m": 1, "u": 1e-3, "n": 1e-6, "k": 1e6}.get(value[-1:], None)
    try:
        return round(float(value[:-1]) * scale) if scale else round(float(value) * 1000)
    except ValueError:
        return None


@dataclass
class LPM01AEmulatorHandle:
    """A running emulator: open `port_url` with the LPM01A driver; call `event_at` from the DUT."""

    emulator: LPM01AEmulator
    endpoint: Endpoint
    port_url: str

    def event_at(self, clock_us: int) -> None:
        self.emulator.event_at(clock_us)

    @property
    def stats(self) -> EmulatorStats:
        return self.emulator.stats

    def close(self) -> None:
        self.emulator.close()
        self.endpoint.close()

    def __enter__(self) -> LPM01AEmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_lpm01a_emulator(clock: EmulatedClock, power_mw: float = 5.0, voltage_mv: int = 1800, *,
                          pty: bool = True, tcp: int | None = None, **knobs) -> LPM01AEmulatorHandle:
    """Start a virtual LPM01A on a pty (default) or on TCP port `tcp` (0 = any free port).

    `knobs` go to LPM01AEmulator (firmware, buff_percent, lose_partial_every, errors, ...).
    Wire the DUT emulator's timestamp hook to `handle.event_at`.
    """
    emulator = LPM01AEmulator(clock, power_mw, voltage_mv, **knobs)
    endpoint = TcpEndpoint(emulator, tcp) if tcp is not None else PtyEndpoint(emulator)
    endpoint.start(boot=False)
    return LPM01AEmulatorHandle(emulator, endpoint, endpoint.url)


# ---- `tinyperf emulate lpm01a` -------------------------------------------------------------------

def add_lpm01a_subcommand(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `lpm01a` to the `tinyperf emulate` sub-commands."""
    p = subparsers.add_parser("lpm01a", help="a virtual X-NUCLEO-LPM01A energy monitor",
                              description="Run a virtual LPM01A that streams 1 kHz energy samples for a "
                              "DUT drawing --power-mw at --voltage-mv. Point an energy run's monitor at "
                              "the port it prints.")
    p.add_argument("--power-mw", type=non_negative_float, default=5.0, help="power the emulated DUT draws (default 5.0)")
    p.add_argument("--voltage-mv", type=positive_int, default=1800, help="voltage at which it draws that power (default 1800)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal (default)")
    where.add_argument("--tcp", type=non_negative_int, metavar="PORT", help="serve on 127.0.0.1:PORT (socket:// URL)")
    p.add_argument("--firmware", default="1.0.6", help="version to report; older than 1.0.6 refuses `pwr off`")
    p.add_argument("--values-per-line", type=int, default=8, help="sample values per data line (default 8)")
    p.add_argument("--buff-percent", type=int, default=0, help="buffer fill the status lines report (fault)")
    p.add_argument("--lose-partial-every", type=int, default=0, metavar="N",
                   help="truncate the edge of every Nth data line, leaving a partial value (fault)")
    p.add_argument("--pulse-every", type=float, default=0.0, metavar="SECONDS",
                   help="emit a timestamp event every SECONDS, standing in for a DUT (default: none)")
    p.set_defaults(handler=_run_emulator)
    return p


def _run_emulator(args: argparse.Namespace) -> int:
    from tinyperf.core.console import console

    clock = EmulatedClock()
    handle = start_lpm01a_emulator(clock, args.power_mw, args.voltage_mv, tcp=args.tcp, firmware=args.firmware,
                                   values_per_line=args.values_per_line, buff_percent=args.buff_percent,
                                   lose_partial_every=args.lose_partial_every)
    console.print(f"LPM01A emulator on [bold]{handle.port_url}[/] ({args.power_mw} mW at {args.voltage_mv} mV, "
                  f"firmware {args.firmware}); Ctrl-C to stop", highlight=False, soft_wrap=True)
    try:
        while True:
            time.sleep(args.pulse_every or 1.0)
            if args.pulse_every:
                handle.event_at(clock.now_us())
    except KeyboardInterrupt:
        return 0
    finally:
        handle.close()
