"""Build the four MLPerf Tiny reference architectures with synthetic weights, as int8 .tflite.

Run as its own process (`python -m tinyperf.engine.build_default_models --out DIR`): it imports TensorFlow,
which the benchmarking process never does. tinyperf.engine.default_models starts it and caches the result.
Progress goes to stdout, one line each: `step: ...` (transient) or `done: ...` (a finished model).

What is built (layer for layer the MLPerf Tiny reference Keras models, Keras 2 API via tf_keras):
- kws01 DS-CNN small: conv 64 10x4/2, 4 x (depthwise 3x3 + pointwise 64), BN+ReLU after each,
  dropout 0.2 / 0.4, average pool 25x5, dense 12 softmax;
- vww01 MobileNetV1 alpha 0.25 at 96x96x3: conv 8 3x3/2, 13 depthwise-separable blocks
  (16, 32/2, 32, 64/2, 64, 128/2, 5 x 128, 256/2, 256), average pool 3x3, dense 2 softmax;
- ic01 ResNet-8: conv 16, three residual stacks of 16, 32/2, 64/2 filters (1x1/2 projection
  shortcuts), average pool 8x8, dense 10 softmax;
- ad01 autoencoder: dense 640-128-128-128-128-8-128-128-128-128-640, BN+ReLU after each hidden layer.

Weights are randomly initialised (untrained) with the reference layers' initializers, and the
BatchNorm statistics and dense biases are drawn at random too (see `randomize_statistics`), so that folded biases are
non-zero as in a trained model. Full-integer quantization with int8 input and output, per-channel
for convolutions and per-tensor for dense layers (as in the reference files), calibrated on
synthetic data drawn over each workload's real input range (see `calibration_inputs`).
Deterministic: fixed seeds, oneDNN off (the parent sets the environment).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import warnings
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tinyperf.engine.default_models import BUILT_WORKLOADS, NOTE, RECIPE_VERSION, SEED, model_file_name, sidecar_name
from tinyperf.core.native_stderr import native_stderr
from tinyperf.workloads.catalog import get_workload
from tinyperf.workloads.spec import Workload

CALIBRATION_SAMPLES = 32


def quant_range(scale: float, zero_point: int) -> tuple[float, float]:
    """The real interval an int8 tensor with these parameters covers."""
    return (-128 - zero_point) * scale, (127 - zero_point) * scale


# Float-coded inputs carry no byte range, so use the reference model's int8 input range: for ad01
# it is -84.9..+14.9 dB and covers the real ToyCar log-mel values (about -75..+10 dB).
FLOAT_INPUT_RANGES: dict[str, tuple[float, float]] = {"ad01": quant_range(0.3910152316093445, 89)}
# Outputs that are not a softmax get the reference model's output range (the last layer is rescaled
# to span it on the calibration set), so reconstructions come out in the same units as the reference.
OUTPUT_RANGES: dict[str, tuple[float, float]] = {"ad01": quant_range(0.36449846625328064, 96)}


def ds_cnn_small(keras) -> Any:
    layers, l2 = keras.layers, keras.regularizers.l2(1e-4)

    def bn_relu(x):
        return layers.Activation("relu")(layers.BatchNormalization()(x))

    inputs = keras.Input(shape=(49, 10, 1))
    x = layers.Conv2D(64, (10, 4), strides=(2, 2), padding="same", kernel_regularizer=l2)(inputs)
    x = layers.Dropout(0.2)(bn_relu(x))
    for _ in range(4):
        x = bn_relu(layers.DepthwiseConv2D((3, 3), padding="same")(x))
        x = bn_relu(layers.Conv2D(64, (1, 1), padding="same", kernel_regularizer=l2)(x))
    x = layers.Dropout(0.4)(x)
    x = layers.AveragePooling2D(pool_size=(int(x.shape[1]), int(x.shape[2])))(x)
    outputs = layers.Dense(12, activation="softmax")(layers.Flatten()(x))
    return keras.Model(inputs, outputs, name="ds_cnn_small")


def mobilenet_v1_025(keras) -> Any:
    layers, l2 = keras.layers, keras.regularizers.l2(1e-4)

    def conv(x, filters, kernel, strides=1):
        x = layers.Conv2D(filters, kernel, strides=strides, padding="same",
                          kernel_initializer="he_normal", kernel_regularizer=l2)(x)
        return layers.Activation("relu")(layers.BatchNormalization()(x))

    inputs = keras.Input(shape=(96, 96, 3))
    x = conv(inputs, 8, 3, strides=2)
    # (pointwise filters, depthwise stride) of the 13 blocks: MobileNetV1 widths x 0.25
    blocks = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)] + [(128, 1)] * 5 + [(256, 2), (256, 1)]
    for filters, stride in blocks:
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same")(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
        x = conv(x, filters, 1)
    x = layers.AveragePooling2D(pool_size=int(x.shape[1]))(x)
    outputs = layers.Dense(2, activation="softmax")(layers.Flatten()(x))
    return keras.Model(inputs, outputs, name="mobilenet_v1_025_96")


def resnet8(keras) -> Any:
    layers, l2 = keras.layers, keras.regularizers.l2(1e-4)

    def conv(x, filters, kernel, strides=1):
        return layers.Conv2D(filters, kernel, strides=strides, padding="same",
                             kernel_initializer="he_normal", kernel_regularizer=l2)(x)

    inputs = keras.Input(shape=(32, 32, 3))
    x = layers.Activation("relu")(layers.BatchNormalization()(conv(inputs, 16, 3)))
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        y = layers.Activation("relu")(layers.BatchNormalization()(conv(x, filters, 3, stride)))
        y = layers.BatchNormalization()(conv(y, filters, 3))
        shortcut = x if stride == 1 else conv(x, filters, 1, stride)
        x = layers.Activation("relu")(layers.add([shortcut, y]))
    x = layers.AveragePooling2D(pool_size=int(x.shape[1]))(x)
    outputs = layers.Dense(10, activation="softmax", kernel_initializer="he_normal")(layers.Flatten()(x))
    return keras.Model(inputs, outputs, name="resnet8")


def fc_autoencoder(keras) -> Any:
    layers = keras.layers
    inputs = keras.Input(shape=(640,))
    x = inputs
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = layers.Activation("relu")(layers.BatchNormalization()(layers.Dense(units)(x)))
    outputs = layers.Dense(640)(x)
    return keras.Model(inputs, outputs, name="fc_autoencoder_640")


ARCHITECTURES: dict[str, Callable[[Any], Any]] = {
    "kws01": ds_cnn_small,
    "vww01": mobilenet_v1_025,
    "ic01": resnet8,
    "ad01": fc_autoencoder,
}


def calibration_inputs(workload: Workload, rng: np.random.Generator, n: int = CALIBRATION_SAMPLES) -> np.ndarray:
    """Synthetic samples in the workload's own sample format, decoded exactly as the harness decodes them.

    Integer-coded samples (kws01 int8 MFCC, vww01/ic01 uint8 pixels) are uniform over the whole
    stored byte range; float-coded ones (ad01 log-mel dB) uniform over FLOAT_INPUT_RANGES. The first
    sample holds both extremes, so the int8 input quantization covers the full range the data can
    take and matches the reference model's (kws01 scale 0.5847 zp 83, vww01 1/255 -128, ic01 1 -128).
    """
    stored_dtype = np.dtype(workload.encoding.dtype)
    count = workload.upload_bytes // stored_dtype.itemsize
    if stored_dtype.kind in "iu":
        info = np.iinfo(stored_dtype)
        lo, hi = info.min, info.max
        stored = rng.integers(lo, hi, size=(n, count), endpoint=True).astype(stored_dtype)
    else:
        lo, hi = FLOAT_INPUT_RANGES[workload.id]
        stored = rng.uniform(lo, hi, size=(n, count)).astype(stored_dtype)
    stored[0, 0], stored[0, 1] = lo, hi
    return np.concatenate([workload.decode(row.tobytes()) for row in stored]).astype(np.float32)


def calibration_description(workload: Workload, samples: np.ndarray) -> dict[str, Any]:
    """What the calibration data was, for the model's provenance record."""
    stored = np.dtype(workload.encoding.dtype)
    if stored.kind in "iu":
        info = np.iinfo(stored)
        drawn = f"{stored.name} uniform over {info.min}..{info.max}"
    else:
        drawn = "float32 uniform over {:.2f}..{:.2f}".format(*FLOAT_INPUT_RANGES[workload.id])
    return {"samples": len(samples), "stored_values": drawn,
            "decoded_with": "the workload's InputEncoding (as the harness decodes .bin samples)",
            "real_min": float(samples.min()), "real_max": float(samples.max())}


def randomize_statistics(model: Any, rng: np.random.Generator) -> None:
    """Trained-looking BatchNorm state and dense biases instead of the identity/zeros they start as.

    With the initial state (mean 0, variance 1, gamma 1, beta 0, zero biases) every folded bias is
    exactly zero, and the converter then drops the bias tensors of dense layers: the file would not
    have the reference's tensors. Gains stay near 1 so activations keep their scale through deep stacks.
    """
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "BatchNormalization":
            n = layer.get_weights()[0].shape[0]
            gamma, beta = rng.uniform(0.8, 1.2, n), rng.normal(0.0, 0.1, n)
            mean, var = rng.normal(0.0, 0.1, n), rng.uniform(0.8, 1.2, n)
            layer.set_weights([w.astype(np.float32) for w in (gamma, beta, mean, var)])
        elif kind == "Dense" and layer.use_bias:
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0.0, 0.1, bias.shape).astype(np.float32)])


def fit_output_range(model: Any, samples: np.ndarray, target: tuple[float, float]) -> None:
    """Rescale the last (linear) layer so its outputs on `samples` span exactly `target`."""
    out = model.predict(samples, verbose=0)
    lo, hi = float(out.min()), float(out.max())
    gain = (target[1] - target[0]) / (hi - lo)
    shift = target[0] - gain * lo
    kernel, bias = model.layers[-1].get_weights()
    model.layers[-1].set_weights([kernel * gain, bias * gain + shift])


def convert_int8(tf, model: Any, samples: np.ndarray) -> bytes:
    """Full-integer post-training quantization, int8 input and output (as the reference models).

    The one int8 recipe: the default models and `tinyperf quantize`'s int8, pruned and clustered
    variants all convert through here.
    """

    def representative():
        for sample in samples:
            yield [sample[None, ...].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    # per-tensor dense weights as in the reference files (and older TFLite Micro kernels)
    converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    return converter.convert()


def io_details(path: Path) -> dict[str, Any]:
    """Shapes, types and quantization of the converted model, as LiteRT sees them."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()

    def describe(detail: dict[str, Any]) -> dict[str, Any]:
        scale, zero = detail["quantization"]
        return {"shape": [int(d) for d in detail["shape"]], "dtype": np.dtype(detail["dtype"]).name,
                "scale": float(scale), "zero_point": int(zero)}

    return {"input": describe(inp), "output": describe(out)}


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def build_one(tf, keras, workload: Workload, out_dir: Path, seed: int) -> dict[str, Any]:
    """Build, calibrate, convert and write one workload's model and its JSON record."""
    started = time.monotonic()
    keras.utils.set_random_seed(seed)  # per model: each file depends only on its recipe and the seed
    model = ARCHITECTURES[workload.id](keras)
    rng = np.random.default_rng(seed)
    randomize_statistics(model, rng)
    samples = calibration_inputs(workload, rng)
    if workload.id in OUTPUT_RANGES:
        fit_output_range(model, samples, OUTPUT_RANGES[workload.id])
    flatbuffer = convert_int8(tf, model, samples)
    path = out_dir / model_file_name(workload.id)
    path.write_bytes(flatbuffer)
    io = io_details(path)
    if tuple(io["input"]["shape"]) != workload.input_shape or tuple(io["output"]["shape"]) != workload.output_shape:
        raise SystemExit(f"{workload.id}: built model has I/O {io['input']['shape']} -> {io['output']['shape']}, "
                         f"expected {list(workload.input_shape)} -> {list(workload.output_shape)}")
    record = {
        "workload": workload.id,
        "architecture": workload.architecture,
        "keras_model": model.name,
        "note": NOTE,
        "weights": "untrained: randomly initialised with the reference layers' initializers, random BatchNorm statistics and dense biases",
        "recipe_version": RECIPE_VERSION,
        "seed": seed,
        "parameters": int(model.count_params()),
        "calibration": calibration_description(workload, samples),
        "io": io,
        "size_bytes": len(flatbuffer),
        "sha256": hashlib.sha256(flatbuffer).hexdigest(),
        "tensorflow": tf.__version__,
        "tf_keras": _version("tf-keras"),
        "build_seconds": round(time.monotonic() - started, 3),
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    (out_dir / sidecar_name(workload.id)).write_text(json.dumps(record, indent=2) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyperf.engine.build_default_models",
                                     description="Build the MLPerf Tiny reference architectures with synthetic "
                                                 "weights as int8 .tflite files (needs TensorFlow and tf-keras).")
    parser.add_argument("--out", required=True, type=Path, help="folder to write <workload>_arch_int8.tflite/.json into")
    parser.add_argument("--seed", type=int, default=SEED, help=f"weights and calibration seed (default {SEED})")
    parser.add_argument("--workload", action="append", choices=BUILT_WORKLOADS,
                        help="build only this workload (repeatable; default: all four)")
    args = parser.parse_args(argv)
    # must precede the TensorFlow import; run by hand, TensorFlow's CUDA probing and converter chatter
    # (it never uses a GPU here) would bury the progress lines
    for key, value in (("TF_CPP_MIN_LOG_LEVEL", "3"), ("TF_USE_LEGACY_KERAS", "1"), ("TF_ENABLE_ONEDNN_OPTS", "0"),
                       ("CUDA_VISIBLE_DEVICES", "")):
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore", module=r"(tensorflow|tf_keras|keras)(\.|$)")
    with native_stderr(keep_line=lambda line: False):  # CUDA probing, converter parameters: all noise
        return _build(args)


def _build(args: argparse.Namespace) -> int:
    started = time.monotonic()
    print("step: TensorFlow", flush=True)
    import absl.logging
    import tensorflow as tf
    import tf_keras as keras

    tf.get_logger().setLevel("ERROR")
    absl.logging.set_verbosity(absl.logging.ERROR)
    print(f"done: TensorFlow {tf.__version__} imported ({time.monotonic() - started:.1f} s)", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    for workload_id in args.workload or BUILT_WORKLOADS:
        workload = get_workload(workload_id)
        print(f"step: {workload_id}", flush=True)
        record = build_one(tf, keras, workload, args.out, args.seed)
        print(f"done: {workload_id} {workload.architecture}: {record['parameters']:,} parameters, "
              f"{record['size_bytes']:,} B int8 ({record['build_seconds']:.1f} s)", flush=True)
    print(f"step: all built in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
