"""Per-op cost of a model: type, MACs, parameter and activation bytes, and host time per op.

- MACs: multiply-accumulates of the ops that do them (CONV_2D, DEPTHWISE_CONV_2D,
  FULLY_CONNECTED, TRANSPOSE_CONV, BATCH_MATMUL), from the tensor shapes; pooling, elementwise
  and data-movement ops count 0. The model total is their sum.
- parameter bytes: the op's constant inputs as stored in the flatbuffer (weights, biases).
- activation bytes: the op's non-constant inputs and outputs, which must all be in RAM while it runs
  (the peak of these over the ops is a lower bound for the activation part of an arena).
- host time: our own method, by splitting. Each op is cut out into a one-op model (same tensors,
  same constants) and invoked on the values it sees in a full inference of a synthetic input,
  on the chosen kernels; the figure is the median of repeated invokes. It includes one
  interpreter dispatch per op and runs each op with warm caches, so the ops' sum differs a little
  from the whole model's time, which is measured the same way and printed beside it. Host time
  ranks the layers on this machine; it is not a board's time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinyperf.core.errors import ModelError
from tinyperf.core.tflite_graph import Graph, Op, read_graph

#: per op: repeat invokes until this much time or this many runs, whichever first
TIME_BUDGET_S = 0.05
MAX_RUNS = 2000
MIN_RUNS = 5


def _prod(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape)) if shape else 1


def op_macs(graph: Graph, op: Op) -> int:
    """Multiply-accumulates of one op, from its tensor shapes (0 for ops that do none)."""
    out = graph.tensor(op.outputs[0]) if op.outputs else None
    weights = graph.tensor(op.inputs[1]) if len(op.inputs) > 1 else None
    if out is None or weights is None:
        return 0
    if op.type == "CONV_2D":  # filter [out_c, kh, kw, in_c per group]
        return out.elements * _prod(weights.shape[1:])
    if op.type == "DEPTHWISE_CONV_2D":  # filter [1, kh, kw, out_c]: one kh x kw window per output value
        return out.elements * _prod(weights.shape[1:3])
    if op.type == "FULLY_CONNECTED":  # weights [units, in]
        return out.elements * int(weights.shape[-1])
    if op.type == "BATCH_MATMUL":  # [.., m, k] x [.., k, n]
        first = graph.tensor(op.inputs[0])
        return out.elements * int(first.shape[-1]) if first is not None and first.shape else 0
    if op.type == "TRANSPOSE_CONV":  # inputs: output shape, filter [out_c, kh, kw, in_c], input
        filt = graph.tensor(op.inputs[1])
        data = graph.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
        if filt is None or data is None:
            return 0
        return data.elements * _prod(filt.shape[:3])
    return 0


@dataclass(frozen=True)
class OpCost:
    index: int
    type: str
    output_shape: tuple[int, ...]
    macs: int
    param_bytes: int
    activation_bytes: int
    host_us: float | None = None


def op_costs(graph: Graph) -> list[OpCost]:
    """Static figures of every op in execution order (no timing)."""
    out = []
    for op in graph.ops:
        tensors = [graph.tensor(i) for i in (*op.inputs, *op.outputs)]
        params = sum(t.bytes for t in tensors[:len(op.inputs)] if t is not None and t.constant)
        acts = sum(t.bytes for t in tensors if t is not None and not t.constant)
        first = graph.tensor(op.outputs[0]) if op.outputs else None
        out.append(OpCost(op.index, op.type, first.shape if first else (), op_macs(graph, op), params, acts))
    return out


def one_op_model(graph: Graph, op: Op) -> bytes:
    """A .tflite holding only `op`: its non-constant inputs become the model's inputs."""
    import flatbuffers

    model = graph.model
    sub = model.subgraphs[0]
    saved = (sub.operators, sub.inputs, sub.outputs, model.subgraphs, model.signatureDefs)
    try:
        sub.operators = [saved[0][op.index]]
        sub.inputs = [i for i in op.inputs if i >= 0 and not graph.tensors[i].constant]
        sub.outputs = list(op.outputs)
        model.subgraphs, model.signatureDefs = [sub], None
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())
    finally:
        sub.operators, sub.inputs, sub.outputs, model.subgraphs, model.signatureDefs = saved


def _median_us(run: Any) -> float:
    """Median wall time of `run()` in microseconds, over a bounded number of repeats."""
    run()  # warm: the first invoke allocates and packs
    times: list[int] = []
    start = time.perf_counter()
    while len(times) < MAX_RUNS and (len(times) < MIN_RUNS or time.perf_counter() - start < TIME_BUDGET_S):
        t0 = time.perf_counter_ns()
        run()
        times.append(time.perf_counter_ns() - t0)
    return float(np.median(times)) / 1000.0


class _LiteRT:
    """Time a model's bytes on LiteRT kernels; inputs are set once (LiteRT keeps them)."""

    def __init__(self, kernels: str):
        self.kernels = kernels

    def timer(self, content: bytes, inputs: list[np.ndarray]) -> Any:
        from ai_edge_litert.interpreter import Interpreter

        from tinyperf.device_runners.host import _native_stderr_filtered, _resolver

        with _native_stderr_filtered():
            interp = Interpreter(model_content=content, num_threads=1,
                                 experimental_op_resolver_type=_resolver(self.kernels))
            interp.allocate_tensors()
        for detail, value in zip(interp.get_input_details(), inputs):
            interp.set_tensor(detail["index"], value)
        return interp.invoke


class _Tflm:
    """Time a model's bytes on TFLM; inputs are set before every invoke (TFLM overwrites them), untimed."""

    def __init__(self, path: Path):
        self.path = path

    def timer(self, content: bytes, inputs: list[np.ndarray]) -> Any:
        from tinyperf.core import tflm

        interp, _ = tflm.load(self.path, data=content)

        def run() -> None:
            for k, value in enumerate(inputs):
                interp.set_input(value, k)
            interp.invoke()

        return run


def tensor_values(path: Path, graph: Graph) -> dict[int, np.ndarray]:
    """Every tensor's value in one inference of a mid-range synthetic input (LiteRT reference kernels)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from tinyperf.device_runners.host import _load_fix

    try:
        interp = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                             experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(path, f"LiteRT cannot load this model to trace its tensors ({first})", _load_fix(str(exc))) from None
    rng = np.random.default_rng(0)
    for d in interp.get_input_details():
        dtype = np.dtype(d["dtype"])
        if dtype.kind == "f":
            value = rng.standard_normal(d["shape"]).astype(dtype)
        else:
            info = np.iinfo(dtype)
            value = rng.integers(info.min, info.max, d["shape"], endpoint=True).astype(dtype)
        interp.set_tensor(d["index"], value)
    interp.invoke()
    values = {}
    for op in graph.ops:
        for i in op.inputs:
            if i >= 0 and not graph.tensors[i].constant and i not in values:
                values[i] = np.array(interp.get_tensor(i))
    return values


def profile(path: Path, kernels: str = "reference") -> tuple[list[OpCost], float | None]:
    """(per-op costs with host time on `kernels`, whole-model time in us measured the same way)."""
    graph = read_graph(path)
    costs = op_costs(graph)
    timer = _Tflm(path) if kernels == "tflm-reference" else _LiteRT(kernels)
    values = tensor_values(path, graph)
    whole = _median_us(timer.timer(Path(path).read_bytes(), [values[i] for i in graph.inputs]))  # refuses first
    timed = []
    for op, cost in zip(graph.ops, costs):
        inputs = [values[i] for i in op.inputs if i >= 0 and not graph.tensors[i].constant]
        run = timer.timer(one_op_model(graph, op), inputs)
        timed.append(OpCost(**{**vars(cost), "host_us": _median_us(run)}))
    return timed, whole
