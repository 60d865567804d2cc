"""Models TFLite Micro cannot run, made from the real reference models by editing the flatbuffer.

No TensorFlow: the schema's object API rewrites one tensor or op, which is exactly the property
under test (a float16 weight, an op TFLM lacks) and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s


def _read(path: Path):
    return s.ModelT.InitFromObj(s.Model.GetRootAsModel(bytearray(path.read_bytes()), 0))


def _write(model, out: Path) -> Path:
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    out.write_bytes(bytes(builder.Output()))
    return out


def float16_weights(float_model: Path, out: Path) -> Path:
    """The float32 model with its first op's weights stored as float16 and widened by DEQUANTIZE,
    as the converter's float16 quantization stores them."""
    model = _read(float_model)
    sub = model.subgraphs[0]
    first = sub.operators[0]
    w = int(first.inputs[1])
    weights = sub.tensors[w]
    values = np.frombuffer(bytes(model.buffers[weights.buffer].data), dtype="<f4")
    half = s.BufferT()
    half.data = np.frombuffer(values.astype("<f2").tobytes(), dtype=np.uint8)
    model.buffers.append(half)
    t16 = s.TensorT()
    t16.shape, t16.type, t16.buffer, t16.name = list(weights.shape), s.TensorType.FLOAT16, len(model.buffers) - 1, b"w16"
    sub.tensors.append(t16)
    weights.buffer = 0  # now computed at load time by DEQUANTIZE
    code = s.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.DEQUANTIZE
    code.version = 1
    model.operatorCodes.append(code)
    deq = s.OperatorT()
    deq.opcodeIndex, deq.inputs, deq.outputs = len(model.operatorCodes) - 1, [len(sub.tensors) - 1], [w]
    sub.operators.insert(0, deq)
    return _write(model, out)


def with_op_renamed(model_path: Path, op: str, to: str, out: Path) -> Path:
    """The model with every `op` replaced by builtin `to` (an op TFLite Micro lacks)."""
    model = _read(model_path)
    for code in model.operatorCodes:
        if max(code.builtinCode, code.deprecatedBuiltinCode) == getattr(s.BuiltinOperator, op):
            code.builtinCode = getattr(s.BuiltinOperator, to)
            code.deprecatedBuiltinCode = min(code.builtinCode, 127)
    return _write(model, out)
