"""A virtual interface board in front of the DUT emulator (energy-mode wiring without hardware).

STM32H573I-DK "tinyML Enhanced Interface Board", as its firmware behaves:
- host commands end with `%`; a command matches a menu word when it starts with it and is
  either exactly the word or the word, a space and arguments (anything else that starts with a
  menu word gets no answer at all); unknown commands answer only `m-ready`;
- `dut <cmd>`: `m-dut-passthrough(<cmd>)`, `m-ready`, then `<cmd>%` goes to the DUT over its
  UART and every DUT line (split on CRLF only) comes back as `[dut]: <line>` up to and including
  the DUT's `m-ready`. Until that line arrives the board serves nothing else (a DUT that never
  says `m-ready` hangs it, as on the real board);
- `name` -> `tinyML Enhanced Interface Board`; `checkbaud` -> `checkbaud(<DUT-side baud>)`;
  `setbaud <N>` -> `setbaud(<N>)`, stores N and resets the board; `ls`, `play <file>`.

Arduino "IO manager" (legacy): the same relay; `name` answers `m-name-[io-manager]` (a stand-in:
only the relay matters to a runner), `version`, `tm`, `enable-timer`, `disable-timer`, `res`
answer `m-ready`. Half-duplex: a relayed line that goes out while the host is transmitting is
corrupted.

The DUT side is timed at the DUT's baud (10 bits per byte, real sleeping); if the board's
DUT-side baud (`setbaud`) differs from the DUT's, the DUT sees framing garbage and never answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tinyperf.device_runners.emulators.dut import DutFirmware
from tinyperf.device_runners.emulators.wire import mismatch_garbage, sleep_until

STM32_NAME = "tinyML Enhanced Interface Board"
KINDS = ("stm32h573", "arduino")
_STM32_MENU = ("dut", "name", "ls", "play", "setbaud", "checkbaud", "record_detections", "print_detections")
_ARDUINO_MENU = ("dut", "name", "version", "tm", "enable-timer", "disable-timer", "res", "help")


class InterfaceBoardEmulator:
    def __init__(self, dut: DutFirmware, kind: str = "stm32h573", dut_baud: int = 9600,
                 dut_uart_baud: int | None = None):
        if kind not in KINDS:
            raise ValueError(f"interface board must be one of {KINDS}")
        self.kind = kind
        self.dut = dut
        self.dut_baud = dut_baud  # the board's setting (checkbaud / setbaud)
        self.dut_uart_baud = dut_uart_baud or dut_baud  # what the DUT firmware runs at
        self.emit: Callable[[bytes], None] = lambda data: None
        self.host_transmitting: Callable[[], bool] = lambda: False
        self._cmd = bytearray()
        self._relaying = False
        self._dut_line = bytearray()
        self._dut_free_at = 0.0
        self.boots = 0
        self.corrupted_lines = 0
        dut.emit = self._from_dut

    # -- host side ---------------------------------------------------------------------------
    def boot(self) -> None:
        self.boots += 1
        self._cmd.clear()
        self._relaying = False
        if self.boots == 1:
            self.dut.boot()  # the DUT powers up with the rig; its banner has no listener yet

    def _out(self, text: str) -> None:
        self.emit(text.encode("latin-1"))

    def receive(self, data: bytes) -> None:
        start = 0
        while start < len(data):
            end = data.find(b"%", start)
            if end < 0:
                self._cmd += data[start:]
                return
            self._cmd += data[start:end]
            command = self._cmd.decode("latin-1")
            self._cmd.clear()
            start = end + 1
            if not self._relaying:  # a hung relay serves nothing (the real board is stuck in its wait)
                self._handle(command)

    def _handle(self, command: str) -> None:
        menu = _STM32_MENU if self.kind == "stm32h573" else _ARDUINO_MENU
        for word in menu:
            if command.startswith(word) and command:
                if len(command) == len(word):
                    self._action(word, "")
                elif len(command) > len(word) + 1 and command[len(word)] == " ":
                    self._action(word, command[len(word) + 1:])
                return
        if self.kind == "arduino":
            self._out(f"e-[Unknown command: {command}]\r\n")
        self._out("m-ready\r\n")

    def _action(self, word: str, args: str) -> None:
        if word == "dut":
            self._passthrough(args)
        elif word == "name":
            self._out(f"{STM32_NAME}\r\n" if self.kind == "stm32h573" else "m-name-[io-manager]\r\n")
            self._out("m-ready\r\n")
        elif word == "checkbaud":
            self._out(f"checkbaud({self.dut_baud})\r\nm-ready\r\n")
        elif word == "setbaud":
            digits = "".join(c for c in args.split(" ")[0] if c.isdigit())
            if digits:
                self.dut_baud = int(digits)
            self._out(f"setbaud({args})\r\nm-ready\r\n")
            self.boot()  # NVIC_SystemReset: the board restarts with the stored rate
        elif word == "play":
            self._out(f"Playing {args}\n")
            self._out("m-ready\r\n")
        else:
            self._out("m-ready\r\n")

    def _passthrough(self, command: str) -> None:
        self._out(f"m-dut-passthrough({command})\r\n")
        self._out("m-ready\r\n")
        self._relaying = True
        self._dut_line.clear()
        payload = f"{command}%".encode("latin-1")
        byte_s = 10.0 / self.dut_uart_baud
        self._dut_free_at = max(time.monotonic(), self._dut_free_at) + len(payload) * byte_s
        sleep_until(self._dut_free_at)
        if self.dut_baud != self.dut_uart_baud:
            payload = mismatch_garbage(len(payload), self.dut_uart_baud / self.dut_baud)
        self.dut.receive(payload)

    # -- DUT side ----------------------------------------------------------------------------
    def _from_dut(self, data: bytes) -> None:
        if not self._relaying:
            return  # nobody reads the DUT UART between relays: its bytes are lost
        byte_s = 10.0 / self.dut_uart_baud
        self._dut_free_at = max(time.monotonic(), self._dut_free_at) + len(data) * byte_s
        sleep_until(self._dut_free_at)
        if self.dut_baud != self.dut_uart_baud:
            data = mismatch_garbage(len(data), self.dut_baud / self.dut_uart_baud)
        self._dut_line += data
        while self._relaying:
            end = self._dut_line.find(b"\r\n")
            if end < 0:
                return
            line = bytes(self._dut_line[:end])
            del self._dut_line[:end + 2]
            out = b"[dut]: " + line + b"\r\n"
            if self.kind == "arduino" and self.host_transmitting():
                self.corrupted_lines += 1  # half-duplex: both directions collide on the wire
                out = bytes(b ^ 0x20 if i % 3 == 1 else b for i, b in enumerate(out))
            self.emit(out)
            if line == b"m-ready":
                self._relaying = False
