"""The TFLM runner: the real TensorFlow Lite Micro interpreter, its refusals, and its figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinyperf.device_runners import RunnerConfig, available_runners, get_runner
from tinyperf.device_runners.host import HostRunner
from tinyperf.device_runners.tflm import TflmRunner
from tinyperf.core.errors import ModelError
from tinyperf.core.modelfile import ModelFile
from tinyperf.engine.rundir import load_run
from tests.device_runners.tflm_models import float16_weights, with_op_renamed
from tests.harness.cli_helpers import only_run_dir, tinyperf
from tinyperf.workloads import AD01, KWS01, Dataset
from tinyperf.workloads.catalog import WORKLOADS

tflite_micro = pytest.importorskip("tflite_micro")


@pytest.fixture(scope="session")
def tflm_accuracy_run(models_dir: Path, data_dir: Path, tmp_path_factory) -> Path:
    """Every file of kws01, vww01, ic01 and every window of ad01 through `--runner tflm`."""
    out = tmp_path_factory.mktemp("tflm-accuracy")
    r = tinyperf("run", "--runner", "tflm", "--mode", "accuracy", "--models-dir", models_dir, "--data-dir", data_dir,
                 "--out", out)
    assert r.returncode == 0, r.stdout + r.stderr
    return only_run_dir(out)


def test_tflm_runner_is_registered_through_entry_points() -> None:
    assert available_runners()["tflm"] is TflmRunner
    assert get_runner("tflm") is TflmRunner


def _interpreter_results(interpreter, workload, data: bytes) -> np.ndarray:
    """What the tflite-micro interpreter itself gives for one sample, with no tinyperf code in between."""
    inp, out = interpreter.get_input_details(0), interpreter.get_output_details(0)
    real = workload.decode(data).astype(np.float64)
    qi = inp["quantization_parameters"]
    q = np.clip(np.round(real / qi["scales"][0]) + qi["zero_points"][0], -128, 127).astype(np.int8)
    interpreter.set_input(q.reshape(inp["shape"]), 0)
    interpreter.invoke()
    qo = out["quantization_parameters"]
    raw = interpreter.get_output(0)
    value = ((raw.astype(np.float32) - int(qo["zero_points"][0])) * np.float32(qo["scales"][0])).reshape(-1)
    if not workload.scoring.classifies:
        diff = value.astype(np.float64) - real.reshape(-1)
        return np.array([np.mean(diff * diff)])
    return value.astype(np.float64)


@pytest.mark.slow
@pytest.mark.parametrize("wl_id", list(WORKLOADS))
def test_outputs_equal_the_tflite_micro_interpreter_on_every_file(tflm_accuracy_run: Path, models_dir: Path,
                                                                  data_dir: Path, wl_id: str) -> None:
    wl = WORKLOADS[wl_id]
    run = load_run(tflm_accuracy_run)
    samples = run.samples[run.samples["workload"] == wl_id]
    by_key = {(f, w): r for f, w, r in zip(samples["file"], samples["window"], samples["results"])}
    ds = Dataset.open(wl, data_dir / wl_id)
    assert len(by_key) == ds.n_items
    from tflite_micro import runtime

    interpreter = runtime.Interpreter.from_file(str(models_dir / wl.reference_model))
    for item in ds.items():
        expected = _interpreter_results(interpreter, wl, item.data)
        assert np.array_equal(np.asarray(by_key[(item.file, item.window)]), expected), (item.file, item.window)


@pytest.mark.slow
def test_accuracy_reproduces_the_published_figures(tflm_accuracy_run: Path) -> None:
    s = load_run(tflm_accuracy_run).summary.set_index("workload")
    for wl_id in ("kws01", "vww01", "ic01"):
        assert round(s.loc[wl_id, "top1_pct"], 1) == WORKLOADS[wl_id].published["top1"]
    assert round(s.loc["ad01", "auc"], 2) == WORKLOADS["ad01"].published["auc"]
    assert set(s["kernels"]) == {"tflm-reference"} and set(s["runner"]) == {"tflm"}
    assert s["arithmetic"].str.contains("TensorFlow Lite Micro|TFLite Micro").all()


def _run_refused(model: Path, tmp_path: Path, *extra: str) -> str:
    out = tmp_path / "runs"
    r = tinyperf("run", "--runner", "tflm", "--model", model, "-w", "ad01" if "ad" in model.name else "kws01",
                 "--mode", "performance", "--min-window", "0.1", "--out", out, *extra)
    assert r.returncode == 2, r.stdout + r.stderr
    assert not out.exists() or not any(out.iterdir()), "a run directory was made for a refused model"
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert str(model) in " ".join(lines)
    return " ".join(lines)


def test_float16_model_is_refused_before_a_run_directory_exists(models_dir: Path, tmp_path: Path) -> None:
    model = float16_weights(models_dir / AD01.reference_float_model, tmp_path / "ad01_f16.tflite")
    message = _run_refused(model, tmp_path)
    assert "float16" in message and "DEQUANTIZE" in message


def test_hybrid_model_is_refused_naming_the_op(models_dir: Path, tmp_path: Path) -> None:
    # the published kws float32 file is in fact dynamic-range quantized: int8 weights, float activations
    message = _run_refused(models_dir / KWS01.reference_float_model, tmp_path)
    assert "dynamic-range (hybrid)" in message and "CONV_2D" in message


def test_missing_op_is_refused_naming_the_op(models_dir: Path, tmp_path: Path) -> None:
    model = with_op_renamed(models_dir / KWS01.reference_model, "SOFTMAX", "TOPK_V2", tmp_path / "kws_topk.tflite")
    assert "TFLite Micro has no TOPK_V2 op" in _run_refused(model, tmp_path)


def test_a_weight_without_data_is_refused_as_corrupt(models_dir: Path, tmp_path: Path) -> None:
    """TFLM would run it on whatever the arena holds; LiteRT says 'lacks data': so does the tflm runner."""
    from tests.harness.test_bad_input import _kws_weight_without_data

    model = _kws_weight_without_data(models_dir, tmp_path / "kws_hole.tflite")
    message = _run_refused(model, tmp_path)
    assert "lacks data" in message and "corrupt" in message and "re-download" in message


def test_performance_records_a_host_proxy(models_dir: Path, data_dir: Path) -> None:
    ds = Dataset.open(KWS01, data_dir / "kws01")
    item = ds.performance_items(1)[0]
    session = TflmRunner().open(RunnerConfig(workload=KWS01, mode="performance",
                                             model=ModelFile(models_dir / KWS01.reference_model, "reference")))
    session.load(item.data)
    first = session.infer(20, 2)
    again = session.infer(5, 0)  # the input is re-staged before each invoke: the same answer every time
    d = session.describe()
    assert d["kernels"] == "tflm-reference" and "host proxy" in d["timing_note"]
    assert first.latencies_ns is not None and len(first.latencies_ns) == 20 and first.first_ns is not None
    assert int(np.argmax(first.results)) == item.label and np.array_equal(first.results, again.results)


def test_host_accuracy_defaults_to_tflm_and_falls_back_to_litert_reference(models_dir: Path, tmp_path: Path) -> None:
    int8 = ModelFile(models_dir / AD01.reference_model, "reference")
    f16 = ModelFile(float16_weights(models_dir / AD01.reference_float_model, tmp_path / "f16.tflite"), "user")
    acc = HostRunner().open(RunnerConfig(workload=AD01, mode="accuracy", model=int8)).describe()
    assert acc["kernels"] == "tflm-reference" and acc["runner"] == "host"
    fallback = HostRunner().open(RunnerConfig(workload=AD01, mode="accuracy", model=f16)).describe()
    assert fallback["kernels"] == "reference" and "float16" in fallback["arithmetic_note"]
    with pytest.raises(ModelError, match="float16"):
        HostRunner.check_model(RunnerConfig(workload=AD01, mode="accuracy", model=f16, kernels="tflm-reference"))


def test_profile_macs_sum_to_the_model_total(models_dir: Path) -> None:
    totals = {}
    for wl_id, wl in WORKLOADS.items():
        r = tinyperf("profile", wl_id, "--models-dir", models_dir, "--json")
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        assert d["ops"] and all(op["type"] and op["host_us"] > 0 for op in d["ops"])
        assert sum(op["macs"] for op in d["ops"]) == d["total_macs"]
        totals[wl_id] = d
    # an autoencoder of dense layers does one MAC per weight, which the profile counts separately
    ad = totals["ad01"]
    biases = sum(op["output_shape"][-1] * 4 for op in ad["ops"])  # int32 biases
    assert ad["total_macs"] == sum(op["param_bytes"] for op in ad["ops"]) - biases
    # the MLPerf Tiny paper (Banbury et al., 2021, table 1): DS-CNN 2.7 M, MobileNetV1 7.5 M, ResNet-8 12.5 M,
    # FC autoencoder 0.27 M MACs
    for wl_id, published in {"kws01": 2.7e6, "vww01": 7.5e6, "ic01": 12.5e6, "ad01": 0.27e6}.items():
        assert abs(totals[wl_id]["total_macs"] / published - 1) < 0.05, (wl_id, totals[wl_id]["total_macs"])


def test_profile_adds_a_vela_estimate_labelled_as_such(models_dir: Path) -> None:
    pytest.importorskip("ethosu.vela")
    r = tinyperf("profile", "kws01", "--models-dir", models_dir, "--vela", "--json")
    assert r.returncode == 0, r.stderr
    npu = json.loads(r.stdout)["vela_estimate"]
    assert npu["note"] == "estimate, not a measurement" and npu["accelerator"].startswith("Ethos_U55")
    assert npu["sram_bytes"] > 0 and npu["flash_bytes"] > 0 and npu["cycles"] > 0 and npu["npu_ops"] > 0
    shown = tinyperf("profile", "kws01", "--models-dir", models_dir, "--vela")
    assert "Ethos-U ESTIMATE" in shown.stdout and "not a measurement" in shown.stdout
