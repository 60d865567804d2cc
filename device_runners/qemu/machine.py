"""Boot a firmware image under qemu-system-arm with its UART on a pty or a 127.0.0.1 TCP port.

`-icount shift=N` makes time deterministic: the emulated clock advances 2^N ns per instruction,
so the firmware's timer counts instructions at a nominal rate, not wall time and not a real
board's cycles. QEMU is always stopped by its pid (`stop`, or leaving the `with` block).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tinyperf.core.errors import TinyperfError

QEMU = "qemu-system-arm"
START_TIMEOUT_S = 15.0
_PTY = re.compile(r"char device redirected to (\S+)")


def qemu_version() -> str:
    if shutil.which(QEMU) is None:
        raise TinyperfError(QEMU, "not found on PATH", "install it: apt-get install qemu-system-arm")
    out = subprocess.run([QEMU, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    return out.splitlines()[0].strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class QemuBoard:
    """One running QEMU: `url` is what `tinyperf run --runner serial --port` opens."""

    def __init__(self, elf: Path, machine: dict[str, Any], *, tcp_port: int | None = None):
        self.version = qemu_version()
        self.machine = machine
        self.log = Path(tempfile.mkstemp(prefix="tinyperf-qemu-", suffix=".log")[1])
        if tcp_port is not None:
            port = tcp_port or _free_port()
            serial = f"tcp:127.0.0.1:{port},server=on,wait=off"
            self.url = f"socket://127.0.0.1:{port}"
        else:
            serial = "pty"
            self.url = ""
        self.command = [QEMU, "-M", machine["qemu_machine"], "-kernel", str(elf), "-icount",
                        f"shift={machine['icount_shift']}", "-display", "none", "-monitor", "none",
                        "-serial", serial]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.process.pid
        try:
            self._wait_started(tcp_port is not None)
        except BaseException:
            self.stop()
            raise

    def _wait_started(self, tcp: bool) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise TinyperfError(QEMU, f"exited with code {self.process.returncode}: {self.output()[-300:]}",
                                    "check the image and the --tcp port")
            if tcp:
                host, port = self.url.removeprefix("socket://").split(":")
                try:
                    with socket.create_connection((host, int(port)), timeout=0.5):
                        pass  # QEMU accepts a new client after this one leaves
                    return
                except OSError:
                    pass
            elif m := _PTY.search(self.output()):
                self.url = m.group(1)
                return
            time.sleep(0.05)
        raise TinyperfError(QEMU, f"did not start its serial port within {START_TIMEOUT_S:g} s", "see " + str(self.log))

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop QEMU by its pid (its own process group), then forget the log."""
        if self.process.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.unlink(missing_ok=True)

    def __enter__(self) -> QemuBoard:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
