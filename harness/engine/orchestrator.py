"""One benchmark run: resolve models and data, open runner sessions, run the modes, write results.

Runs are resumable: every finished window and sample is journalled at once, and `resume`
re-opens the run, checks that model and data are byte-identical, and does only what is missing.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from tinyperf.device_runners.base import Runner, RunnerConfig
from tinyperf.device_runners.registry import get_runner
from tinyperf.core import config
from tinyperf.core.argtypes import check_option, positive_int, window_seconds
from tinyperf.core.console import console
from tinyperf.core.files import checked_path
from tinyperf.core.errors import DatasetError, ModelError, ResultsError, TinyperfError
from tinyperf.core.memory import model_memory
from tinyperf.core.modelfile import ModelFile
from tinyperf.engine.models import resolve_model
from tinyperf.engine.modes import WINDOW_HEADROOM, Calibration, run_accuracy, run_performance
from tinyperf.engine.summary import RULES_WINDOWS
from tinyperf.core.progress import run_progress
from tinyperf.core.provenance import machine_metadata
from tinyperf.engine.journal import JOURNAL, Journal, Record, Sample, Session, Skipped, WarningRecord, Window
from tinyperf.engine.output_formats import missing_outputs, write_outputs
from tinyperf.engine.rundir import RUN_JSON, Run, RunLock, RunWriter, load_run, read_run_files
from tinyperf.workloads.catalog import WORKLOADS, get_workload
from tinyperf.workloads.dataset import Dataset, Item
from tinyperf.workloads.spec import Workload

MODE_CHOICES = ("performance", "accuracy", "energy", "all")


@dataclass
class RunPlan:
    """What the user asked for; stored in run.json so `--resume` repeats it exactly."""

    workloads: list[str] = field(default_factory=lambda: list(WORKLOADS))
    mode: str = "all"
    runner: str = "host"
    runner_options: dict[str, Any] = field(default_factory=dict)
    min_window: float = 10.0
    models_dir: str | None = None
    data_dir: str | None = None
    model: str | None = None
    out: str | None = None
    kernels: str | None = None
    threads: int | None = None
    workloads_explicit: bool = False

    @classmethod
    def from_config(cls, config: Any, where: Path) -> RunPlan:
        """The plan stored in run.json, refused (naming the field) when anything is missing or mistyped:
        a plan is never completed with defaults, which would measure something nobody asked for."""
        fix = "restore run.json's 'config' from a backup, or start a new run"
        if not isinstance(config, dict):
            raise ResultsError(where, f"field 'config' is {_json_type(config)}, not an object", fix)
        names = {f.name: f for f in fields(cls)}
        unknown = sorted(set(config) - set(names))
        if unknown:
            raise ResultsError(where, f"field 'config.{unknown[0]}' is not a run-plan field (this tinyperf knows "
                               f"{', '.join(names)})", fix)
        missing = [n for n in names if n not in config]
        if missing:
            raise ResultsError(where, f"field 'config.{missing[0]}' is missing", fix)
        for name, (types, what) in PLAN_TYPES.items():
            value = config[name]
            if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
                raise ResultsError(where, f"field 'config.{name}' is {_json_type(value)}, not {what}", fix)
        if not config["workloads"] or not all(isinstance(w, str) for w in config["workloads"]):
            raise ResultsError(where, "field 'config.workloads' must be a non-empty list of workload ids", fix)
        for wl in config["workloads"]:
            if wl not in WORKLOADS:
                raise ResultsError(where, f"field 'config.workloads' names '{wl}', not a workload "
                                   f"({', '.join(WORKLOADS)})", fix)
        if config["mode"] not in MODE_CHOICES:
            raise ResultsError(where, f"field 'config.mode' is '{config['mode']}', not one of "
                               f"{', '.join(MODE_CHOICES)}", fix)
        plan = cls(**config)
        try:
            plan.validate()
        except TinyperfError as exc:
            option, _, problem = exc.problem.partition(" ")  # check_option says "--min-window <why>"
            raise ResultsError(where, f"field 'config.{option.lstrip('-').replace('-', '_')}': {problem}", fix) from None
        return plan

    def validate(self) -> None:
        """Refuse what the CLI's argument types refuse, for plans built in Python or read back from run.json."""
        check_option("--min-window", self.min_window, window_seconds)
        check_option("--threads", self.threads, positive_int)

    def check_runner(self, runner: type[Runner]) -> None:
        """Host-execution options mean nothing to a board running its own firmware: say so, not ignore them."""
        if self.kernels and self.kernels not in runner.kernels:
            raise TinyperfError("--kernels", f"the {runner.name} runner has no '{self.kernels}' kernel back-end"
                                + ("" if runner.kernels else " (the device runs its own firmware)"),
                                f"use {' or '.join(runner.kernels)}" if runner.kernels else "leave --kernels out")
        if self.threads is not None and not runner.kernels:
            raise TinyperfError("--threads", f"the {runner.name} runner runs the device's firmware, not interpreter threads",
                                "leave --threads out")
        if self.threads not in (None, 1) and not runner.threaded:
            raise TinyperfError("--threads", f"the {runner.name} runner is single-threaded, as a microcontroller is",
                                "leave --threads out (or pass 1)")
        self.modes_for(runner)

    def modes_for(self, runner: type[Runner]) -> list[str]:
        if self.mode == "all":
            return [m for m in ("performance", "accuracy") if m in runner.modes]
        if self.mode not in runner.modes:
            raise TinyperfError(None, f"runner '{runner.name}' has no {self.mode} mode",
                                f"use --mode {' or '.join(runner.modes)}")
        return [self.mode]


_NONE = type(None)
#: run.json's config: field -> (accepted JSON types, what to call them)
PLAN_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "workloads": ((list,), "a list of workload ids"),
    "mode": ((str,), "text"),
    "runner": ((str,), "text"),
    "runner_options": ((dict,), "an object"),
    "min_window": ((int, float), "a number of seconds"),
    "models_dir": ((str, _NONE), "a path or null"),
    "data_dir": ((str, _NONE), "a path or null"),
    "model": ((str, _NONE), "a path or null"),
    "out": ((str, _NONE), "a path or null"),
    "kernels": ((str, _NONE), "text or null"),
    "threads": ((int, _NONE), "an integer or null"),
    "workloads_explicit": ((bool,), "true or false"),
}


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean", int: "a number",
            float: "a number", _NONE: "null"}.get(type(value), type(value).__name__)


def synthetic_items(workload: Workload, count: int = 5, seed: int = 0) -> list[Item]:
    """Deterministic inputs in each workload's real value range, for runs without data."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(count):
        if workload.encoding.dtype == "<f4":
            data = rng.normal(-30.0, 10.0, workload.upload_bytes // 4).astype("<f4").tobytes()
        else:
            data = rng.integers(0, 256, workload.upload_bytes, dtype=np.uint8).tobytes()
        items.append(Item(f"synthetic_{i}", 0, -1, data))
    return items


def model_for(plan: RunPlan, workload: Workload) -> ModelFile:
    return resolve_model(workload, plan.model, plan.models_dir)


def infer_workload_from_model(model: str) -> str:
    """With `--model` and no `--workload`, pick the workload whose input the model fits."""
    from tinyperf.device_runners.host import LiteRTModel

    m = LiteRTModel(Path(model), "builtin", 1)
    size = int(np.prod(m.input_shape))
    matches = [w.id for w in WORKLOADS.values() if w.input_size == size]
    if len(matches) != 1:
        raise ModelError(model, f"input {list(m.input_shape)} fits {'none' if not matches else ', '.join(matches)} "
                         "of the workloads", "name the workload with --workload")
    return matches[0]


def dataset_for(plan: RunPlan, workload: Workload) -> Dataset | None:
    root = config.data_dir(plan.data_dir)
    if root is None:
        return None
    folder = root / workload.id
    if not folder.exists() and (root / "y_labels.csv").is_file() and len(plan.workloads) == 1:
        folder = root  # --data-dir pointed straight at one workload's folder
    if not folder.exists():
        if plan.workloads_explicit:
            raise DatasetError(folder, f"no {workload.id} sample set here",
                               f"put the EnergyRunner files in {folder}, or build them with "
                               f"`tinyperf datasets build {workload.id}`")
        return None
    return Dataset.open(workload, folder)


def announce_first_run(plan: RunPlan, runner_cls: type[Runner]) -> None:
    """Before a default-model build (the first `tinyperf run` on a machine), say what will happen
    and about how long, so a minute of TensorFlow and minutes of windows are not a surprise."""
    if not runner_cls.needs_model or plan.model or plan.models_dir:
        return
    from tinyperf.engine.default_models import BUILD_ESTIMATE, cache_folder, needs_build

    fallbacks = []
    for wl_id in plan.workloads:
        try:
            resolve_model(get_workload(wl_id), None, None, allow_default=False)
        except ModelError:
            fallbacks.append(wl_id)
    to_build = needs_build(fallbacks)
    if not to_build:
        return
    perf_modes = [m for m in plan.modes_for(runner_cls) if m != "accuracy"]
    windows = len(plan.workloads) * len(perf_modes) * RULES_WINDOWS
    bench = (f"then {windows} performance windows of at least {plan.min_window:g} s (about "
             f"{max(1, round(windows * plan.min_window * WINDOW_HEADROOM / 60))} min)" if windows else "then the run")
    console.print(f"[bold]first run:[/] no model for {', '.join(to_build)} (none in --models-dir, TINYPERF_MODELS "
                  "or `tinyperf fetch models`), so tinyperf builds the reference architectures with TensorFlow "
                  f"once ({BUILD_ESTIMATE}), caches them in {cache_folder()}, {bench}. Their weights are "
                  "synthetic: speed is representative, accuracy is not measured.", highlight=False)


def resolve_inputs(plan: RunPlan, runner_cls: type[Runner]) -> dict[str, tuple[ModelFile | None, Dataset | None]]:
    """Find and validate every model and sample set before anything is measured or written."""
    out: dict[str, tuple[ModelFile | None, Dataset | None]] = {}
    for wl_id in plan.workloads:
        wl = get_workload(wl_id)
        model = model_for(plan, wl) if runner_cls.needs_model else None
        if model is not None:
            runner_cls.check_model(RunnerConfig(workload=wl, mode=plan.modes_for(runner_cls)[0], model=model,
                                                kernels=plan.kernels, threads=plan.threads, options=plan.runner_options))
        out[wl_id] = (model, dataset_for(plan, wl))
    if plan.mode == "accuracy" and all(ds is None for _, ds in out.values()):
        raise DatasetError(config.data_dir(plan.data_dir), "no sample set found for "
                           + ", ".join(plan.workloads), "point --data-dir at a folder holding <workload>/y_labels.csv")
    return out


class Terminated(KeyboardInterrupt):
    """SIGTERM, unwound like Ctrl-C; the CLI exits 143 (128 + SIGTERM) so callers can tell."""

    exit_code = 128 + signal.SIGTERM


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a kill, a CI timeout) ends the run as cleanly as Ctrl-C does."""
    def handler(signum, frame):
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Orchestrator:
    def __init__(self, plan: RunPlan, writer: RunWriter, journal: Journal | None = None,
                 resolved: dict[str, tuple[ModelFile | None, Dataset | None]] | None = None):
        self.plan = plan
        self.writer = writer
        self.journal = journal if journal is not None else Journal(writer.dir / JOURNAL)
        self.runner_cls = get_runner(plan.runner)
        #: warnings already journalled: asked after every record, so a set, not a scan of the journal
        self._warned = {(r.workload, r.mode, r.message) for r in self.journal.of(WarningRecord)}
        self.resolved = resolved if resolved is not None else resolve_inputs(plan, self.runner_cls)

    # -- the run -------------------------------------------------------------------------------
    def _check_unchanged(self, wl: str, key: str, now: dict[str, Any] | None) -> None:
        before = (self.writer.meta.get("workloads") or {}).get(wl, {}).get(key)
        if before and now and before.get("sha256") != now.get("sha256"):
            raise ResultsError(now.get("path"), f"{wl} {key} changed since the run started "
                               f"(sha256 {str(before.get('sha256'))[:12]}... then, {now['sha256'][:12]}... now)",
                               "resume only with the same files, or start a new run")

    def prepare(self, workload: Workload) -> tuple[ModelFile | None, Dataset | None]:
        model, dataset = self.resolved[workload.id]
        model_meta = None
        if model is not None:
            model_meta = {"name": model.name, "path": str(model.path), "sha256": model.sha256, "size": model.size,
                          "source": model.source, "note": model.note, "synthetic_weights": model.synthetic_weights}
        dataset_meta = None
        if dataset is not None:
            dataset_meta = {"path": str(dataset.root), "sha256": dataset.content_sha256, "files": len(dataset),
                            "inferences": dataset.n_items, "unlisted": dataset.unlisted}
        self._check_unchanged(workload.id, "model", model_meta)
        self._check_unchanged(workload.id, "dataset", dataset_meta)
        before = self.writer.meta.get("workloads", {}).get(workload.id, {})
        entry: dict[str, Any] = {"model": model_meta or {}, "dataset": dataset_meta}
        if model is not None:  # RAM and flash on a microcontroller, whatever runs the benchmark (cached by sha256)
            entry["memory"] = before.get("memory") or model_memory(model.path, model.sha256)
        self.writer.meta.setdefault("workloads", {})[workload.id] = entry
        self.writer.save_meta()
        if dataset is not None and dataset.unlisted:
            console.print(f"[dim]{workload.id}: ignoring {len(dataset.unlisted)} .bin file(s) not listed in "
                          f"{dataset.labels_file}: {', '.join(dataset.unlisted[:3])}"
                          f"{' ...' if len(dataset.unlisted) > 3 else ''}[/]")
        return model, dataset

    def _skip(self, wl: str, mode: str, reason: str) -> None:
        if not self.journal.has_skip(wl, mode):
            self._record(Skipped(workload=wl, mode=mode, reason=reason))
        console.print(f"[dim]{wl} {mode}: not measured — {reason}[/]")

    def _record(self, record: Record) -> None:
        self.journal.add(self.writer.record(record))

    def _collect_warnings(self, session: Any, wl: str, mode: str) -> None:
        """What the session saw worth recording (a monitor falling behind, link recovery), journalled once each."""
        ask = getattr(session, "warnings", None)
        if ask is None:
            return
        try:
            seen = list(ask())
        except Exception as exc:  # noqa: BLE001 - asking must never cost the run its figures
            seen = [f"the session's warnings could not be read ({exc})"]
        for message in seen:
            key = (wl, mode, message)
            if isinstance(message, str) and key not in self._warned:
                self._warned.add(key)
                self._record(WarningRecord(workload=wl, mode=mode, source=self.plan.runner, message=message))

    def run_workload(self, workload: Workload, progress: Progress) -> None:
        model, dataset = self.prepare(workload)
        for mode in self.plan.modes_for(self.runner_cls):
            if mode == "accuracy":
                if dataset is None:
                    self._skip(workload.id, mode, "no sample set (pass --data-dir or set TINYPERF_DATA)")
                    continue
                if model is not None and model.synthetic_weights:
                    self._skip(workload.id, mode, "architecture only, synthetic weights: accuracy is meaningless")
                    continue
            rc = RunnerConfig(workload=workload, mode=mode, model=model, kernels=self.plan.kernels,
                              threads=self.plan.threads, options=dict(self.plan.runner_options),
                              run_dir=self.writer.dir)
            session = self.runner_cls().open(rc)

            def sink(record: Record, wl: str = workload.id, mode: str = mode, session: Any = session) -> None:
                self._record(record)
                self._collect_warnings(session, wl, mode)

            try:
                if not self.journal.has_session(workload.id, mode):
                    self._record(Session(workload=workload.id, mode=mode, describe=session.describe()))
                if mode == "accuracy":
                    assert dataset is not None
                    done = self.journal.done_samples(workload.id)
                    task = progress.add_task(f"{workload.id} accuracy", total=dataset.n_items, completed=len(done),
                                             status=getattr(session, "live_status", None))
                    run_accuracy(session, workload, dataset.items(), sink, done,
                                 on_item=lambda: progress.advance(task))
                else:
                    items = dataset.performance_items() if dataset is not None else synthetic_items(workload)
                    done_w = self.journal.done_windows(workload.id, mode)
                    task = progress.add_task(f"{workload.id} {mode} (5 windows >= {self.plan.min_window:g} s)",
                                             total=len(items), completed=len(done_w),
                                             status=getattr(session, "live_status", None))
                    cal = self.journal.calibration(workload.id, mode)
                    run_performance(session, workload, items, self.plan.min_window, sink, done_w,
                                    Calibration(cal.n, cal.warmup, cal.pilot_n, cal.pilot_elapsed_s, cal.first_ns)
                                    if cal else None,
                                    on_window=lambda i: progress.advance(task), mode=mode,
                                    max_n=self.runner_cls.max_window_inferences,
                                    save_latencies=lambda i, lat: self.writer.save_latencies(workload.id, i, lat))
            finally:
                try:
                    self._collect_warnings(session, workload.id, mode)
                finally:
                    session.close()

    def execute(self) -> Run:
        status = "incomplete"
        try:
            with sigterm_as_interrupt(), run_progress() as progress:
                for wl in self.plan.workloads:
                    self.run_workload(get_workload(wl), progress)
            status = "complete"
        finally:
            run = self.finish(status)
            if status != "complete" and run.samples.empty and run.windows.empty:
                console.print(f"[yellow]run stopped before anything was measured ({self.writer.dir} holds its "
                              "metadata and any device transcript). Fix the cause above, then start again or "
                              f"continue with: tinyperf run --resume {self.writer.dir}[/]")
            elif status != "complete":
                console.print(f"[yellow]run incomplete; everything finished so far is in {self.writer.dir}. "
                              f"Continue with: tinyperf run --resume {self.writer.dir}[/]")
        return run

    def finish(self, status: str) -> Run:
        """Write every output, then (only then) record the status: a kill in between leaves a run
        that says 'running' with no live writer, i.e. incomplete, which --resume finishes."""
        self.writer.close_journal()
        try:
            with sigterm_as_interrupt():
                run = load_run(self.writer.dir, status=status)
                write_outputs(run)
        except BaseException:
            self.writer.close("incomplete")  # the outputs may be half-written: --resume rewrites them
            raise
        self.writer.close(status)
        return run


def rebuild_outputs(directory: Path, lock: RunLock) -> Run:
    """A complete run whose output files are missing: everything is recomputed from the journal."""
    try:
        run = load_run(directory, status="complete")
        write_outputs(run)
    finally:
        lock.release()
    return run


def run_name(plan: RunPlan) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}_{plan.runner}_{socket.gethostname()}"


def start(plan: RunPlan, command: list[str] | None = None) -> Run:
    """Run `plan` in a new run directory; `command` (the argv that asked for it) is recorded."""
    plan.validate()
    if plan.data_dir:
        plan.data_dir = str(checked_path("--data-dir", plan.data_dir))
    if plan.models_dir:
        plan.models_dir = str(checked_path("--models-dir", plan.models_dir))
    if plan.model:
        plan.model = str(checked_path("--model", plan.model))
    if plan.out:
        checked_path("--out", plan.out)
    if plan.model and not plan.workloads_explicit:
        plan.workloads = [infer_workload_from_model(plan.model)]
        plan.workloads_explicit = True
    if plan.model and len(plan.workloads) != 1:
        raise TinyperfError(None, "--model benchmarks one model, but several workloads were named",
                            "pass exactly one --workload with --model")
    for wl in plan.workloads:
        get_workload(wl)
    runner_cls = get_runner(plan.runner)
    plan.check_runner(runner_cls)
    runner_cls.preflight(plan.runner_options)
    if not plan.workloads_explicit:
        on_device = runner_cls.device_workloads(plan.runner_options)
        if on_device is not None:
            if not on_device:
                raise TinyperfError(None, f"the {plan.runner} device reports no workload tinyperf knows",
                                    f"pass --workload (one of {', '.join(WORKLOADS)})")
            console.print(f"the device runs {', '.join(on_device)}: benchmarking that")
            plan.workloads = on_device
            plan.workloads_explicit = True
    if plan.mode == "accuracy" and config.data_dir(plan.data_dir) is None:
        raise DatasetError(None, "accuracy mode needs sample sets",
                           "pass --data-dir (or set TINYPERF_DATA) to a folder holding <workload>/y_labels.csv")
    announce_first_run(plan, runner_cls)
    resolved = resolve_inputs(plan, runner_cls)
    runner_cls.check_plan(list(plan.workloads), plan.modes_for(runner_cls), plan.runner_options)
    meta = {"config": asdict(plan), "machine": machine_metadata()}
    if command:
        meta["command"] = {"argv": shlex.join(command), "cwd": os.getcwd()}
    writer = RunWriter.create(config.results_dir(plan.out), run_name(plan), meta)
    console.print(f"run directory: [bold]{writer.dir}[/]")
    return Orchestrator(plan, writer, resolved=resolved).execute()


#: runner options a resume may change: where the device is now (a board re-plugged as another port)
RELOCATE_OPTIONS = ("port", "baud")


def resume(directory: str | Path, command: list[str] | None = None, relocate: dict[str, Any] | None = None) -> Run:
    """Finish an interrupted run; a complete run whose outputs are missing gets them rebuilt.

    `relocate` gives the device's new port/baud (nothing that changes what is measured), recorded
    with the resume command."""
    directory = Path(directory)
    read_run_files(directory)  # a clear line for a folder that is not a run, before any lock file is made
    lock = RunLock.acquire(directory)  # held until the run is written: a second --resume is refused here
    try:
        meta, _ = read_run_files(directory)
        # we hold the lock, so no one else is writing: a 'running' run.json is one whose writer died
        existing = load_run(directory, status="complete" if meta.get("status") == "complete" else "incomplete")
        if existing.status == "complete":
            missing = missing_outputs(existing)
            if not missing:
                raise ResultsError(directory, "this run is already complete", "start a new run with `tinyperf run`")
            console.print(f"[yellow]{directory} is complete but {len(missing)} output file(s) are missing or "
                          f"empty ({', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}): rebuilding "
                          "them from the journal[/]")
            return rebuild_outputs(directory, lock)
        plan = RunPlan.from_config(existing.meta.get("config"), directory / RUN_JSON)
        moved = {k: v for k, v in (relocate or {}).items() if k in RELOCATE_OPTIONS and v is not None
                 and plan.runner_options.get(k) != v}
        if moved:
            plan.runner_options.update(moved)
            get_runner(plan.runner).preflight(plan.runner_options)
        writer, journal = RunWriter.reopen(directory, lock)
    except BaseException:
        lock.release()
        raise
    if command or moved:
        entry: dict[str, Any] = {"argv": shlex.join(command or []), "cwd": os.getcwd()}
        if moved:
            entry["relocated"] = moved  # the sessions' `describe` also records the port each used
            writer.meta["config"] = asdict(plan)
        writer.meta.setdefault("resume_commands", []).append(entry)
        writer.save_meta()
    if writer.journal.repaired_bytes:
        console.print(f"[yellow]{directory / JOURNAL}: its last line was cut short ({writer.journal.repaired_bytes} "
                      "bytes, a kill or power loss mid-write); removed before appending, that record is redone[/]")
    console.print(f"resuming [bold]{directory}[/]: {len(journal.of(Sample))} samples and "
                  f"{len(journal.of(Window))} windows already done")
    return Orchestrator(plan, writer, journal).execute()
