"""The fake runner shipped with tinyperf: the orchestrator, resume and the report, in-process, without ../shared.

Sample sets are written into tmp_path with the set writer the dataset builders use; the fake
device's clock is simulated, so windows of 10 s (the rules' length) cost no wall time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.harness.cli_helpers import only_run_dir, run_cli
from tinyperf import load_run
from tinyperf.device_runners.base import RunnerConfig
from tinyperf.device_runners.fake import ENV_INTERRUPT, FakeRunner, fake_outputs
from tinyperf.device_runners.registry import get_runner
from tinyperf.workloads.builders.writer import SetWriter
from tinyperf.workloads.catalog import AD01, KWS01
from tinyperf.workloads.dataset import Dataset


def write_set(root: Path, workload, files: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    writer = SetWriter(workload, root / workload.id)
    for i in range(files):
        if workload.encoding.dtype == "<f4":
            data = rng.normal(-30.0, 10.0, workload.sample_bytes // 4).astype("<f4")
            if i % 2:
                data[::7] += 40.0  # a different texture for the "anomalies"
            raw = data.tobytes()
        else:
            raw = rng.integers(0, 256, workload.sample_bytes, dtype=np.uint8).tobytes()
        writer.add(f"s_{i:03d}.bin", raw, i % 2 if workload.window_bytes else i % len(workload.labels))
    writer.commit()
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fake-data")
    write_set(root, KWS01, 40)
    write_set(root, AD01, 6)
    return root


def test_registered_like_any_runner_and_deterministic() -> None:
    assert get_runner("fake") is FakeRunner
    ds_item = bytes(range(256)) * (KWS01.sample_bytes // 256) + bytes(KWS01.sample_bytes % 256)
    a, b = fake_outputs(KWS01, ds_item), fake_outputs(KWS01, ds_item)
    assert np.array_equal(a, b) and a.shape == (12,) and abs(a.sum() - 1.0) < 1e-4
    session = FakeRunner().open(RunnerConfig(workload=KWS01, mode="performance",
                                             options={"fake_us_per_inference": 250.0}))
    session.load(ds_item)
    inf = session.infer(4000, 10)
    assert inf.elapsed_s == pytest.approx(1.0) and set(inf.latencies_ns) == {250_000}


def test_noise_is_seeded() -> None:
    def lat(seed: int) -> np.ndarray:
        s = FakeRunner().open(RunnerConfig(workload=KWS01, mode="performance",
                                           options={"fake_noise": 0.05, "fake_seed": seed}))
        s.load(bytes(KWS01.sample_bytes))
        return s.infer(100, 0).latencies_ns

    assert np.array_equal(lat(1), lat(1)) and not np.array_equal(lat(1), lat(2))


def test_a_rules_length_run_costs_no_wall_time(data: Path, tmp_path: Path) -> None:
    r = run_cli("run", "--runner", "fake", "-w", "kws01", "-w", "ad01", "--data-dir", data,
                "--fake-us-per-inference", "500", "--out", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    run = load_run(only_run_dir(tmp_path))
    perf = run.summary[run.summary["mode"] == "performance"].set_index("workload")
    assert bool(perf.loc["kws01", "valid"]) and perf.loc["kws01", "throughput_ips"] == pytest.approx(2000.0)
    acc = run.summary[run.summary["mode"] == "accuracy"].set_index("workload")
    assert acc.loc["kws01", "n_files"] == 40 and pd.notna(acc.loc["kws01", "top1_pct"])
    assert acc.loc["ad01", "n_files"] == 6 and 0.0 <= acc.loc["ad01", "auc"] <= 1.0
    assert pd.isna(acc.loc["ad01", "top1_pct"])  # the scoring's own column, the other left missing
    txt = (run.path / "ad01" / "results.txt").read_text()
    assert "ulp-mlperf: Median throughput is   2000.000 inf./sec." in txt and "ulp-mlperf: AUC = " in txt, txt
    shown = run_cli("show", run.path, env={"COLUMNS": "80"})
    assert shown.returncode == 0 and "fake device" in shown.stdout, shown.stdout


def test_interrupt_then_resume_gives_the_figures_of_an_uninterrupted_run(data: Path, tmp_path: Path,
                                                                         monkeypatch) -> None:
    args = ["run", "--runner", "fake", "--mode", "accuracy", "-w", "ad01", "-w", "kws01", "--data-dir", data]
    straight = run_cli(*args, "--out", tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr

    monkeypatch.setenv(ENV_INTERRUPT, "100")  # Ctrl-C after 100 inferences of the first session
    cut = run_cli(*args, "--out", tmp_path / "cut")
    assert cut.returncode == 130 and "--resume" in cut.stdout + cut.stderr, cut.stdout + cut.stderr
    run_dir = only_run_dir(tmp_path / "cut")
    partial = load_run(run_dir)
    assert partial.status == "incomplete" and len(partial.samples) == 100
    monkeypatch.delenv(ENV_INTERRUPT)

    r = run_cli("run", "--resume", run_dir)
    assert r.returncode == 0, r.stderr
    resumed, whole = load_run(run_dir), load_run(only_run_dir(tmp_path / "straight"))
    assert resumed.complete and len(resumed.samples) == len(whole.samples) == AD01.windows_per_file * 6 + 40
    cols = ["workload", "mode", "top1_pct", "auc", "n_files", "n_inferences"]
    pd.testing.assert_frame_equal(resumed.summary[cols].reset_index(drop=True), whole.summary[cols].reset_index(drop=True))


def test_accuracy_mode_and_predict_cut_the_same_windows(data: Path) -> None:
    ds = Dataset.open(AD01, data / "ad01")
    raw = (data / "ad01" / "s_000.bin").read_bytes()
    assert [i.data for i in ds.items() if i.file == "s_000.bin"] == AD01.windows(raw)
    assert len(AD01.windows(raw)) == AD01.windows_per_file and AD01.windows(raw, 1) == [raw[:AD01.window_bytes]]
    assert KWS01.windows(b"x" * KWS01.sample_bytes) == [b"x" * KWS01.sample_bytes]
