"""labgrid places: who holds one, acquire it, find its serial port, release it.

Driven through `labgrid-client` (labgrid's stable user interface), run by this interpreter
(`python -m labgrid.remote.client`) so it is the labgrid installed with tinyperf's `lab` extra.
Every call has a time bound. labgrid is optional: without it, ports and URLs still work and a
place says how to install it.
"""

from __future__ import annotations

import getpass
import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tinyperf.device_runners.serial.resource import DEFAULT_BAUD
from tinyperf.lab.inventory import Board, LabError

CALL_TIMEOUT_S = 30.0
POLL_S = 2.0
RE_ACQUIRED = re.compile(r"^\s*acquired:\s*(\S+)\s*$", re.M)
RE_LOCKED = re.compile(r"already acquired by (\S+?)\.?(\s|$)")


def availability() -> str | None:
    """Why labgrid cannot be used here, or None."""
    try:
        found = importlib.util.find_spec("labgrid") is not None
    except (ImportError, ValueError):  # a broken or blocked install
        found = False
    if not found:
        return "labgrid is not installed (`python -m pip install -e '.[lab]'`, or `pip install 'labgrid>=26'`)"
    return None


def me() -> str:
    """This client as labgrid names owners: host/user (LG_HOSTNAME / LG_USERNAME override, as in labgrid)."""
    return f"{os.environ.get('LG_HOSTNAME', socket.gethostname())}/{os.environ.get('LG_USERNAME', getpass.getuser())}"


class PlaceLocked(LabError):
    def __init__(self, place: str, owner: str):
        self.place, self.owner = place, owner
        super().__init__(f"labgrid place {place}", f"acquired by {owner}",
                         f"wait for {owner} to release it (`tinyperf run --wait`), or ask them")


@dataclass(frozen=True)
class PlacePort:
    """The serial port a place exports, as a pyserial URL."""

    url: str
    baud: int | None


class Labgrid:
    """One coordinator; every method is one bounded `labgrid-client` call."""

    def __init__(self, coordinator: str, timeout: float = CALL_TIMEOUT_S):
        reason = availability()
        if reason:
            raise LabError("labgrid", reason, "or list the board by port/URL instead of place")
        self.coordinator = coordinator
        self.timeout = timeout

    def _call(self, place: str, *args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "labgrid.remote.client", "-x", self.coordinator, "-p", place, *args]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise LabError(f"labgrid place {place}", f"`labgrid-client {' '.join(args)}` did not answer within "
                           f"{self.timeout:g} s (coordinator {self.coordinator})",
                           "check that the coordinator runs and is reachable") from None

    def _error(self, place: str, proc: subprocess.CompletedProcess, doing: str) -> LabError:
        text = (proc.stderr or proc.stdout or "").strip()
        if "could not connect to coordinator" in text.lower() or "coordinator is unavailable" in text.lower():
            return LabError(f"labgrid coordinator {self.coordinator}", "cannot connect",
                            "start labgrid-coordinator there, or fix `coordinator:` in the inventory")
        if "matches nothing" in text:
            return LabError(f"labgrid place {place}", "no such place on the coordinator",
                            f"create it (`labgrid-client -p {place} create`) or fix the inventory")
        last = text.splitlines()[-1] if text else f"exit status {proc.returncode}"
        return LabError(f"labgrid place {place}", f"{doing} failed ({last.removeprefix('labgrid-client: ')[:200]})",
                        "see `labgrid-client -p PLACE show`")

    def owner(self, place: str) -> str | None:
        """Who holds the place (host/user), or None when it is free."""
        proc = self._call(place, "show")
        if proc.returncode != 0:
            raise self._error(place, proc, "show")
        m = RE_ACQUIRED.search(proc.stdout)
        return None if m is None or m.group(1) == "None" else m.group(1)

    def acquire(self, place: str) -> None:
        proc = self._call(place, "acquire")
        if proc.returncode == 0:
            return
        m = RE_LOCKED.search(proc.stderr + proc.stdout)
        if m:
            raise PlaceLocked(place, m.group(1))
        raise self._error(place, proc, "acquire")

    def release(self, place: str) -> None:
        proc = self._call(place, "release")
        if proc.returncode != 0 and "is not acquired" not in (proc.stderr + proc.stdout):
            raise self._error(place, proc, "release")

    def port(self, place: str) -> PlacePort:
        """The place's serial port from its environment (`labgrid-client env`): a NetworkSerialPort
        (ser2net behind an exporter) as rfc2217:// or socket://, a local serial port by path."""
        import yaml

        proc = self._call(place, "env")
        if proc.returncode != 0:
            raise self._error(place, proc, "env")
        env = yaml.safe_load(proc.stdout) or {}
        for target in (env.get("targets") or {}).values():
            for res in target.get("resources") or []:
                (cls, args), = res.items()
                args = args or {}
                if cls == "NetworkSerialPort":
                    scheme = "socket" if args.get("protocol") == "raw" else "rfc2217"
                    return PlacePort(f"{scheme}://{args['host']}:{args['port']}", args.get("speed"))
                if cls in ("RawSerialPort", "USBSerialPort") and args.get("port"):
                    return PlacePort(str(args["port"]), args.get("speed"))
        raise LabError(f"labgrid place {place}", "exports no serial port",
                       "add a NetworkSerialPort (or RawSerialPort) to the exporter and `add-match` it to the place")

    def hold(self, place: str, wait: bool, wait_timeout: float, stopping: Callable[[], bool] = lambda: False,
             on_wait: Callable[[str], None] | None = None) -> bool:
        """Acquire `place` for this run. Returns False if we already held it (then it is not released
        by us). A place held by someone else raises PlaceLocked, or with `wait` is polled until free
        (at most `wait_timeout` s)."""
        deadline = time.monotonic() + wait_timeout
        while True:
            holder = self.owner(place)
            if holder == me():
                return False
            if holder is None:
                try:
                    self.acquire(place)
                    return True
                except PlaceLocked as exc:  # taken between `show` and `acquire`
                    holder = exc.owner
            if not wait:
                raise PlaceLocked(place, holder)
            if time.monotonic() > deadline:
                raise LabError(f"labgrid place {place}", f"still acquired by {holder} after waiting {wait_timeout:g} s",
                               "raise --wait-timeout, or ask them to release it")
            if on_wait:
                on_wait(holder)
            end = time.monotonic() + POLL_S
            while time.monotonic() < end:
                if stopping():
                    raise KeyboardInterrupt
                time.sleep(0.1)


@dataclass(frozen=True)
class BoardPort:
    """Where to talk to a board now: its URL and baud (a place's resolved while it is held)."""

    url: str
    baud: int
    place: str | None = None


@contextmanager
def board_port(board: Board, coordinator: str | None, wait: bool = False, wait_timeout: float = 600.0,
               stopping: Callable[[], bool] = lambda: False,
               on_wait: Callable[[str], None] | None = None) -> Iterator[BoardPort]:
    """The board's port; a labgrid place is acquired for the block and released after it,
    whatever ends the block (an error, Ctrl-C), unless we held it already."""
    if board.port:
        yield BoardPort(board.port, board.baud or DEFAULT_BAUD)
        return
    assert board.place and coordinator
    lg = Labgrid(coordinator)
    ours = lg.hold(board.place, wait, wait_timeout, stopping, on_wait)
    try:
        p = lg.port(board.place)
        yield BoardPort(p.url, board.baud or p.baud or DEFAULT_BAUD, board.place)
    finally:
        if ours:
            lg.release(board.place)
