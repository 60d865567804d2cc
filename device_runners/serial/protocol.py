"""What the harness needs from an EEMBC DUT, robust to a faulty link (the labgrid "protocol").

`DutClient` is the face the serial session talks to; each concern lives in its own module:

- recovery.py: one command at a time, retries, resynchronisation, link-trouble bookkeeping;
- upload.py: `db load` + `db <hex>` chunks and the `db print` read-back;
- inference.py: `infer N W`, the second reading of results, agreement under suspicion;
- timestamps.py: lap stamps checked against the host clock and each other;
- replies.py: what reply lines mean (pure parsing).

Identity (`name`, `profile`, `timestamp`, `clock`) is read here, each answer twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tinyperf.device_runners.serial import parse as P
from tinyperf.device_runners.serial.driver import EembcLink
from tinyperf.device_runners.serial.inference import FIRST_INFER_TIMEOUT_S, Inferencer
from tinyperf.device_runners.serial.interface_board import STM32_NAME
from tinyperf.device_runners.serial.recovery import (  # noqa: F401  (re-exported: the protocol's vocabulary)
    CHECK_LINK, VERIFY_CHOICES, Channel, Counters, DutErrorReply, DutReset, InputLost, LinkTrouble)
from tinyperf.device_runners.serial.replies import Identity, WindowReply, close, confirmed
from tinyperf.device_runners.serial.upload import Uploader
from tinyperf.core.errors import DeviceError
from tinyperf.workloads.spec import Workload

T = TypeVar("T")

RE_CLOCK = re.compile(r"m-clock-\[(real|virtual)\]")


class DutClient:
    def __init__(self, link: EembcLink, workload: Workload, *, mode: str = "performance",
                 timeout: float = 5.0, retries: int = 5, verify: str = "auto", chunk_size: int | None = None,
                 first_infer_timeout: float = FIRST_INFER_TIMEOUT_S,
                 on_window: Callable[[str, WindowReply | None], None] | None = None,
                 trust_file: Path | None = None):
        self.link = link
        self.workload = workload
        self.mode = mode
        self.channel = Channel(link, timeout=timeout, retries=retries, verify=verify, trust_file=trust_file)
        self.uploader = Uploader(self.channel, workload, chunk_size)
        self.inferencer = Inferencer(self.channel, workload, mode, first_infer_timeout, on_window)
        self.identity: Identity | None = None
        self.transcript = link.transport.transcript

    # the session and tests read these
    counters = property(lambda self: self.channel.counters)
    verify = property(lambda self: self.channel.verify)
    suspicious = property(lambda self: self.channel.suspicious)
    chunk_size = property(lambda self: self.uploader.chunk_size)
    where = property(lambda self: self.link.where)
    _confirmed = staticmethod(confirmed)
    _close = staticmethod(close)

    # -- identity ----------------------------------------------------------------------------
    def open(self, probe_timestamp: bool = True) -> Identity:
        """Bring the stream to a clean point and read the DUT's identity (each answer twice)."""
        ch = self.channel
        ch.resync(initial=True)
        name = ch.recover("name", lambda: self._agreeing(self._query_name))
        profile, model = ch.recover("profile", lambda: self._agreeing(self._query_profile))
        ts_mode = (ch.recover("timestamp", lambda: self._agreeing(self._query_timestamp_mode))
                   if probe_timestamp else None)
        clock = ch.recover("clock", lambda: self._agreeing(self._query_clock)) if ts_mode == "performance" else "real"
        self.inferencer.guard.clock = clock
        self.identity = Identity(name, profile, model, ts_mode, clock)
        self.transcript.note(f"identity: name={name!r} profile={profile!r} model={model!r} timestamps={ts_mode} "
                             f"clock={clock}")
        return self.identity

    def query_info(self) -> dict[str, str]:
        """A firmware's description of itself (tinyperf's virtual-board firmware answers
        `tinyperf-info` with `m-info-<key>-[<value>]` lines); {} from firmware that does not know it."""
        return self.channel.recover("tinyperf-info", self._query_info, needs_input=False)

    def _query_info(self) -> dict[str, str]:
        try:
            lines = self.channel.command("tinyperf-info")
        except DutErrorReply as exc:
            if str(exc).startswith("Unknown command"):
                return {}
            raise
        info = {}
        for line in lines:
            if m := P.RE_INFO.fullmatch(line):
                info[m.group(1)] = m.group(2)
            elif P.looks_garbled(line):
                raise LinkTrouble(f"garbled reply to `tinyperf-info`: {line!r}")
        return info

    def _query_name(self) -> str:
        lines = self.channel.command("name")
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
        return P.parse_profile(self.channel.command("profile"))

    def _query_timestamp_mode(self) -> str:
        lines = self.channel.command("timestamp")
        if any(P.looks_garbled(l) for l in lines):
            raise LinkTrouble(f"garbled reply to `timestamp`: {lines!r}")
        laps = [P.parse_lap(l) for l in lines if P.RE_LAP.fullmatch(l)]
        if len(laps) > 1:
            raise LinkTrouble(f"`timestamp` printed {len(laps)} timestamps")
        return "performance" if laps else "energy"

    def _query_clock(self) -> str:
        """"virtual" only for a DUT that says so (an emulator's simulated clock); real firmware
        does not know the command (`e-[Unknown command: clock]`) and its timer is real."""
        try:
            lines = self.channel.command("clock")
        except DutErrorReply as exc:
            if "clock" in str(exc):
                return "real"
            raise
        found = [m.group(1) for l in lines if (m := RE_CLOCK.fullmatch(l))]
        if len(found) == 1:
            return found[0]
        if any(P.looks_garbled(l) for l in lines):
            raise LinkTrouble(f"garbled reply to `clock`: {lines!r}")
        return "real"

    def _agreeing(self, query: Callable[[], T]) -> T:
        """Ask until two consecutive answers agree: a corrupted identity must not pass."""
        previous = query()
        for _ in range(3):
            current = query()
            if current == previous:
                return current
            self.channel.trouble(f"two answers differ: {previous!r} / {current!r}")
            previous = current
        raise LinkTrouble(f"answers keep changing (last {previous!r})")

    # -- the work ----------------------------------------------------------------------------
    def load(self, data: bytes) -> None:
        """Stage one input (read back unless verify="never")."""
        self.uploader.load(data)

    def infer(self, n: int, warmup: int) -> WindowReply:
        """`infer N W` on the staged input, checked (and confirmed once the link is suspect)."""
        if self.uploader.staged is None:
            raise RuntimeError("infer() before load()")
        return self.inferencer.infer(n, warmup)

    def infer_patience(self, n: int, warmup: int) -> float:
        return self.inferencer.patience(n, warmup)

    def results(self) -> P.ParsedResults:
        return self.inferencer.results()

    def resync(self, initial: bool = False, context: str | None = None) -> None:
        self.channel.resync(initial=initial, context=context)
