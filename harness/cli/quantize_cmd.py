"""`tinyperf quantize`: size, accuracy and speed of every quantized / compressed variant of a model."""

from __future__ import annotations

import argparse

from tinyperf.cli import options
from tinyperf.core.argtypes import positive_int
from tinyperf.cli.options import DefaultsFormatter
from tinyperf.quantize.pipeline import DEFAULT_KERNELS, DEFAULT_MIN_WINDOW, QuantizePlan, run_quantize
from tinyperf.quantize.recipes import DEFAULT_CALIBRATION, DEFAULT_CLUSTERS, DEFAULT_SPARSITY, VARIANTS, parse_variants
from tinyperf.quantize.sources import ENV_KERAS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "quantize", help="build float16/dynamic/int8/int16x8/pruned/clustered/QAT variants and compare them",
        description="Convert a trained Keras model into quantized and compressed variants (in a TensorFlow "
        "subprocess), then measure each one like `tinyperf run` does: size and gzip size, accuracy on the "
        "full sample set (TFLite Micro arithmetic where TFLM runs the variant, else LiteRT reference kernels), "
        "RAM (the TFLM tensor arena), latency per kernel back-end. Writes one folder with the "
        ".tflite variants and their build records, a run directory per measurement, and quantize.csv/.parquet.",
        formatter_class=DefaultsFormatter)
    options.add_workload_positional(p, metavar="WORKLOAD")
    src = p.add_argument_group("model and data")
    src.add_argument("--keras-model", metavar="PATH", help="trained Keras model (.h5/.keras or SavedModel folder)")
    src.add_argument("--keras-dir", metavar="DIR",
                     help=f"folder of the reference Keras models (env {ENV_KERAS}); default: <models-dir>/../keras")
    options.add_models_dir(src, help="folder of reference .tflite models (env TINYPERF_MODELS): its official int8 model "
                     "is measured alongside, and its sibling keras/ folder is searched")
    options.add_data_dir(src, help="EnergyRunner sets, <workload>/y_labels.csv (env TINYPERF_DATA)")
    src.add_argument("--no-reference", action="store_true", help="do not measure the official int8 model alongside")
    rec = p.add_argument_group("variants")
    rec.add_argument("--variants", default=",".join(VARIANTS), metavar="LIST",
                     help="comma-separated variants to build")
    rec.add_argument("--calibration", type=positive_int, default=DEFAULT_CALIBRATION, metavar="N",
                     help="calibration samples (a fixed, evenly spaced subset of the sample set)")
    rec.add_argument("--sparsity", type=float, default=DEFAULT_SPARSITY, metavar="F", help="target sparsity of 'pruned'")
    rec.add_argument("--clusters", type=int, default=DEFAULT_CLUSTERS, metavar="K", help="weight clusters per layer of 'clustered'")
    meas = p.add_argument_group("measurement")
    options.add_min_window(meas, DEFAULT_MIN_WINDOW, help="performance window length in seconds; below 10 s NOT MLPerf-valid (quick comparison)")
    meas.add_argument("--kernels", default=",".join(DEFAULT_KERNELS), metavar="LIST",
                      help="kernel back-ends to time (reference, builtin, xnnpack); accuracy always uses reference")
    options.add_threads(meas)
    options.add_out(meas, help="output folder (default results/quantize/<workload>-<time>, env TINYPERF_RESULTS)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    plan = QuantizePlan(
        workload=args.workload, variants=parse_variants(args.variants), keras_model=args.keras_model,
        keras_dir=args.keras_dir, models_dir=args.models_dir, data_dir=args.data_dir, calibration=args.calibration,
        out=args.out, min_window=args.min_window, kernels=[k.strip() for k in args.kernels.split(",") if k.strip()],
        threads=args.threads, sparsity=args.sparsity, clusters=args.clusters, reference=not args.no_reference)
    result = run_quantize(plan)
    return 0 if result.ok else 1
