"""A fault-injecting TCP proxy between the serial runner and an emulated DUT (127.0.0.1 only).

Unlike the emulator's own --faults, the proxy knows nothing of the DUT's internals: it sees
bytes on a socket, as a bad cable, a flaky USB bridge or ser2net would, and rewrites them
with shape-keeping corruption (a digit into another digit, a whole reply replayed). It can
also make the emulator keep time like a board (`realtime`): the emulator's clock is
simulated (a window costs no wall time), so the proxy holds back the closing lap stamp and
everything after it until the window has lasted on the host as long as the DUT says, and
hides the emulator's `m-clock-[virtual]` answer; the runner then checks the stamps against
its own clock as it would on hardware.

Every loop is bounded by the sockets closing or `stop()`; `stop()` joins the threads.
"""

from __future__ import annotations

import random
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

RE_LAP = re.compile(rb"m-lap-us-(\d+)")
HEX = "0123456789abcdef"


def flip_digit(text: bytes, position_from_right: int) -> bytes:
    """`text` with one decimal digit turned into another (its lowest bit flipped: 0<->1, 2<->3 ...)."""
    digits = [i for i, c in enumerate(text) if 0x30 <= c <= 0x39]
    if position_from_right > len(digits):
        return text
    i = digits[-position_from_right]
    return text[:i] + bytes([text[i] ^ 1]) + text[i + 1:]


@dataclass
class Faults:
    """What the proxy does; each counter says how often it did it."""

    seed: int = 1
    realtime: bool = False
    results_flip: float = 0.0  # probability a results line gets one digit flipped
    closing_lap_digit: int = 0  # flip this digit (from the right) of every window's closing stamp
    replay_every: int = 0  # every k-th `infer` reply is replaced by the previous one
    hex_flip: float = 0.0  # probability a `db <hex>` command gets one hex digit changed to another
    flood: bytes | None = None  # instead of answering, send this forever (until stopped)
    flood_interval_s: float = 0.0
    done: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.done[what] = self.done.get(what, 0) + 1


class FaultProxy:
    def __init__(self, upstream_port: int, faults: Faults):
        self.upstream_port = upstream_port
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    # -- plumbing ------------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, upstream]
            for target in (self._host_to_dut, self._dut_to_host):
                t = threading.Thread(target=self._pump, args=(target, client, upstream), daemon=True)
                t.start()
                self._threads.append(t)

    @staticmethod
    def _pump(target: Callable[[socket.socket, socket.socket], None], client: socket.socket,
              upstream: socket.socket) -> None:
        """One direction; when it ends (either side closed), close both so the emulator takes
        the next connection (the runner connects once to ask who the board is, then for the run)."""
        try:
            target(client, upstream)
        finally:
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _pieces(self, sock: socket.socket, end: bytes) -> Callable[[], bytes | None]:
        """Read `sock` one `end`-terminated piece at a time (None when it closes or we stop)."""
        buf = bytearray()
        sock.settimeout(0.2)

        def next_piece() -> bytes | None:
            while not self._stop.is_set():
                i = buf.find(end)
                if i >= 0:
                    piece = bytes(buf[:i + len(end)])
                    del buf[:i + len(end)]
                    return piece
                try:
                    data = sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return None
                if not data:
                    return None
                buf.extend(data)
            return None

        return next_piece

    @staticmethod
    def _send(sock: socket.socket, data: bytes) -> bool:
        try:
            sock.sendall(data)
            return True
        except OSError:
            return False

    # -- host -> DUT: commands -------------------------------------------------------------------
    def _host_to_dut(self, client: socket.socket, upstream: socket.socket) -> None:
        f = self.faults
        read = self._pieces(client, b"%")
        while (command := read()) is not None:
            if f.flood is not None and not command.startswith(b"tpsync"):
                self._flood(client)
                return
            if command.startswith(b"db ") and command[3:7] != b"load" and command[3:8] != b"print" \
                    and f.hex_flip and self.rng.random() < f.hex_flip:
                payload = command[3:-1].decode("ascii")
                i = self.rng.randrange(len(payload))
                payload = payload[:i] + HEX[HEX.index(payload[i].lower()) ^ 1] + payload[i + 1:]
                command = b"db " + payload.encode("ascii") + b"%"
                f.count("hex_flip")
            if not self._send(upstream, command):
                return

    def _flood(self, client: socket.socket) -> None:
        f = self.faults
        f.count("flood")
        while not self._stop.is_set():
            junk = f.flood if f.flood else bytes(self.rng.randrange(256) for _ in range(512))
            if not self._send(client, junk):
                return
            time.sleep(f.flood_interval_s or 0.001)

    # -- DUT -> host: lines ----------------------------------------------------------------------
    def _dut_to_host(self, client: socket.socket, upstream: socket.socket) -> None:
        f = self.faults
        read = self._pieces(upstream, b"\n")
        current: list[bytes] | None = None  # the `infer` reply going through, from m-warmup-start
        previous: list[bytes] | None = None
        replaying = False
        infers = 0
        start: tuple[int, float] | None = None
        while (line := read()) is not None:
            if line.startswith(b"m-clock-[virtual]") and f.realtime:
                f.count("clock_hidden")
                continue
            if line.startswith(b"m-warmup-start-"):
                current, start, infers = [], None, infers + 1
                replaying = bool(f.replay_every and previous is not None and infers % f.replay_every == 0)
            if current is not None and (m := RE_LAP.match(line)):
                if start is None:
                    start = (int(m.group(1)), time.monotonic())
                else:
                    if f.realtime:  # a board prints this stamp only when the window is over
                        due = start[1] + (int(m.group(1)) - start[0]) / 1e6
                        time.sleep(max(0.0, min(due - time.monotonic(), 60.0)))
                    if f.closing_lap_digit:
                        line = flip_digit(line, f.closing_lap_digit)
                        f.count("closing_lap_flip")
            if line.startswith(b"m-results-[") and f.results_flip and self.rng.random() < f.results_flip:
                digits = sum(1 for c in line if 0x30 <= c <= 0x39)
                line = flip_digit(line, self.rng.randrange(1, digits + 1))
                f.count("results_flip")
            if current is None:
                if not self._send(client, line):
                    return
                continue
            current.append(line)
            if not replaying and not self._send(client, line):
                return
            if line.startswith(b"m-ready"):
                if replaying:
                    f.count("replay")
                    if not self._send(client, b"".join(previous)):
                        return
                previous, current = current, None

    def stop(self) -> None:
        self._stop.set()
        for s in self._sockets:
            try:
                s.close()
            except OSError:
                pass
        self.listener.close()
        self._accept.join(timeout=5)
        for t in self._threads:
            t.join(timeout=5)
