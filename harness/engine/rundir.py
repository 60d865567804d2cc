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

import json
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tinyperf.core.errors import ResultsError
from tinyperf.core.files import atomic_write_text, json_default

RUN_JSON = "run.json"
JOURNAL = "journal.jsonl"
LATENCIES = "latencies"
TABLES = ("windows", "samples", "summary")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunWriter:
    """Appends records to the journal as they happen and keeps run.json current."""

    def __init__(self, directory: Path, meta: dict[str, Any]):
        self.dir = directory
        self.meta = meta
        self._journal = (directory / JOURNAL).open("a", buffering=1)

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
        while directory.exists():
            suffix += 1
            directory = out_root / f"{run_name}-{suffix}"
        directory.mkdir()
        meta = {**meta, "run_id": directory.name, "status": "running", "created": now_iso(),
                "pid": os.getpid(), "host_of_pid": socket.gethostname()}
        writer = cls(directory, meta)
        writer.save_meta()
        return writer

    @classmethod
    def reopen(cls, directory: Path) -> tuple[RunWriter, list[dict[str, Any]]]:
        """Open an unfinished run to append to it; returns the records already journalled."""
        meta, records = read_run_files(directory)
        meta["status"] = "running"
        meta["pid"] = os.getpid()
        meta["host_of_pid"] = socket.gethostname()
        meta.setdefault("resumed", []).append(now_iso())
        writer = cls(Path(directory), meta)
        writer.save_meta()
        return writer, records

    def save_meta(self) -> None:
        atomic_write_text(self.dir / RUN_JSON, json.dumps(self.meta, indent=2, default=json_default) + "\n")

    def record(self, kind: str, **fields: Any) -> dict[str, Any]:
        rec = {"kind": kind, "t": time.time(), **fields}
        self._journal.write(json.dumps(rec, default=json_default) + "\n")
        self._journal.flush()
        return rec

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

    def close(self, status: str) -> None:
        self.meta["status"] = status
        self.meta["finished"] = now_iso()
        self.meta.pop("pid", None)
        self.save_meta()
        self._journal.close()


def read_run_files(directory: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    directory = Path(directory)
    meta_path = directory / RUN_JSON
    if not meta_path.is_file():
        raise ResultsError(directory, "is not a tinyperf run directory (no run.json)",
                           "pass a folder created by `tinyperf run` (under results/ by default)")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise ResultsError(meta_path, f"is not valid JSON ({exc.msg} at line {exc.lineno})",
                           "restore it from a backup; the journal.jsonl beside it keeps the raw results") from None
    records: list[dict[str, Any]] = []
    journal = directory / JOURNAL
    if journal.is_file():
        with journal.open() as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    # a kill can cut the last line short; everything before it is intact
                    continue
    return meta, records


def effective_status(meta: dict[str, Any]) -> str:
    """'running' only while the writing process is alive; a dead writer means an interrupted run."""
    status = meta.get("status", "unknown")
    if status != "running":
        return status
    pid = meta.get("pid")
    if pid and meta.get("host_of_pid") == socket.gethostname():
        try:
            os.kill(int(pid), 0)
            return "running"
        except (ProcessLookupError, PermissionError, ValueError):
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
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return effective_status(self.meta)

    @property
    def complete(self) -> bool:
        return self.status == "complete"


def records_to_frames(records: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    windows = [r for r in records if r["kind"] == "window"]
    samples = [r for r in records if r["kind"] == "sample"]
    wdf = pd.DataFrame(windows).drop(columns=["kind"], errors="ignore")
    sdf = pd.DataFrame(samples).drop(columns=["kind"], errors="ignore")
    return wdf, sdf


def load_run(path: str | Path) -> Run:
    """Load a run directory (complete or not) into pandas: `tinyperf.load_run("results/...")`."""
    from tinyperf.engine.summary import summarize

    path = Path(path)
    meta, records = read_run_files(path)
    windows, samples = records_to_frames(records)
    for df in (windows, samples):
        if not df.empty:
            df.insert(0, "run_id", meta.get("run_id"))  # rows join their run's provenance
    summary = summarize(meta, records, windows, samples, path)
    events = [r for r in records if r["kind"] == "event"]
    return Run(path, meta, windows, samples, summary, events)
