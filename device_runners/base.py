"""The one interface between the harness and anything that runs inferences.

Its semantics are the MLPerf Tiny / EEMBC test-harness API: `load` receives the bytes the host
would send with `db load`, `infer(n, warmup)` is `infer N W`, and `Inference.results` is what
the DUT prints in `m-results-[...]`. A host interpreter, a microcontroller on a serial line and
an accelerator all fit behind it, and a new runner plugs in through the `tinyperf.runners`
entry-point group without touching the harness.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from tinyperf.core.modelfile import ModelFile
    from tinyperf.workloads.spec import Workload

MODES = ("performance", "accuracy", "energy")


@dataclass(frozen=True)
class Inference:
    """Outcome of one `infer N W`."""

    results: np.ndarray  # the last inference's reported values (m-results)
    n: int
    warmup: int
    elapsed_s: float  # duration of the N timed inferences (the window)
    latencies_ns: np.ndarray | None = None  # per timed inference, where the runner can see each
    first_ns: int | None = None  # cold first inference after load, where measured
    energy_j: float | None = None  # window energy, where an energy monitor is attached
    extra: dict[str, Any] = field(default_factory=dict)  # runner-specific facts worth recording


@dataclass
class RunnerConfig:
    """Everything a runner is told when a session opens."""

    workload: Workload
    mode: str
    model: ModelFile | None = None  # None where the device carries its own model
    kernels: str | None = None
    threads: int | None = None
    options: dict[str, Any] = field(default_factory=dict)  # runner-specific CLI options
    run_dir: Path | None = None  # for transcripts and logs


@runtime_checkable
class DeviceSession(Protocol):
    """What the harness needs from one open device. A session may also offer
    `live_status() -> str | None`, which the progress display asks while a command runs, and
    `warnings() -> list[str]`, problems seen so far (an energy monitor falling behind), which the
    engine journals once each and the summary and `tinyperf show` report."""

    def describe(self) -> dict[str, Any]:
        """Provenance recorded in every row: runner, back-end, threads, device identity."""

    def load(self, data: bytes) -> None:
        """Stage one input, as uploaded with `db load` (not timed)."""

    def infer(self, n: int, warmup: int) -> Inference:
        """Run `warmup` untimed then `n` timed inferences on the staged input."""

    def close(self) -> None: ...


class Runner:
    """Base class for runner plugins; subclasses set the class attributes and `open`."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    #: True when the harness must supply a .tflite (host-side interpreters)
    needs_model: ClassVar[bool] = True
    modes: ClassVar[tuple[str, ...]] = ("performance", "accuracy")
    #: kernel back-ends this runner offers, and the default per mode
    kernels: ClassVar[tuple[str, ...]] = ()
    default_kernels: ClassVar[dict[str, str]] = {}
    #: whether --threads N > 1 means anything (an interpreter with a thread pool)
    threaded: ClassVar[bool] = True
    #: the most inferences one window may ask for (a protocol's counter width, memory for latencies)
    max_window_inferences: ClassVar[int | None] = None

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        """Add runner-specific `tinyperf run` options; their values arrive in `RunnerConfig.options`."""

    @classmethod
    def option_names(cls) -> list[str]:
        parser = argparse.ArgumentParser(add_help=False)
        cls.add_arguments(parser.add_argument_group())
        return [a.dest for a in parser._actions]

    @classmethod
    def device_workloads(cls, options: dict[str, Any]) -> list[str] | None:
        """Workloads the device itself can run (e.g. what its firmware is built for), or None
        when the runner can run any workload. Used when the user names no --workload."""
        return None

    @classmethod
    def preflight(cls, options: dict[str, Any]) -> None:
        """Raise the error a session would raise for options that cannot work (a port that does
        not exist), before a run directory is made. Must not touch the device itself."""

    @classmethod
    def check_plan(cls, workloads: list[str], modes: list[str], options: dict[str, Any]) -> None:
        """Raise the error a session of this plan would raise (a mode the set-up cannot run, a
        device flashed for another workload), before a run directory is made. May ask the
        device who it is; must leave it as it was."""

    @classmethod
    def check_model(cls, config: RunnerConfig) -> None:
        """Raise the error opening a session on `config.model` would raise (a model the runner
        cannot load, or whose input does not fit the workload), before a run directory is made.
        Must not touch the device itself."""

    def open(self, config: RunnerConfig) -> DeviceSession:
        raise NotImplementedError

    @classmethod
    def availability(cls) -> str | None:
        """None if usable here, else a one-line reason (missing package, no device...)."""
        return None
