"""Pruning and weight clustering on the real kws01 DS-CNN: what the produced .tflite files hold.

Built with the real conversion subprocess (no evaluation), then read back with LiteRT only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyperf.engine.default_models import builder_env
from tinyperf.quantize.inspect import gzip_size, layer_weights
from tinyperf.quantize.sources import calibration_set
from tinyperf.workloads.catalog import KWS01
from tinyperf.workloads.dataset import Dataset

CLUSTERS = 8
SPARSITY = 0.5


@pytest.fixture(scope="module")
def kws_variants(tmp_path_factory, data_dir: Path, keras_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("kws-compression")
    calib = calibration_set(KWS01, Dataset.open(KWS01, data_dir / "kws01"), 20)
    np.save(out / "calibration.npy", calib.inputs)
    cmd = [sys.executable, "-m", "tinyperf.quantize.build", "--workload", "kws01", "--keras",
           str(keras_dir / "kws_ref_model"), "--out", str(out), "--variants", "int8,pruned,clustered",
           "--calibration", str(out / "calibration.npy"), "--sparsity", str(SPARSITY), "--clusters", str(CLUSTERS)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=builder_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "failed:" not in proc.stdout, proc.stdout
    return out


def test_pruned_conv_and_dense_kernels_are_half_zeros(kws_variants):
    layers = layer_weights(kws_variants / "kws01_pruned.tflite")
    baseline = layer_weights(kws_variants / "kws01_int8.tflite")
    assert [layer.op for layer in layers] == [layer.op for layer in baseline]
    for pruned, plain in zip(layers, baseline):
        if pruned.op == "DEPTHWISE_CONV_2D":  # tfmot does not prune depthwise kernels
            assert pruned.zeros == plain.zeros
        else:
            assert pruned.zeros / pruned.size >= SPARSITY
            assert plain.zeros / plain.size < 0.1
    record = json.loads((kws_variants / "kws01_pruned.json").read_text())
    assert record["facts"]["target_sparsity"] == SPARSITY
    assert all(v == SPARSITY for k, v in record["facts"]["pruned_layers"].items() if "depthwise" not in k)


def test_clustered_layers_hold_at_most_k_values_per_output_channel(kws_variants):
    clustered = layer_weights(kws_variants / "kws01_clustered.tflite")
    baseline = layer_weights(kws_variants / "kws01_int8.tflite")
    for layer, plain in zip(clustered, baseline):
        if layer.op == "DEPTHWISE_CONV_2D":  # tfmot does not cluster depthwise kernels
            assert layer.max_distinct_per_channel == plain.max_distinct_per_channel
        else:  # BatchNorm folding scales whole channels, so the bound holds per output channel
            assert layer.max_distinct_per_channel <= CLUSTERS, layer
            assert plain.max_distinct_per_channel > 2 * CLUSTERS, plain
    record = json.loads((kws_variants / "kws01_clustered.json").read_text())
    distinct = record["facts"]["distinct_weights_per_layer"]
    assert all(v == CLUSTERS for k, v in distinct.items() if "depthwise" not in k)


def test_pruning_and_clustering_pay_off_after_compression_not_on_disk(kws_variants):
    size = {v: (kws_variants / f"kws01_{v}.tflite").stat().st_size for v in ("int8", "pruned", "clustered")}
    gz = {v: gzip_size(kws_variants / f"kws01_{v}.tflite") for v in size}
    assert abs(size["pruned"] - size["int8"]) < 0.02 * size["int8"]  # every weight is still stored
    assert abs(size["clustered"] - size["int8"]) < 0.02 * size["int8"]
    assert gz["pruned"] < 0.9 * gz["int8"]
    assert gz["clustered"] < 0.9 * gz["int8"]
