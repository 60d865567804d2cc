"""`tinyperf quantize` end to end on the real ad01 model and a few real ad01 files.

One TensorFlow conversion subprocess per test; the evaluating process (the CLI) must never
import TensorFlow, which the wrapper below checks from inside that process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tinyperf.device_runners.host import LiteRTModel
from tinyperf.engine.rundir import load_run
from tests.harness.cli_helpers import tinyperf
from tinyperf.workloads.catalog import AD01

REPO = Path(__file__).resolve().parents[2]
TF_MODULES = ("tensorflow", "tf_keras", "tensorflow_model_optimization", "keras")

# runs the real CLI entry point, then reports which heavy modules that process imported
CLI_WITH_IMPORT_REPORT = """
import json, sys
from tinyperf.cli import main
rc = main(sys.argv[1:])
print("IMPORTED " + json.dumps(sorted(m for m in %r if m in sys.modules)))
sys.exit(rc)
""" % (TF_MODULES,)


def run_cli(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", CLI_WITH_IMPORT_REPORT, *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=REPO)


def imported(proc: subprocess.CompletedProcess[str]) -> list[str]:
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("IMPORTED ")][-1]
    return json.loads(line.removeprefix("IMPORTED "))


@pytest.fixture(scope="module")
def ad01_subset(tmp_path_factory, data_dir: Path) -> Path:
    """4 normal and 4 anomalous real ToyCar files, as their own EnergyRunner set."""
    src = data_dir / "ad01"
    rows = [ln.split(",") for ln in (src / "y_labels.csv").read_text().splitlines() if ln.strip()]
    picked = [r for r in rows if r[2] == "0"][:4] + [r for r in rows if r[2] == "1"][:4]
    root = tmp_path_factory.mktemp("ad01-subset")
    folder = root / "ad01"
    folder.mkdir()
    for r in picked:
        (folder / r[0]).symlink_to(src / r[0])
    (folder / "y_labels.csv").write_text("".join(",".join(r) + "\n" for r in picked))
    return root


@pytest.fixture(scope="module")
def ad01_study(tmp_path_factory, ad01_subset: Path, models_dir: Path, keras_dir: Path):
    out = tmp_path_factory.mktemp("quantize") / "ad01"
    proc = run_cli("quantize", "ad01", "--models-dir", models_dir, "--data-dir", ad01_subset,
                   "--variants", "float32,float16,dynamic,int8,int16x8", "--calibration", "20",
                   "--min-window", "0.05", "--kernels", "xnnpack", "--out", out)
    return proc, out


def test_every_variant_is_built_measured_and_recorded(ad01_study):
    proc, out = ad01_study
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    frame = pd.read_csv(out / "quantize.csv")
    assert list(frame["variant"]) == ["float32", "float16", "dynamic", "int8", "int16x8", "reference"]
    assert (frame["status"] == "ok").all() and frame["error"].isna().all()
    for variant in ("float32", "float16", "dynamic", "int8", "int16x8"):
        tflite = out / "variants" / f"ad01_{variant}.tflite"
        record = json.loads((out / "variants" / f"ad01_{variant}.json").read_text())
        assert record["status"] == "ok" and record["tensorflow"] and record["keras_model"]["sha256"]
        assert record["sha256"] == __import__("hashlib").sha256(tflite.read_bytes()).hexdigest()
        model = LiteRTModel(tflite, "reference")
        assert model.input_shape == AD01.input_shape
        calibrated = variant in ("int8", "int16x8")
        assert (record["calibration"] is not None) == calibrated
    calibration = json.loads((out / "variants" / "calibration.json").read_text())
    assert calibration["samples"] == 20 and "flatters" in calibration["caveat"]
    assert calibration["files"] == ["normal_id_01_00000003_hist_librosa.bin"]  # first normal file, 20 windows
    # every window of every file was scored, and latency measured on short (flagged) windows
    assert (frame["n_inferences"] == 8 * AD01.windows_per_file).all()
    assert frame["accuracy"].notna().all() and frame["latency_ms_xnnpack"].notna().all()
    assert (frame["heldout_files"] == 7).all()
    assert not frame["mlperf_valid_window"].any()
    assert "NOT an MLPerf-valid window length" in proc.stdout


def test_sizes_and_types_are_what_each_recipe_promises(ad01_study):
    _, out = ad01_study
    frame = pd.read_csv(out / "quantize.csv").set_index("variant")
    size = frame["size_bytes"]
    assert size["int8"] < size["float16"] < size["float32"]
    assert size["dynamic"] < size["float16"]
    assert size["float16"] < 0.6 * size["float32"] and size["int8"] < 0.3 * size["float32"]
    assert (frame["gzip_bytes"] <= frame["size_bytes"]).all()
    assert frame.loc["int8", "input_dtype"] == "int8" and frame.loc["int8", "output_dtype"] == "int8"
    assert frame.loc["int16x8", "input_dtype"] == "int16"
    assert frame.loc["float16", "input_dtype"] == "float32" and frame.loc["float16", "weight_dtypes"] == "float16"
    assert frame.loc["dynamic", "weight_dtypes"] == "int8" and frame.loc["dynamic", "input_dtype"] == "float32"


def window_scores(frame: pd.DataFrame, variant: str) -> np.ndarray:
    run = load_run(json.loads(frame.loc[variant, "runs"])["accuracy"])
    assert run.complete
    return run.samples.sort_values(["file", "window"])["score"].to_numpy()


def test_accuracy_of_variants_against_float32_and_the_reference(ad01_study):
    _, out = ad01_study
    frame = pd.read_csv(out / "quantize.csv").set_index("variant")
    assert frame.loc["float32", "delta_vs_float32"] == 0.0
    assert frame.loc["float32", "speedup_xnnpack"] == 1.0
    one_pair = 1 / 16  # 4 normal x 4 anomalous files: the AUC moves in steps of 1/16
    scores = {v: window_scores(frame, v) for v in ("float32", "float16", "int16x8", "int8", "reference")}

    def median_rel_diff(a: str, b: str) -> float:
        return float(np.median(np.abs(scores[a] / scores[b] - 1)))

    # float16 weights and int16 activations barely move the per-window anomaly scores (a few windows
    # beyond the 20-window calibration range are clipped at the int16 input, hence medians)
    assert median_rel_diff("float16", "float32") < 0.01
    assert median_rel_diff("int16x8", "float32") < 0.02
    assert abs(frame.loc["float16", "accuracy"] - frame.loc["float32", "accuracy"]) <= one_pair
    # the int8 variant scores windows close to the official int8 model on the same files
    assert median_rel_diff("int8", "reference") < 0.1
    assert abs(frame.loc["int8", "accuracy"] - frame.loc["reference", "accuracy"]) <= 2 * one_pair
    assert frame.loc["int8", "delta_vs_float32"] == frame.loc["int8", "accuracy"] - frame.loc["float32", "accuracy"]


def test_the_evaluating_process_never_imports_tensorflow(ad01_study):
    proc, _ = ad01_study
    assert imported(proc) == []


def test_a_variant_that_fails_to_convert_is_reported_and_the_others_still_run(tmp_path, ad01_subset):
    """A real tfmot failure: quantize_model has no recipe for LayerNormalization."""
    keras_file = tmp_path / "with_layernorm.h5"
    make = ("import os, sys; os.environ['TF_USE_LEGACY_KERAS'] = '1'; import tf_keras as k; "
            "k.utils.set_random_seed(0); i = k.Input(shape=(640,)); x = k.layers.Dense(16, activation='relu')(i); "
            "x = k.layers.LayerNormalization()(x); k.Model(i, k.layers.Dense(640)(x)).save(sys.argv[1])")
    subprocess.run([sys.executable, "-c", make, str(keras_file)], check=True, capture_output=True, timeout=300,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    out = tmp_path / "study"
    proc = run_cli("quantize", "ad01", "--keras-model", keras_file, "--data-dir", ad01_subset, "--no-reference",
                   "--variants", "float32,qat", "--calibration", "20", "--min-window", "0.05",
                   "--kernels", "xnnpack", "--out", out)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    frame = pd.read_csv(out / "quantize.csv").set_index("variant")
    assert frame.loc["qat", "status"] == "failed"
    assert "LayerNormalization" in frame.loc["qat", "error"] and "not supported" in frame.loc["qat", "error"]
    assert pd.isna(frame.loc["qat", "accuracy"]) and pd.isna(frame.loc["qat", "size_bytes"])
    assert frame.loc["float32", "status"] == "ok" and pd.notna(frame.loc["float32", "accuracy"])
    assert pd.notna(frame.loc["float32", "latency_ms_xnnpack"])
    assert "qat failed:" in proc.stdout and "LayerNormalization" in proc.stdout
    assert json.loads((out / "quantize.json").read_text())["status"] == "complete with failures"
    assert imported(proc) == []


@pytest.mark.parametrize("args, says", [
    (["--variants", "int4"], "--variants: unknown variant(s) int4"),
    (["--sparsity", "1.5"], "--sparsity: 1.5 is outside [0, 1)"),
    (["--kernels", "gpu"], "--kernels: unknown kernel back-end(s) gpu"),
    (["--keras-dir", "/nonexistent"], "/nonexistent/ad01.h5: ad01 Keras reference model not found"),
])
def test_bad_options_fail_in_one_line_before_any_conversion(tmp_path, ad01_subset, keras_dir, args, says):
    proc = tinyperf("quantize", "ad01", "--keras-dir", keras_dir, "--data-dir", ad01_subset,
                    "--out", tmp_path / "q", *args)
    assert proc.returncode == 2
    assert says in proc.stderr and "Fix:" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "q" / "variants" / "build.log").exists()


def test_no_sample_set_is_a_clear_error(tmp_path, keras_dir):
    proc = tinyperf("quantize", "ad01", "--keras-dir", keras_dir, "--data-dir", tmp_path / "empty",
                    "--out", tmp_path / "q")
    assert proc.returncode == 2
    assert "no ad01 sample set here" in proc.stderr
