"""A .tflite flatbuffer read as a plain graph: ops in execution order, tensors with type and shape.

Read with the flatbuffer schema that ships in the `tflite-micro` package (no TensorFlow, no
interpreter), so it works for models no interpreter here can load, which is exactly when a user
needs to know what is inside (a float16 weight, a hybrid op, an op TFLite Micro lacks).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from tinyperf.core.errors import ModelError

#: bytes per element of each TFLite tensor type (4-bit and 2-bit types are packed, sizes rounded up)
TYPE_BYTES = {"FLOAT32": 4, "FLOAT16": 2, "INT32": 4, "UINT8": 1, "INT64": 8, "STRING": 1, "BOOL": 1, "INT16": 2,
              "COMPLEX64": 8, "INT8": 1, "FLOAT64": 8, "COMPLEX128": 16, "UINT64": 8, "RESOURCE": 0, "VARIANT": 0,
              "UINT32": 4, "UINT16": 2, "INT4": 0.5, "BFLOAT16": 2, "INT2": 0.25}


@cache
def _schema() -> Any:
    try:
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated
    except ImportError as exc:
        raise ModelError(None, f"the TFLite flatbuffer schema is not importable ({exc})",
                         "install tflite-micro (`python -m pip install tflite-micro`)") from None
    return schema_py_generated


def _names(enum: Any) -> dict[int, str]:
    return {v: k for k, v in vars(enum).items() if not k.startswith("_")}


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    type: str
    shape: tuple[int, ...]
    constant: bool  # data stored in the flatbuffer (weights, biases, shapes)
    scales: int  # quantization scales: 0 = not quantized, >1 = per channel
    variable: bool = False  # state kept across invokes (e.g. an RNN's), written by the graph itself

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def bytes(self) -> int:
        return int(np.ceil(self.elements * TYPE_BYTES.get(self.type, 0)))


@dataclass(frozen=True)
class Op:
    index: int
    type: str  # builtin operator name, e.g. CONV_2D; custom ops as CUSTOM:<code>
    version: int
    inputs: tuple[int, ...]  # tensor indices, -1 for an omitted optional input
    outputs: tuple[int, ...]
    options: Any  # the schema's options object (strides, padding, ...), None where the op has none


@dataclass(frozen=True)
class Graph:
    """The first subgraph (MLPerf Tiny models have one) plus what the file holds."""

    tensors: tuple[Tensor, ...]
    ops: tuple[Op, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    subgraphs: int
    model: Any  # the schema's ModelT, for tools that rewrite the graph (per-op timing)

    def tensor(self, index: int) -> Tensor | None:
        return self.tensors[index] if index >= 0 else None


def read_graph(path: Path | None = None, data: bytes | None = None) -> Graph:
    """Parse a .tflite file (or its bytes) into a Graph; a broken file is one clear ModelError."""
    s = _schema()
    if data is None:
        assert path is not None
        data = Path(path).read_bytes()
    try:
        model = s.ModelT.InitFromObj(s.Model.GetRootAsModel(bytearray(data), 0))
        sub = model.subgraphs[0]
    except Exception as exc:  # flatbuffers raises assorted errors on truncated data
        raise ModelError(path, f"cannot read the flatbuffer ({type(exc).__name__}: {exc})",
                         "the file is corrupt or truncated: re-download or re-convert it") from None
    op_names, type_names = _names(s.BuiltinOperator), _names(s.TensorType)
    tensors = []
    for i, t in enumerate(sub.tensors or []):
        buf = model.buffers[t.buffer] if model.buffers is not None and 0 < t.buffer < len(model.buffers) else None
        constant = buf is not None and (buf.data is not None and len(buf.data) > 0 or bool(buf.size))
        scales = len(t.quantization.scale) if t.quantization is not None and t.quantization.scale is not None else 0
        name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
        shape = tuple(int(d) for d in t.shape) if t.shape is not None else ()
        tensors.append(Tensor(i, name, type_names.get(t.type, str(t.type)), shape, constant, scales, bool(t.isVariable)))
    ops = []
    for i, op in enumerate(sub.operators or []):
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        name = op_names.get(builtin, str(builtin))
        if name == "CUSTOM":
            custom = code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode
            name = f"CUSTOM:{custom}"
        ops.append(Op(i, name, int(code.version), tuple(int(x) for x in (op.inputs if op.inputs is not None else ())),
                      tuple(int(x) for x in (op.outputs if op.outputs is not None else ())), op.builtinOptions))
    return Graph(tuple(tensors), tuple(ops), tuple(int(x) for x in sub.inputs), tuple(int(x) for x in sub.outputs),
                 len(model.subgraphs), model)


def short(name: str, width: int = 40) -> str:
    """A tensor name fit for a one-line message (converters join whole op paths with ';')."""
    name = name.split(";")[0]
    return name if len(name) <= width else name[: width - 1] + "…"


def missing_data(graph: Graph) -> str | None:
    """An op input that nothing fills: not a constant, not a model input, made by no earlier op.

    LiteRT refuses such a file at invoke ("lacks data"); TFLM would run it on whatever the arena
    holds, so it is caught here, from the graph, for every TFLM path."""
    filled = set(graph.inputs)
    for op in graph.ops:
        for i in op.inputs:
            t = graph.tensor(i)
            if t is not None and not (t.constant or t.variable or i in filled):
                return f"op {op.index} {op.type} reads tensor '{short(t.name)}', which lacks data (no buffer, no producer)"
        filled.update(op.outputs)
    return None


def float_input(graph: Graph, op: Op) -> bool:
    first = graph.tensor(op.inputs[0]) if op.inputs else None
    return first is not None and first.type == "FLOAT32"


def unsupported_by_micro(graph: Graph) -> str | None:
    """Why TFLite Micro cannot run this graph, from the graph alone, or None when nothing is seen.

    TFLM has no float16 arithmetic (a float16 model stores float16 weights that DEQUANTIZE widens at
    load time; TFLM's DEQUANTIZE reads only integer types) and no hybrid kernels (dynamic-range
    quantization keeps float activations and int8 weights in one op)."""
    f16 = [t for t in graph.tensors if t.type == "FLOAT16"]
    if f16:
        return (f"{len(f16)} float16 tensor(s) (e.g. '{short(f16[0].name)}'): TFLite Micro has no float16 arithmetic, "
                "and its DEQUANTIZE reads only int8/int16/uint8")
    for op in graph.ops:
        if not float_input(graph, op):
            continue
        for i in op.inputs[1:]:
            t = graph.tensor(i)
            if t is not None and t.constant and t.type in ("INT8", "INT4", "UINT8"):
                return (f"op {op.index} {op.type} is a dynamic-range (hybrid) op: float32 activations with "
                        f"{t.type.lower()} weights ('{short(t.name)}'), which TFLite Micro has no kernel for")
    return None
