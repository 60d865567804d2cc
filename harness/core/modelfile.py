"""A model file as the harness sees it: path, provenance, digest, and cheap structural checks.

Runners, workloads and the engine all hold `ModelFile`s; it lives on the floor so that none of
them needs the model store (`tinyperf.engine.models`) to describe or check a file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from tinyperf.core.errors import ModelError

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
