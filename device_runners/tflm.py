"""TFLM runner: the real TensorFlow Lite Micro interpreter (the `tflite-micro` package) on this machine.

The arithmetic is TFLM's reference kernels, bit for bit what a microcontroller running TFLM
without optimized (CMSIS-NN) kernels computes, so accuracy is the device's accuracy. Timings are
this machine's CPU running those kernels: a host proxy, said so in every row, not a board's speed.

TFLM plans the input tensor's memory to be reused by later activations, so an invoke overwrites
the input: the staged input is written again before every inference, outside the timed region.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from tinyperf.device_runners.base import Inference, Runner, RunnerConfig
from tinyperf.device_runners.host import QuantizedIO
from tinyperf.core import memory, tflm
from tinyperf.core.errors import ModelError
from tinyperf.core.provenance import cpu_model
from tinyperf.core.tflite_graph import read_graph

KERNELS = ("tflm-reference",)
ARITHMETIC = "TFLite Micro reference kernels"
TIMING_NOTE = ("host proxy: TFLite Micro's reference kernels timed on this machine's CPU, "
               "not on a microcontroller")


def refusal(config: RunnerConfig) -> ModelError | None:
    """The error for a model TFLM cannot run (from the cached memory probe), or None."""
    assert config.model is not None
    reason = tflm.available()
    if reason:
        return ModelError(config.model.path, f"TFLite Micro is not available: {reason}", "install tflite-micro")
    found = memory.model_memory(config.model.path, config.model.sha256)
    if found.get("tflm_problem"):
        return ModelError(config.model.path, f"TFLite Micro cannot run this model: {found['tflm_problem']}",
                          found.get("tflm_fix"))
    return None


class TflmModel(QuantizedIO):
    """A TFLM interpreter plus the quantization that maps real values in and out of it."""

    def __init__(self, path: Path):
        graph = read_graph(path)
        if len(graph.inputs) != 1 or len(graph.outputs) != 1:
            raise ModelError(path, f"has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; MLPerf Tiny "
                             "models have one of each", "export a single-input, single-output model")
        self.interpreter, _ = tflm.load(path)
        self.path = path
        self.input = self.interpreter.get_input_details(0)
        self.output = self.interpreter.get_output_details(0)

    def qparams(self, details: dict[str, Any]) -> tuple[float, int]:
        q = details.get("quantization_parameters") or {}
        scales, zeros = q.get("scales"), q.get("zero_points")
        if scales is None or len(scales) == 0:
            return 0.0, 0
        return float(scales[0]), int(zeros[0]) if zeros is not None and len(zeros) else 0

    def run(self, tensor: np.ndarray) -> np.ndarray:
        """One inference on `tensor` (the quantized input): its raw output."""
        self.interpreter.set_input(tensor, 0)
        self.interpreter.invoke()
        return self.interpreter.get_output(0)


class TflmSession:
    runner_name = "tflm"

    def __init__(self, config: RunnerConfig, arithmetic_note: str | None = None):
        if config.model is None:
            raise ModelError(None, "the tflm runner needs a model", "pass --model or --models-dir")
        error = refusal(config)
        if error is not None:
            raise error
        wl = config.workload
        self.workload = wl
        self.model = TflmModel(config.model.path)
        in_size = int(np.prod(self.model.input_shape))
        if in_size != wl.input_size:
            raise ModelError(config.model.path,
                             f"input {list(self.model.input_shape)} ({in_size} values) does not fit {wl.id}, "
                             f"which feeds {list(wl.input_shape)} ({wl.input_size} values)",
                             f"pass a model built for {wl.id}, or pick the workload this model was built for with --workload")
        self.arithmetic_note = arithmetic_note
        self._real_input: np.ndarray | None = None
        self._tensor: np.ndarray | None = None
        self._cold = True

    def describe(self) -> dict[str, Any]:
        out = {
            "runner": self.runner_name,
            "kernels": KERNELS[0],
            "threads": 1,
            "backend": f"tflite-micro {tflm.tflm_version()}",
            "device": cpu_model(),
            "model_input_dtype": self.model.input_dtype,
            "arithmetic": ARITHMETIC,
            "timing_note": TIMING_NOTE,
        }
        if self.arithmetic_note:
            out["arithmetic_note"] = self.arithmetic_note
        return out

    def load(self, data: bytes) -> None:
        real = self.workload.decode(data)
        self._tensor = self.model.quantize_input(real)
        self._real_input = real

    def _timed(self) -> int:
        """One inference on the staged input; ns spent in invoke() alone."""
        interpreter = self.model.interpreter
        interpreter.set_input(self._tensor, 0)  # invoke overwrote it last time
        t0 = time.perf_counter_ns()
        interpreter.invoke()
        return time.perf_counter_ns() - t0

    def infer(self, n: int, warmup: int) -> Inference:
        if self._real_input is None:
            raise RuntimeError("infer() before load()")
        first_ns = None
        if self._cold:
            first_ns = self._timed()
            self._cold = False
        for _ in range(warmup):
            self._timed()
        lat = np.fromiter((self._timed() for _ in range(n)), dtype=np.int64, count=n)
        output = self.model.dequantize_output(self.model.interpreter.get_output(0))
        results = self.workload.postprocess(self._real_input, output)
        # the window is the sum of the invokes: re-staging the input is not part of an inference
        return Inference(results=results, n=n, warmup=warmup, elapsed_s=float(lat.sum()) / 1e9,
                         latencies_ns=lat, first_ns=first_ns)

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]


class TflmRunner(Runner):
    name = "tflm"
    summary = "TensorFlow Lite Micro (tflite-micro package) on this machine: device arithmetic, host-proxy timing"
    needs_model = True
    modes = ("performance", "accuracy")
    kernels = KERNELS
    default_kernels = {"accuracy": KERNELS[0], "performance": KERNELS[0]}
    threaded = False

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        pass

    @classmethod
    def availability(cls) -> str | None:
        return tflm.available()

    @classmethod
    def check_model(cls, config: RunnerConfig) -> None:
        TflmSession(config).close()  # refusal() names the op or type; loading checks the input fits

    def open(self, config: RunnerConfig) -> TflmSession:
        return TflmSession(config)
