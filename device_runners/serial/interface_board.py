"""Interface boards: the DUT reached through a relay (energy mode), as driver variants.

Both boards relay `dut <command>%`: they answer `m-dut-passthrough(<command>)` and their own
`m-ready`, send `<command>%` to the DUT (9600 baud in energy mode) and relay each DUT line as
`[dut]: <line>` up to and including the DUT's `m-ready`. The DUT lines come out of `unframe`
exactly as a directly connected DUT prints them.

- STM32H573I-DK "tinyML Enhanced Interface Board": `name` answers
  `tinyML Enhanced Interface Board`; `checkbaud` answers `checkbaud(<DUT-side baud>)`;
  `setbaud <N>` stores the DUT-side baud and resets the board; unknown commands answer only
  `m-ready`.
- Arduino "IO manager" (legacy EEMBC): the same relay, half-duplex: DUT output arriving while
  the host transmits is corrupted, so the host must only write when the line is quiet.
"""

from __future__ import annotations

import re
import time

from tinyperf.device_runners.serial.driver import EembcLink
from tinyperf.device_runners.serial.parse import READY, resembles_ready
from tinyperf.device_runners.serial.transport import LineTransport
from tinyperf.core.errors import DeviceError

BOARDS = ("none", "stm32h573", "arduino")
STM32_NAME = "tinyML Enhanced Interface Board"
DUT_PREFIX = "[dut]: "
#: a relay prefix with a corrupted byte still marks a relayed line
_PREFIX_LIKE = re.compile(r"^\[[^\]]{1,5}\]:? ?")
_PASSTHROUGH = re.compile(r"m-dut-passthrough\((.*)\)")


class BoardLink(EembcLink):
    """The passthrough framing shared by both boards."""

    board = "board"
    default_chunk = 26
    #: the relay takes one host command of at most 64 bytes (`dut db <52 hex>%` = 60)
    wire_command_limit = 64
    half_duplex = False
    no_reply_hint = ("check the wires between interface board and DUT and the board's DUT baud (`checkbaud`; "
                     "energy-mode firmware runs at 9600: --dut-baud 9600 sets it); a board whose DUT never "
                     "answered keeps waiting for it until it is power-cycled")

    def __init__(self, transport: LineTransport, dut_baud: int):
        super().__init__(transport, dut_baud)
        self._in_header = True

    def frame(self, command: str) -> bytes:
        return f"dut {command}%".encode("ascii")

    def _begin(self, command: str) -> None:
        self._in_header = True
        if self.half_duplex:
            # never start transmitting over DUT output: let a late line finish first
            self.transport.quiet(0.002)

    def unframe(self, line: str) -> str | None:
        if line.startswith(DUT_PREFIX):
            self._in_header = False
            return line[len(DUT_PREFIX):]
        if self._in_header:
            if _PASSTHROUGH.fullmatch(line):
                return None
            if resembles_ready(line):  # the board's own m-ready ends its header
                self._in_header = False
                return None
        m = _PREFIX_LIKE.match(line)
        if m and line[:1] == "[":
            self._in_header = False
            return line[m.end():]
        if self._in_header:
            return None  # board chatter before the relay starts
        # a DUT line that followed a bare-LF line arrives without its prefix (the board
        # splits on CRLF only): it is still DUT output
        return line

    # -- the board's own commands ----------------------------------------------------------
    def board_command(self, command: str, timeout: float = 2.0) -> list[str]:
        """A command for the board itself (not relayed): its lines up to `m-ready`."""
        self.transport.drain()
        self.transport.write(f"{command}%".encode("ascii"))
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            line = self.transport.read_line(deadline)
            if line is None:
                raise DeviceError(self.where, f"the interface board did not answer `{command}` within {timeout:g} s",
                                  "check that --port is the interface board's USB port and --baud its host-side "
                                  "rate; power-cycle the board")
            if line == READY:
                return lines
            lines.append(line)

    def identify(self) -> str:
        """The board's answer to `name` (its first line)."""
        lines = self.board_command("name")
        return lines[0] if lines else ""


class Stm32H573Link(BoardLink):
    board = "stm32h573"

    def identify(self) -> str:
        name = super().identify()
        if name != STM32_NAME:
            raise DeviceError(self.where, f"expected the STM32H573I-DK interface board, which answers "
                              f"'{STM32_NAME}' to `name`, got {name!r}",
                              "check --port, or choose the board you have with --interface-board (arduino, none)")
        return name

    def check_baud(self) -> int | None:
        """The board's DUT-side baud (`checkbaud`), or None if it does not say."""
        for line in self.board_command("checkbaud"):
            m = re.fullmatch(r"checkbaud\((\d+)\)", line)
            if m:
                return int(m.group(1))
        return None

    def set_baud(self, baud: int) -> None:
        """`setbaud N`: the board stores N for its DUT side and resets; the caller reopens."""
        lines = self.board_command(f"setbaud {baud}")
        if not any(re.fullmatch(rf"setbaud\({baud}\)", l) for l in lines):
            raise DeviceError(self.where, f"the interface board did not confirm `setbaud {baud}` (got {lines!r})",
                              "update the interface-board firmware, or set its DUT baud by hand")


class ArduinoLink(BoardLink):
    board = "arduino"
    half_duplex = True


def link_class(board: str | None) -> type[EembcLink]:
    if board in (None, "", "none"):
        return EembcLink
    try:
        return {"stm32h573": Stm32H573Link, "arduino": ArduinoLink}[board]
    except KeyError:
        raise DeviceError(None, f"unknown interface board '{board}'", f"use one of {', '.join(BOARDS)}") from None
