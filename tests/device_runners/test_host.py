"""The LiteRT host runner: back-ends, plugin registration, and model errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyperf.device_runners import RunnerConfig, available_runners, get_runner
from tinyperf.device_runners.host import HostRunner, LiteRTModel
from tinyperf.core.errors import ModelError
from tinyperf.core.modelfile import ModelFile, check_tflite_file
from tinyperf.workloads import IC01, KWS01, Dataset


def test_host_runner_is_registered_through_entry_points() -> None:
    assert available_runners()["host"] is HostRunner
    assert get_runner("host") is HostRunner


@pytest.mark.parametrize("kernels", ["reference", "builtin", "xnnpack"])
def test_each_backend_classifies_a_real_sample(models_dir: Path, data_dir: Path, kernels: str) -> None:
    ds = Dataset.open(KWS01, data_dir / "kws01")
    item = ds.performance_items(1)[0]
    session = HostRunner().open(RunnerConfig(workload=KWS01, mode="performance",
                                             model=ModelFile(models_dir / KWS01.reference_model, "reference"),
                                             kernels=kernels, threads=1))
    session.load(item.data)
    inf = session.infer(20, 2)
    assert session.describe()["kernels"] == kernels
    assert inf.results.shape == (12,) and abs(inf.results.sum() - 1.0) < 0.05
    assert int(np.argmax(inf.results)) == item.label
    assert inf.latencies_ns is not None and len(inf.latencies_ns) == 20 and inf.first_ns is not None
    assert inf.elapsed_s * 1e9 >= inf.latencies_ns.sum()


def test_accuracy_defaults_to_tflm_and_performance_to_xnnpack(models_dir: Path) -> None:
    """Accuracy in the arithmetic of a microcontroller (TFLM) where tflite-micro is installed (a dependency)."""
    model = ModelFile(models_dir / KWS01.reference_model, "reference")
    acc = HostRunner().open(RunnerConfig(workload=KWS01, mode="accuracy", model=model))
    perf = HostRunner().open(RunnerConfig(workload=KWS01, mode="performance", model=model))
    assert acc.describe()["kernels"] == "tflm-reference" and perf.describe()["kernels"] == "xnnpack"


def test_truncated_model_is_a_clear_error(models_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "truncated.tflite"
    bad.write_bytes((models_dir / KWS01.reference_model).read_bytes()[:5000])
    with pytest.raises(ModelError) as exc:
        LiteRTModel(bad)
    assert str(bad) in exc.value.one_line() and "corrupt or truncated" in exc.value.one_line()


def test_non_tflite_file_is_refused_before_loading(tmp_path: Path) -> None:
    bad = tmp_path / "model.tflite"
    bad.write_bytes(b"this is not a flatbuffer at all")
    with pytest.raises(ModelError, match="no 'TFL3' identifier"):
        check_tflite_file(bad)
    with pytest.raises(ModelError, match="does not exist"):
        check_tflite_file(tmp_path / "missing.tflite")


def test_model_that_does_not_fit_the_workload(models_dir: Path) -> None:
    with pytest.raises(ModelError) as exc:
        HostRunner().open(RunnerConfig(workload=IC01, mode="accuracy",
                                       model=ModelFile(models_dir / KWS01.reference_model, "user")))
    line = exc.value.one_line()
    assert "does not fit ic01" in line and "kws_ref_model.tflite" in line


def test_float_reference_model_runs_on_the_same_bytes(models_dir: Path, data_dir: Path) -> None:
    ds = Dataset.open(KWS01, data_dir / "kws01")
    model = ModelFile(models_dir / KWS01.reference_float_model, "reference")
    session = HostRunner().open(RunnerConfig(workload=KWS01, mode="accuracy", model=model))
    hits = 0
    for item in ds.performance_items(5):
        session.load(item.data)
        hits += int(np.argmax(session.infer(1, 0).results) == item.label)
    assert session.describe()["model_input_dtype"] == "float32"
    assert hits >= 4
