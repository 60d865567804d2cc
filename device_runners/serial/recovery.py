"""One command at a time over a faulty link, and the way back to a clean point when it fails.

`Channel` sends a command and turns what came back into lines or one of the exceptions below;
`recover()` redoes an operation after a garbled reply, a reset or an error answer (bounded by
--retries), and `resync()` finds a clean point in the stream with a unique marker command.
`trouble()` counts every sign of a bad link; from the first one on (or from the start, with
verify="always"), the protocol confirms what it reads by repetition. That suspicion is kept in
the run directory (`serial-link.json`), so a new session of the same run does not silently
trust a link that has already lied.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from tinyperf.device_runners.serial import parse as P
from tinyperf.device_runners.serial.driver import EembcLink
from tinyperf.device_runners.serial.interface_board import STM32_NAME
from tinyperf.core.errors import DeviceError

T = TypeVar("T")

VERIFY_CHOICES = ("auto", "always", "never")
RESYNC_MARKERS = 3
TRUST_NAME = "serial-link.json"

CHECK_LINK = ("check the baud rate (`tinyperf devices --port <port>` shows which rate answers), "
              "the cable, and that the firmware runs the EEMBC test harness (performance-mode "
              "firmware at 115200 directly; energy-mode firmware at 9600 behind an interface board)")


class LinkTrouble(Exception):
    """The reply was garbled, incomplete or out of shape: resynchronise and redo."""


class DutReset(Exception):
    """A boot banner arrived: the DUT reset and lost its loaded input."""


class DutErrorReply(Exception):
    """The DUT answered `e-[...]`."""


class InputLost(Exception):
    """The DUT ran on an incomplete input buffer (`Input db has N elemented, ...`)."""


@dataclass
class Counters:
    resets: int = 0
    retries: int = 0
    link_errors: int = 0
    confirmations: int = 0
    notes: list[str] = field(default_factory=list)

    def snapshot(self) -> tuple[int, int, int, int]:
        return self.resets, self.retries, self.link_errors, self.confirmations


def shown(text: str, limit: int = 80) -> str:
    """Received text as an error message shows it: escaped, the end kept when long."""
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else "..." + text[-limit:]


class Channel:
    """Commands, retries and resynchronisation for one DUT session."""

    def __init__(self, link: EembcLink, *, timeout: float, retries: int, verify: str,
                 trust_file: Path | None = None):
        if verify not in VERIFY_CHOICES:
            raise DeviceError(None, f"--verify '{verify}' is not one of {', '.join(VERIFY_CHOICES)}", None)
        self.link = link
        self.timeout = float(timeout)
        self.max_retries = int(retries)
        self.verify = verify
        self.counters = Counters()
        self.transcript = link.transport.transcript
        self.suspicious = verify == "always"
        self.buffer_lost = False
        self.reupload: Callable[[], None] | None = None  # set by the uploader: stage the input again
        self.on_reset: list[Callable[[], None]] = []  # called when the DUT is found to have reset
        self.trust_file = trust_file
        self._inherit_suspicion()

    @property
    def where(self) -> str:
        return self.link.where

    # -- trust across sessions ---------------------------------------------------------------
    def _inherit_suspicion(self) -> None:
        if self.trust_file is None or self.verify != "auto" or not self.trust_file.is_file():
            return
        try:
            earlier = json.loads(self.trust_file.read_text()).get("link_errors", 0)
        except (OSError, ValueError, AttributeError):
            earlier = "some"
        self.suspicious = True
        self.transcript.note(f"verification on from the start: earlier sessions of this run saw {earlier} link "
                             f"errors ({self.trust_file.name})")

    def _remember_suspicion(self) -> None:
        if self.trust_file is None:
            return
        try:
            previous = json.loads(self.trust_file.read_text()).get("link_errors", 0) if self.trust_file.is_file() else 0
        except (OSError, ValueError, AttributeError):
            previous = 0
        try:
            self.trust_file.write_text(json.dumps({"link_errors": int(previous) + self.counters.link_errors,
                                                   "last": self.counters.notes[-1] if self.counters.notes else None}))
        except OSError:
            pass  # a read-only run dir: this session still verifies

    # -- one command -------------------------------------------------------------------------
    def command(self, command: str, patience: float | None = None,
                wait_long: Callable[[list[str]], bool] | None = None, max_bytes: int | None = None,
                reply_out: list | None = None) -> list[str]:
        """`command`'s reply lines; raises DutReset, LinkTrouble or DutErrorReply."""
        kw = {} if max_bytes is None else {"max_bytes": max_bytes}
        reply = self.link.exchange(command, self.timeout if patience is None else patience, wait_long, **kw)
        if reply_out is not None:
            reply_out.append(reply)
        if reply.stale and any(P.is_boot_line(l) for l in reply.stale):
            self._reset_seen()
            raise DutReset(f"boot banner before `{command}`")
        if any(P.is_boot_line(l) for l in reply.lines):
            self._reset_seen()
            raise DutReset(f"boot banner in the reply to `{command}`")
        if reply.mangled_ready is not None:
            self.trouble(f"m-ready arrived as {reply.mangled_ready!r} after `{command}`")
        if reply.overrun:
            raise LinkTrouble(f"the reply to `{command}` did not end: {len(reply.lines)} lines in "
                              f"{reply.elapsed_s:.1f} s, last {shown(reply.lines[-1]) if reply.lines else ''!r}")
        if not reply.complete:
            if not reply.started:
                got = self.link.transport.partial()
                if got.strip():
                    raise LinkTrouble(f"no complete line in reply to `{command}` after {reply.silence_s:.1f} s, "
                                      f"only {shown(got)!r}")
                raise LinkTrouble(f"no reply to `{command}` after {reply.silence_s:.1f} s")
            raise LinkTrouble(f"reply to `{command}` stopped without m-ready after {reply.lines[-3:]!r}")
        for line in reply.lines:
            if m := P.RE_ERROR.fullmatch(line):
                raise DutErrorReply(m.group(1))
        return reply.lines

    def _reset_seen(self) -> None:
        self.buffer_lost = True
        for hook in self.on_reset:
            hook()

    # -- recovery ----------------------------------------------------------------------------
    def recover(self, what: str, op: Callable[[], T], needs_input: bool = True) -> T:
        """`op()`, redone after link trouble, resets and error answers, at most --retries times."""
        failures = 0
        while True:
            try:
                if needs_input and self.buffer_lost and self.reupload is not None:
                    self.reupload()
                return op()
            except DutReset as exc:
                self.counters.resets += 1
                self.trouble(f"DUT reset during `{what}` ({exc})")
                last = f"the DUT reset ({exc})"
                self.resync(context=last)
            except InputLost as exc:
                self.buffer_lost = True
                self.trouble(f"input lost during `{what}` ({exc})")
                last = f"the DUT had lost its input ({exc})"
            except DutErrorReply as exc:
                self.trouble(f"`{what}` answered e-[{exc}]")
                last = f"the DUT answered e-[{exc}]"
                self.resync(context=last)
            except (LinkTrouble, P.GarbledLine) as exc:
                self.trouble(f"`{what}`: {exc}")
                last = str(exc)
                self.resync(context=last)
            failures += 1
            self.counters.retries += 1
            if failures > self.max_retries:
                noisy = (f" ({self.counters.link_errors} link errors so far: the link corrupts data)"
                         if self.counters.link_errors > failures else "")
                raise DeviceError(self.where, f"`{what}` failed {failures} times{noisy}; last: {last}",
                                  "check the link and the transcript (serial-transcript.log in the run "
                                  "directory shows every byte); " + CHECK_LINK) from None

    def trouble(self, text: str) -> None:
        """A sign of a bad link: count it, note it, and stop trusting unconfirmed replies."""
        self.counters.link_errors += 1
        self.counters.notes.append(text)
        self.transcript.note(text)
        if self.verify == "auto" and not self.suspicious:
            self.suspicious = True
            self.transcript.note("verification on: inferences repeated until their replies agree")
        if self.verify != "never":
            self._remember_suspicion()

    # -- resynchronisation -------------------------------------------------------------------
    def resync(self, initial: bool = False, context: str | None = None) -> None:
        """Reach a clean point: send a unique unknown command and read up to its echo.

        Replies are strictly in order, so once `e-[Unknown command: <marker>]` and its m-ready
        are read, nothing older is left in the stream. A boot banner seen on the way means the
        DUT reset and lost its input. `context` says what went wrong first, for the error.
        """
        transport = self.link.transport
        started = time.monotonic()
        rx_before, lines_before = transport.rx_bytes, transport.rx_lines
        for attempt in range(RESYNC_MARKERS):
            leftover = transport.quiet(0.05 if not initial else 0.02, limit_s=max(self.timeout, 1.0))
            if any(P.is_boot_line(l) for l in leftover):
                self._note_boot(initial)
            marker = f"tpsync{secrets.token_hex(4)}"
            self.transcript.note(f"resynchronising with `{marker}`")
            reply = self.link.exchange(marker, self.timeout)
            seen = reply.stale + reply.lines
            if any(P.is_boot_line(l) for l in seen):
                self._note_boot(initial)
            if any(marker in l for l in reply.lines):
                if not reply.complete:  # the echo came, its m-ready was lost: wait out any tail
                    transport.quiet(self.link.intra_reply_silence_s, limit_s=max(self.timeout, 1.0))
                return
            if initial and reply.complete and not reply.lines:
                self._not_a_dut()  # m-ready without the echo every EEMBC DUT prints
            # the marker's echo may still be on its way behind a stalled reply: keep reading
            if reply.started and self._await_marker(marker):
                return
            garbage = transport.rx_lines == lines_before and transport.rx_bytes > rx_before
            if attempt >= 1 and garbage:
                break  # bytes, never a line: no point in waiting longer
        waited = time.monotonic() - started
        if transport.rx_lines == lines_before and transport.rx_bytes > rx_before:
            raise DeviceError(self.where, "bytes arrive but never form a protocol line: most likely the board "
                              f"runs at another baud rate (last bytes: {shown(transport.recent())!r})",
                              "find its rate with `tinyperf devices --port <port>` and pass --baud N")
        first = f"{context}, and " if context else ""
        baud = getattr(transport.ser, "baudrate", None)
        at = f" at {baud} baud" if baud and not self.where.lower().startswith("socket://") else ""
        if transport.rx_bytes > rx_before:
            raise DeviceError(self.where, f"the DUT answers but not as the protocol says{at}: {first}"
                              f"{RESYNC_MARKERS} resynchronisation commands were never echoed in {waited:.1f} s; "
                              f"{transport.rx_bytes - rx_before:,} bytes came back instead, ending "
                              f"{shown(transport.recent())!r}", self.link.no_reply_hint or CHECK_LINK)
        raise DeviceError(self.where, f"the DUT stopped answering{at}: {first}{RESYNC_MARKERS} resynchronisation "
                          f"commands got no reply in {waited:.1f} s", self.link.no_reply_hint or CHECK_LINK)

    def _not_a_dut(self) -> None:
        """Something answered `m-ready` to an unknown command without echoing it: an interface
        board spoken to as if it were the DUT? Ask its name and say what to pass."""
        names = self.link.transport.drain()
        self.link.transport.write(b"name%")
        deadline = time.monotonic() + 0.5
        names += [l for l in iter(lambda: self.link.transport.read_line(deadline), None)]
        if any(STM32_NAME in l for l in names):
            raise DeviceError(self.where, "this port is an interface board, not a DUT",
                              "pass --interface-board stm32h573 to reach the DUT through it")
        if any(l.startswith("m-name-") and not l.startswith("m-name-dut-") for l in names):
            raise DeviceError(self.where, f"this port answers `name` with {names[0]!r}, not as a DUT",
                              "if it is an interface board, pass --interface-board (stm32h573, arduino)")

    def _note_boot(self, initial: bool) -> None:
        self._reset_seen()
        if not initial:
            self.counters.resets += 1

    def _await_marker(self, marker: str) -> bool:
        deadline = end_by = time.monotonic() + self.timeout
        found = False
        while True:
            line = self.link.transport.read_line(min(deadline, end_by + self.timeout))
            if line is None:
                return found
            dut = self.link.unframe(line)
            if dut is None:
                continue
            if P.is_boot_line(dut):
                self._note_boot(False)
            if marker in dut:
                found = True
                deadline = time.monotonic() + self.link.intra_reply_silence_s
            elif found and dut == P.READY:
                return True
