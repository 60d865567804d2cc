"""Which TFLM kernel serves each TFLite builtin op: the resolver call and the kernel's file stem.

A registry, not an if-chain: supporting one more op is one line. The stem names
`tensorflow/lite/micro/kernels/<stem>.cc` (or `kernels/cmsis_nn/<stem>.cc` when CMSIS-NN has an
optimized version); the kernel's shared code (`<stem>_common.cc`) comes with its header.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpKernel:
    resolver_call: str  # MicroMutableOpResolver method
    stem: str  # kernel source file stem


OPS: dict[str, OpKernel] = {
    "ADD": OpKernel("AddAdd", "add"),
    "AVERAGE_POOL_2D": OpKernel("AddAveragePool2D", "pooling"),
    "BATCH_MATMUL": OpKernel("AddBatchMatMul", "batch_matmul"),
    "CONCATENATION": OpKernel("AddConcatenation", "concatenation"),
    "CONV_2D": OpKernel("AddConv2D", "conv"),
    "DEPTHWISE_CONV_2D": OpKernel("AddDepthwiseConv2D", "depthwise_conv"),
    "DEQUANTIZE": OpKernel("AddDequantize", "dequantize"),
    "EXPAND_DIMS": OpKernel("AddExpandDims", "expand_dims"),
    "FULLY_CONNECTED": OpKernel("AddFullyConnected", "fully_connected"),
    "HARD_SWISH": OpKernel("AddHardSwish", "hard_swish"),
    "LEAKY_RELU": OpKernel("AddLeakyRelu", "leaky_relu"),
    "LOGISTIC": OpKernel("AddLogistic", "logistic"),
    "MAXIMUM": OpKernel("AddMaximum", "maximum_minimum"),
    "MAX_POOL_2D": OpKernel("AddMaxPool2D", "pooling"),
    "MEAN": OpKernel("AddMean", "reduce"),
    "MINIMUM": OpKernel("AddMinimum", "maximum_minimum"),
    "MUL": OpKernel("AddMul", "mul"),
    "PACK": OpKernel("AddPack", "pack"),
    "PAD": OpKernel("AddPad", "pad"),
    "QUANTIZE": OpKernel("AddQuantize", "quantize"),
    "RELU": OpKernel("AddRelu", "activations"),
    "RELU6": OpKernel("AddRelu6", "activations"),
    "RESHAPE": OpKernel("AddReshape", "reshape"),
    "RESIZE_NEAREST_NEIGHBOR": OpKernel("AddResizeNearestNeighbor", "resize_nearest_neighbor"),
    "SHAPE": OpKernel("AddShape", "shape"),
    "SOFTMAX": OpKernel("AddSoftmax", "softmax"),
    "SQUEEZE": OpKernel("AddSqueeze", "squeeze"),
    "STRIDED_SLICE": OpKernel("AddStridedSlice", "strided_slice"),
    "SUB": OpKernel("AddSub", "sub"),
    "TANH": OpKernel("AddTanh", "tanh"),
    "TRANSPOSE": OpKernel("AddTranspose", "transpose"),
    "TRANSPOSE_CONV": OpKernel("AddTransposeConv", "transpose_conv"),
}
