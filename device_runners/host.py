"""Host runner: the LiteRT (ai-edge-litert) interpreter on this machine.

Kernel back-ends:
- `tflm-reference`: the real TensorFlow Lite Micro interpreter (tflite-micro package), the
  arithmetic a microcontroller running TFLM computes; the accuracy-mode default where the package
  is installed and TFLM can run the model (see device_runners/tflm.py);
- `reference`: LiteRT's reference kernels; the same top-1 as TFLM on the MLPerf Tiny models, but
  not bit-identical (FULLY_CONNECTED rounds differently by 1 LSB on some inputs); the accuracy
  default otherwise;
- `builtin`: LiteRT's optimized kernels, no delegate;
- `xnnpack`: the default XNNPACK delegate (performance-mode default).
"""

from __future__ import annotations

import argparse
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from tinyperf.device_runners.base import Inference, Runner, RunnerConfig
from tinyperf.core.errors import ModelError
from tinyperf.core.native_stderr import native_stderr
from tinyperf.core.provenance import cpu_model

#: what LiteRT itself offers; the host runner adds TFLM's reference kernels
LITERT_KERNELS = ("reference", "builtin", "xnnpack")
TFLM_KERNELS = "tflm-reference"
KERNELS = (*LITERT_KERNELS, TFLM_KERNELS)
ARITHMETIC = {"reference": "LiteRT reference kernels", "builtin": "LiteRT optimized kernels",
              "xnnpack": "XNNPACK (LiteRT delegate)"}


def litert_version() -> str:
    try:
        return version("ai-edge-litert")
    except PackageNotFoundError:
        return "unknown"


def _native_stderr_filtered():
    """Drop LiteRT's 'INFO: Created ... delegate' chatter (no env switch silences it); keep the rest.

    Even when loading fails: LiteRT's reason is in the exception, which becomes one clear line."""
    return native_stderr(lambda line: not line.startswith("INFO: Created TensorFlow Lite"), replay_all_on_error=False)


def _resolver(kernels: str):
    from ai_edge_litert.interpreter import OpResolverType

    return {
        "reference": OpResolverType.BUILTIN_REF,
        "builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        "xnnpack": OpResolverType.AUTO,
    }[kernels]


def _load_fix(message: str) -> str:
    """What to do about a model LiteRT refuses: a bad file, ops it lacks, or ops newer than it."""
    if "custom op" in message:
        return ("the model needs a custom op this interpreter does not have: an EdgeTPU-compiled model runs with "
                "--runner edgetpu; otherwise re-convert it with TFLite builtin ops only")
    if "Select TensorFlow op" in message or "Flex" in message:
        return "the model needs TensorFlow (Flex) ops, which LiteRT here lacks: re-convert it with TFLITE_BUILTINS only"
    if "Didn't find op for builtin opcode" in message:
        return ("the model uses an op version newer than this ai-edge-litert: upgrade it "
                "(`python -m pip install -U ai-edge-litert`) or convert with an older TensorFlow")
    return "the file is corrupt or truncated: re-download or re-convert it"


def quantize_real(real: np.ndarray, dtype: np.dtype, scale: float, zero: int, path=None) -> np.ndarray:
    """The integer tensor an int8/int16 model input holds for `real` (round half to even, clipped),
    exactly as the firmware's quantization; float inputs pass through as `dtype`."""
    if dtype.kind == "f":
        return real.astype(dtype)
    if not scale:
        raise ModelError(path, f"integer input ({dtype.name}) without quantization parameters",
                         "convert the model with input quantization, or with a float input")
    info = np.iinfo(dtype)
    q = np.round(real.astype(np.float64) / scale) + zero
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize_raw(raw: np.ndarray, scale: float, zero: int) -> np.ndarray:
    """Real values of an output tensor (float32); a float or unquantized output is returned as float32."""
    if np.dtype(raw.dtype).kind == "f" or not scale:
        return raw.astype(np.float32)
    return ((raw.astype(np.float32) - zero) * np.float32(scale)).astype(np.float32)


def invoke_error(path: Any, exc: Exception) -> ModelError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelError(path, f"LiteRT loads this model but cannot run it ({first})",
                      "the file is corrupt: re-download it (`tinyperf fetch models`) or re-convert it")


class QuantizedIO:
    """Input shape, dtype and (de)quantization from an interpreter's tensor details, for every
    interpreter that describes tensors the TFLite way (LiteRT, TFLM); each says where its
    quantization parameters are (`qparams`)."""

    input: dict[str, Any]
    output: dict[str, Any]
    path: Path | None

    def qparams(self, details: dict[str, Any]) -> tuple[float, int]:
        raise NotImplementedError

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.input["shape"])

    @property
    def input_dtype(self) -> str:
        return np.dtype(self.input["dtype"]).name

    def quantize_input(self, real: np.ndarray) -> np.ndarray:
        scale, zero = self.qparams(self.input)
        return quantize_real(real.reshape(self.input_shape), np.dtype(self.input["dtype"]), scale, zero, self.path)

    def dequantize_output(self, raw: np.ndarray) -> np.ndarray:
        return dequantize_raw(np.asarray(raw), *self.qparams(self.output))


class LiteRTModel(QuantizedIO):
    """A loaded interpreter plus the quantization that maps real values in and out of it."""

    def __init__(self, path, kernels: str = "reference", threads: int | None = 1, delegates: list | None = None):
        from ai_edge_litert.interpreter import Interpreter

        if kernels not in LITERT_KERNELS:
            raise ModelError(None, f"unknown LiteRT kernel back-end '{kernels}'", f"use one of {', '.join(LITERT_KERNELS)}")
        try:
            with _native_stderr_filtered():
                self.interpreter = Interpreter(model_path=str(path), num_threads=threads,
                                               experimental_delegates=delegates,
                                               experimental_op_resolver_type=_resolver(kernels))
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(path, f"LiteRT cannot load this model ({first})", _load_fix(str(exc))) from None
        ins, outs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if len(ins) != 1 or len(outs) != 1:
            raise ModelError(path, f"has {len(ins)} inputs and {len(outs)} outputs; MLPerf Tiny models have one of each",
                             "export a single-input, single-output model")
        self.input, self.output = ins[0], outs[0]
        self.kernels, self.threads, self.path = kernels, threads, path

    def qparams(self, details: dict[str, Any]) -> tuple[float, int]:
        scale, zero = details["quantization"]
        return float(scale), int(zero)

    def set_input(self, tensor: np.ndarray) -> None:
        self.interpreter.set_tensor(self.input["index"], tensor)

    def invoke(self) -> None:
        """One inference; a model that loads but cannot run (a weight without data) is a ModelError."""
        try:
            self.interpreter.invoke()
        except RuntimeError as exc:
            raise invoke_error(self.path, exc) from None

    def check_runs(self) -> None:
        """Invoke once on zeros: LiteRT checks some tensors (constant data) only when it runs them."""
        self.set_input(np.zeros(self.input_shape, dtype=self.input["dtype"]))
        self.invoke()

    def get_output(self) -> np.ndarray:
        return self.interpreter.get_tensor(self.output["index"])


class HostSession:
    runner_name = "host"

    def __init__(self, config: RunnerConfig, delegates: list | None = None, kernels: str | None = None):
        if config.model is None:
            raise ModelError(None, "the host runner needs a model", "pass --model or --models-dir")
        wl = config.workload
        self.workload = wl
        # a LiteRT session: its own fallback is LiteRT's (HostRunner.resolve_kernels picks TFLM first)
        self.kernels = kernels or config.kernels or ("reference" if config.mode == "accuracy" else "xnnpack")
        self.arithmetic_note: str | None = None
        self.threads = config.threads if config.threads is not None else 1
        self.model = LiteRTModel(config.model.path, self.kernels, self.threads, delegates)
        in_size = int(np.prod(self.model.input_shape))
        if in_size != wl.input_size:
            raise ModelError(config.model.path,
                             f"input {list(self.model.input_shape)} ({in_size} values) does not fit {wl.id}, "
                             f"which feeds {list(wl.input_shape)} ({wl.input_size} values)",
                             f"pass a model built for {wl.id}, or pick the workload this model was built for with --workload")
        self._real_input: np.ndarray | None = None
        self._cold = True

    def describe(self) -> dict[str, Any]:
        return {
            "runner": self.runner_name,
            "kernels": self.kernels,
            "threads": self.threads,
            "backend": f"ai-edge-litert {litert_version()}",
            "device": cpu_model(),
            "model_input_dtype": self.model.input_dtype,
            "arithmetic": ARITHMETIC.get(self.kernels, self.kernels),
            **({"arithmetic_note": self.arithmetic_note} if self.arithmetic_note else {}),
        }

    def load(self, data: bytes) -> None:
        real = self.workload.decode(data)
        self.model.set_input(self.model.quantize_input(real))
        self._real_input = real

    def infer(self, n: int, warmup: int) -> Inference:
        if self._real_input is None:
            raise RuntimeError("infer() before load()")
        invoke = self.model.interpreter.invoke
        clock = time.perf_counter_ns
        first_ns = None
        if self._cold:  # the first inference pays allocation/packing costs: report it apart
            t0 = clock()
            self.model.invoke()
            first_ns = clock() - t0
            self._cold = False
        try:
            for _ in range(warmup):
                invoke()
            lat = [0] * n
            start = clock()
            for i in range(n):
                t0 = clock()
                invoke()
                lat[i] = clock() - t0
            end = clock()
        except RuntimeError as exc:  # checked up front (check_model); a model changed under the run lands here
            raise invoke_error(self.model.path, exc) from None
        output = self.model.dequantize_output(self.model.get_output())
        results = self.workload.postprocess(self._real_input, output)
        return Inference(results=results, n=n, warmup=warmup, elapsed_s=(end - start) / 1e9,
                         latencies_ns=np.asarray(lat, dtype=np.int64), first_ns=first_ns)

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]


class HostRunner(Runner):
    name = "host"
    max_window_inferences = 20_000_000  # every inference's latency is kept in memory (about 40 bytes each)
    summary = "LiteRT interpreter on this machine (--kernels tflm-reference: TensorFlow Lite Micro)"
    needs_model = True
    modes = ("performance", "accuracy")
    kernels = KERNELS
    #: accuracy: TFLM's arithmetic where it can run the model, else LiteRT reference (`resolve_kernels`)
    default_kernels = {"accuracy": TFLM_KERNELS, "performance": "xnnpack"}
    uses_host_cpu = True

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        pass  # --kernels and --threads are common options

    @classmethod
    def availability(cls) -> str | None:
        try:
            import ai_edge_litert.interpreter  # noqa: F401
        except ImportError as exc:
            return f"ai-edge-litert is not importable ({exc}); `pip install ai-edge-litert`"
        return None

    @classmethod
    def resolve_kernels(cls, config: RunnerConfig) -> tuple[str, str | None]:
        """(kernels, note): what --kernels says, else the mode's default. For accuracy the default is
        the arithmetic closest to a microcontroller: TFLM, unless it is not installed or cannot run
        this model (float16, hybrid, an op it lacks), then LiteRT reference, with the reason."""
        if config.kernels:
            return config.kernels, None
        kernels = cls.default_kernels.get(config.mode, "xnnpack")
        if kernels != TFLM_KERNELS:
            return kernels, None
        from tinyperf.device_runners.tflm import refusal

        error = refusal(config)
        if error is None:
            return kernels, None
        return "reference", f"LiteRT reference kernels, not TFLite Micro: {error.problem}"

    @classmethod
    def check_model(cls, config: RunnerConfig) -> None:
        session = cls().open(config)  # loading is the check: LiteRT (or TFLM) alone knows which ops it has
        try:
            if isinstance(session, HostSession):
                session.model.check_runs()  # ... and running once: some defects show only at invoke
        finally:
            session.close()  # (a TFLM session's model was already run once by its memory probe)
        if not isinstance(session, HostSession) and config.model is not None:
            # TFLM runs a weight whose data is missing (a flipped buffer index) without a word;
            # LiteRT checks every constant tensor at invoke, so a corrupt file is refused either way
            LiteRTModel(config.model.path, "reference", 1).check_runs()

    def open(self, config: RunnerConfig) -> HostSession:
        kernels, note = self.resolve_kernels(config)
        if kernels == TFLM_KERNELS:
            from tinyperf.device_runners.tflm import TflmSession

            session = TflmSession(config, note)
            session.runner_name = self.name
            return session  # type: ignore[return-value]
        host = HostSession(config, kernels=kernels)
        host.arithmetic_note = note
        return host
