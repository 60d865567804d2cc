"""Bytes to and from one open port: efficient line reads, byte counters and the transcript.

Reads go straight to the file descriptor or socket where there is one (one select and one read
per burst, instead of pyserial's byte-at-a-time loops), because a 27 kB upload is 900 round
trips and per-trip overhead is what separates a runner from the wire limit.
"""

from __future__ import annotations

import datetime as _dt
import os
import select
import socket
import time
from collections import deque
from pathlib import Path
from typing import IO

import serial

from tinyperf.device_runners.serial.parse import split_lines
from tinyperf.core.errors import DeviceError

TRANSCRIPT_NAME = "serial-transcript.log"


class PortGone(DeviceError):
    """The port disappeared (USB unplugged, board reset its USB, emulator or ser2net stopped)."""


#: longest a device may keep sending without a pause before it is called a flood (quiet/drain)
FLOOD_LIMIT_S = 5.0
#: received bytes kept for error messages (what actually came back)
RECENT_BYTES = 160


class DeviceFlood(DeviceError):
    """The device never stops sending: no pause long enough to find a clean point in the stream."""


#: size at which the transcript moves to serial-transcript.1.log and starts afresh (two files kept)
DEFAULT_TRANSCRIPT_MB = 64


class Transcript:
    """Every byte both ways, timestamped and direction-marked (`>` host to device, `<` back).

    Times are seconds since the transcript opened; bytes are escaped (\\r, \\n, \\xNN) so the
    file stays one record per line and shows exactly what crossed the wire. A serial ad01
    accuracy run moves about 340 MB of text, so past `max_mb` the file is rotated: the newest
    bytes (where a failure is) are kept in two files at most, and a note says what was dropped.
    """

    def __init__(self, path: Path | None, max_mb: float | None = DEFAULT_TRANSCRIPT_MB):
        self.path = path
        self.max_bytes = int(max_mb * 1e6) if max_mb else None
        self.rotations = 0
        self._fh: IO[str] | None = None
        self._size = 0
        self._t0 = time.monotonic()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
            self._open(f"# tinyperf serial transcript opened {stamp}; "
                       "columns: seconds since open, > host->device | < device->host | # note, bytes\n")

    @property
    def previous_path(self) -> Path | None:
        return self.path.with_name(f"{self.path.stem}.1{self.path.suffix}") if self.path else None

    def record(self, direction: str, data: bytes) -> None:
        if self._fh is not None and data:
            text = data.decode("latin-1").encode("unicode_escape").decode("ascii")
            self._write(f"{time.monotonic() - self._t0:12.6f} {direction} {text}\n")

    def note(self, text: str) -> None:
        if self._fh is not None:
            self._write(f"{time.monotonic() - self._t0:12.6f} # {text}\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _open(self, header: str) -> None:
        assert self.path is not None
        self._fh = open(self.path, "a", encoding="ascii", errors="backslashreplace", buffering=1)
        self._size = self.path.stat().st_size
        self._write(header)

    def _write(self, line: str) -> None:
        assert self._fh is not None
        self._fh.write(line)
        self._size += len(line)
        if self.max_bytes is not None and self._size >= self.max_bytes:
            self._rotate()

    def _rotate(self) -> None:
        assert self._fh is not None and self.path is not None and self.previous_path is not None
        self._fh.close()
        os.replace(self.path, self.previous_path)
        self.rotations += 1
        dropped = "; older bytes were dropped" if self.rotations > 1 else ""
        self._open(f"# continued ({self.rotations} rotation(s) at {self.max_bytes / 1e6:g} MB): the bytes before "
                   f"this are in {self.previous_path.name}{dropped} (--transcript-mb sets the size, 0 keeps all)\n")


class LineTransport:
    """Line-framed I/O over a pyserial port (device, socket:// or rfc2217://)."""

    def __init__(self, ser: serial.SerialBase, where: str, transcript: Transcript | None = None):
        self.ser = ser
        self.where = where
        self.transcript = transcript or Transcript(None)
        self.tx_bytes = 0
        self.rx_bytes = 0
        self.rx_lines = 0  # complete lines received (a link that sends bytes but never lines is at the wrong baud)
        self._buf = bytearray()
        self._recent = bytearray()  # the last RECENT_BYTES received, for "what came back" in errors
        self._lines: deque[str] = deque()
        self._fd: int | None = None
        self._sock: socket.socket | None = None
        sock = getattr(ser, "_socket", None)
        if type(ser).__module__ == "serial.serialposix":
            self._fd = ser.fileno()
        elif isinstance(sock, socket.socket) and type(ser).__module__.endswith("protocol_socket"):
            self._sock = sock

    # -- writing ---------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        self.transcript.record(">", data)
        try:
            self.ser.write(data)
        except serial.SerialTimeoutException:
            raise DeviceError(self.where, "writing to the port timed out (the device is not taking data)",
                              "check the cable and that nothing else holds the port; unplug and replug the board") from None
        except (serial.SerialException, OSError) as exc:
            raise self._gone("writing", exc) from None
        self.tx_bytes += len(data)

    # -- reading ---------------------------------------------------------------------------
    def read_line(self, deadline: float) -> str | None:
        """The next complete line, or None if none completes before `deadline` (monotonic)."""
        while not self._lines:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            chunk = self._read_some(remaining)
            if chunk:
                self._buf += chunk
                self._take_lines()
        return self._lines.popleft()

    def partial(self) -> str:
        """Bytes received after the last line end (an unterminated line)."""
        return self._buf.decode("latin-1")

    def take_partial(self) -> str:
        text = self.partial()
        self._buf.clear()
        return text

    def drain(self, limit_s: float = 0.5) -> list[str]:
        """Everything already received and not yet consumed, as lines (partial line included).

        Bounded: a device that sends faster than this reads returns what came in `limit_s`.
        """
        stop = time.monotonic() + limit_s
        while time.monotonic() < stop:
            chunk = self._read_some(0.0)
            if not chunk:
                break
            self._buf += chunk
        self._take_lines()
        out = list(self._lines)
        self._lines.clear()
        if self._buf:
            out.append(self.take_partial())
        return out

    def quiet(self, seconds: float, limit_s: float = FLOOD_LIMIT_S) -> list[str]:
        """Read until nothing has arrived for `seconds`; return what came (for resynchronising).

        A device that never pauses that long (a byte flood, a line every few ms) would keep
        this waiting forever: past `limit_s` it is a DeviceFlood naming what keeps arriving.
        """
        got: list[str] = []
        start = last = time.monotonic()
        rx_start = self.rx_bytes
        while True:
            now = time.monotonic()
            remaining = last + seconds - now
            if remaining <= 0:
                break
            if now - start > limit_s:
                raise DeviceFlood(self.where, f"the device never stops sending: {self.rx_bytes - rx_start:,} bytes in "
                                  f"{now - start:.1f} s without a {seconds * 1000:.0f} ms pause "
                                  f"(last bytes: {self.recent()!r})",
                                  "reset the board; check that --port is the DUT and --baud its rate, and that "
                                  "its firmware is not in a debug-print loop")
            chunk = self._read_some(min(remaining, max(0.0, start + limit_s - now) + 0.001))
            if chunk:
                self._buf += chunk
                last = time.monotonic()
        self._take_lines()
        got.extend(self._lines)
        self._lines.clear()
        if self._buf:
            got.append(self.take_partial())
        return got

    def recent(self) -> str:
        """The last bytes received (latin-1), for saying what came back."""
        return self._recent.decode("latin-1")

    def _take_lines(self) -> None:
        lines = split_lines(self._buf)
        self.rx_lines += len(lines)
        self._lines.extend(lines)

    def _read_some(self, wait: float) -> bytes:
        try:
            if self._fd is not None:
                ready, _, _ = select.select([self._fd], [], [], max(0.0, min(wait, 1.0)))
                if not ready:
                    return b""
                data = os.read(self._fd, 65536)
                if not data:
                    raise OSError("device reports data but returned none (disconnected?)")
            elif self._sock is not None:
                ready, _, _ = select.select([self._sock], [], [], max(0.0, min(wait, 1.0)))
                if not ready:
                    return b""
                data = self._sock.recv(65536)
                if not data:
                    raise OSError("the connection was closed by the other end")
            else:
                waiting = self.ser.in_waiting
                if waiting:
                    data = self.ser.read(waiting)
                elif wait <= 0:
                    return b""
                else:
                    data = self.ser.read(1)
                    if data and self.ser.in_waiting:
                        data += self.ser.read(self.ser.in_waiting)
        except (serial.SerialException, OSError) as exc:
            raise self._gone("reading", exc) from None
        if data:
            self.rx_bytes += len(data)
            self._recent += data
            del self._recent[:-RECENT_BYTES]
            self.transcript.record("<", data)
        return data

    def _gone(self, doing: str, exc: Exception) -> PortGone:
        self.transcript.note(f"port lost while {doing}: {exc}")
        return PortGone(self.where, f"the port vanished while {doing} ({str(exc).strip() or type(exc).__name__})",
                        "reconnect the board (or restart the emulator / ser2net), then continue with "
                        "`tinyperf run --resume <run dir>`: finished samples are kept")

    def close(self) -> None:
        """Close the port; the transcript belongs to whoever opened it (it outlives a reconnect)."""
        try:
            self.ser.close()
        except (serial.SerialException, OSError):
            pass
