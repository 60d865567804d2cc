"""What is inside a .tflite, read with LiteRT (no TensorFlow): file sizes and weight statistics.

Pruning and clustering do not shrink a flatbuffer (every weight is still stored); they pay off
once the file is compressed, so the gzip size is reported next to the size on disk, and the
weights are checked directly: the fraction of zeros, and how many distinct values each output
channel holds.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: ops whose second input is the weight tensor, and the axis of their output channels
WEIGHT_OPS = {"FULLY_CONNECTED": 0, "CONV_2D": 0, "DEPTHWISE_CONV_2D": 3}


def gzip_size(path: Path) -> int:
    """Bytes after gzip -9: what pruning and clustering save in storage or over the air."""
    return len(gzip.compress(Path(path).read_bytes(), compresslevel=9, mtime=0))


@dataclass(frozen=True)
class LayerWeights:
    name: str
    op: str
    dtype: str
    size: int
    zeros: int
    distinct: int  # distinct values in the whole tensor
    max_distinct_per_channel: int  # the most distinct values any one output channel holds


def layer_weights(path: Path, model: Any = None) -> list[LayerWeights]:
    """Weight tensors of conv, depthwise and dense ops, in execution order (through float16 DEQUANTIZE)."""
    from tinyperf.device_runners.host import LiteRTModel

    interpreter = (model or LiteRTModel(path, "builtin", 1)).interpreter
    ops = interpreter._get_ops_details()  # the op list is not in the public API
    produced_by = {out: op for op in ops for out in op["outputs"]}
    names = {t["index"]: t["name"] for t in interpreter.get_tensor_details()}
    out = []
    for op in ops:
        axis = WEIGHT_OPS.get(op["op_name"])
        if axis is None or len(op["inputs"]) < 2:
            continue
        index = int(op["inputs"][1])
        producer = produced_by.get(index)
        if producer is not None and producer["op_name"] == "DEQUANTIZE":
            index = int(producer["inputs"][0])
        try:
            weights = np.array(interpreter.get_tensor(index))
        except ValueError:  # not a constant (e.g. a weight computed at run time)
            continue
        channels = np.moveaxis(weights, axis, 0).reshape(weights.shape[axis], -1)
        per_channel = max(int(np.unique(row).size) for row in channels) if channels.size else 0
        out.append(LayerWeights(names.get(index, str(index)), op["op_name"], weights.dtype.name, int(weights.size),
                                int(np.sum(weights == 0)), int(np.unique(weights).size), per_channel))
    return out


def model_summary(path: Path) -> dict[str, Any]:
    """Whole-model figures for the comparison table: I/O types and weight statistics."""
    from tinyperf.device_runners.host import LiteRTModel

    model = LiteRTModel(path, "builtin", 1)
    layers = layer_weights(path, model)
    total = sum(layer.size for layer in layers)
    return {
        "input_dtype": model.input_dtype,
        "output_dtype": np.dtype(model.output["dtype"]).name,
        "weights": total,
        "weight_dtypes": ",".join(sorted({layer.dtype for layer in layers})),
        "weight_sparsity": sum(layer.zeros for layer in layers) / total if total else None,
        "max_distinct_per_channel": max((layer.max_distinct_per_channel for layer in layers), default=None),
    }
