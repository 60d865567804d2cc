"""The `tinyperf` pytest fixture, as a user meets it: the README's three-line test file, run by pytest
in a subprocess with pytest-benchmark's --benchmark-autosave, then --benchmark-compare."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    """The test file the README shows (the python block after 'test_model_speed.py')."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"# test_model_speed\.py\n(.*?)```", text, re.S)
    assert block, "README lost its test_model_speed.py example"
    return block.group(1)


def pytest_in(folder: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
                          cwd=folder, capture_output=True, text=True, timeout=600, env=env)


def test_readme_example_runs_under_pytest_benchmark(models_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("pytest_benchmark")
    example = readme_example()
    assert len([ln for ln in example.splitlines() if ln.strip()]) <= 3
    (tmp_path / "test_model_speed.py").write_text(example)
    env = {**os.environ, "TINYPERF_MODELS": str(models_dir)}
    storage = tmp_path / "benchmarks"
    first = pytest_in(tmp_path, "--benchmark-autosave", f"--benchmark-storage={storage}",
                      "--tinyperf-out", str(tmp_path / "runs"), env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    out = first.stdout
    assert "tinyperf kws01" in out  # pytest-benchmark's group for it
    assert re.search(r"kws01 [\d,]+\.\d{3} inf\./sec\. \(latency [\d.]+ ms, 5 windows\)", out), out[-3000:]
    saved = sorted(storage.rglob("*.json"))
    assert len(saved) == 1
    data = json.loads(saved[0].read_text())
    bench = data["benchmarks"][0]
    assert bench["stats"]["rounds"] == 5  # one round per tinyperf window
    info = bench["extra_info"]
    runs = list((tmp_path / "runs").iterdir())
    assert info["tinyperf_run_dir"] == str(runs[0])
    # pytest-benchmark's OPS is tinyperf's throughput: the same windows, elapsed / N per inference
    windows = [json.loads(line) for line in (runs[0] / "journal.jsonl").read_text().splitlines()
               if '"kind": "window"' in line]
    per_inf = sorted(w["elapsed_s"] / w["n"] for w in windows)
    assert bench["stats"]["min"] == pytest.approx(per_inf[0]) and bench["stats"]["median"] == pytest.approx(per_inf[2])
    assert info["tinyperf_throughput_ips"] == pytest.approx(sorted(w["throughput_ips"] for w in windows)[2])
    second = pytest_in(tmp_path, "--benchmark-compare", f"--benchmark-storage={storage}",
                       "--tinyperf-out", str(tmp_path / "runs"), env=env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "0001" in second.stdout and "(NOW)" in second.stdout  # the saved run and this one, side by side
    assert re.search(r"=+ tinyperf =+", second.stdout) and "kws01" in second.stdout
