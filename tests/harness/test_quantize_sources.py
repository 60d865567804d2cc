"""Where `tinyperf quantize` finds the Keras model and which real samples calibrate (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyperf.core.errors import DatasetError, ModelError, TinyperfError
from tinyperf.quantize.recipes import VARIANTS, parse_variants
from tinyperf.quantize.sources import ENV_KERAS, calibration_set, keras_model_path, path_sha256
from tinyperf.workloads.catalog import AD01, KWS01
from tinyperf.workloads.dataset import Dataset


def test_keras_model_is_found_beside_the_models_dir(models_dir: Path, keras_dir: Path, monkeypatch):
    monkeypatch.delenv(ENV_KERAS, raising=False)
    assert keras_model_path(AD01, models_dir=models_dir) == (keras_dir / "ad01.h5").resolve()
    assert keras_model_path(KWS01, keras_dir=keras_dir) == (keras_dir / "kws_ref_model").resolve()
    monkeypatch.setenv(ENV_KERAS, str(keras_dir))
    assert keras_model_path(AD01).name == "ad01.h5"


def test_missing_keras_model_names_the_path_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_KERAS, raising=False)
    with pytest.raises(ModelError, match="no trained Keras model for ad01.*Fix: pass --keras-model"):
        keras_model_path(AD01)
    with pytest.raises(ModelError, match=f"{tmp_path}/ad01.h5: ad01 Keras reference model not found"):
        keras_model_path(AD01, keras_dir=tmp_path)
    with pytest.raises(ModelError, match="Keras model not found"):
        keras_model_path(AD01, keras_model=tmp_path / "nope.h5")


def test_savedmodel_digest_covers_every_file(keras_dir: Path, tmp_path):
    digest = path_sha256(keras_dir / "kws_ref_model")
    assert digest == path_sha256(keras_dir / "kws_ref_model") and len(digest) == 64
    (tmp_path / "a.bin").write_bytes(b"x")
    assert path_sha256(tmp_path / "a.bin") != path_sha256(tmp_path)


def test_kws_calibration_is_evenly_spaced_real_inputs(data_dir: Path):
    dataset = Dataset.open(KWS01, data_dir / "kws01")
    calib = calibration_set(KWS01, dataset, 100)
    assert calib.inputs.shape == (100, 49, 10, 1) and calib.inputs.dtype == np.float32
    names = [s.file for s in dataset.samples]
    positions = [names.index(f) for f in calib.files]
    assert positions[0] == 0 and positions[-1] == len(names) - 1
    assert set(np.diff(positions)) <= {10, 11}  # every ~10th of 1000 files
    # decoded exactly as the harness decodes them: the first chosen file, byte for byte
    assert np.array_equal(calib.inputs[0], KWS01.decode(dataset.samples[0].read())[0])
    assert calib.description["samples"] == 100 and "validation split" in calib.description["official_list"]
    assert "flatters" in calib.description["caveat"]
    assert calibration_set(KWS01, dataset, 100).files == calib.files  # fixed, not random


def test_ad01_calibrates_on_windows_of_normal_clips_only(data_dir: Path):
    dataset = Dataset.open(AD01, data_dir / "ad01")
    calib = calibration_set(AD01, dataset, 100)
    assert calib.inputs.shape == (100, 640)
    labels = {s.file: s.label for s in dataset.samples}
    assert len(calib.files) == 5 and all(labels[f] == 0 for f in calib.files)
    assert -100 < calib.description["real_min"] < calib.description["real_max"] < 40  # log-mel dB


def test_calibration_needs_at_least_one_sample(data_dir: Path):
    with pytest.raises(DatasetError, match="--calibration"):
        calibration_set(KWS01, Dataset.open(KWS01, data_dir / "kws01"), 0)


def test_variant_lists():
    assert parse_variants(None) == list(VARIANTS)
    assert parse_variants("int8, float32,int8") == ["int8", "float32"]
    with pytest.raises(TinyperfError, match="unknown variant"):
        parse_variants("int8,int3")
