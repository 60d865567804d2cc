"""TensorFlow subprocess of `tinyperf quantize`: convert one Keras model into its variants.

Run as `python -m tinyperf.quantize.build --workload ad01 --keras ad01.h5 --out DIR --variants ...`.
Writes `<workload>_<variant>.tflite` and `<workload>_<variant>.json` (the recipe, versions,
calibration source, sha256) per variant. A variant that fails to convert gets a JSON record with
status "failed" and the error, and the others are still built. Progress goes to stdout, one line
per event: `step: <variant>`, `done: <variant> <text>`, `failed: <variant>: <error>`.

The recipes (Keras 2 API via tf_keras, tensorflow_model_optimization for pruning, clustering, QAT):
- float32: TFLiteConverter.from_keras_model, nothing else;
- float16: Optimize.DEFAULT + supported_types [float16];
- dynamic: Optimize.DEFAULT without representative data (int8 weights, float activations);
- int8: Optimize.DEFAULT + representative data + TFLITE_BUILTINS_INT8, int8 input and output,
  per-tensor dense weights (as the reference files);
- int16x8: representative data + EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8, int16 I/O;
- pruned: prune_low_magnitude with ConstantSparsity, the magnitude mask applied once without
  training, strip_pruning, then the int8 recipe;
- clustered: cluster_weights (k-means++ centroids) without training, strip_clustering, then int8;
- qat: quantize_model; BatchNorm frozen and dropout off, then one training-mode pass over the
  calibration samples with the moving-average decay set to 0, so every fake-quant range is the
  min/max over those samples (what PTQ calibration does); no weight update; converted to int8 I/O.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import traceback
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from tinyperf.engine.build_default_models import _version, convert_int8, io_details
from tinyperf.quantize.recipes import DEFAULT_CLUSTERS, DEFAULT_SPARSITY, RECIPES, parse_variants
from tinyperf.quantize.sources import path_sha256
from tinyperf.workloads.catalog import get_workload


def variant_stem(workload_id: str, variant: str) -> str:
    return f"{workload_id}_{variant}"


class Builder:
    """Holds TensorFlow and the inputs; one method per recipe returns the flatbuffer."""

    def __init__(self, tf: Any, keras: Any, tfmot: Any, keras_path: Path, calibration: np.ndarray | None,
                 sparsity: float, clusters: int, seed: int):
        self.tf, self.keras, self.tfmot = tf, keras, tfmot
        self.keras_path = keras_path
        self.calibration = calibration
        self.sparsity, self.clusters, self.seed = sparsity, clusters, seed
        self.facts: dict[str, Any] = {}  # recipe-specific measurements for the record

    def load(self) -> Any:
        """A fresh copy for every variant: tfmot wrappers must never touch another variant's weights."""
        self.keras.utils.set_random_seed(self.seed)
        return self.keras.models.load_model(str(self.keras_path), compile=False)

    def _representative(self) -> Callable[[], Iterator[list[np.ndarray]]]:
        if self.calibration is None:
            raise RuntimeError("this recipe needs calibration samples (--calibration FILE.npy)")
        samples = self.calibration

        def generate() -> Iterator[list[np.ndarray]]:
            for sample in samples:
                yield [sample[None, ...].astype(np.float32)]

        return generate

    def _converter(self, model: Any) -> Any:
        return self.tf.lite.TFLiteConverter.from_keras_model(model)

    def _int8(self, model: Any) -> bytes:
        if self.calibration is None:
            raise RuntimeError("this recipe needs calibration samples (--calibration FILE.npy)")
        return convert_int8(self.tf, model, self.calibration)  # the default models' recipe, exactly

    # -- the recipes --------------------------------------------------------------------------
    def float32(self) -> bytes:
        return self._converter(self.load()).convert()

    def float16(self) -> bytes:
        converter = self._converter(self.load())
        converter.optimizations = [self.tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [self.tf.float16]
        return converter.convert()

    def dynamic(self) -> bytes:
        converter = self._converter(self.load())
        converter.optimizations = [self.tf.lite.Optimize.DEFAULT]
        return converter.convert()

    def int8(self) -> bytes:
        return self._int8(self.load())

    def int16x8(self) -> bytes:
        tf = self.tf
        converter = self._converter(self.load())
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = self._representative()
        converter.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        converter.inference_input_type = tf.int16
        converter.inference_output_type = tf.int16
        return converter.convert()

    def pruned(self) -> bytes:
        from tensorflow_model_optimization.python.core.sparsity.keras import pruning_wrapper

        sparsity = self.tfmot.sparsity.keras
        schedule = sparsity.ConstantSparsity(self.sparsity, begin_step=0, frequency=1)
        wrapped = sparsity.prune_low_magnitude(self.load(), pruning_schedule=schedule)
        for layer in wrapped.layers:
            if isinstance(layer, pruning_wrapper.PruneLowMagnitude):
                layer.pruning_step.assign(0)  # step 0 is a pruning step of the schedule
                layer.pruning_obj.conditional_mask_update()  # mask = |w| above the sparsity quantile
                layer.pruning_obj.weight_mask_op()  # w *= mask, once: no training follows
        model = sparsity.strip_pruning(wrapped)
        kernels = _kernels(model)
        zeros = sum(int(np.sum(k == 0)) for k in kernels.values())
        total = sum(k.size for k in kernels.values())
        self.facts["keras_sparsity"] = zeros / total if total else None
        self.facts["target_sparsity"] = self.sparsity
        self.facts["pruned_layers"] = {name: float(np.mean(k == 0)) for name, k in kernels.items()}
        return self._int8(model)

    def clustered(self) -> bytes:
        clustering = self.tfmot.clustering.keras
        init = clustering.CentroidInitialization.KMEANS_PLUS_PLUS
        wrapped = clustering.cluster_weights(self.load(), number_of_clusters=self.clusters,
                                             cluster_centroids_init=init)
        model = clustering.strip_clustering(wrapped)
        kernels = _kernels(model)
        self.facts["clusters"] = self.clusters
        self.facts["distinct_weights_per_layer"] = {name: int(np.unique(k).size) for name, k in kernels.items()}
        return self._int8(model)

    def qat(self) -> bytes:
        if self.calibration is None:
            raise RuntimeError("qat needs calibration samples to set its fake-quant ranges")
        tf = self.tf
        model, folded = fold_dense_batchnorm(self.keras, self.load())
        self.facts["dense_batchnorm_folded"] = folded
        for layer in model.layers:
            if type(layer).__name__ == "BatchNormalization":
                layer.trainable = False  # inference-mode statistics even in a training-mode pass
        qmodel = self.tfmot.quantization.keras.quantize_model(model)
        for layer in _all_layers(qmodel):
            if type(layer).__name__ == "Dropout":
                layer.rate = 0.0
        with _ranges_from_one_batch():
            qmodel(tf.constant(self.calibration), training=True)
        converter = self._converter(qmodel)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        self.facts["qat_training_steps"] = 0
        self.facts["range_calibration"] = f"min/max over {len(self.calibration)} calibration samples in one pass"
        return converter.convert()


def fold_dense_batchnorm(keras: Any, model: Any) -> tuple[Any, list[str]]:
    """Fold each BatchNormalization that directly follows a Dense layer into that layer.

    tfmot's QAT patterns fold BatchNorm into convolutions but not into dense layers: unfolded, the
    BatchNorm stays a float op between quantize/dequantize pairs and the "int8" file is mostly float.
    The BatchNorm becomes a linear Activation (clone_model needs one layer for each), and the Dense
    gets W * s and (b - mean) * s + beta with s = gamma / sqrt(var + eps): the same function.
    """
    dense_of: dict[str, Any] = {}
    for layer in model.layers:
        if type(layer).__name__ != "BatchNormalization" or len(layer.inbound_nodes) != 1:
            continue
        inbound = layer.inbound_nodes[0].inbound_layers
        source = inbound[0] if isinstance(inbound, list) and len(inbound) == 1 else inbound
        if type(source).__name__ == "Dense" and len(source.outbound_nodes) == 1 and source.use_bias is not None:
            dense_of[layer.name] = source
    if not dense_of:
        return model, []

    def clone(layer: Any) -> Any:
        if layer.name in dense_of:
            return keras.layers.Activation("linear", name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    folded = keras.models.clone_model(model, clone_function=clone)
    folded_weights: dict[str, list[np.ndarray]] = {}
    for bn_name, dense in dense_of.items():
        bn = model.get_layer(bn_name)
        config = bn.get_config()
        values = dict(zip([w.name.split("/")[-1].split(":")[0] for w in bn.weights], bn.get_weights()))
        gamma = values.get("gamma", 1.0) if config.get("scale", True) else 1.0
        beta = values.get("beta", 0.0) if config.get("center", True) else 0.0
        s = gamma / np.sqrt(values["moving_variance"] + config["epsilon"])
        kernel, *rest = dense.get_weights()
        bias = rest[0] if rest else np.zeros(kernel.shape[-1], np.float32)
        folded_weights[dense.name] = [(kernel * s).astype(np.float32),
                                      ((bias - values["moving_mean"]) * s + beta).astype(np.float32)]
    for layer in folded.layers:
        if layer.name in dense_of:
            continue
        if layer.name in folded_weights:
            if not layer.use_bias:
                raise RuntimeError(f"cannot fold BatchNorm into {layer.name}: it has no bias")
            layer.set_weights(folded_weights[layer.name])
        else:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return folded, sorted(dense_of)


def _all_layers(model: Any) -> list[Any]:
    out = []
    for layer in model.layers:
        out.append(layer)
        inner = getattr(layer, "layer", None)
        if inner is not None:
            out.append(inner)
    return out


def _kernels(model: Any) -> dict[str, np.ndarray]:
    """The weight tensors pruning and clustering act on (kernels of conv, depthwise and dense layers)."""
    out = {}
    for layer in model.layers:
        for weight in layer.weights:
            short = weight.name.split("/")[-1].split(":")[0]
            if short in ("kernel", "depthwise_kernel"):
                out[f"{layer.name}/{short}"] = weight.numpy()
    return out


@contextmanager
def _ranges_from_one_batch() -> Iterator[None]:
    """tfmot's moving-average quantizers with decay 0: one pass sets each range to that batch's min/max."""
    from tensorflow_model_optimization.python.core.quantization.keras import quant_ops

    original = quant_ops.MovingAvgQuantize

    def no_memory(*args: Any, **kwargs: Any) -> Any:
        kwargs["ema_decay"] = 0.0
        return original(*args, **kwargs)

    quant_ops.MovingAvgQuantize = no_memory
    try:
        yield
    finally:
        quant_ops.MovingAvgQuantize = original


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # converter errors put the useful "error: ..." line deep inside a long message
    for ln in lines:
        if ln.lower().startswith("error:") or "error: " in ln.lower():
            return f"{type(exc).__name__}: {ln[:300]}"
    return f"{type(exc).__name__}: {lines[0][:300]}" if lines else type(exc).__name__


def build_variant(builder: Builder, workload_id: str, variant: str, out_dir: Path,
                  common: dict[str, Any], calibration_info: dict[str, Any] | None) -> dict[str, Any]:
    """Build one variant; always returns (and writes) its record, with status ok or failed."""
    recipe = RECIPES[variant]
    stem = variant_stem(workload_id, variant)
    started = time.monotonic()
    builder.facts = {}
    record: dict[str, Any] = {
        "workload": workload_id, "variant": variant, "title": recipe.title, "recipe_note": recipe.note,
        "io": recipe.io, **common,
        "calibration": calibration_info if recipe.calibrated else None,
    }
    try:
        flatbuffer = getattr(builder, variant)()
        path = out_dir / f"{stem}.tflite"
        path.write_bytes(flatbuffer)
        record.update({
            "status": "ok", "file": path.name, "size_bytes": len(flatbuffer),
            "sha256": hashlib.sha256(flatbuffer).hexdigest(), "io_details": io_details(path),
        })
    except Exception as exc:  # one broken recipe must not stop the others
        record.update({"status": "failed", "error": _first_line(exc), "traceback": traceback.format_exc()[-4000:]})
    record["facts"] = builder.facts
    record["build_seconds"] = round(time.monotonic() - started, 3)
    record["built_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    (out_dir / f"{stem}.json").write_text(json.dumps(record, indent=2, default=float) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tinyperf.quantize.build",
                                     description="Convert a trained Keras model into quantized/compressed "
                                                 ".tflite variants (needs TensorFlow, tf-keras, tfmot).")
    parser.add_argument("--workload", required=True)
    parser.add_argument("--keras", required=True, type=Path, help=".h5/.keras file or SavedModel folder")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--variants", help="comma-separated (default: all)")
    parser.add_argument("--calibration", type=Path, help=".npy of real-valued inputs (n, ...) for calibration")
    parser.add_argument("--calibration-info", type=Path, help="JSON describing where the calibration samples came from")
    parser.add_argument("--sparsity", type=float, default=DEFAULT_SPARSITY)
    parser.add_argument("--clusters", type=int, default=DEFAULT_CLUSTERS)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    for key, value in (("TF_CPP_MIN_LOG_LEVEL", "2"), ("TF_USE_LEGACY_KERAS", "1"), ("TF_ENABLE_ONEDNN_OPTS", "0")):
        os.environ.setdefault(key, value)  # must precede the TensorFlow import
    workload = get_workload(args.workload)
    variants = parse_variants(args.variants)
    started = time.monotonic()
    print("step: importing TensorFlow", flush=True)
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot
    import tf_keras as keras

    tf.get_logger().setLevel("ERROR")
    print(f"done: TensorFlow {tf.__version__} imported ({time.monotonic() - started:.1f} s)", flush=True)
    calibration = np.load(args.calibration) if args.calibration else None
    calibration_info = json.loads(args.calibration_info.read_text()) if args.calibration_info else None
    common = {
        "keras_model": {"path": str(args.keras), "sha256": path_sha256(args.keras)},
        "options": {"sparsity": args.sparsity, "clusters": args.clusters, "seed": args.seed},
        "tensorflow": tf.__version__, "tf_keras": _version("tf-keras"),
        "tensorflow_model_optimization": _version("tensorflow-model-optimization"),
    }
    builder = Builder(tf, keras, tfmot, args.keras, calibration, args.sparsity, args.clusters, args.seed)
    model = builder.load()  # fail early, for every variant at once, on a model that does not load or fit
    shape = tuple(int(d) if d is not None else 1 for d in model.input_shape)
    if int(np.prod(shape)) != workload.input_size:
        print(f"error: {args.keras}: Keras input {list(model.input_shape)} does not fit {workload.id} "
              f"({list(workload.input_shape)})", file=sys.stderr, flush=True)
        return 3
    args.out.mkdir(parents=True, exist_ok=True)
    for variant in variants:
        print(f"step: {variant}", flush=True)
        record = build_variant(builder, workload.id, variant, args.out, common, calibration_info)
        if record["status"] == "ok":
            print(f"done: {variant} {record['size_bytes']:,} B ({record['build_seconds']:.1f} s)", flush=True)
        else:
            print(f"failed: {variant}: {record['error']}", flush=True)
    print(f"step: finished in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
