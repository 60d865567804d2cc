"""The variants `tinyperf quantize` can build, described without TensorFlow.

Each recipe says what the converter does and, honestly, what it does not do: no training data
ships with MLPerf Tiny's EnergyRunner sets, so pruning, clustering and QAT are applied one-shot
(no fine-tuning), and their accuracy is a lower bound of what a fine-tuned variant would reach.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyperf.core.errors import TinyperfError

DEFAULT_SPARSITY = 0.5
DEFAULT_CLUSTERS = 16
DEFAULT_CALIBRATION = 100


@dataclass(frozen=True)
class Recipe:
    name: str
    title: str  # short, for the table
    io: str  # model input/output type
    calibrated: bool  # needs representative data
    note: str  # the honest caveat shown in the "recipe note" column


RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("float32", "float32 (no quantization)", "float32", False,
           "baseline: the Keras model converted as is"),
    Recipe("float16", "float16 weights", "float32", False,
           "weights stored as float16, dequantized to float32 at load; activations float32"),
    Recipe("dynamic", "dynamic range (int8 weights)", "float32", False,
           "int8 weights, float activations; hybrid kernels quantize activations on the fly"),
    Recipe("int8", "full int8 (PTQ)", "int8", True,
           "post-training full-integer quantization, int8 input/output (as the reference models)"),
    Recipe("int16x8", "int16 activations, int8 weights", "int16", True,
           "post-training quantization with 16-bit activations (EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8)"),
    Recipe("pruned", "pruned + full int8", "int8", True,
           "one-shot magnitude pruning (tfmot prune_low_magnitude, constant sparsity; depthwise kernels are "
           "left dense by tfmot) then full int8; "
           "no fine-tuning (no training data): accuracy is a lower bound"),
    Recipe("clustered", "weight clustering + full int8", "int8", True,
           "one-shot weight clustering (tfmot cluster_weights, k-means++ centroids; depthwise kernels are not "
           "clustered by tfmot) then full int8; "
           "no fine-tuning (no training data): accuracy is a lower bound"),
    Recipe("qat", "quantization-aware graph + int8", "int8", True,
           "tfmot quantize_model with fake-quant ranges set on the calibration samples, no training "
           "(no training data): equals PTQ through fake-quant nodes, not a trained QAT model"),
)}

VARIANTS: tuple[str, ...] = tuple(RECIPES)
#: a variant that is missing or failed leaves the deltas against it undefined
BASELINE = "float32"


def parse_variants(text: str | None) -> list[str]:
    """`float32,int8` -> ['float32', 'int8'] in the order given, each named once."""
    if not text:
        return list(VARIANTS)
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in RECIPES]
    if unknown or not names:
        raise TinyperfError("--variants", f"unknown variant(s) {', '.join(unknown) or '(none given)'}",
                            f"use a comma-separated list of {', '.join(VARIANTS)}")
    return list(dict.fromkeys(names))
