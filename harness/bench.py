"""Benchmarks of the harness itself: what does measuring cost compared with not measuring?"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyperf.device_runners.base import RunnerConfig
from tinyperf.device_runners.host import HostRunner
from tinyperf.core.modelfile import ModelFile
from tinyperf.workloads.spec import Workload


@dataclass(frozen=True)
class OverheadResult:
    workload: str
    kernels: str
    n: int
    repeats: int
    bare_us: float  # median over repeats of (bare invoke loop time / n)
    harness_us: float  # median over repeats of (harness window time / n)

    @property
    def ratio(self) -> float:
        return self.harness_us / self.bare_us


def measure_overhead(workload: Workload, model_path: Path, data: bytes, kernels: str = "xnnpack",
                     n: int = 20000, repeats: int = 7) -> OverheadResult:
    """Interleave a bare `invoke()` loop and the harness's timed window on the same interpreter.

    The harness window times each inference (two clock reads and a store) on top of the loop;
    interleaving makes both see the same machine state.
    """
    session = HostRunner().open(RunnerConfig(workload=workload, mode="performance",
                                             model=ModelFile(Path(model_path), "user"), kernels=kernels, threads=1))
    session.load(data)
    session.infer(100, 10)  # warm both paths
    invoke = session.model.interpreter.invoke
    clock = time.perf_counter_ns
    bare, harness = [], []
    for _ in range(repeats):
        t0 = clock()
        for _ in range(n):
            invoke()
        bare.append((clock() - t0) / n / 1000.0)
        harness.append(session.infer(n, 0).elapsed_s * 1e6 / n)
    session.close()
    return OverheadResult(workload.id, kernels, n, repeats, float(np.median(bare)), float(np.median(harness)))
