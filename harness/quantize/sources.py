"""Inputs of a quantization study: the trained Keras model and the calibration samples.

No TensorFlow here: the Keras model is only located, and calibration samples are read with the
harness's own EnergyRunner reader and decoded with `Workload.decode`, so the converter sees the
same real value range as the harness feeds at run time.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinyperf.core import config
from tinyperf.core.errors import DatasetError, ModelError
from tinyperf.workloads.dataset import Dataset, Sample
from tinyperf.workloads.spec import Workload

ENV_KERAS = "TINYPERF_KERAS"

#: the trained reference models as MLPerf Tiny publishes them (Keras 2 formats, load with tf_keras)
KERAS_MODELS: dict[str, str] = {
    "kws01": "kws_ref_model",  # SavedModel folder
    "vww01": "vww_96.h5",
    "ic01": "pretrainedResnet.h5",
    "ad01": "ad01.h5",
}

#: ad01 calibrates on windows; this many evenly spaced windows are taken from each chosen file
AD01_WINDOWS_PER_FILE = 20

#: what the official MLPerf Tiny calibration lists index, and why they cannot be used here
OFFICIAL_CALIBRATION: dict[str, str] = {
    "kws01": "the reference quantize.py calibrates on indices/quant_cal_idxs.txt (120 clips of the Speech "
             "Commands v2 validation split); that split is not in the EnergyRunner set (test clips)",
    "ic01": "the reference model_converter.py calibrates on indices/calibration_samples_idxs.npy (500 "
            "CIFAR-10 test images); only 5 of them are among the 200 images of the ic01 set "
            "(perf_samples_idxs.npy), the other 495 are not available",
    "vww01": "the reference calibrates on training images, which are not available here",
    "ad01": "the reference calibrates on normal training clips, which are not available here",
}

CAVEAT = ("calibration samples are taken from the evaluation set, which slightly flatters the accuracy "
          "of calibrated variants; the held-out column scores every variant without those files")


def keras_model_path(workload: Workload, keras_model: str | Path | None = None,
                     keras_dir: str | Path | None = None, models_dir: str | Path | None = None) -> Path:
    """--keras-model, else <--keras-dir | TINYPERF_KERAS | <models-dir>/../keras>/<reference name>."""
    if keras_model:
        path = Path(keras_model).expanduser()
        if not path.exists():
            raise ModelError(path, "Keras model not found", "pass an existing .h5/.keras file or SavedModel folder")
        return path.resolve()
    name = KERAS_MODELS.get(workload.id)
    if name is None:
        raise ModelError(None, f"{workload.id} has no reference Keras model", "pass --keras-model")
    folder: Path | None = None
    if keras_dir:
        folder = Path(keras_dir).expanduser()
    elif os.environ.get(ENV_KERAS):
        folder = Path(os.environ[ENV_KERAS]).expanduser()
    else:
        models = config.models_dir(models_dir)
        if models is not None:
            folder = models.parent / "keras"
    if folder is None:
        raise ModelError(None, f"no trained Keras model for {workload.id}",
                         f"pass --keras-model, --keras-dir (or set {ENV_KERAS}), or --models-dir whose "
                         f"sibling keras/ folder holds {name}")
    path = folder / name
    if not path.exists():
        raise ModelError(path, f"{workload.id} Keras reference model not found",
                         f"put {name} in {folder}, or pass --keras-model / --keras-dir")
    return path.resolve()


@dataclass
class CalibrationSet:
    """Real-valued model inputs for representative data, and where each came from."""

    inputs: np.ndarray  # (n, *input_shape[1:]) float32, as Workload.decode returns them
    files: list[str]  # every file that contributed (excluded from the held-out score)
    description: dict[str, Any] = field(default_factory=dict)


def _evenly(count: int, take: int) -> list[int]:
    """`take` indices spread evenly over range(count), first and last included, no repeats."""
    if take >= count:
        return list(range(count))
    return sorted({int(round(i)) for i in np.linspace(0, count - 1, take)})


def calibration_set(workload: Workload, dataset: Dataset, n: int) -> CalibrationSet:
    """A fixed subset of the EnergyRunner set: `n` files evenly spaced in y_labels.csv order.

    ad01 calibrates on normal clips only (as the reference, which calibrates on normal training
    data): ceil(n / 20) evenly spaced normal files, 20 evenly spaced windows from each, n windows kept.
    """
    if n < 1:
        raise DatasetError("--calibration", f"{n} calibration samples", "pass --calibration 1 or more")
    if workload.window_bytes:
        normal = [s for s in dataset.samples if s.label == 0]
        if not normal:
            raise DatasetError(dataset.labels_file, "lists no normal (label 0) clip to calibrate on",
                               "use a set with normal clips")
        per_file = min(AD01_WINDOWS_PER_FILE, workload.windows_per_file)
        chosen: list[Sample] = [normal[i] for i in _evenly(len(normal), -(-n // per_file))]
        windows = _evenly(workload.windows_per_file, per_file)
        rows = []
        for item in dataset.items(chosen):
            if item.window in windows:
                rows.append(workload.decode(item.data)[0])
        rows = rows[:n]
        selection = (f"{len(chosen)} normal clip(s) evenly spaced in y_labels.csv order, {per_file} evenly "
                     f"spaced windows (of {workload.windows_per_file}) each, first {len(rows)} windows kept")
    else:
        chosen = [dataset.samples[i] for i in _evenly(len(dataset.samples), n)]
        rows = [workload.decode(s.read())[0] for s in chosen]
        selection = f"{len(chosen)} of {len(dataset.samples)} files, evenly spaced in y_labels.csv order"
    inputs = np.stack(rows).astype(np.float32)
    files = [s.file for s in chosen]
    description = {
        "source": str(dataset.root),
        "dataset_sha256": dataset.content_sha256,
        "selection": selection,
        "samples": int(len(inputs)),
        "files": files,
        "decoded_with": f"tinyperf.workloads.spec.Workload.decode ({workload.encoding.dtype} -> float32 real values)",
        "real_min": float(inputs.min()),
        "real_max": float(inputs.max()),
        "official_list": OFFICIAL_CALIBRATION.get(workload.id, "none"),
        "caveat": CAVEAT,
    }
    return CalibrationSet(inputs, files, description)


def path_sha256(path: Path) -> str:
    """Digest of a model file, or of every file of a SavedModel folder (relative names included)."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode())
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()
