"""Where a device is: a port path or pyserial URL and the link's baud rate (the labgrid "resource").

Opening it turns pyserial's varied exceptions into one-line DeviceErrors that say what to do:
a missing port, a permission problem, a port held by another program, a refused connection.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import serial

from tinyperf.core.errors import DeviceError

DEFAULT_BAUD = 115200
#: pyserial's read timeout; the transport keeps its own deadlines, this only bounds one wait
POLL_S = 0.05
WRITE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class SerialResource:
    url: str  # /dev/ttyACM0, COM3, socket://host:port, rfc2217://host:port, loop://
    baud: int = DEFAULT_BAUD

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0].lower() if "://" in self.url else "device"

    @property
    def is_network(self) -> bool:
        return self.scheme in ("socket", "rfc2217")

    @property
    def open_url(self) -> str:
        """The URL handed to pyserial: RFC 2217 servers such as ser2net answer the flow-control
        option in ways pyserial rejects; the runner never uses flow control, so it is ignored."""
        if self.scheme == "rfc2217" and "ign_set_control" not in self.url:
            return self.url + ("&" if "?" in self.url else "?") + "ign_set_control"
        return self.url

    def open(self) -> serial.SerialBase:
        """Open the port 8N1, no flow control; raise DeviceError naming the cause and the fix."""
        kwargs: dict = dict(baudrate=self.baud, bytesize=8, parity="N", stopbits=1, timeout=POLL_S,
                            xonxoff=False, rtscts=False, dsrdtr=False)
        if self.scheme != "rfc2217":  # pyserial's RFC 2217 client has no write timeout
            kwargs["write_timeout"] = WRITE_TIMEOUT_S
        if self.scheme == "device":
            kwargs["exclusive"] = True  # two programs on one UART corrupt each other's replies
        try:
            ser = serial.serial_for_url(self.open_url, **kwargs)
        except (serial.SerialException, OSError, ValueError, NotImplementedError) as exc:
            raise self._open_error(exc) from None
        sock = getattr(ser, "_socket", None)
        if isinstance(sock, socket.socket):
            try:  # one short command per round trip: never let Nagle hold it back
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        if hasattr(ser, "set_buffer_size"):  # Windows only: a 27 kB upload's replies fit easily
            try:
                ser.set_buffer_size(rx_size=1 << 16, tx_size=1 << 16)
            except (serial.SerialException, OSError, ValueError):
                pass
        return ser

    def check_exists(self) -> None:
        """A local port path that does not exist fails now, without opening anything: opening a
        real port can reset the board (DTR), and network ports are left to the session."""
        if self.scheme == "device" and os.name == "posix" and self.url.startswith("/") and not os.path.exists(self.url):
            raise self._open_error(FileNotFoundError(f"No such file or directory: {self.url}"))

    def _open_error(self, exc: Exception) -> DeviceError:
        text = str(exc)
        low = text.lower()
        if self.is_network:
            if "refused" in low or "timed out" in low or "unreachable" in low or "name or service" in low:
                return DeviceError(self.url, f"cannot connect ({_short(text)})",
                                   "start the emulator (`tinyperf emulate dut --tcp PORT`) or ser2net there, "
                                   "or fix host:port")
            return DeviceError(self.url, f"cannot open ({_short(text)})", "check the URL (socket://host:port or rfc2217://host:port)")
        if "no such file" in low or ("could not open port" in low and "errno 2" in low) or "filenotfound" in low:
            return DeviceError(self.url, "no such serial port",
                               "plug the board in, or pick a port from `tinyperf devices`")
        if "permission denied" in low or "errno 13" in low:
            return DeviceError(self.url, "permission denied opening the serial port",
                               "add your user to the dialout group (`sudo usermod -aG dialout $USER`, then log in again)")
        if "exclusively lock" in low or "resource temporarily unavailable" in low or "busy" in low:
            return DeviceError(self.url, "the port is in use by another program",
                               "close screen/minicom/another tinyperf on that port and retry")
        if "unsupported" in low or ("invalid" in low and "url" in low):
            return DeviceError(self.url, f"not a port path or a URL pyserial understands ({_short(text)})",
                               "use a device path, socket://host:port or rfc2217://host:port")
        return DeviceError(self.url, f"cannot open the serial port ({_short(text)})",
                           "check the port name with `tinyperf devices`")


def _short(text: str) -> str:
    return text.strip().splitlines()[0][:160] if text.strip() else "no detail"
