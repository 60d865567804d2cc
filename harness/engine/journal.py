"""The journal: every record of a run, typed, written and read in one place.

`journal.jsonl` is the durable truth of a run: one JSON object per line, appended as each
window, sample or warning is produced. Each record kind is a dataclass here, registered in
`KINDS`; `JournalWriter` is the only code that writes the file and `read_journal` the only code
that reads it, and the questions `--resume` asks ("which samples are done?") are methods of
`Journal`. A line the reader cannot use (cut short by a kill, not an object, no `kind`, not
UTF-8) is never fatal: it is skipped and counted in `Journal.problems`, which the summary and
`tinyperf show` report. Before appending, a torn last line is cut off so the next record never
lands on the end of a partial one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from tinyperf.core.errors import ResultsError
from tinyperf.core.files import json_default

JOURNAL = "journal.jsonl"


@dataclass(kw_only=True)
class Record:
    """Fields every record has: its kind (class attribute) and when it was written."""

    kind: ClassVar[str] = ""
    t: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """The record a journal line holds; ValueError naming the field when it is not one."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, f in known.items():
            if name in data:
                values[name] = data[name]
            elif f.default is MISSING and f.default_factory is MISSING:
                raise ValueError(f"a {cls.kind} record without '{name}'")
        for name, value in values.items():
            want = FIELD_TYPES.get(name)
            if want and not (isinstance(value, want[0]) and not isinstance(value, bool) or (value is None and want[2])):
                raise ValueError(f"'{name}' of a {cls.kind} record is {type(value).__name__}, not {want[1]}")
        return cls(**values)


#: field -> (accepted types, what to call them, None allowed): a journal line is checked, not trusted
FIELD_TYPES: dict[str, tuple[tuple[type, ...], str, bool]] = {
    **{k: ((str,), "text", False) for k in ("workload", "mode", "file", "reason", "message", "source")},
    **{k: ((int,), "an integer", False) for k in ("window", "n", "warmup", "pilot_n", "label")},
    **{k: ((int, float), "a number", False) for k in ("elapsed_s", "pilot_elapsed_s", "t")},
    **{k: ((dict,), "an object", True) for k in ("describe", "extra")},
    "results": ((list,), "a list", False),
    "latencies_file": ((str,), "text", True),
}


KINDS: dict[str, type[Record]] = {}
R = TypeVar("R", bound=type[Record])
T = TypeVar("T", bound=Record)


def kind(name: str):  # noqa: ANN201 - a class decorator
    """Register a record class under its journal `kind`."""

    def register(cls: R) -> R:
        cls.kind = name
        KINDS[name] = cls
        return cls

    return register


@kind("session")
@dataclass(kw_only=True)
class Session(Record):
    """A device session opened for one workload and mode: what it ran on (provenance)."""

    workload: str
    mode: str
    describe: dict[str, Any] = field(default_factory=dict)


@kind("calibration")
@dataclass(kw_only=True)
class CalibrationRecord(Record):
    """N per window found by the pilot; a resumed run reuses it so every window has the same N."""

    workload: str
    mode: str
    n: int
    warmup: int
    pilot_n: int
    pilot_elapsed_s: float
    first_ns: int | None = None


@kind("window")
@dataclass(kw_only=True)
class Window(Record):
    """One performance (or energy) window: `infer N W` on one sample."""

    workload: str
    mode: str
    window: int
    file: str
    n: int
    warmup: int
    elapsed_s: float
    throughput_ips: float | None = None
    first_ns: int | None = None
    retries: int = 0
    energy_j: float | None = None
    energy_uj_per_inf: float | None = None
    voltage_mv: float | None = None  # energy windows: the supply the monitor gave the DUT
    lat_median_us: float | None = None
    lat_p90_us: float | None = None
    lat_p99_us: float | None = None
    lat_min_us: float | None = None
    lat_max_us: float | None = None
    latencies_file: str | None = None  # relative to the run directory, and confined to it
    extra: dict[str, Any] | None = None


@kind("sample")
@dataclass(kw_only=True)
class Sample(Record):
    """One accuracy-mode inference (ad01: one window of a file)."""

    workload: str
    mode: str
    file: str
    window: int
    label: int
    predicted: int | None
    score: float | None
    results: list[float]
    extra: dict[str, Any] | None = None


@kind("skipped")
@dataclass(kw_only=True)
class Skipped(Record):
    """A workload and mode not measured, and why (shown as a note, never as a 0)."""

    workload: str
    mode: str
    reason: str


@kind("warning")
@dataclass(kw_only=True)
class WarningRecord(Record):
    """Something seen while measuring that a reader of the figures must know: an energy monitor
    falling behind, a device link that needed retries. `source` says who saw it."""

    workload: str
    mode: str
    source: str
    message: str


# -- reading ---------------------------------------------------------------------------------
@dataclass
class Journal:
    """The records of a run, in order, and the lines that could not be used."""

    path: Path
    records: list[Record] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    torn_tail: int = 0  # bytes of a last line cut short (ignored; cut off before appending)

    def of(self, cls: type[T]) -> list[T]:
        return [r for r in self.records if isinstance(r, cls)]

    def add(self, record: Record) -> None:
        self.records.append(record)

    def rows(self, cls: type[Record]) -> list[dict[str, Any]]:
        """Records of one kind as table rows (no `kind` column)."""
        return [asdict(r) for r in self.records if type(r) is cls]

    # -- what --resume asks --------------------------------------------------------------------
    def done_samples(self, workload: str) -> set[tuple[str, int]]:
        return {(r.file, r.window) for r in self.of(Sample) if r.workload == workload}

    def done_windows(self, workload: str, mode: str) -> set[int]:
        return {r.window for r in self.of(Window) if r.workload == workload and r.mode == mode}

    def calibration(self, workload: str, mode: str) -> CalibrationRecord | None:
        return next((r for r in self.of(CalibrationRecord) if r.workload == workload and r.mode == mode), None)

    def has_session(self, workload: str, mode: str) -> bool:
        return any(r.workload == workload and r.mode == mode for r in self.of(Session))

    def has_skip(self, workload: str, mode: str) -> bool:
        return any(r.workload == workload and r.mode == mode for r in self.of(Skipped))

    def warnings(self, workload: str, mode: str) -> list[str]:
        return list(dict.fromkeys(r.message for r in self.of(WarningRecord) if r.workload == workload and r.mode == mode))

    def problem_summary(self) -> str | None:
        """One line for the reader: how many journal lines were skipped, and the first few."""
        if not self.problems:
            return None
        shown = "; ".join(self.problems[:3]) + (" ..." if len(self.problems) > 3 else "")
        return (f"{self.path.name}: {len(self.problems)} unreadable line(s) skipped ({shown}); figures "
                "exclude them (`tinyperf run --resume` redoes the samples they held)")


def parse_line(raw: bytes, number: int) -> Record | str:
    """The record on one journal line, or why it cannot be used."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"line {number}: not UTF-8 (byte {exc.start})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"line {number}: not JSON ({exc.msg})"
    if not isinstance(data, dict):
        return f"line {number}: a JSON {type(data).__name__}, not an object"
    name = data.get("kind")
    if not isinstance(name, str):
        return f"line {number}: no 'kind'"
    cls = KINDS.get(name)
    if cls is None:
        return f"line {number}: unknown kind '{name[:40]}'"
    try:
        return cls.from_dict(data)
    except (TypeError, ValueError) as exc:
        return f"line {number}: {exc}"


def _torn_tail(data: bytes) -> tuple[bytes, int]:
    """(complete lines, bytes of a last line without its newline that is not a record)."""
    if not data or data.endswith(b"\n"):
        return data, 0
    cut = data.rfind(b"\n") + 1
    tail = data[cut:]
    if isinstance(parse_line(tail, 0), Record):  # whole record, only its newline was lost
        return data + b"\n", 0
    return data[:cut], len(tail)


def read_journal(directory: Path) -> Journal:
    """Every usable record of a run's journal; never raises for what a line holds."""
    path = Path(directory) / JOURNAL
    journal = Journal(path)
    if not path.is_file():
        return journal
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResultsError(path, f"cannot be read ({exc.strerror or exc})", "check its permissions") from None
    data, journal.torn_tail = _torn_tail(data)
    if journal.torn_tail:
        journal.problems.append(f"last line cut short ({journal.torn_tail} bytes)")
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        rec = parse_line(raw, number)
        if isinstance(rec, str):
            journal.problems.append(rec)
        else:
            journal.records.append(rec)
    return journal


def confined(run_dir: Path, relative: Any) -> Path | None:
    """A path a journal record names, if it stays inside the run directory (else None)."""
    if not isinstance(relative, str) or not relative or os.path.isabs(relative):
        return None
    root = Path(run_dir).resolve()
    target = (root / relative).resolve()
    return target if target.is_relative_to(root) else None


# -- writing ---------------------------------------------------------------------------------
class JournalWriter:
    """Appends records, one line each, flushed at once; repairs a torn tail before the first append."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / JOURNAL
        self.repaired_bytes = self._repair()
        self._fh = self.path.open("ab", buffering=0)

    def _repair(self) -> int:
        """Cut a last line that a kill or power loss left unfinished; returns the bytes removed."""
        if not self.path.is_file():
            return 0
        data = self.path.read_bytes()
        fixed, torn = _torn_tail(data)
        if fixed != data:
            with self.path.open("r+b") as fh:
                fh.truncate(len(fixed) if torn else len(data))
                if not torn:
                    fh.seek(0, os.SEEK_END)
                    fh.write(b"\n")
                fh.flush()
                os.fsync(fh.fileno())
        return torn

    def write(self, record: Record) -> Record:
        line = json.dumps(record.to_dict(), default=json_default, allow_nan=True) + "\n"
        self._fh.write(line.encode("utf-8"))  # one write per line: a kill leaves whole lines plus at most one torn tail
        return record

    def close(self) -> None:
        try:
            os.fsync(self._fh.fileno())
        except OSError:
            pass
        self._fh.close()


def load_latencies(run_dir: Path, relative: Any) -> np.ndarray | str:
    """The per-inference latencies (ns) a window's `latencies_file` names, or why they cannot be used."""
    path = confined(run_dir, relative)
    if path is None:
        return f"latencies_file {str(relative)[:80]!r} is not a path inside the run directory"
    if not path.is_file():
        return f"{relative} is missing"
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        return f"{relative} is not a .npy array ({str(exc)[:80]})"
    if not isinstance(arr, np.ndarray) or arr.ndim != 1 or arr.dtype.kind not in "iu":
        return f"{relative} is not a 1-D integer array of nanoseconds"
    return arr.astype(np.int64)
