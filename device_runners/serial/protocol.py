"""What the harness needs from an EEMBC DUT, robust to a faulty link (the labgrid "protocol").

Identity (`name`, `profile`), upload (`db load` + `db <hex>` chunks, one command in flight),
inference (`infer N W`) and results, each validated line by line. Recovery:

- a garbled or incomplete reply -> resynchronise (a unique unknown command whose error echo
  marks a clean point in the stream) and redo the operation;
- a boot banner (the DUT reset) -> resynchronise, re-upload the staged sample, redo;
- an `e-[...]` reply -> redo; a persistent one stops the run naming the DUT's message;
- bounded retries, then a DeviceError that says which command, how long, and what to check.

A byte corrupted into another digit keeps a line's shape; so once the link has shown any
error (or always, with verify="always"), every upload is read back with `db print` and every
inference is repeated until its replies agree (identical results, and identical timings or three
close ones, of which the median is kept), so no corrupted number reaches the results.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from tinyperf.device_runners.serial import parse as P
from tinyperf.device_runners.serial.driver import EembcLink
from tinyperf.device_runners.serial.interface_board import STM32_NAME
from tinyperf.core.errors import DeviceError
from tinyperf.workloads.spec import Workload

T = TypeVar("T")

VERIFY_CHOICES = ("auto", "always", "never")
#: repeated windows' elapsed times are close when they differ by at most this fraction (+2 us)
AGREE_REL = 2e-3
AGREE_ABS_US = 2
MAX_AGREEMENT_TRIES = 6
RESYNC_MARKERS = 3
READBACK_TRIES = 4
ROW_CHARS = len("m-buffer-00-11-22-33-44-55-66-77\r\n")
#: a `db` chunk is answered in microseconds by any firmware: no need to wait the full --timeout
CHUNK_PATIENCE_S = 1.0
FIRST_INFER_TIMEOUT_S = 120.0

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


@dataclass(frozen=True)
class Identity:
    name: str
    profile: str | None
    model: str | None
    timestamp_mode: str | None  # "performance" (prints m-lap-us), "energy" (GPIO only), None = not probed


@dataclass
class WindowReply:
    """One parsed `infer N W`."""

    results: np.ndarray
    results_text: str
    uniform_decimals: bool
    laps: tuple[int, int] | None
    elapsed_us: int | None
    wraps: int
    host_s: float  # host-side duration of the exchange


@dataclass
class Counters:
    resets: int = 0
    retries: int = 0
    link_errors: int = 0
    confirmations: int = 0
    notes: list[str] = field(default_factory=list)

    def snapshot(self) -> tuple[int, int, int, int]:
        return self.resets, self.retries, self.link_errors, self.confirmations


class DutClient:
    def __init__(self, link: EembcLink, workload: Workload, *, mode: str = "performance",
                 timeout: float = 5.0, retries: int = 5, verify: str = "auto", chunk_size: int | None = None,
                 first_infer_timeout: float = FIRST_INFER_TIMEOUT_S,
                 on_window: Callable[[str, WindowReply | None], None] | None = None):
        if verify not in VERIFY_CHOICES:
            raise DeviceError(None, f"--verify '{verify}' is not one of {', '.join(VERIFY_CHOICES)}", None)
        self.link = link
        self.workload = workload
        self.mode = mode
        self.timeout = float(timeout)
        self.max_retries = int(retries)
        self.verify = verify
        self.first_infer_timeout = float(first_infer_timeout)
        self.chunk_size = self._check_chunk(chunk_size)
        self.expected_results = workload.n_results
        self.counters = Counters()
        self.suspicious = verify == "always"
        self.identity: Identity | None = None
        self._staged: bytes | None = None
        self._buffer_lost = False
        self._per_inference_s: float | None = None
        self._mixed_decimals_normal = False
        self.on_window = on_window
        self.transcript = link.transport.transcript

    # -- configuration checks ----------------------------------------------------------------
    def _check_chunk(self, chunk: int | None) -> int:
        limit = self.link.max_chunk()
        if chunk is None:
            return min(self.link.default_chunk, limit)
        if not 1 <= int(chunk) <= limit:
            why = ("an interface board relays one command of at most 64 bytes" if self.link.board
                   else "the DUT's 80-character command buffer would silently corrupt longer commands")
            raise DeviceError(None, f"--chunk-size {chunk} is outside 1..{limit}: {why}",
                              f"use at most {limit} (conventional: {self.link.default_chunk})")
        return int(chunk)

    @property
    def where(self) -> str:
        return self.link.where

    # -- identity ----------------------------------------------------------------------------
    def open(self, probe_timestamp: bool = True) -> Identity:
        """Bring the stream to a clean point and read the DUT's identity (each answer twice)."""
        self.resync(initial=True)
        name = self._recover("name", lambda: self._agreeing(self._query_name))
        profile, model = self._recover("profile", lambda: self._agreeing(self._query_profile))
        ts_mode = (self._recover("timestamp", lambda: self._agreeing(self._query_timestamp_mode))
                   if probe_timestamp else None)
        self.identity = Identity(name, profile, model, ts_mode)
        self.transcript.note(f"identity: name={name!r} profile={profile!r} model={model!r} timestamps={ts_mode}")
        return self.identity

    def _query_name(self) -> str:
        lines = self._command("name")
        for line in lines:
            m = P.RE_NAME.fullmatch(line)
            if m:
                return m.group(1)
        if any(STM32_NAME in l for l in lines):
            raise DeviceError(self.where, "this port is an interface board, not a DUT",
                              "pass --interface-board stm32h573 to reach the DUT through it")
        others = [l for l in lines if re.fullmatch(r"m-name-[^\[]*\[[^\]]*\]", l) and not l.startswith("m-name-dut-")]
        if others:
            raise DeviceError(self.where, f"this port answers `name` with {others[0]!r}, not as a DUT",
                              "if it is an interface board, pass --interface-board (stm32h573, arduino)")
        raise LinkTrouble(f"no m-name-dut-[...] line in the reply to `name`: {lines!r}")

    def _query_profile(self) -> tuple[str | None, str | None]:
        return P.parse_profile(self._command("profile"))

    def _query_timestamp_mode(self) -> str:
        lines = self._command("timestamp")
        if any(P.looks_garbled(l) for l in lines):
            raise LinkTrouble(f"garbled reply to `timestamp`: {lines!r}")
        laps = [P.parse_lap(l) for l in lines if P.RE_LAP.fullmatch(l)]
        if len(laps) > 1:
            raise LinkTrouble(f"`timestamp` printed {len(laps)} timestamps")
        return "performance" if laps else "energy"

    def _agreeing(self, query: Callable[[], T]) -> T:
        """Ask until two consecutive answers agree: a corrupted identity must not pass."""
        previous = query()
        for _ in range(3):
            current = query()
            if current == previous:
                return current
            self._trouble(f"two answers differ: {previous!r} / {current!r}")
            previous = current
        raise LinkTrouble(f"answers keep changing (last {previous!r})")

    # -- upload ------------------------------------------------------------------------------
    def load(self, data: bytes) -> None:
        """Stage one input: `db load N` and hex chunks, each acknowledged before the next."""
        if len(data) > self.workload.upload_bytes:
            raise DeviceError(self.where, f"refusing to upload {len(data)} bytes: {self.workload.id} firmware "
                              f"holds {self.workload.upload_bytes} (the reference firmware overflows its buffer)",
                              "pass samples of the workload's input size")
        self._staged = bytes(data)
        self._recover(f"db load {len(data)}", lambda: self._upload(self._staged), needs_input=False)

    def _upload(self, data: bytes) -> None:
        n = len(data)
        lines = self._command(f"db load {n}")
        if any(P.RE_OVERFLOW.fullmatch(l) for l in lines):
            raise DeviceError(self.where, f"the DUT's input buffer is smaller than {n} bytes ({lines[0]})",
                              f"flash firmware built for {self.workload.id}")
        if not self._exactly(lines, [f"m-[Expecting {n} bytes]"]):
            raise LinkTrouble(f"`db load {n}` answered {lines!r}")
        self._buffer_lost = False
        step = self.chunk_size
        last = (n - 1) // step
        hexed = data.hex()
        command = self._command
        patience = min(self.timeout, CHUNK_PATIENCE_S + self.link.intra_reply_silence_s)
        for i in range(last + 1):
            lines = command("db " + hexed[2 * i * step:2 * (i + 1) * step], patience)
            if i < last:
                if lines and not self._exactly(lines, []):
                    raise LinkTrouble(f"unexpected reply to `db` chunk {i + 1} of {last + 1}: {lines!r}")
            elif lines != [P.LOAD_DONE] and not self._exactly(lines, [P.LOAD_DONE]):
                raise LinkTrouble(f"the last `db` chunk was answered {lines!r}, not m-load-done")
        if self.suspicious:
            self._read_back(data)

    def _exactly(self, lines: list[str], expected: list[str]) -> bool:
        """The protocol lines of a reply are `expected` (fixed-text lines; corrupted characters
        tolerated, numbers not). Free text such as vendor debug output is ignored."""
        relevant = [l for l in lines if P.is_protocol_line(l) or P.looks_garbled(l)]
        if len(relevant) != len(expected) or not all(P.near(l, e) for l, e in zip(relevant, expected)):
            return False
        for got, want in zip(relevant, expected):
            if got != want:
                self._trouble(f"{want!r} arrived as {got!r}")
        return True

    def _read_back(self, data: bytes) -> None:
        """`db print` and compare: the DUT has no checksum, this is the only proof of an upload.

        Each 8-byte line that parses and matches confirms its bytes; a corrupted line is read
        again with the next `db print`. A stored byte that differs never confirms, so the upload
        is redone.
        """
        rows = (len(data) + 7) // 8
        confirmed = [False] * rows
        for _ in range(READBACK_TRIES):
            position = 0  # characters since the first row: each row is 32 + CRLF, so it locates rows
            for line in self._command("db print"):
                here = position
                position += len(line) + 2
                if not line.startswith("m-buffer-"):
                    continue
                try:
                    row = P.parse_buffer_lines([line])
                except P.GarbledLine:
                    continue
                guess = round(here / ROW_CHARS)
                near_rows = [i for i in range(max(0, guess - 2), min(rows, guess + 3))
                             if data[8 * i:8 * i + 8] == row]
                if len(near_rows) == 1 or guess in near_rows:  # identical neighbours: only at its place
                    confirmed[guess if guess in near_rows else near_rows[0]] = True
            if all(confirmed):
                self.counters.confirmations += 1
                return
            self._trouble(f"read-back: {rows - sum(confirmed)} of {rows} rows not confirmed yet")
        raise LinkTrouble(f"the uploaded bytes could not be confirmed ({rows - sum(confirmed)} rows of 8 "
                          "differ or never arrived intact)")

    # -- inference ---------------------------------------------------------------------------
    def infer(self, n: int, warmup: int) -> WindowReply:
        """`infer N W` on the staged input; with verification, repeated until two agree."""
        if n < 1 or warmup < 0:
            raise ValueError(f"infer needs n >= 1 and warmup >= 0, got {n}, {warmup}")
        if self._staged is None:
            raise RuntimeError("infer() before load()")
        first = self._recover(f"infer {n} {warmup}", lambda: self._window(n, warmup))
        if not first.uniform_decimals and not self._mixed_decimals_normal:
            self._trouble(f"results printed with mixed decimals ({first.results_text!r}): confirming")
        if not self.suspicious:
            self._learn(first, n, warmup)
            return first
        tries = [first]
        while len(tries) < MAX_AGREEMENT_TRIES:
            nxt = self._recover(f"infer {n} {warmup}", lambda: self._window(n, warmup))
            self.counters.confirmations += 1
            tries.append(nxt)
            confirmed = self._confirmed(tries)
            if confirmed is not None:
                self._learn(confirmed, n, warmup)
                if not confirmed.uniform_decimals:  # confirmed twice: this firmware prints that way (%g)
                    self._mixed_decimals_normal = True
                return confirmed
        raise DeviceError(self.where, f"{MAX_AGREEMENT_TRIES} runs of `infer {n} {warmup}` gave no agreeing "
                          "replies: the link corrupts data faster than it can be confirmed",
                          "fix the link (shorter cable, lower baud, ground) and resume the run")

    @staticmethod
    def _confirmed(tries: list[WindowReply]) -> WindowReply | None:
        """The reply the repeated windows vouch for, or None while they do not yet.

        Results must match to the character. A window's duration jitters on real hardware, so
        timings cannot be required to match; but a digit garbled in a lap timestamp may shift it
        by less than the jitter allowance. So: two identical timings confirm; otherwise three
        mutually close ones do, and the median of the three (never an outlier) is reported.
        """
        nxt = tries[-1]
        same = [t for t in tries[:-1] if t.results_text == nxt.results_text]
        if any(t.elapsed_us == nxt.elapsed_us for t in same):
            return nxt
        if nxt.elapsed_us is None:
            return None
        close = [t for t in same if t.elapsed_us is not None and DutClient._close(t, nxt)]
        for i, a in enumerate(close):
            for b in close[i + 1:]:
                if DutClient._close(a, b):
                    return sorted((a, b, nxt), key=lambda t: t.elapsed_us)[1]
        return None

    @staticmethod
    def _close(a: WindowReply, b: WindowReply) -> bool:
        return abs(a.elapsed_us - b.elapsed_us) <= AGREE_ABS_US + AGREE_REL * max(a.elapsed_us, b.elapsed_us)

    def _learn(self, w: WindowReply, n: int, warmup: int) -> None:
        if w.elapsed_us is not None and w.elapsed_us > 0:
            self._per_inference_s = w.elapsed_us / 1e6 / n
        elif self._per_inference_s is None:
            self._per_inference_s = w.host_s / (n + warmup)

    def infer_patience(self, n: int, warmup: int) -> float:
        """How long `infer N W` may stay silent: > 2x the expected window plus a margin."""
        if self._per_inference_s is None:
            return max(self.first_infer_timeout, self.timeout)
        expected = (n + warmup) * self._per_inference_s
        return 2.0 * expected + max(self.timeout, 5.0)

    def _window(self, n: int, warmup: int) -> WindowReply:
        if self._buffer_lost:
            raise InputLost("the DUT lost its input")
        if self.on_window:
            self.on_window("start", None)

        def still_computing(lines: list[str]) -> bool:
            laps = 0
            for line in lines:
                if line == P.INFER_DONE or line.startswith("m-results-"):
                    return False
                if line.startswith("m-lap-us-"):
                    laps += 1
            return laps < 2

        t0 = time.monotonic()
        lines = self._command(f"infer {n} {warmup}", patience=self.infer_patience(n, warmup),
                              wait_long=still_computing)
        host_s = time.monotonic() - t0
        w = self._parse_window(lines, n, warmup, host_s)
        if self.on_window:
            self.on_window("end", w)
        return w

    def _parse_window(self, lines: list[str], n: int, warmup: int, host_s: float) -> WindowReply:
        fixed = {"warmup-start": f"m-warmup-start-{warmup}", "warmup-done": P.WARMUP_DONE,
                 "infer-start": f"m-infer-start-{n}", "infer-done": P.INFER_DONE}
        events: list[str] = []
        laps: list[int] = []
        results_line: str | None = None
        garbled: list[str] = []
        for line in lines:
            if P.RE_SHORT_INPUT.fullmatch(line):
                raise InputLost(line)
            if P.RE_LAP.fullmatch(line):
                laps.append(P.parse_lap(line))
                events.append("lap")
            elif line.startswith("m-results-["):
                results_line = line
                events.append("results")
            elif (name := next((k for k, e in fixed.items() if P.near(line, e)), None)) is not None:
                if line != fixed[name]:
                    self._trouble(f"{fixed[name]!r} arrived as {line!r}")
                events.append(name)
            elif P.looks_garbled(line):
                garbled.append(line)
                events.append("garbled")
        if "infer-done" not in events:
            raise LinkTrouble(f"`infer {n} {warmup}` reply without m-infer-done: {lines!r}")
        done = events.index("infer-done")
        head, tail = events[:done], events[done + 1:]
        if "garbled" in head:
            raise LinkTrouble(f"garbled line in the `infer` reply: {garbled[0]!r}")
        if head != ["warmup-start", "warmup-done", "infer-start"] + ["lap"] * len(laps) or len(laps) not in (0, 2):
            raise LinkTrouble(f"`infer {n} {warmup}` reply out of shape: {lines!r}")
        if laps and self.mode == "energy":
            raise DeviceError(self.where, "the DUT prints m-lap-us timestamps: its firmware is built for "
                              "performance mode, so the energy monitor sees no timestamp pulses",
                              "flash energy-mode firmware (EE_CFG_ENERGY_MODE=1) for energy runs")
        if not laps and self.mode == "performance":
            raise DeviceError(self.where, "the DUT prints no m-lap-us timestamps: its firmware is built for "
                              "energy mode (timestamps are GPIO pulses)",
                              "flash performance-mode firmware, or run --mode energy through an interface board "
                              "with an energy monitor")
        results = None
        if tail == ["results"]:
            try:
                results = P.parse_results(results_line or "", self.expected_results)
            except P.GarbledLine as exc:
                self._trouble(f"results line garbled ({exc}); asking `results` again")
        elif tail not in ([], ["garbled"]):
            raise LinkTrouble(f"unexpected lines after m-infer-done: {lines!r}")
        else:
            self._trouble("the results line was lost; asking `results` again")
        if results is not None and not results.uniform_decimals and self.suspicious and not self._mixed_decimals_normal:
            self._trouble(f"results printed with mixed decimals ({results.text!r}); asking `results` again")
            results = None
        if results is None:  # the window itself is fine: fetch its results, do not redo it
            results = self._results_again()
        elapsed = wraps = None
        if laps:
            elapsed, wraps = P.lap_elapsed_us(laps[0], laps[1], host_s * 1e6)
        return WindowReply(results.values, results.text, results.uniform_decimals,
                           (laps[0], laps[1]) if laps else None, elapsed, wraps or 0, host_s)

    def _results_again(self) -> P.ParsedResults:
        last: Exception | None = None
        for _ in range(3):
            try:
                found = [l for l in self._command("results") if l.startswith("m-results-[") or P.looks_garbled(l)]
                if len(found) == 1:
                    return P.parse_results(found[0], self.expected_results)
                last = LinkTrouble(f"{len(found)} results lines for `results`")
            except (LinkTrouble, P.GarbledLine) as exc:
                last = exc
            self._trouble(f"`results`: {last}")
            self.resync(context=str(last))
        raise LinkTrouble(f"no intact results line after 3 requests ({last})")

    def results(self) -> P.ParsedResults:
        """`results`: the last inference's values again."""
        return self._recover("results", self._results_again)

    # -- one command -------------------------------------------------------------------------
    def _command(self, command: str, patience: float | None = None,
                 wait_long: Callable[[list[str]], bool] | None = None) -> list[str]:
        reply = self.link.exchange(command, self.timeout if patience is None else patience, wait_long)
        if reply.stale and any(P.is_boot_line(l) for l in reply.stale):
            self._buffer_lost = True
            raise DutReset(f"boot banner before `{command}`")
        if any(P.is_boot_line(l) for l in reply.lines):
            self._buffer_lost = True
            raise DutReset(f"boot banner in the reply to `{command}`")
        if reply.mangled_ready is not None:
            self._trouble(f"m-ready arrived as {reply.mangled_ready!r} after `{command}`")
        if not reply.complete:
            if not reply.started:
                raise LinkTrouble(f"no reply to `{command}` after {reply.silence_s:.1f} s")
            raise LinkTrouble(f"reply to `{command}` stopped without m-ready after {reply.lines[-3:]!r}")
        for line in reply.lines:
            if m := P.RE_ERROR.fullmatch(line):
                raise DutErrorReply(m.group(1))
        return reply.lines

    # -- recovery ----------------------------------------------------------------------------
    def _recover(self, what: str, op: Callable[[], T], needs_input: bool = True) -> T:
        failures = 0
        while True:
            try:
                if needs_input and self._buffer_lost and self._staged is not None:
                    self._reupload()
                return op()
            except DutReset as exc:
                self.counters.resets += 1
                self._trouble(f"DUT reset during `{what}` ({exc})")
                last = f"the DUT reset ({exc})"
                self.resync(context=last)
            except InputLost as exc:
                self._buffer_lost = True
                self._trouble(f"input lost during `{what}` ({exc})")
                last = f"the DUT had lost its input ({exc})"
            except DutErrorReply as exc:
                self._trouble(f"`{what}` answered e-[{exc}]")
                last = f"the DUT answered e-[{exc}]"
                self.resync(context=last)
            except (LinkTrouble, P.GarbledLine) as exc:
                self._trouble(f"`{what}`: {exc}")
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

    def _reupload(self) -> None:
        assert self._staged is not None
        self.transcript.note("re-uploading the staged input")
        self._recover(f"db load {len(self._staged)}", lambda: self._upload(self._staged), needs_input=False)

    def _trouble(self, text: str) -> None:
        self.counters.link_errors += 1
        self.counters.notes.append(text)
        self.transcript.note(text)
        if self.verify == "auto" and not self.suspicious:
            self.suspicious = True
            self.transcript.note("verification on: uploads are read back, inferences repeated until their replies agree")

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
            leftover = transport.quiet(0.05 if not initial else 0.02)
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
                    transport.quiet(self.link.intra_reply_silence_s)
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
                              "runs at another baud rate",
                              "find its rate with `tinyperf devices --port <port>` and pass --baud N")
        first = f"{context}, and " if context else ""
        baud = getattr(transport.ser, "baudrate", None)
        at = f" at {baud} baud" if baud and not self.where.lower().startswith("socket://") else ""
        raise DeviceError(self.where, f"the DUT stopped answering{at}: {first}{RESYNC_MARKERS} resynchronisation "
                          f"commands got no reply in {waited:.1f} s", self.link.no_reply_hint or CHECK_LINK)

    def _not_a_dut(self) -> None:
        """Something answered `m-ready` to an unknown command without echoing it: an interface
        board spoken to as if it were the DUT? Ask its name and say what to pass."""
        names = self.link.transport.drain()
        self.link.transport.write(b"name%")
        names += [l for l in iter(lambda: self.link.transport.read_line(time.monotonic() + 0.5), None)]
        if any(STM32_NAME in l for l in names):
            raise DeviceError(self.where, "this port is an interface board, not a DUT",
                              "pass --interface-board stm32h573 to reach the DUT through it")
        if any(l.startswith("m-name-") and not l.startswith("m-name-dut-") for l in names):
            raise DeviceError(self.where, f"this port answers `name` with {names[0]!r}, not as a DUT",
                              "if it is an interface board, pass --interface-board (stm32h573, arduino)")

    def _note_boot(self, initial: bool) -> None:
        self._buffer_lost = True
        if not initial:
            self.counters.resets += 1

    def _await_marker(self, marker: str) -> bool:
        deadline = time.monotonic() + self.timeout
        found = False
        while True:
            line = self.link.transport.read_line(deadline)
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
