"""`tinyperf run --lab`: one suite on every board of a lab at once, merged into one leaderboard.

One worker per board. Each worker holds the board's resource (a labgrid place is acquired, and
released whatever happens), then runs the board as its own `tinyperf run --runner serial` process
writing its own run directory (resumable as any run). A process per board keeps boards apart:
one that fails, hangs up or crashes stops nothing else, and Ctrl-C reaches each as SIGINT so every
run directory is closed as incomplete with its finished samples. The lab run directory lists the
board runs in `lab.json`; `tinyperf run --resume LAB_DIR` finishes only what is missing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tinyperf.core import config
from tinyperf.core.console import console
from tinyperf.core.errors import TinyperfError
from tinyperf.core.files import atomic_write_text
from tinyperf.core.progress import run_progress
from tinyperf.device_runners.serial.discovery import probe
from tinyperf.engine.orchestrator import sigterm_as_interrupt
from tinyperf.engine.journal import JOURNAL
from tinyperf.engine.rundir import RUN_JSON
from tinyperf.lab.inventory import Board, LabError, load_inventory
from tinyperf.lab.labgrid import PlaceLocked, board_port
from tinyperf.workloads.catalog import WORKLOADS, get_workload
from tinyperf.workloads.dataset import Dataset

LAB_JSON = "lab.json"
BOARD_LOG = "board.log"
#: how long a board's process gets to close its run directory after SIGINT, then SIGTERM
STOP_GRACE_S = 20.0
PERF_WINDOWS = 5
DONE = ("complete",)


@dataclass
class LabPlan:
    """What was asked, stored in lab.json so `--resume` repeats it."""

    inventory: str
    boards: list[str]
    workloads: list[str] = field(default_factory=lambda: list(WORKLOADS))
    mode: str = "all"
    min_window: float = 10.0
    data_dir: str | None = None
    models_dir: str | None = None
    wait: bool = False
    wait_timeout: float = 600.0


@dataclass
class BoardState:
    status: str = "pending"  # pending, running, complete, incomplete, failed, skipped
    run_dir: str | None = None  # relative to the lab run directory
    workloads: list[str] = field(default_factory=list)
    port: str | None = None
    place: str | None = None
    owner: str | None = None  # who held the place when it was skipped
    note: str = ""
    wall_s: float | None = None  # the board's process, start to end (this attempt)
    attempts: int = 0


class LabRun:
    """The lab run directory: lab.json (plan, boards, their states) and one folder per board."""

    def __init__(self, directory: Path, meta: dict[str, Any]):
        self.dir = directory
        self.meta = meta
        self.plan = LabPlan(**meta["plan"])
        self.boards = [Board(**b) for b in meta["board_entries"]]
        self.states = {name: BoardState(**s) for name, s in meta["boards"].items()}
        self.coordinator: str | None = meta.get("coordinator")
        self._lock = threading.Lock()

    @classmethod
    def create(cls, out_root: Path, plan: LabPlan, boards: list[Board], coordinator: str | None,
               inventory_sha256: str, command: list[str] | None) -> LabRun:
        out_root.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now().strftime('%Y%m%d-%H%M%S')}_lab_{socket.gethostname()}"
        directory, n = out_root / name, 1
        while directory.exists():
            n += 1
            directory = out_root / f"{name}-{n}"
        directory.mkdir()
        meta = {"kind": "tinyperf lab run", "created": datetime.now().astimezone().isoformat(timespec="seconds"),
                "plan": asdict(plan), "inventory_sha256": inventory_sha256, "coordinator": coordinator,
                "board_entries": [b.as_dict() for b in boards], "boards": {b.name: asdict(BoardState()) for b in boards},
                "status": "running"}
        if command:
            meta["command"] = {"argv": " ".join(command), "cwd": os.getcwd()}
        run = cls(directory, meta)
        run.save()
        return run

    @classmethod
    def open(cls, directory: Path) -> LabRun:
        try:
            meta = json.loads((directory / LAB_JSON).read_text())
            return cls(directory, meta)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LabError(directory / LAB_JSON, f"cannot read the lab run ({exc})", "pass a lab run directory "
                           "written by `tinyperf run --lab`") from None

    def save(self) -> None:
        with self._lock:
            self.meta["boards"] = {n: asdict(s) for n, s in self.states.items()}
            atomic_write_text(self.dir / LAB_JSON, json.dumps(self.meta, indent=2) + "\n")

    def run_paths(self) -> dict[str, Path]:
        return {n: self.dir / s.run_dir for n, s in self.states.items()
                if s.run_dir and (self.dir / s.run_dir / RUN_JSON).is_file()}

    @property
    def complete(self) -> bool:
        return all(s.status in DONE for s in self.states.values())


def _modes(mode: str, has_data: bool) -> list[str]:
    if mode == "all":
        return ["performance"] + (["accuracy"] if has_data else [])
    return [mode]


class BoardWorker(threading.Thread):
    """One board: hold its resource, run (or resume) its run directory in a process of its own."""

    def __init__(self, lab: LabRun, board: Board, stop: threading.Event):
        super().__init__(name=f"lab-{board.name}", daemon=True)
        self.lab, self.board, self.stop = lab, board, stop
        self.state = lab.states[board.name]
        self.phase = "waiting"
        self.totals: dict[tuple[str, str], int] = {}
        self._journal_pos = 0
        self.done_counts: dict[tuple[str, str], int] = {}
        self._counted_from: Path | None = None

    # -- what the board runs ------------------------------------------------------------------
    def _workloads(self, url: str, baud: int) -> list[str]:
        suite = self.lab.plan.workloads
        fw = self.board.firmware
        if fw is None:
            self.phase = "asking the firmware (profile)"
            r = probe(url, baud)
            if r.model is None:
                raise LabError(f"board {self.board.name}", f"{url} names no workload ({r.note or r.kind})",
                               "check it with `tinyperf lab check`, or add labels: {firmware: ...} to the inventory")
            fw = r.model
        chosen = [w for w in suite if w == fw]
        if not chosen:
            raise LabError(f"board {self.board.name}", f"its firmware runs {fw}, not in the suite ({', '.join(suite)})",
                           f"add --workload {fw}, or leave the board out with --boards")
        return chosen

    def _has_data(self, workloads: list[str]) -> bool:
        root = config.data_dir(self.lab.plan.data_dir)
        return root is not None and all((root / wl / "y_labels.csv").is_file() for wl in workloads)

    def _totals(self, workloads: list[str]) -> None:
        plan = self.lab.plan
        root = config.data_dir(plan.data_dir)
        for wl in workloads:
            ds = None
            if root is not None and self._has_data([wl]):
                ds = Dataset.open(get_workload(wl), root / wl)
            for mode in _modes(plan.mode, ds is not None):
                self.totals[(wl, mode)] = ds.n_items if mode == "accuracy" and ds else PERF_WINDOWS

    def progress(self) -> tuple[int, int | None, str]:
        """Finished units (windows, samples) so far, the total, and what the board is doing."""
        run_dir = self.lab.dir / self.state.run_dir if self.state.run_dir else None
        if run_dir is None:
            run_dir = self._find_run_dir()
        if run_dir is not None:
            self._count(run_dir)
        done = sum(min(n, self.totals.get(k, n)) for k, n in self.done_counts.items())
        return done, (sum(self.totals.values()) or None), self.phase

    def _count(self, run_dir: Path) -> None:
        if run_dir != self._counted_from:
            self._counted_from, self._journal_pos, self.done_counts = run_dir, 0, {}
        try:
            with open(run_dir / JOURNAL, "rb") as f:
                f.seek(self._journal_pos)
                chunk = f.read()
        except OSError:
            return
        end = chunk.rfind(b"\n") + 1
        self._journal_pos += end
        for line in chunk[:end].splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("kind") == "window":
                key = (rec.get("workload"), rec.get("mode"))
            elif rec.get("kind") == "sample":
                key = (rec.get("workload"), "accuracy")
            else:
                continue
            self.done_counts[key] = self.done_counts.get(key, 0) + 1
            if self.state.status == "running":
                self.phase = f"{key[0]} {key[1]}"

    def _find_run_dir(self) -> Path | None:
        folder = self.lab.dir / self.board.name
        found = sorted(p.parent for p in folder.glob(f"*/{RUN_JSON}")) if folder.is_dir() else []
        if found:
            self.state.run_dir = str(found[-1].relative_to(self.lab.dir))
            return found[-1]
        return None

    # -- the process --------------------------------------------------------------------------
    def _command(self, url: str, baud: int, workloads: list[str]) -> list[str]:
        plan = self.lab.plan
        base = [sys.executable, "-m", "tinyperf.cli", "run"]
        existing = self._find_run_dir()
        if existing is not None:
            return base + ["--resume", str(existing), "--port", url, "--baud", str(baud)]  # where it is now
        cmd = base + ["--runner", "serial", "--port", url, "--baud", str(baud), "--device-name", self.board.name,
                      "--mode", plan.mode, "--min-window", f"{plan.min_window:g}", "--out", str(self.lab.dir / self.board.name)]
        for wl in workloads:
            cmd += ["--workload", wl]
        if plan.data_dir and (plan.mode != "all" or self._has_data(workloads)):
            cmd += ["--data-dir", plan.data_dir]  # `all`: accuracy where data exists, as for one board
        if plan.models_dir:
            cmd += ["--models-dir", plan.models_dir]
        if self.board.interface_board != "none":
            cmd += ["--interface-board", self.board.interface_board]
        if self.board.energy_monitor:
            cmd += ["--energy-monitor", self.board.energy_monitor]
        return cmd

    def _run_process(self, cmd: list[str]) -> int:
        folder = self.lab.dir / self.board.name
        folder.mkdir(exist_ok=True)
        with open(folder / BOARD_LOG, "a") as log:
            log.write(f"\n$ {' '.join(cmd)}\n")
            log.flush()
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True,  # Ctrl-C is forwarded by us, in order
                                    env={**os.environ, "COLUMNS": "160", "TERM": "dumb"})
            try:
                while proc.poll() is None:
                    if self.stop.wait(0.2):
                        break
                if proc.poll() is None:
                    return _stop_process(proc)
                return proc.returncode
            finally:
                if proc.poll() is None:  # an error in this thread: never leave the board's process behind
                    _stop_process(proc)

    def _last_error(self) -> str:
        try:
            lines = (self.lab.dir / self.board.name / BOARD_LOG).read_text(errors="replace").splitlines()
        except OSError:
            return ""
        errors = [l.strip() for l in lines if l.strip().startswith("error:")]
        if errors:
            return errors[-1].removeprefix("error:").strip()
        return ""

    def run(self) -> None:  # noqa: D401 - Thread.run
        st = self.state
        if st.status in DONE:
            self.phase = "complete"
            return
        st.attempts += 1
        st.note, st.owner = "", None
        try:
            with board_port(self.board, self.lab.coordinator, self.lab.plan.wait, self.lab.plan.wait_timeout,
                            self.stop.is_set, self._waiting) as port:
                st.port, st.place = port.url, port.place
                st.workloads = self._workloads(port.url, port.baud)
                self._totals(st.workloads)
                cmd = self._command(port.url, port.baud, st.workloads)
                st.status, self.phase = "running", "starting"
                self.lab.save()
                t0 = time.monotonic()
                rc = self._run_process(cmd)
                st.wall_s = round(time.monotonic() - t0, 3)
            run_dir = self._find_run_dir()
            status = json.loads((run_dir / RUN_JSON).read_text()).get("status") if run_dir else None
            st.status = "complete" if status == "complete" and rc == 0 else ("incomplete" if run_dir else "failed")
            if st.status != "complete":
                st.note = self._last_error() or (f"stopped (exit status {rc})" if rc else "")
        except PlaceLocked as exc:
            st.status, st.owner, st.note = "skipped", exc.owner, exc.one_line()
        except KeyboardInterrupt:
            st.status, st.note = "incomplete" if self._find_run_dir() else "pending", "interrupted"
        except TinyperfError as exc:
            st.status = "incomplete" if self._find_run_dir() else "failed"
            st.note = exc.one_line()
        except Exception as exc:  # one board's bug must not take the lab down; it is reported
            st.status, st.note = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            self.phase = st.status
            self.lab.save()

    def _waiting(self, owner: str) -> None:
        self.phase = f"waiting for {owner} to release {self.board.place}"


def _stop_process(proc: subprocess.Popen) -> int:
    """SIGINT (the run closes its directory as incomplete), then SIGTERM, then SIGKILL: each bounded."""
    for sig, grace in ((signal.SIGINT, STOP_GRACE_S), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            proc.send_signal(sig)
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            break
    return proc.wait(timeout=1) if proc.poll() is None else proc.returncode


def execute(lab: LabRun) -> LabRun:
    """Run every board not finished yet, one worker each, with one progress line per board."""
    stop = threading.Event()
    workers = [BoardWorker(lab, b, stop) for b in lab.boards if lab.states[b.name].status not in DONE]
    t0 = time.monotonic()
    lab.meta["status"] = "running"
    lab.save()
    try:
        with sigterm_as_interrupt(), run_progress() as progress:
            tasks = {w.board.name: progress.add_task(w.board.name, total=None) for w in workers}
            for w in workers:
                w.start()
            try:
                while any(w.is_alive() for w in workers):
                    _update(progress, tasks, workers)
                    time.sleep(0.3)
            except KeyboardInterrupt:
                stop.set()  # each worker stops its board's process (its run closed as incomplete), releases its place
                for w in workers:
                    w.join(timeout=STOP_GRACE_S + 15)
                console.print(f"[yellow]lab run interrupted; finished samples are kept. Continue with: "
                              f"tinyperf run --resume {lab.dir}[/]")
                raise
            finally:
                _update(progress, tasks, workers)
    finally:
        lab.meta.setdefault("attempts", []).append({"wall_s": round(time.monotonic() - t0, 3),
                                                    "boards": [w.board.name for w in workers]})
        lab.meta["status"] = "complete" if lab.complete else "incomplete"
        lab.save()
        write_leaderboard(lab)
    return lab


def _update(progress: Any, tasks: dict[str, Any], workers: list[BoardWorker]) -> None:
    for w in workers:
        done, total, phase = w.progress()
        progress.update(tasks[w.board.name], description=f"{w.board.name}: {phase}", completed=done, total=total)


def start_lab(plan: LabPlan, out: str | None = None, command: list[str] | None = None) -> LabRun:
    inv = load_inventory(plan.inventory)
    boards = inv.select(plan.boards or None)
    plan.boards = [b.name for b in boards]
    for wl in plan.workloads:
        get_workload(wl)
    if plan.data_dir:
        plan.data_dir = str(Path(plan.data_dir).resolve())
    if plan.models_dir:
        plan.models_dir = str(Path(plan.models_dir).resolve())
    plan.inventory = str(Path(plan.inventory).resolve())
    lab = LabRun.create(config.results_dir(out), plan, boards, inv.coordinator_address(), inv.sha256, command)
    console.print(f"lab run directory: [bold]{lab.dir}[/] ({len(boards)} boards)")
    return execute(lab)


def resume_lab(directory: str | Path, wait: bool = False, wait_timeout: float | None = None) -> LabRun:
    """Finish the boards not complete; `--wait` given now also waits for held places."""
    lab = LabRun.open(Path(directory))
    if wait:
        lab.plan.wait = True
        lab.meta["plan"]["wait"] = True
    if wait_timeout is not None and wait:
        lab.plan.wait_timeout = lab.meta["plan"]["wait_timeout"] = wait_timeout
    if lab.complete:
        raise LabError(directory, "every board of this lab run is complete", "start a new one with `tinyperf run --lab`")
    inv_path = Path(lab.plan.inventory)
    if inv_path.is_file():  # a board back at another port (USB re-enumerated): the inventory says where
        inv = load_inventory(inv_path)
        now = {b.name: b for b in inv.boards}
        lab.boards = [now.get(b.name, b) for b in lab.boards]
        lab.coordinator = lab.meta["coordinator"] = inv.coordinator_address() or lab.coordinator
        lab.meta["board_entries"] = [b.as_dict() for b in lab.boards]
    todo = [n for n, s in lab.states.items() if s.status not in DONE]
    console.print(f"resuming lab run [bold]{lab.dir}[/]: {', '.join(todo)} to finish")
    return execute(lab)


def is_lab_run(directory: str | Path) -> bool:
    return (Path(directory) / LAB_JSON).is_file()


def write_leaderboard(lab: LabRun) -> Path | None:
    """One leaderboard of every board's finished results (CSV in the lab run directory)."""
    table = lab_leaderboard(lab)
    if table is None:
        return None
    path = lab.dir / "leaderboard.csv"
    table.to_csv(path, index=False)
    return path


def lab_leaderboard(lab: LabRun):  # -> pandas.DataFrame | None
    """The merged leaderboard with each row's lab board and its labels."""
    from tinyperf.core.errors import ResultsError
    from tinyperf.outputs.leaderboard import leaderboard

    paths = lab.run_paths()
    if not paths:
        return None
    try:
        table = leaderboard(list(paths.values()))
    except ResultsError:  # no board finished anything yet
        return None
    by_path = {str(p): n for n, p in paths.items()}
    labels = {b.name: b.labels for b in lab.boards}

    def board_of(source: str) -> str | None:
        return next((by_path[s] for s in str(source).split("; ") if s in by_path), None)

    table.insert(0, "LabBoard", table["Source"].map(board_of))
    for col, key in (("Board", "board"), ("Processor", "processor"), ("Clock", "clock"), ("Firmware", "firmware")):
        table[col] = table["LabBoard"].map(lambda n, key=key: labels.get(n, {}).get(key))
    # the board's processor, not the host's that drove it, in the published-format columns
    table["HostProcessorModelName"] = table["Processor"].where(table["Processor"].notna(), None)
    table["HostProcessorFrequency"] = table["Clock"]
    return table
