"""How to talk to a DUT: one `<command>%` out, lines back until `m-ready` (the labgrid "driver").

`EembcLink` talks to a DUT directly; interface boards (interface_board.py) are variants that
wrap the command and unwrap the relayed lines, so everything above sees plain DUT lines.
The link enforces the handshake: one command at a time, the next only after the DUT's
`m-ready` (or after the reply has been given up on).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tinyperf.device_runners.serial.parse import READY, resembles_ready
from tinyperf.device_runners.serial.transport import LineTransport

#: longest line the protocol prints (a 12-value results line is ~85 bytes), for timing slack
LONGEST_LINE_BYTES = 120
#: silence allowed inside a reply that has started, on top of one longest line's wire time
INTRA_REPLY_SILENCE_S = 0.25
#: a reply longer than this (bytes) is a device that keeps talking; `db print` asks for more
DEFAULT_REPLY_BYTES = 8192
#: on top of the wire time of the longest reply allowed, before a reply that never ends is cut
REPLY_BUDGET_S = 1.0


@dataclass
class Reply:
    """What came back for one command: DUT lines (framing removed), without the terminator."""

    command: str
    lines: list[str] = field(default_factory=list)
    complete: bool = False  # the DUT's m-ready arrived
    mangled_ready: str | None = None  # the terminator arrived corrupted (accepted, but the link is noisy)
    started: bool = False  # at least one DUT line arrived
    silence_s: float = 0.0  # for an incomplete reply: how long the link stayed quiet
    elapsed_s: float = 0.0  # command written -> reply ended
    sent_at: float = 0.0  # time.monotonic() when the command was written
    times: list[float] = field(default_factory=list)  # time.monotonic() each of `lines` arrived
    overrun: bool = False  # lines kept coming past the reply's time budget (a device that never stops)
    stale: list[str] = field(default_factory=list)  # unsolicited lines waiting before the command


class EembcLink:
    """A DUT on the other end of the port, spoken to directly."""

    board: str | None = None
    default_chunk = 31
    #: the DUT assembles a command in an 80-character buffer (terminator not stored)
    dut_command_limit = 80
    #: bytes one command may put on the wire before its reply (None: only the DUT buffer limits)
    wire_command_limit: int | None = None
    #: what to check when the DUT stops answering (None: the generic advice)
    no_reply_hint: str | None = None

    def __init__(self, transport: LineTransport, dut_baud: int):
        self.transport = transport
        self.dut_baud = dut_baud

    @property
    def where(self) -> str:
        return self.transport.where

    @property
    def intra_reply_silence_s(self) -> float:
        """Silence after which a started reply is given up (it lost its terminator)."""
        return INTRA_REPLY_SILENCE_S + LONGEST_LINE_BYTES * 10.0 / self.dut_baud

    def frame(self, command: str) -> bytes:
        return f"{command}%".encode("ascii")

    def max_chunk(self) -> int:
        """Largest `db` payload per command that the DUT buffer and the wire rule allow."""
        by_buffer = (self.dut_command_limit - len("db ")) // 2
        if self.wire_command_limit is None:
            return by_buffer
        overhead = len(self.frame("db "))
        return min(by_buffer, (self.wire_command_limit - overhead) // 2)

    # -- one exchange ----------------------------------------------------------------------
    def exchange(self, command: str, patience: float,
                 wait_long: Callable[[list[str]], bool] | None = None,
                 max_bytes: int = DEFAULT_REPLY_BYTES) -> Reply:
        """Send `command`, collect DUT lines until `m-ready` or until the link goes quiet.

        `patience` is how long the DUT may stay silent before its reply starts, and while
        `wait_long(lines)` holds (an inference window in progress); once a reply has started
        and no long wait applies, a short silence ends it as incomplete. However busy the
        device, the whole exchange ends by `patience` plus the wire time of `max_bytes` plus
        REPLY_BUDGET_S (`overrun`): a device that never stops talking cannot hold it open.
        """
        reply = Reply(command, stale=self.transport.drain())
        self._begin(command)
        self.transport.write(self.frame(command))
        t0 = last = reply.sent_at = time.monotonic()
        end_by = t0 + patience + REPLY_BUDGET_S + max_bytes * 10.0 / self.dut_baud
        short = self.intra_reply_silence_s
        while True:
            long = not reply.started or (wait_long is not None and wait_long(reply.lines))
            line = self.transport.read_line(min(end_by, last + (patience if long else short)))
            now = time.monotonic()
            if line is None and now >= end_by and reply.started:
                reply.overrun = True
                reply.elapsed_s = now - t0
                return reply
            if line is None:
                tail = self.unframe(self.transport.partial().strip()) if self.transport.partial().strip() else None
                if tail == READY:  # both bytes of its CRLF were lost, the text arrived
                    self.transport.take_partial()
                    reply.complete = True
                reply.silence_s = now - last
                reply.elapsed_s = now - t0
                return reply
            last = now
            dut_line = self.unframe(line)
            if dut_line is None:
                continue
            reply.started = True
            if dut_line == READY or resembles_ready(dut_line):
                # m-ready is always the last line; one or two corrupted characters do not hide it
                if dut_line != READY:
                    reply.mangled_ready = dut_line
                reply.complete = True
                reply.elapsed_s = now - t0
                return reply
            reply.lines.append(dut_line)
            reply.times.append(now)

    def _begin(self, command: str) -> None:
        """Reset per-exchange framing state (boards track their own header)."""

    def unframe(self, line: str) -> str | None:
        """The DUT line carried by `line`, or None for the link's own framing lines."""
        return line
