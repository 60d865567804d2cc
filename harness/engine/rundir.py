"""Run directories: written as results are produced, readable at any point, resumable.

Layout of one run:
    run.json              metadata and status (running / complete / incomplete)
    journal.jsonl         every record as it was produced (the durable truth)
    latencies/            per-window per-inference latencies (ns, .npy), where the runner sees them
    windows.parquet|csv   performance windows
    samples.parquet|csv   per-inference accuracy outputs
    summary.parquet|csv   one row per workload and mode, with provenance
    <workload>/results.txt  lines the MLPerf Tiny submission checker accepts
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tinyperf.core.errors import ResultsError
from tinyperf.core.files import atomic_write_text, json_default
from tinyperf.engine.journal import JOURNAL, Journal, JournalWriter, Record, Sample, Window, read_journal

RUN_JSON = "run.json"
LATENCIES = "latencies"
LOCK = ".lock"
TABLES = ("windows", "samples", "summary")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunLock:
    """An exclusive `flock` on `<run>/.lock`, held while a process writes the run.

    The kernel drops it when the process dies (kill -9 included), so a stale lock cannot exist
    and no pid has to be trusted; the pid written into the file only names the holder.
    """

    def __init__(self, directory: Path, fd: int):
        self.dir = directory
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, directory: Path) -> RunLock:
        directory = Path(directory)
        fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise ResultsError(directory, f"another tinyperf process (pid {holder}) is writing this run",
                               "wait for it to finish (or stop it), then resume") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(directory, fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None


def is_locked(directory: Path) -> bool | None:
    """Whether a live process holds the run's lock; None for runs made before run locks existed."""
    path = Path(directory) / LOCK
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


class RunWriter:
    """Appends records to the journal as they happen and keeps run.json current; holds the run lock."""

    def __init__(self, directory: Path, meta: dict[str, Any], lock: RunLock):
        self.dir = directory
        self.meta = meta
        self.lock = lock
        self.journal = JournalWriter(directory)
        if self.journal.repaired_bytes:
            self.meta.setdefault("journal_repairs", []).append(
                {"at": now_iso(), "torn_bytes": self.journal.repaired_bytes})

    @classmethod
    def create(cls, out_root: Path, run_name: str, meta: dict[str, Any]) -> RunWriter:
        out_root = Path(out_root)
        try:
            out_root.mkdir(parents=True, exist_ok=True)
            probe = out_root / f".tinyperf-write-test-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise ResultsError(out_root, f"cannot write results here ({exc.strerror or exc})",
                               "pass a writable folder with --out (or fix its permissions)") from None
        directory = out_root / run_name
        suffix = 1
        while True:
            try:
                directory.mkdir()
                break
            except FileExistsError:  # two runs started in the same second
                suffix += 1
                directory = out_root / f"{run_name}-{suffix}"
        meta = {**meta, "run_id": directory.name, "status": "running", "created": now_iso(),
                "pid": os.getpid(), "host_of_pid": socket.gethostname()}
        writer = cls(directory, meta, RunLock.acquire(directory))
        writer.save_meta()
        return writer

    @classmethod
    def reopen(cls, directory: Path, lock: RunLock) -> tuple[RunWriter, Journal]:
        """Open an unfinished run to append to it (its lock already held); returns what is journalled."""
        meta, journal = read_run_files(directory)
        meta["status"] = "running"
        meta["pid"] = os.getpid()
        meta["host_of_pid"] = socket.gethostname()
        meta.setdefault("resumed", []).append(now_iso())
        writer = cls(Path(directory), meta, lock)
        writer.save_meta()
        if writer.journal.repaired_bytes:
            journal.problems = [p for p in journal.problems if not p.startswith("last line cut short")]
        return writer, journal

    def save_meta(self) -> None:
        atomic_write_text(self.dir / RUN_JSON, json.dumps(self.meta, indent=2, default=json_default) + "\n")

    def record(self, record: Record) -> Record:
        return self.journal.write(record)

    def save_latencies(self, workload: str, window: int, latencies_ns: np.ndarray) -> str:
        folder = self.dir / LATENCIES
        folder.mkdir(exist_ok=True)
        name = f"{workload}_w{window}.npy"
        arr = np.asarray(latencies_ns)
        arr = arr.astype(np.uint32) if arr.size and arr.max() < 2**32 else arr.astype(np.int64)
        tmp = folder / f".{name}.tmp.npy"
        np.save(tmp, arr)
        os.replace(tmp, folder / name)
        return f"{LATENCIES}/{name}"

    def close_journal(self) -> None:
        self.journal.close()

    def close(self, status: str) -> None:
        """Record the final status (only once every output is on disk) and release the run."""
        self.meta["status"] = status
        self.meta["finished"] = now_iso()
        self.meta.pop("pid", None)
        self.save_meta()
        self.lock.release()


#: run.json fields whose type is fixed: a hand-edited file is refused, naming the field
META_TYPES: dict[str, type] = {"config": dict, "workloads": dict, "machine": dict, "command": dict,
                               "status": str, "run_id": str, "resumed": list, "resume_commands": list}


def check_meta(meta: Any, path: Path) -> dict[str, Any]:
    """run.json as the rest of tinyperf may read it, or one line naming what is wrong."""
    fix = "restore run.json from a backup (journal.jsonl beside it keeps the raw results)"
    if not isinstance(meta, dict):
        raise ResultsError(path, f"holds a JSON {type(meta).__name__}, not an object", fix)
    if "config" not in meta:
        raise ResultsError(path, "has no 'config' (the run plan)", fix)
    for key, typ in META_TYPES.items():
        if key in meta and meta[key] is not None and not isinstance(meta[key], typ):
            raise ResultsError(path, f"field '{key}' is a {type(meta[key]).__name__}, not {_json_name(typ)}", fix)
    for wl, info in (meta.get("workloads") or {}).items():
        if not isinstance(info, dict):
            raise ResultsError(path, f"field 'workloads.{wl}' is a {type(info).__name__}, not an object", fix)
        for key in ("model", "dataset"):
            if info.get(key) is not None and not isinstance(info[key], dict):
                raise ResultsError(path, f"field 'workloads.{wl}.{key}' is a {type(info[key]).__name__}, "
                                   "not an object", fix)
    return meta


def _json_name(typ: type) -> str:
    return {dict: "an object", list: "a list", str: "text"}.get(typ, typ.__name__)


def read_run_files(directory: Path) -> tuple[dict[str, Any], Journal]:
    directory = Path(directory)
    meta_path = directory / RUN_JSON
    try:
        is_run = meta_path.is_file()
    except OSError as exc:  # a symlink loop, a name the file system refuses
        raise ResultsError(directory, f"cannot be read ({exc.strerror or exc})", "pass a run directory") from None
    if not is_run:
        raise ResultsError(directory, "is not a tinyperf run directory (no run.json)",
                           "pass a folder created by `tinyperf run` (under results/ by default)")
    try:
        meta = json.loads(meta_path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ResultsError(meta_path, f"is not UTF-8 text (byte {exc.start})",
                           "restore it from a backup; the journal.jsonl beside it keeps the raw results") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(meta_path, f"is not valid JSON ({exc.msg} at line {exc.lineno})",
                           "restore it from a backup; the journal.jsonl beside it keeps the raw results") from None
    return check_meta(meta, meta_path), read_journal(directory)


def effective_status(meta: dict[str, Any], directory: Path | None = None) -> str:
    """'running' only while a live process holds the run's lock; otherwise an interrupted run."""
    status = meta.get("status", "unknown")
    locked = is_locked(directory) if directory is not None else None
    if locked:
        return "running"  # a writer is at work, whatever run.json said when it started
    if status != "running":
        return status
    if locked is not None:
        return "incomplete"
    pid = meta.get("pid")  # runs written before run locks: the best a pid can say
    if pid and meta.get("host_of_pid") == socket.gethostname():
        try:
            os.kill(int(pid), 0)
            return "running"
        except (ProcessLookupError, PermissionError, ValueError, TypeError):
            pass
    return "incomplete"


@dataclass
class Run:
    """A run loaded back: metadata plus pandas tables."""

    path: Path
    meta: dict[str, Any]
    windows: pd.DataFrame
    samples: pd.DataFrame
    summary: pd.DataFrame
    journal: Journal | None = None
    status_override: str | None = None  # the status being written, before run.json says it

    @property
    def status(self) -> str:
        return self.status_override or effective_status(self.meta, self.path)

    @property
    def complete(self) -> bool:
        return self.status == "complete"

    @property
    def problems(self) -> list[str]:
        """Run-level warnings: journal lines that could not be used."""
        line = self.journal.problem_summary() if self.journal else None
        return [line] if line else []


def journal_frames(journal: Journal) -> tuple[pd.DataFrame, pd.DataFrame]:
    wdf = pd.DataFrame(journal.rows(Window))
    sdf = pd.DataFrame(journal.rows(Sample))
    return wdf, sdf


def load_run(path: str | Path, status: str | None = None) -> Run:
    """Load a run directory (complete or not) into pandas: `tinyperf.load_run("results/...")`."""
    from tinyperf.engine.summary import summarize

    path = Path(path)
    meta, journal = read_run_files(path)
    windows, samples = journal_frames(journal)
    for df in (windows, samples):
        if not df.empty:
            df.insert(0, "run_id", meta.get("run_id"))  # rows join their run's provenance
    run_status = status or effective_status(meta, path)
    summary = summarize(meta, journal, windows, samples, path, run_status)
    return Run(path, meta, windows, samples, summary, journal, status)
