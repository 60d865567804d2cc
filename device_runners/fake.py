"""A fake runner on a simulated clock, shipped with tinyperf as labgrid ships fake drivers.

It runs no model and touches no device: each inference "takes" `--fake-us-per-inference`
microseconds of a simulated clock (optionally with seeded noise), so a 10 s window costs no wall
time, and its outputs are a deterministic function of the input bytes that looks like a model's
(a fixed random projection through a softmax for classifiers; for the anomaly detector, the mean
squared difference between the window and its smoothed self). The same input always gives the
same output, on every machine, so the orchestrator, resume, report and plug-in paths can be
tested in-process without the reference models or data.

    tinyperf run --runner fake -w kws01 --min-window 0.2
    TINYPERF_FAKE_INTERRUPT_AFTER=300 tinyperf run --runner fake --mode accuracy ...  # then --resume
"""

from __future__ import annotations

import argparse
import hashlib
import os
from typing import Any

import numpy as np

from tinyperf.core.argtypes import non_negative_float, non_negative_int, positive_float
from tinyperf.device_runners.base import Inference, Runner, RunnerConfig

#: set to N, the fake device acts as if Ctrl-C came after N `infer` commands of a session (to try --resume)
ENV_INTERRUPT = "TINYPERF_FAKE_INTERRUPT_AFTER"
#: simulated time per inference when neither the option nor the workload's published latency says
DEFAULT_US = 1000.0
SIMULATED = "simulated"


def fake_outputs(workload: Any, data: bytes) -> np.ndarray:
    """What the fake device reports for one input: deterministic, shaped like the real model's."""
    real = workload.decode(data).reshape(-1).astype(np.float64)
    if not workload.scoring.classifies:
        smooth = np.convolve(real, np.ones(5) / 5.0, mode="same")
        return workload.scoring.outputs(real, smooth)
    seed = int.from_bytes(hashlib.sha256(workload.id.encode()).digest()[:4], "little")
    weights = np.random.default_rng(seed).normal(0.0, 1.0, (len(workload.labels), real.size))
    logits = weights @ (real - real.mean()) / max(real.std(), 1e-9) / np.sqrt(real.size)
    probs = np.exp(logits - logits.max())
    return np.round(probs / probs.sum(), 6)


class FakeSession:
    """One simulated device: a clock that advances per inference, outputs from `fake_outputs`."""

    runner_name = "fake"

    def __init__(self, config: RunnerConfig):
        opts = {k: v for k, v in config.options.items() if v is not None}
        wl = config.workload
        published_us = wl.published.get("latency_ms", DEFAULT_US / 1000.0) * 1000.0
        self.workload = wl
        self.us = float(opts.get("fake_us_per_inference") or published_us)
        self.noise = float(opts.get("fake_noise") or 0.0)
        self.rng = np.random.default_rng(int(opts.get("fake_seed") or 0))
        # not an option: a Ctrl-C is not part of the plan that --resume repeats
        after = os.environ.get(ENV_INTERRUPT)
        self.interrupt_after = int(after) if after else None
        self.kernels = config.kernels or FakeRunner.default_kernels.get(config.mode, SIMULATED)
        self.threads = config.threads if config.threads is not None else 1
        self.inferences = 0
        self.clock_ns = 0
        self._data: bytes | None = None

    def describe(self) -> dict[str, Any]:
        return {"runner": self.runner_name, "kernels": self.kernels, "threads": self.threads,
                "backend": "simulated clock", "device": f"fake device ({self.us:g} us/inference)",
                "model_id": f"fake-{self.workload.id}"}

    def load(self, data: bytes) -> None:
        if len(data) != self.workload.upload_bytes:
            raise ValueError(f"{self.workload.id} expects {self.workload.upload_bytes} bytes, got {len(data)}")
        self._data = data

    def infer(self, n: int, warmup: int) -> Inference:
        if self._data is None:
            raise RuntimeError("infer() before load()")
        if self.interrupt_after is not None and self.inferences >= int(self.interrupt_after):
            raise KeyboardInterrupt  # as if Ctrl-C arrived here: what --resume must recover from
        self.inferences += 1
        factor = 1.0 + self.noise * self.rng.standard_normal(n) if self.noise else np.ones(n)
        lat = np.maximum(np.round(self.us * 1000.0 * factor), 1).astype(np.int64)
        self.clock_ns += int(lat.sum()) + warmup * int(self.us * 1000.0)
        return Inference(results=fake_outputs(self.workload, self._data), n=n, warmup=warmup,
                         elapsed_s=float(lat.sum()) / 1e9, latencies_ns=lat,
                         first_ns=int(lat[0]) if self.inferences == 1 else None)

    def close(self) -> None:
        self._data = None


class FakeRunner(Runner):
    name = "fake"
    summary = "a simulated device on a simulated clock (no model, no hardware): for trying and testing tinyperf"
    needs_model = False
    modes = ("performance", "accuracy")
    kernels = (SIMULATED,)
    default_kernels = {"performance": SIMULATED, "accuracy": SIMULATED}

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument("--fake-us-per-inference", type=positive_float, metavar="US",
                           help="simulated time per inference (default: the workload's published reference latency)")
        group.add_argument("--fake-noise", type=non_negative_float, metavar="F",
                           help="relative standard deviation of each inference's time (default 0: identical)")
        group.add_argument("--fake-seed", type=non_negative_int, metavar="N", help="seed of the noise (default 0)")

    def open(self, config: RunnerConfig) -> FakeSession:
        return FakeSession(config)
