from __future__ import annotations

from pathlib import Path

from tinyperf.core import config


def test_data_dir_order_option_env_then_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TINYPERF_CACHE", str(tmp_path / "cache"))
    assert config.data_dir() is None
    (tmp_path / "cache" / "datasets").mkdir(parents=True)
    assert config.data_dir() == tmp_path / "cache" / "datasets"  # built by `tinyperf fetch dataset`
    monkeypatch.setenv("TINYPERF_DATA", str(tmp_path / "env"))
    assert config.data_dir() == tmp_path / "env"
    assert config.data_dir(tmp_path / "opt") == tmp_path / "opt"


def test_models_dir_and_results_dir(tmp_path: Path, monkeypatch) -> None:
    assert config.models_dir() is None
    monkeypatch.setenv("TINYPERF_MODELS", str(tmp_path))
    assert config.models_dir() == tmp_path
    assert config.results_dir() == Path("results")
    monkeypatch.setenv("TINYPERF_RESULTS", str(tmp_path / "r"))
    assert config.results_dir() == tmp_path / "r"
