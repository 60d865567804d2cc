"""Where models, data and caches live: CLI option, then environment, then defaults.

The project never ships MLPerf data; users point at it (or fetch it into the cache).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_MODELS = "TINYPERF_MODELS"
ENV_DATA = "TINYPERF_DATA"
ENV_CACHE = "TINYPERF_CACHE"
ENV_RESULTS = "TINYPERF_RESULTS"


def _from(option: str | Path | None, env: str) -> Path | None:
    if option:
        return Path(option).expanduser()
    value = os.environ.get(env)
    return Path(value).expanduser() if value else None


def models_dir(option: str | Path | None = None) -> Path | None:
    return _from(option, ENV_MODELS)


def data_dir(option: str | Path | None = None) -> Path | None:
    """--data-dir, else TINYPERF_DATA, else sets built into the cache by `tinyperf fetch dataset`."""
    explicit = _from(option, ENV_DATA)
    if explicit is not None:
        return explicit
    cached = cache_dir() / "datasets"
    return cached if cached.is_dir() else None


def cache_dir() -> Path:
    """User cache for fetched models/datasets and the built default models."""
    explicit = _from(None, ENV_CACHE)
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinyperf"


def results_dir(option: str | Path | None = None) -> Path:
    return _from(option, ENV_RESULTS) or Path("results")
