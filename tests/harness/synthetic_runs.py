"""Run directories written record by record, as the orchestrator journals them, on a simulated clock.

Each window's elapsed time is the sum of N per-inference times drawn around a known mean with a
known window-to-window noise (a machine's frequency and cache state move per window) and
per-inference jitter, so a test knows the true speed ratio between two runs exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tinyperf.engine.journal import Load, Sample, Session, Window
from tinyperf.engine.rundir import RunWriter


def simulated_run(out: Path, name: str, *, us_per_inference: float, window_noise: float = 0.02,
                  jitter: float = 0.05, windows: int = 5, n: int | None = None, seed: int = 0, workload: str = "kws01",
                  min_window: float = 10.0, model_sha: str = "a" * 64, kernels: str = "xnnpack",
                  hostname: str = "simhost", accuracy: list[tuple[str, int, int]] | None = None,
                  load: dict | None = None, runner: str = "host", synthetic_weights: bool = False,
                  model_source: str = "reference", device: str = "Simulated CPU") -> Path:
    """A complete host-like run of `workload`; `accuracy` = (file, label, predicted) triples to score."""
    rng = np.random.default_rng(seed)
    meta = {
        "config": {"workloads": [workload], "mode": "all", "runner": runner, "runner_options": {},
                   "min_window": min_window, "kernels": kernels, "threads": 1},
        "machine": {"hostname": hostname, "machine": "x86_64", "cpu": "Simulated CPU", "harness_version": "0.1.0",
                    "python": "3.11"},
        "workloads": {workload: {"model": {"name": f"{workload}_int8.tflite", "sha256": model_sha, "size": 1,
                                           "source": model_source, "note": "", "synthetic_weights": synthetic_weights},
                                 "dataset": {"path": "/sim/data", "sha256": "d" * 64,
                                             "files": len(accuracy) if accuracy else 5}}},
    }
    writer = RunWriter.create(out, name, meta)
    describe = {"runner": runner, "kernels": kernels, "threads": 1, "backend": "simulated", "device": device}
    if windows:
        writer.record(Session(workload=workload, mode="performance", describe=describe))
    if load is not None:
        writer.record(Load(workload=workload, mode="performance", phase="before", **load))
    n = n or int(min_window * 1.1 / (us_per_inference * 1e-6))  # calibrated so a window lasts min_window
    for w in range(windows):
        scale = float(np.exp(rng.normal(0.0, window_noise)))  # this window's machine state
        per_inf_s = us_per_inference * 1e-6 * scale * (1.0 + jitter * rng.standard_normal(n)).clip(0.5)
        elapsed = float(per_inf_s.sum())
        writer.record(Window(workload=workload, mode="performance", window=w, file=f"s{w}.bin", n=n, warmup=10,
                             elapsed_s=elapsed, throughput_ips=n / elapsed))
    if load is not None:
        writer.record(Load(workload=workload, mode="performance", phase="after", **load))
    if accuracy:
        writer.record(Session(workload=workload, mode="accuracy", describe={**describe, "kernels": "reference"}))
        for file, label, predicted in accuracy:
            outputs = [1.0 if k == predicted else 0.0 for k in range(12)]
            writer.record(Sample(workload=workload, mode="accuracy", file=file, window=0, label=label,
                                 predicted=predicted, score=1.0, results=outputs))
    writer.close_journal()
    writer.close("complete")
    return writer.dir


def rewrite_meta(run: Path, **changes) -> None:
    meta = json.loads((run / "run.json").read_text())
    meta.update(changes)
    (run / "run.json").write_text(json.dumps(meta))
