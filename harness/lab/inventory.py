"""The lab inventory: every board of a lab, where it is and what it is, from one YAML file.

A board is reached through a resource: a local port, a pyserial URL (`rfc2217://`, `socket://`,
a board exported with ser2net), or a labgrid place (acquired through the coordinator before use).
Bad entries are refused with one line naming the file, the board and the field.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tinyperf.core.errors import TinyperfError
from tinyperf.device_runners.serial.interface_board import BOARDS
from tinyperf.device_runners.serial.resource import DEFAULT_BAUD
from tinyperf.workloads.catalog import WORKLOADS

BOARD_FIELDS = ("name", "port", "place", "baud", "interface_board", "energy_monitor", "labels")
LABEL_FIELDS = ("board", "processor", "clock", "firmware")
TOP_FIELDS = ("coordinator", "boards")
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: the labgrid coordinator when the inventory names none (labgrid's own variable)
COORDINATOR_ENV = "LG_COORDINATOR"


class LabError(TinyperfError):
    """A lab inventory, a lab run or a labgrid place is not usable as given."""


@dataclass(frozen=True)
class Board:
    """One inventory entry. Exactly one of `port` (path or URL) and `place` (labgrid) is set."""

    name: str
    port: str | None = None
    place: str | None = None
    baud: int | None = None  # None: DEFAULT_BAUD for a port, the place's exported speed for a place
    interface_board: str = "none"
    energy_monitor: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def resource(self) -> str:
        return f"labgrid place {self.place}" if self.place else str(self.port)

    @property
    def firmware(self) -> str | None:
        return self.labels.get("firmware")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Inventory:
    path: Path
    boards: list[Board]
    coordinator: str | None = None
    sha256: str = ""

    def select(self, names: list[str] | None) -> list[Board]:
        """The boards named by --boards (in inventory order), or all of them."""
        if not names:
            return list(self.boards)
        known = {b.name for b in self.boards}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise LabError("--boards", f"no board {', '.join(repr(n) for n in unknown)} in {self.path}",
                           f"pick from {', '.join(sorted(known))}")
        return [b for b in self.boards if b.name in names]

    def coordinator_address(self) -> str | None:
        return self.coordinator or os.environ.get(COORDINATOR_ENV) or None


def _fail(path: Path, where: str, problem: str, fix: str) -> LabError:
    return LabError(path, f"{where}: {problem}", fix)


def _board(path: Path, index: int, raw: Any) -> Board:
    where = f"boards[{index}]"
    if not isinstance(raw, dict):
        raise _fail(path, where, f"is {type(raw).__name__}, not a mapping", "write each board as `- name: ...` with its fields")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise _fail(path, where, f"field 'name': {name!r} is not a board name",
                    "give each board a name of letters, digits, '.', '_' or '-'")
    where = f"board '{name}'"
    unknown = [k for k in raw if k not in BOARD_FIELDS]
    if unknown:
        raise _fail(path, where, f"unknown field '{unknown[0]}'", f"use only {', '.join(BOARD_FIELDS)}")
    port, place = raw.get("port"), raw.get("place")
    if (port is None) == (place is None):
        raise _fail(path, where, "field 'port'/'place': " + ("both are given" if port is not None else "neither is given"),
                    "give either port (/dev/ttyACM0, rfc2217://host:port, socket://host:port) or place (a labgrid place)")
    for key, value in (("port", port), ("place", place), ("energy_monitor", raw.get("energy_monitor"))):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise _fail(path, where, f"field '{key}': {value!r} is not a string", f"write {key} as text")
    baud = raw.get("baud")
    if baud is not None and (isinstance(baud, bool) or not isinstance(baud, int) or baud <= 0):
        raise _fail(path, where, f"field 'baud': {baud!r} is not a positive whole number",
                    f"write the rate, e.g. baud: {DEFAULT_BAUD}")
    board = raw.get("interface_board", "none") or "none"
    if board not in BOARDS:
        raise _fail(path, where, f"field 'interface_board': {board!r} is not one of {', '.join(BOARDS)}",
                    "use none (the DUT's own port), stm32h573 or arduino")
    labels = raw.get("labels") or {}
    if not isinstance(labels, dict):
        raise _fail(path, where, "field 'labels': not a mapping", f"write labels as {{{': ..., '.join(LABEL_FIELDS)}: ...}}")
    bad = [k for k in labels if k not in LABEL_FIELDS]
    if bad:
        raise _fail(path, where, f"field 'labels.{bad[0]}': unknown label", f"use only {', '.join(LABEL_FIELDS)}")
    labels = {k: str(v) for k, v in labels.items() if v is not None}
    fw = labels.get("firmware")
    if fw is not None and fw not in WORKLOADS:
        raise _fail(path, where, f"field 'labels.firmware': {fw!r} is not a workload",
                    f"write the workload the firmware runs: {', '.join(WORKLOADS)}")
    return Board(name=name, port=port, place=place, baud=baud, interface_board=board,
                 energy_monitor=raw.get("energy_monitor"), labels=labels)


def parse_inventory(text: str, path: Path) -> Inventory:
    import yaml

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise LabError(path, f"is not valid YAML{at} ({getattr(exc, 'problem', None) or exc})",
                       "fix the YAML syntax (indentation, a missing ':')") from None
    if not isinstance(raw, dict):
        raise LabError(path, "is not a lab inventory (no top-level mapping)", "start the file with `boards:`")
    unknown = [k for k in raw if k not in TOP_FIELDS]
    if unknown:
        raise LabError(path, f"unknown top-level field '{unknown[0]}'", f"use only {', '.join(TOP_FIELDS)}")
    entries = raw.get("boards")
    if not isinstance(entries, list) or not entries:
        raise LabError(path, "field 'boards': no boards listed", "list the boards under `boards:`, one `- name: ...` each")
    coordinator = raw.get("coordinator")
    if coordinator is not None and (not isinstance(coordinator, str) or not coordinator.strip()):
        raise LabError(path, f"field 'coordinator': {coordinator!r} is not an address", "write host:port of the labgrid coordinator")
    boards: list[Board] = []
    for i, entry in enumerate(entries):
        b = _board(path, i, entry)
        if any(o.name == b.name for o in boards):
            raise _fail(path, f"board '{b.name}'", "field 'name': listed twice", "give every board its own name")
        for key in ("port", "place"):  # two workers on one UART corrupt each other's replies
            other = next((o for o in boards if getattr(b, key) and getattr(o, key) == getattr(b, key)), None)
            if other is not None:
                raise _fail(path, f"board '{b.name}'", f"field '{key}': {getattr(b, key)} is board '{other.name}' already",
                            "list each board once")
        boards.append(b)
    inv = Inventory(path=path, boards=boards, coordinator=coordinator,
                    sha256=hashlib.sha256(text.encode()).hexdigest())
    places = [b for b in boards if b.place]
    if places and not inv.coordinator_address():
        raise _fail(path, f"board '{places[0].name}'", "field 'place': no labgrid coordinator to ask",
                    f"add `coordinator: host:port` at the top of the file, or set {COORDINATOR_ENV}")
    return inv


def load_inventory(path: str | Path) -> Inventory:
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise LabError(path, "no such lab inventory", "pass the YAML file that lists the lab's boards") from None
    except OSError as exc:
        raise LabError(path, f"cannot read the lab inventory ({exc.strerror})", "check the path and its permissions") from None
    return parse_inventory(text, path)
