"""Shared fixtures: the real MLPerf Tiny models and data beside the project (../shared).

Tests that need them skip, naming the missing path, where they are absent. Override the location
with TINYPERF_SHARED (the folder that holds mlperf-tiny/).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TINYPERF_SHARED", REPO.parent / "shared"))
MLPERF_TINY = SHARED / "mlperf-tiny"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real MLPerf Tiny material not found at {path}")
    return path


@pytest.fixture(scope="session")
def shared_root() -> Path:
    return _need(MLPERF_TINY)


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return _need(MLPERF_TINY / "models" / "tflite")


@pytest.fixture(scope="session")
def keras_dir() -> Path:
    return _need(MLPERF_TINY / "models" / "keras")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return _need(MLPERF_TINY / "datasets")


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    return _need(MLPERF_TINY / "raw")


@pytest.fixture(scope="session")
def indices_dir() -> Path:
    return _need(MLPERF_TINY / "indices")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the user's cache, nor see the user's TINYPERF_* settings (a TINYPERF_RESULTS
    in the shell must not change what a test finds); the default-model cache is session-wide."""
    for name in [n for n in os.environ if n.startswith("TINYPERF_") and n != "TINYPERF_SHARED"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("TINYPERF_CACHE", str(tmp_path_factory.getbasetemp() / "tinyperf-cache"))
