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
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from tinyperf.device_runners.base import Runner, RunnerConfig
from tinyperf.device_runners.registry import get_runner
from tinyperf.core import config
from tinyperf.core.argtypes import check_option, positive_float, positive_int
from tinyperf.core.console import console
from tinyperf.core.errors import DatasetError, ModelError, ResultsError, TinyperfError
from tinyperf.core.modelfile import ModelFile
from tinyperf.engine.models import resolve_model
from tinyperf.engine.modes import Calibration, run_accuracy, run_performance
from tinyperf.core.progress import run_progress
from tinyperf.core.provenance import machine_metadata
from tinyperf.engine.output_formats import write_outputs
from tinyperf.engine.rundir import Run, RunWriter, load_run
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

    def validate(self) -> None:
        """Refuse what the CLI's argument types refuse, for plans built in Python or read back from run.json."""
        check_option("--min-window", self.min_window, positive_float)
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
        self.modes_for(runner)

    def modes_for(self, runner: type[Runner]) -> list[str]:
        if self.mode == "all":
            return [m for m in ("performance", "accuracy") if m in runner.modes]
        if self.mode not in runner.modes:
            raise TinyperfError(None, f"runner '{runner.name}' has no {self.mode} mode",
                                f"use --mode {' or '.join(runner.modes)}")
        return [self.mode]


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
    def __init__(self, plan: RunPlan, writer: RunWriter, records: list[dict[str, Any]] | None = None,
                 resolved: dict[str, tuple[ModelFile | None, Dataset | None]] | None = None):
        self.plan = plan
        self.writer = writer
        self.records = records or []
        self.runner_cls = get_runner(plan.runner)
        self.resolved = resolved if resolved is not None else resolve_inputs(plan, self.runner_cls)

    # -- what earlier (interrupted) attempts finished --------------------------------------------
    def _done_samples(self, wl: str) -> set[tuple[str, int]]:
        return {(r["file"], r["window"]) for r in self.records if r["kind"] == "sample" and r["workload"] == wl}

    def _done_windows(self, wl: str, mode: str) -> set[int]:
        return {r["window"] for r in self.records
                if r["kind"] == "window" and r["workload"] == wl and r["mode"] == mode}

    def _calibration(self, wl: str, mode: str) -> Calibration | None:
        for r in self.records:
            if r["kind"] == "calibration" and r["workload"] == wl and r["mode"] == mode:
                return Calibration(r["n"], r["warmup"], r["pilot_n"], r["pilot_elapsed_s"], r.get("first_ns"))
        return None

    def _has_session(self, wl: str, mode: str) -> bool:
        return any(r["kind"] == "session" and r["workload"] == wl and r["mode"] == mode for r in self.records)

    def _has_skip(self, wl: str, mode: str) -> bool:
        return any(r["kind"] == "skipped" and r["workload"] == wl and r["mode"] == mode for r in self.records)

    # -- the run -------------------------------------------------------------------------------
    def _check_unchanged(self, wl: str, key: str, now: dict[str, Any] | None) -> None:
        before = self.writer.meta.get("workloads", {}).get(wl, {}).get(key)
        if before and now and before.get("sha256") != now.get("sha256"):
            raise ResultsError(now.get("path"), f"{wl} {key} changed since the run started "
                               f"(sha256 {before['sha256'][:12]}... then, {now['sha256'][:12]}... now)",
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
        self.writer.meta.setdefault("workloads", {})[workload.id] = {"model": model_meta or {}, "dataset": dataset_meta}
        self.writer.save_meta()
        if dataset is not None and dataset.unlisted:
            console.print(f"[dim]{workload.id}: ignoring {len(dataset.unlisted)} .bin file(s) not listed in "
                          f"{dataset.labels_file}: {', '.join(dataset.unlisted[:3])}"
                          f"{' ...' if len(dataset.unlisted) > 3 else ''}[/]")
        return model, dataset

    def _skip(self, wl: str, mode: str, reason: str) -> None:
        if not self._has_skip(wl, mode):
            self.records.append(self.writer.record("skipped", workload=wl, mode=mode, reason=reason))
        console.print(f"[dim]{wl} {mode}: not measured — {reason}[/]")

    def _record(self, kind: str, **fields: Any) -> None:
        self.records.append(self.writer.record(kind, **fields))

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
            try:
                if not self._has_session(workload.id, mode):
                    self._record("session", workload=workload.id, mode=mode, describe=session.describe())
                if mode == "accuracy":
                    assert dataset is not None
                    done = self._done_samples(workload.id)
                    task = progress.add_task(f"{workload.id} accuracy", total=dataset.n_items, completed=len(done),
                                             status=getattr(session, "live_status", None))
                    run_accuracy(session, workload, dataset.items(), self._sink, done,
                                 on_item=lambda: progress.advance(task))
                else:
                    items = dataset.performance_items() if dataset is not None else synthetic_items(workload)
                    done_w = self._done_windows(workload.id, mode)
                    task = progress.add_task(f"{workload.id} {mode} (5 windows >= {self.plan.min_window:g} s)",
                                             total=len(items), completed=len(done_w),
                                             status=getattr(session, "live_status", None))
                    run_performance(session, workload, items, self.plan.min_window, self._sink, done_w,
                                    self._calibration(workload.id, mode),
                                    on_window=lambda i: progress.advance(task), mode=mode,
                                    save_latencies=lambda i, lat: self.writer.save_latencies(workload.id, i, lat))
            finally:
                session.close()

    def _sink(self, kind: str, **fields: Any) -> None:
        rec = self.writer.record(kind, **fields)
        if kind in ("calibration", "window"):
            self.records.append(rec)

    def execute(self) -> Run:
        status = "incomplete"
        try:
            with sigterm_as_interrupt(), run_progress() as progress:
                for wl in self.plan.workloads:
                    self.run_workload(get_workload(wl), progress)
            status = "complete"
        finally:
            self.writer.close(status)
            run = load_run(self.writer.dir)
            write_outputs(run)
            if status != "complete" and run.samples.empty and run.windows.empty:
                console.print(f"[yellow]run stopped before anything was measured ({self.writer.dir} holds its "
                              "metadata and any device transcript). Fix the cause above, then start again or "
                              f"continue with: tinyperf run --resume {self.writer.dir}[/]")
            elif status != "complete":
                console.print(f"[yellow]run incomplete; everything finished so far is in {self.writer.dir}. "
                              f"Continue with: tinyperf run --resume {self.writer.dir}[/]")
        return run


def run_name(plan: RunPlan) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}_{plan.runner}_{socket.gethostname()}"


def start(plan: RunPlan, command: list[str] | None = None) -> Run:
    """Run `plan` in a new run directory; `command` (the argv that asked for it) is recorded."""
    plan.validate()
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
    if plan.data_dir:
        plan.data_dir = str(Path(plan.data_dir).resolve())
    if plan.models_dir:
        plan.models_dir = str(Path(plan.models_dir).resolve())
    if plan.model:
        plan.model = str(Path(plan.model).resolve())
    resolved = resolve_inputs(plan, runner_cls)
    meta = {"config": asdict(plan), "machine": machine_metadata()}
    if command:
        meta["command"] = {"argv": shlex.join(command), "cwd": os.getcwd()}
    writer = RunWriter.create(config.results_dir(plan.out), run_name(plan), meta)
    console.print(f"run directory: [bold]{writer.dir}[/]")
    return Orchestrator(plan, writer, resolved=resolved).execute()


#: runner options a resume may change: where the device is now (a board re-plugged as another port)
RELOCATE_OPTIONS = ("port", "baud")


def resume(directory: str | Path, command: list[str] | None = None, relocate: dict[str, Any] | None = None) -> Run:
    """Finish an interrupted run; `relocate` gives the device's new port/baud (nothing that changes
    what is measured), recorded with the resume command."""
    directory = Path(directory)
    existing = load_run(directory)
    if existing.status == "complete":
        raise ResultsError(directory, "this run is already complete", "start a new run with `tinyperf run`")
    if existing.status == "running":
        raise ResultsError(directory, f"another tinyperf process (pid {existing.meta.get('pid')}) is still writing this run",
                           "wait for it or stop it first")
    plan = RunPlan(**existing.meta["config"])
    plan.validate()  # run.json may have been edited by hand
    moved = {k: v for k, v in (relocate or {}).items() if k in RELOCATE_OPTIONS and v is not None
             and plan.runner_options.get(k) != v}
    if moved:
        runner_cls = get_runner(plan.runner)
        plan.runner_options.update(moved)
        runner_cls.preflight(plan.runner_options)
    writer, records = RunWriter.reopen(directory)
    if command or moved:
        entry: dict[str, Any] = {"argv": shlex.join(command or []), "cwd": os.getcwd()}
        if moved:
            entry["relocated"] = moved  # the sessions' `describe` also records the port each used
            writer.meta["config"] = asdict(plan)
        writer.meta.setdefault("resume_commands", []).append(entry)
        writer.save_meta()
    console.print(f"resuming [bold]{directory}[/]: {sum(r['kind'] == 'sample' for r in records)} samples and "
                  f"{sum(r['kind'] == 'window' for r in records)} windows already done")
    return Orchestrator(plan, writer, records).execute()
