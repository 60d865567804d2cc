"""Carrying an emulated device's bytes to a host: a pty pair or a TCP port, timed like a UART.

- Throttling (`baud_limit`): 10 bits per byte (8N1) both ways, with real sleeping. A command is
  acted on when its `%` would have arrived; a reply reaches the host when its last byte would
  have. Deadlines are absolute, so sleep overshoot does not accumulate within a burst.
- Baud mismatch (pty only): the host's configured rate is read from the pty's termios; if it
  differs from the device's rate, bytes turn into framing garbage both ways (no `%`, no line
  ends), as on a real UART. That is how `tinyperf devices` finds the rate a board answers at.
"""

from __future__ import annotations

import os
import select
import socket
import termios
import threading
import time
import tty
from typing import Protocol

_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000,
          921600, 1000000, 1152000, 1500000, 2000000, 3000000, 4000000)
BAUD_OF = {getattr(termios, f"B{r}"): r for r in _RATES if hasattr(termios, f"B{r}")}
SPEED_OF = {r: c for c, r in BAUD_OF.items()}
_GARBAGE = b"\xfe\xf8\x80\xff\xe0\xfc"


class Device(Protocol):
    emit: object

    def receive(self, data: bytes) -> None: ...

    def boot(self) -> None: ...


class UartTiming:
    """When bytes finish crossing a simulated UART (None = as fast as the OS moves them)."""

    def __init__(self, baud: int | None):
        self.byte_s = 10.0 / baud if baud else 0.0
        self.free_at = 0.0

    def finish(self, nbytes: int, start: float) -> float:
        begin = max(start, self.free_at)
        self.free_at = begin + nbytes * self.byte_s
        return self.free_at


def sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def mismatch_garbage(nbytes: int, ratio: float) -> bytes:
    """What a receiver at the wrong rate makes of `nbytes`: about nbytes x ratio junk bytes."""
    count = max(1, min(4096, round(nbytes * ratio)))
    return (_GARBAGE * (count // len(_GARBAGE) + 1))[:count]


class Endpoint:
    """Serves one device: host bytes -> `device.receive`, `device.emit` -> host."""

    url: str = ""

    def __init__(self, device: Device, baud_limit: int | None = None, device_baud: int | None = None):
        self.device = device
        self.device_baud = device_baud
        self.rx = UartTiming(baud_limit)
        self.tx = UartTiming(baud_limit)
        self.baud_limit = baud_limit
        self.rx_bytes = 0
        self.tx_bytes = 0
        self.dropped_bytes = 0
        self._tx_origin: float | None = None  # while a command is handled: when its `%` arrived
        self._stop = threading.Event()
        self._wlock = threading.Lock()
        self._thread: threading.Thread | None = None
        device.emit = self.send
        if hasattr(device, "host_transmitting"):
            device.host_transmitting = self.readable_now

    # -- to implement ------------------------------------------------------------------------
    def _read(self, timeout: float) -> bytes: ...

    def _write(self, data: bytes) -> None: ...

    def host_baud(self) -> int | None:
        return None

    def readable_now(self) -> bool:
        return False

    def _close(self) -> None: ...

    # -- serving -----------------------------------------------------------------------------
    def start(self, boot: bool = True) -> Endpoint:
        """Power the device on (its boot banner waits in the port, as a board's does) and serve."""
        if boot:
            self.device.boot()

        def serve() -> None:
            while not self._stop.is_set():
                data = self._read(0.1)
                if data:
                    self._deliver(data, time.monotonic())

        self._thread = threading.Thread(target=serve, name=f"emulator {self.url}", daemon=True)
        self._thread.start()
        return self

    def _ratio(self) -> float | None:
        """host rate / device rate when they differ (a mismatch), else None."""
        host = self.host_baud()
        if host is None or self.device_baud is None or host == self.device_baud:
            return None
        return host / self.device_baud

    def _deliver(self, data: bytes, arrived: float) -> None:
        self.rx_bytes += len(data)
        ratio = self._ratio()
        if ratio is not None:
            data = mismatch_garbage(len(data), 1.0 / ratio)
        if not self.rx.byte_s:
            self.device.receive(data)
            return
        start = max(arrived, self.rx.free_at)  # the host wrote the burst when we woke up
        self.rx.free_at = start + len(data) * self.rx.byte_s
        begin = 0
        while True:
            end = data.find(b"%", begin)
            if end < 0:
                if begin < len(data):
                    self.device.receive(data[begin:])
                return
            arrival = start + (end + 1) * self.rx.byte_s
            sleep_until(arrival)
            # the reply is timed from when the `%` arrived, not from when this thread woke up:
            # a real MCU answers in microseconds, the emulator's wake-up latency is not the DUT's
            self._tx_origin = arrival
            try:
                self.device.receive(data[begin:end + 1])
            finally:
                self._tx_origin = None
            begin = end + 1

    def send(self, data: bytes) -> None:
        """Called by the device for everything it prints."""
        if not data:
            return
        ratio = self._ratio()
        if ratio is not None:
            data = mismatch_garbage(len(data), ratio)
        if self.tx.byte_s:
            origin = self._tx_origin if self._tx_origin is not None else time.monotonic()
            sleep_until(self.tx.finish(len(data), origin))
        with self._wlock:
            self._write(data)
        self.tx_bytes += len(data)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        self._close()


class PtyEndpoint(Endpoint):
    """A pty pair; the host opens the slave path (e.g. /dev/pts/5) as it would a USB VCP."""

    def __init__(self, device: Device, baud_limit: int | None = None, device_baud: int | None = None):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # raw before any host opens it: no echo, no CR/LF translation
        if device_baud in SPEED_OF:
            attrs = termios.tcgetattr(self.slave)
            attrs[4] = attrs[5] = SPEED_OF[device_baud]
            termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
        os.set_blocking(self.master, False)
        self.url = os.ttyname(self.slave)
        super().__init__(device, baud_limit, device_baud)

    def _read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.master, 65536)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError:
            time.sleep(timeout)
            return b""

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + 1.0
        while view and not self._stop.is_set():
            _, ready, _ = select.select([], [self.master], [], 0.05)
            if ready:
                try:
                    view = view[os.write(self.master, view):]
                    deadline = time.monotonic() + 1.0
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    break
            elif time.monotonic() > deadline:  # nobody reads: a real UART's bytes are lost
                break
        self.dropped_bytes += len(view)

    def host_baud(self) -> int | None:
        try:
            return BAUD_OF.get(termios.tcgetattr(self.slave)[5])
        except termios.error:
            return None

    def readable_now(self) -> bool:
        return bool(select.select([self.master], [], [], 0)[0])

    def _close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class TcpEndpoint(Endpoint):
    """A TCP port on the loopback; the host opens socket://127.0.0.1:PORT. One client at a time;
    the device keeps running between clients, as a board does when ser2net disconnects."""

    def __init__(self, device: Device, port: int = 0, host: str = "127.0.0.1",
                 baud_limit: int | None = None, device_baud: int | None = None):
        self._server = socket.create_server((host, port))
        self._server.settimeout(0.1)
        self.port = self._server.getsockname()[1]
        self.url = f"socket://{host}:{self.port}"
        self._conn: socket.socket | None = None
        super().__init__(device, baud_limit, device_baud)

    def _read(self, timeout: float) -> bytes:
        conn = self._conn
        if conn is None:
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, socket.timeout, OSError):
                return b""
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.setblocking(True)
            with self._wlock:
                self._conn = conn
        ready, _, _ = select.select([conn], [], [], timeout)
        if not ready:
            return b""
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        if not data:
            with self._wlock:
                self._conn = None
            conn.close()
        return data

    def _write(self, data: bytes) -> None:
        if self._conn is None:
            self.dropped_bytes += len(data)
            return
        try:
            self._conn.sendall(data)
        except OSError:
            self.dropped_bytes += len(data)

    def readable_now(self) -> bool:
        conn = self._conn
        return bool(conn is not None and select.select([conn], [], [], 0)[0])

    def _close(self) -> None:
        with self._wlock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        self._server.close()
