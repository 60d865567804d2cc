"""Find boards: list serial ports, then ask each `name%` at the usual baud rates.

A DUT answers `m-name-dut-[<vendor>]` (then `profile%` gives its model id); an STM32H573I-DK
interface board answers `tinyML Enhanced Interface Board` (the DUT behind it is asked through
`dut name%`). Bytes without line structure mean something is there at another rate. A board
that answers only at a rate other than the requested one is reported as a baud mismatch, the
most common field failure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tinyperf.device_runners.serial import parse as P
from tinyperf.device_runners.serial.interface_board import STM32_NAME, Stm32H573Link
from tinyperf.device_runners.serial.resource import DEFAULT_BAUD, SerialResource
from tinyperf.device_runners.serial.transport import LineTransport
from tinyperf.core.errors import DeviceError

PROBE_BAUDS = (115200, 921600, 9600)
#: USB VID:PID of debug probes and USB-UART bridges MLPerf Tiny boards are reached through
KNOWN_USB: dict[tuple[int, int | None], str] = {
    (0x0483, 0x374B): "ST-LINK/V2-1 (STM32 Nucleo / Discovery)",
    (0x0483, 0x3752): "ST-LINK/V2-1 (STM32 Nucleo)",
    (0x0483, 0x374E): "STLINK-V3 (STM32 Nucleo / Discovery)",
    (0x0483, 0x374F): "STLINK-V3",
    (0x0483, 0x3753): "STLINK-V3 (STM32 Nucleo)",
    (0x0483, 0x3754): "STLINK-V3",
    (0x0483, 0x5740): "STM32 USB virtual COM port (interface board or LPM01A)",
    (0x0D28, 0x0204): "Arm DAPLink / mbed",
    (0x1366, None): "SEGGER J-Link",
    (0x2341, None): "Arduino",
    (0x2A03, None): "Arduino",
    (0x0403, 0x6001): "FTDI FT232R USB-UART",
    (0x0403, 0x6010): "FTDI FT2232 USB-UART",
    (0x0403, 0x6014): "FTDI FT232H USB-UART",
    (0x0403, 0x6015): "FTDI FT-X USB-UART",
    (0x10C4, 0xEA60): "Silicon Labs CP210x USB-UART",
    (0x1A86, 0x7523): "WCH CH340 USB-UART",
    (0x1FC9, None): "NXP",
    (0x1915, None): "Nordic Semiconductor",
    (0x2E8A, None): "Raspberry Pi",
    (0x303A, None): "Espressif",
    (0x0451, None): "Texas Instruments",
    (0x03EB, None): "Microchip / Atmel",
    (0x045B, None): "Renesas",
}


@dataclass
class PortInfo:
    device: str
    vid: int | None = None
    pid: int | None = None
    description: str = ""
    manufacturer: str | None = None
    serial_number: str | None = None

    @property
    def usb_id(self) -> str | None:
        return f"{self.vid:04X}:{self.pid:04X}" if self.vid is not None and self.pid is not None else None

    @property
    def hint(self) -> str | None:
        if self.vid is None:
            return None
        return KNOWN_USB.get((self.vid, self.pid)) or KNOWN_USB.get((self.vid, None))


def list_ports(include_all: bool = False) -> list[PortInfo]:
    """Serial ports of this machine; without `include_all`, only USB ones (legacy ttyS are noise)."""
    from serial.tools import list_ports as lp

    found = []
    for p in sorted(lp.comports(), key=lambda p: p.device):
        if p.vid is None and not include_all:
            continue
        desc = p.description if p.description and p.description != "n/a" else (p.product or "")
        found.append(PortInfo(p.device, p.vid, p.pid, desc, p.manufacturer, p.serial_number))
    return found


@dataclass
class ProbeResult:
    url: str
    requested_baud: int
    answered_baud: int | None = None
    kind: str = "silent"  # dut, interface-board, garbage, silent, error
    vendor: str | None = None
    profile: str | None = None
    model: str | None = None
    board: str | None = None
    tried: list[tuple[int, str]] = field(default_factory=list)
    error: str | None = None

    @property
    def baud_mismatch(self) -> bool:
        return self.answered_baud is not None and self.answered_baud != self.requested_baud

    @property
    def note(self) -> str:
        if self.error:
            return self.error
        if self.baud_mismatch:
            return (f"baud mismatch: answers at {self.answered_baud}, not {self.requested_baud} "
                    f"(pass --baud {self.answered_baud})")
        if self.kind == "garbage":
            rates = ", ".join(str(b) for b, what in self.tried if what == "garbage")
            return f"bytes but no protocol lines at {rates}: another baud rate, or not EEMBC firmware"
        if self.kind == "silent":
            return "no answer at " + ", ".join(str(b) for b, _ in self.tried)
        if self.kind == "interface-board" and self.vendor is None:
            return "no DUT answers behind the board (check its wiring and `checkbaud`)"
        return ""


def _collect(transport: LineTransport, deadline: float) -> list[str]:
    lines: list[str] = []
    while True:
        line = transport.read_line(deadline)
        if line is None:
            return lines
        if line == P.READY:
            return lines
        lines.append(line)


def _ask(transport: LineTransport, command: str, timeout: float) -> list[str]:
    transport.drain()
    transport.write(f"{command}%".encode("ascii"))
    return _collect(transport, time.monotonic() + timeout)


def _probe_once(url: str, baud: int, timeout: float, result: ProbeResult) -> str:
    """One rate: 'dut', 'interface-board', 'garbage' or 'silent' (and fill `result` on success)."""
    transport = LineTransport(SerialResource(url, baud).open(), url)
    try:
        transport.quiet(0.05)
        start_rx = transport.rx_bytes
        for _ in range(2):  # a first try may flush junk left in the command buffer
            lines = _ask(transport, "name", timeout)
            for line in lines:
                if m := P.RE_NAME.fullmatch(line):
                    result.vendor = m.group(1)
                    result.profile, result.model = P.parse_profile(_ask(transport, "profile", timeout))
                    return "dut"
                if line.strip() == STM32_NAME:
                    result.board = STM32_NAME
                    _behind_board(transport, timeout, result)
                    return "interface-board"
            if not any(l.startswith("e-[Unknown command") for l in lines):
                break
        return "garbage" if transport.rx_bytes > start_rx else "silent"
    finally:
        transport.close()


def _behind_board(transport: LineTransport, timeout: float, result: ProbeResult) -> None:
    link = Stm32H573Link(transport, 9600)
    for command in ("name", "profile"):
        reply = link.exchange(command, max(timeout, 1.0))
        if command == "name":
            names = [m.group(1) for l in reply.lines if (m := P.RE_NAME.fullmatch(l))]
            if not names:
                return
            result.vendor = names[0]
        else:
            result.profile, result.model = P.parse_profile(reply.lines)


def probe(url: str, requested_baud: int = DEFAULT_BAUD, bauds: tuple[int, ...] = PROBE_BAUDS,
          timeout: float = 0.5) -> ProbeResult:
    """Ask `url` who it is, trying `requested_baud` first, then the other usual rates."""
    result = ProbeResult(url, requested_baud)
    order = [requested_baud] + [b for b in bauds if b != requested_baud]
    if url.lower().startswith("socket://"):
        order = [requested_baud]  # a raw TCP port has no baud rate to get wrong
    seen_garbage = False
    for baud in order:
        try:
            outcome = _probe_once(url, baud, timeout, result)
        except DeviceError as exc:
            result.kind, result.error = "error", exc.one_line()
            return result
        result.tried.append((baud, outcome))
        if outcome in ("dut", "interface-board"):
            result.kind, result.answered_baud = outcome, baud
            return result
        seen_garbage |= outcome == "garbage"
    result.kind = "garbage" if seen_garbage else "silent"
    return result
