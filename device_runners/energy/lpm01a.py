"""STMicroelectronics X-NUCLEO-LPM01A ("PowerShield") as an energy monitor, over its serial port.

It speaks a line protocol on a virtual COM port at 3,686,400 baud: every command is answered by
`ack <command> [value]` or by `error <command> ...` and, later, `Error detail: <text>`; the prompt
`PowerShield > ` may prefix any line. While acquiring with `output energy`, `format ascii_dec` and
`freq 1k`, it streams 1 ms energy samples (`DDDD+EE` / `DDDD-EE`, several to a line), `event <n> ris`
lines where the DUT pulsed its timestamp pin, and `TimeStamp: ..., buff NN%` every 1000 samples.

Set-up and tear-down follow the MLPerf Tiny runner exactly, so a board that works there works here.
A reader thread owns the port's input: it classifies lines, feeds samples and events into a
`SampleLog`, and hands every other line to the command side through a queue.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TextIO

import serial

from tinyperf.device_runners.energy.lpm01a_codec import (PROMPT, format_value, is_data_line,  # noqa: F401
                                                         parse_event, parse_status, parse_values, parse_version,
                                                         strip_prompt)  # one codec, shared with the emulator
from tinyperf.device_runners.energy.stream import SampleLog, SampleLogMonitor
from tinyperf.core.errors import DeviceError, TinyperfError

log = logging.getLogger(__name__)

BAUDRATE = 3_686_400
#: firmware older than this answers `error pwr off` to the set-up sequence
MIN_FIRMWARE = (1, 0, 6)
SAMPLE_PERIOD_S = 1e-3  # `freq 1k`
VOLTAGE_RANGE_MV = (1800, 3300)
LCD_WIDTH = 16


def setup_commands(voltage_mv: int) -> list[str]:
    """The MLPerf Tiny runner's set-up sequence, up to (not including) powering the DUT."""
    return ["htc", 'lcd 1 "MLPerf Tiny"', 'lcd 2 "     monitor    "', "pwr off",
            "acqtime inf", "trigdelay 0", "trigsrc sw", "eventsrc d7 fal",
            "output energy", "format ascii_dec", "freq 1k", f"volt {int(voltage_mv)}m"]


START_COMMANDS = ["pwr on nostatus", "start"]
#: after `stop` has been acknowledged with `Acquisition completed`
TEAR_DOWN_COMMANDS = ["pwr off", "hrc"]

# ---- resource and driver ------------------------------------------------------------------------

@dataclass(frozen=True)
class LPM01AResource:
    """Where the monitor is: a device path (/dev/ttyACM0, COM5) or a pyserial URL (socket://, rfc2217://)."""

    port: str
    baudrate: int = BAUDRATE


class LPM01AError(DeviceError):
    """The LPM01A refused a command or did not answer."""


_PROMPT_MARK = object()
_CLOSED_MARK = object()


class LPM01A(SampleLogMonitor):
    """Driver: commands with ack/error handling, the set-up sequence, and the sample stream."""

    kind = "lpm01a"
    where = "<port-or-URL>"
    where_required = True
    emulated = True

    @classmethod
    def from_spec(cls, where: str | None, transcript: Path | None = None) -> LPM01A:
        return cls(LPM01AResource(where or ""), transcript=transcript)

    def __init__(self, resource: LPM01AResource, *, command_timeout: float = 3.0,
                 transcript: Path | None = None,
                 open_port: Callable[..., serial.SerialBase] = serial.serial_for_url):
        self.resource = resource
        self.where = f"LPM01A on {resource.port}"
        self.command_timeout = command_timeout
        self.log = SampleLog(SAMPLE_PERIOD_S, self.where)
        self._messages: queue.Queue[Any] = queue.Queue()
        self._acquiring = False
        self._completed = threading.Event()
        self._warnings: list[str] = []
        self._max_buff = 0
        self._status_lines = 0
        self._stream_gap_warned = False
        self._write_lock = threading.Lock()
        self._transcript: TextIO | None = open(transcript, "a", encoding="utf-8") if transcript else None
        self._voltage_mv: int | None = None
        self._version: str | None = None
        self._board_id: str | None = None
        self._in_control = False
        self._dead: str | None = None  # why the port stopped answering, once it has
        try:
            self._port = open_port(resource.port, baudrate=resource.baudrate, timeout=0.05,
                                   write_timeout=command_timeout)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LPM01AError(self.where, f"cannot open the port ({exc})",
                              "check the path or URL (`tinyperf devices` lists ports) and that no other "
                              "program holds it") from exc
        self._running = True
        self._reader = threading.Thread(target=self._read_loop, name="lpm01a-reader", daemon=True)
        self._reader.start()

    # ---- commands -------------------------------------------------------------------------------
    def command(self, text: str, timeout: float | None = None) -> str:
        """Send one command and return what its `ack` carries after the command word.

        An `error` answer raises LPM01AError with the `Error detail:` text that follows it.
        """
        ack, _ = self._exchange(text, timeout, collect=False)
        return ack

    def query(self, text: str, timeout: float | None = None) -> list[str]:
        """A command whose answer continues after the ack: the ack's value plus every line up to the prompt."""
        ack, lines = self._exchange(text, timeout, collect=True)
        return ([ack] if ack else []) + lines

    def _exchange(self, text: str, timeout: float | None, collect: bool) -> tuple[str, list[str]]:
        timeout = self.command_timeout if timeout is None else timeout
        word = text.split()[0]
        self._drain_messages()
        self._write(text)
        deadline = time.monotonic() + timeout
        before: list[str] = []
        while True:
            line = self._next_message(deadline, text, before)
            if line is _PROMPT_MARK:
                continue
            head, _, rest = line.partition(" ")
            if head == "ack" and rest.split(" ", 1)[0] == word:
                ack = rest[len(word):].strip()
                return ack, (before + self._lines_until_prompt(time.monotonic() + 0.5)) if collect else []
            if head == "error" and (rest.split(" ", 1)[0] == word or not rest):
                detail = self._error_detail(time.monotonic() + min(timeout, 2.0))
                raise self._refused(text, line, detail)
            if line.startswith("Error detail:"):
                raise self._refused(text, "error", line.partition(":")[2].strip())
            before.append(line)

    def _refused(self, text: str, line: str, detail: str | None) -> LPM01AError:
        why = f"; detail: {detail}" if detail else ""
        if text.strip() == "pwr off":
            return LPM01AError(self.where, f"refused `pwr off` ({line}{why}), which firmware older than "
                               f"{'.'.join(map(str, MIN_FIRMWARE))} does",
                               "update the X-NUCLEO-LPM01A firmware to 1.0.6 or newer (ST's "
                               "STM32CubeMonitor-Power package ships it)")
        return LPM01AError(self.where, f"refused `{text}` ({line}{why})",
                           "check the command's argument range in the LPM01A user manual; if the "
                           "monitor is mid-acquisition from an earlier run, power-cycle it")

    def _error_detail(self, deadline: float) -> str | None:
        while time.monotonic() < deadline:
            try:
                line = self._messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is _CLOSED_MARK:
                break
            if isinstance(line, str) and line.startswith("Error detail:"):
                return line.partition(":")[2].strip()
        return None

    def _lines_until_prompt(self, deadline: float) -> list[str]:
        lines: list[str] = []
        while True:
            try:
                line = self._messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return lines
            if line is _PROMPT_MARK or line is _CLOSED_MARK:
                return lines
            lines.append(line)

    def _next_message(self, deadline: float, text: str, seen: list[str]) -> Any:
        left = deadline - time.monotonic()
        try:
            line = self._messages.get(timeout=max(0.0, left)) if left > 0 else self._messages.get_nowait()
        except queue.Empty:
            got = f"; it said: {' | '.join(seen[-3:])}" if seen else "; it said nothing"
            raise LPM01AError(self.where, f"no answer to `{text}` within {self.command_timeout:.1f} s{got}",
                              f"check that this is the LPM01A's port (not the DUT's or the interface "
                              f"board's), opened at {BAUDRATE} baud, and that its USB cable is in") from None
        if line is _CLOSED_MARK:
            raise LPM01AError(self.where, f"the port closed while waiting for the answer to `{text}`",
                              "check the USB cable; the monitor may have been reset or unplugged")
        return line

    def _drain_messages(self) -> None:
        while True:
            try:
                line = self._messages.get_nowait()
            except queue.Empty:
                return
            if line is _CLOSED_MARK:
                self._messages.put(line)  # keep the news for the next waiter
                return

    def _write(self, text: str) -> None:
        self._note(f"> {text}")
        try:
            with self._write_lock:
                self._port.write(text.encode("ascii") + b"\n")
                self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise LPM01AError(self.where, f"cannot send `{text}` ({exc})",
                              "check the USB cable; the port went away") from exc

    # ---- identity -------------------------------------------------------------------------------
    def version(self) -> str:
        """Firmware version, e.g. `1.0.6`."""
        if self._version is None:
            answer = " ".join(self.query("version"))
            found = parse_version(answer)
            if found is None:
                raise LPM01AError(self.where, f"`version` answered `{answer}`, no version number in it",
                                  "is this an X-NUCLEO-LPM01A? send `powershield` by hand to check")
            self._version = ".".join(map(str, found))
        return self._version

    def board_id(self) -> str | None:
        """The unique ID after `PowerShield present`, where the firmware prints one."""
        if self._board_id is None:
            text = " ".join(self.query("powershield"))
            head, found, tail = text.partition("PowerShield present")
            if not found:
                raise LPM01AError(self.where, f"`powershield` answered `{text}`, not `PowerShield present`",
                                  "this port is not an X-NUCLEO-LPM01A; pick its own port")
            self._board_id = (tail.strip() or head.strip()).split(" ")[0]
        return self._board_id or None

    def status(self) -> str:
        return " ".join(self.query("status"))

    def check_firmware(self) -> str:
        """Version string, after making sure it is new enough for the set-up sequence."""
        ver = self.version()
        found = parse_version(ver)
        if found is not None and found < MIN_FIRMWARE:
            need = ".".join(map(str, MIN_FIRMWARE))
            raise LPM01AError(self.where, f"firmware {ver} is older than {need} (it answers `error pwr off` "
                              "to the MLPerf Tiny set-up sequence)",
                              f"update the X-NUCLEO-LPM01A firmware to {need} or newer (ST's "
                              "STM32CubeMonitor-Power package ships it)")
        return ver

    # ---- EnergyMonitor --------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {"monitor": self.kind, "port": self.resource.port, "baudrate": self.resource.baudrate,
                "firmware": self._version, "board_id": self._board_id, "voltage_mv": self._voltage_mv,
                "sample_rate_hz": round(1 / SAMPLE_PERIOD_S), "event_source": "d7 falling edge"}

    def start(self, voltage_mv: int) -> None:
        lo, hi = VOLTAGE_RANGE_MV
        if not lo <= int(voltage_mv) <= hi:
            raise TinyperfError("--voltage-mv", f"{voltage_mv} mV is outside the LPM01A's supply range "
                                f"{lo}..{hi} mV", f"pick the DUT's supply voltage within {lo}..{hi} mV")
        self.board_id()
        self.check_firmware()
        self.log.reset()
        self._completed.clear()
        self._in_control = True
        for cmd in setup_commands(voltage_mv) + START_COMMANDS:
            self.command(cmd)
        self._voltage_mv = int(voltage_mv)

    def stop(self, timeout: float = 10.0) -> None:
        """`stop`, then wait for `Acquisition completed` so every sample is in before windows are read."""
        if not self._acquiring:
            return
        self._write("stop")
        if not self._completed.wait(timeout) or self._dead:
            if self._dead:
                raise LPM01AError(self.where, f"the port closed while waiting for `Acquisition completed` "
                                  f"({self._dead})", "check the USB cable; the monitor may have been reset")
            raise LPM01AError(self.where, f"no `Acquisition completed` within {timeout:.0f} s of `stop`",
                              "power-cycle the LPM01A; if this repeats, the host is not keeping up with the "
                              "stream (use a direct USB port)")

    def tear_down(self) -> None:
        """The runner's tear-down: stop (if acquiring), `pwr off`, `hrc`."""
        if self._acquiring:
            self.stop()
        for cmd in TEAR_DOWN_COMMANDS:
            self.command(cmd)
        self._in_control = False

    def warnings(self) -> list[str]:
        return list(self._warnings) + self.missing_warning("partial values lost on the line")

    def close(self) -> None:
        try:
            if self._in_control and self._running and not self._dead:
                self.tear_down()
        except DeviceError as exc:
            log.warning("LPM01A tear-down failed: %s", exc)
        finally:
            self._running = False
            self._reader.join(timeout=2.0)
            try:
                self._port.close()
            except (serial.SerialException, OSError):
                pass
            if self._transcript:
                self._transcript.close()
                self._transcript = None

    # ---- reader thread --------------------------------------------------------------------------
    def _read_loop(self) -> None:
        buf = ""
        while self._running:
            try:
                chunk = self._port.read(max(1, self._port.in_waiting))
            except (serial.SerialException, OSError) as exc:
                if self._running:
                    self._dead = str(exc) or type(exc).__name__
                    self.log.fail(self._dead)
                    self._messages.put(_CLOSED_MARK)
                    self._completed.set()  # wake a stop() that waits
                return
            if not chunk:
                continue
            buf += chunk.decode("ascii", errors="replace")
            buf = self._consume(buf)

    def _consume(self, buf: str) -> str:
        """Handle every complete line (and bare prompts) in `buf`; return the incomplete tail."""
        while True:
            if buf.startswith(PROMPT):
                self._messages.put(_PROMPT_MARK)
                buf = buf[len(PROMPT):]
                continue
            nl = buf.find("\n")
            if nl < 0:
                return buf
            raw, buf = buf[:nl].rstrip("\r"), buf[nl + 1:]
            line, prompts = strip_prompt(raw)
            for _ in range(prompts):
                self._messages.put(_PROMPT_MARK)
            self._handle_line(line.strip())

    def _handle_line(self, line: str) -> None:
        if not line:
            return
        if self._acquiring:
            if is_data_line(line):
                self.log.add_samples(parse_values(line))
                return
            label = parse_event(line)
            if label is not None:
                self.log.add_event(label)
                self._note(f"< {line} @ {self.log.sample_count()}")
                return
            status = parse_status(line)
            if status is not None:
                self._on_status(*status)
                return
        self._note(f"< {line}")
        if line.startswith("ack start"):
            self._acquiring = True
        elif "Acquisition completed" in line:
            self._acquiring = False
            self._completed.set()
        self._messages.put(line)

    def _on_status(self, acq_s: float, buff: int) -> None:
        self._status_lines += 1
        self._note(f"< status {acq_s:.3f}s buff {buff}% @ {self.log.sample_count()}")
        if buff > self._max_buff:
            self._max_buff = buff
            msg = (f"{self.where}: buffer at {buff} % at {acq_s:.3f} s of acquisition: the monitor is "
                   "falling behind the host and may drop samples (use a direct USB port, close other "
                   "programs reading the port)")
            self._warnings.append(msg)
            log.warning(msg)
        expected = round(acq_s / SAMPLE_PERIOD_S)
        have = self.log.sample_count()
        if expected and abs(have - expected) > 1 and not self._stream_gap_warned:
            self._stream_gap_warned = True
            msg = (f"{self.where}: the monitor reports {expected} samples at {acq_s:.3f} s but {have} arrived: "
                   "whole lines were lost, windows after this point may be misplaced")
            self._warnings.append(msg)
            log.warning(msg)

    def _note(self, text: str) -> None:
        if self._transcript:
            self._transcript.write(f"{time.time():.6f} {text}\n")
