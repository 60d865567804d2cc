"""The model store: find a workload's model, check it, and describe it for provenance.

Search order for a reference model: `--model`, then `--models-dir` / TINYPERF_MODELS, then the
user cache (`tinyperf fetch models`), then the built-in default architectures (synthetic weights).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from harness import config
from harness.errors import ModelError
from workloads.spec import Workload

TFLITE_IDENTIFIER = b"TFL3"


@dataclass(frozen=True)
class ModelFile:
    path: Path
    source: str  # "user", "reference", "cache", "default-architecture"
    note: str = ""  # e.g. "architecture only, synthetic weights"
    synthetic_weights: bool = False
    info: dict[str, Any] = field(default_factory=dict, compare=False)

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def name(self) -> str:
        return self.path.name


def check_tflite_file(path: Path) -> None:
    """Cheap structural checks before an interpreter sees the file (its errors are cryptic)."""
    if not path.exists():
        raise ModelError(path, "model file does not exist",
                         "check the path, or pass --models-dir / set TINYPERF_MODELS to the folder of .tflite files")
    if not path.is_file():
        raise ModelError(path, "is not a file", "pass the path of a .tflite file")
    head = path.read_bytes()[:8]
    if len(head) < 8 or head[4:8] != TFLITE_IDENTIFIER:
        raise ModelError(path, "is not a TensorFlow Lite flatbuffer (no 'TFL3' identifier)",
                         "pass a .tflite file converted with the TFLite/LiteRT converter")


def resolve_model(workload: Workload, model: str | Path | None = None,
                  models_dir: str | Path | None = None, allow_default: bool = True,
                  float_model: bool = False) -> ModelFile:
    """The model to benchmark for `workload`; raises ModelError saying where it looked."""
    if model:
        path = Path(model).expanduser()
        check_tflite_file(path)
        return ModelFile(path, "user")
    file_name = workload.reference_float_model if float_model else workload.reference_model
    looked: list[str] = []
    directory = config.models_dir(models_dir)
    if directory is not None:
        candidate = directory / file_name
        if candidate.is_file():
            check_tflite_file(candidate)
            return ModelFile(candidate, "reference")
        if models_dir:  # the user asked for this folder explicitly: a miss is an error
            raise ModelError(candidate, f"{workload.id} reference model not found",
                             f"put {file_name} there, fix --models-dir, or run `tinyperf fetch models`")
        looked.append(str(candidate))
    cached = config.cache_dir() / "models" / file_name
    if cached.is_file():
        check_tflite_file(cached)
        return ModelFile(cached, "cache")
    looked.append(str(cached))
    if allow_default and not float_model:
        from harness.default_models import default_model  # builds (with TensorFlow) on first use only

        return default_model(workload)
    raise ModelError(looked[0], f"{workload.id} model not found (looked in {', '.join(looked)})",
                     "pass --models-dir, set TINYPERF_MODELS, or run `tinyperf fetch models`")
