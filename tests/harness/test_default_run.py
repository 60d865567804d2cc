"""Acceptance: with no models and no data, `tinyperf run` still does its main job."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tinyperf import load_run
from tests.harness.cli_helpers import only_run_dir, tinyperf
from tinyperf.outputs.results_txt import parse_results_txt


def test_run_without_models_or_data_benchmarks_the_default_architectures(tmp_path: Path) -> None:
    # the session-wide cache (tests/conftest.py) lets one default-model build serve every test
    r = tinyperf("run", "--min-window", "0.3", "--out", tmp_path, env={"TINYPERF_CACHE": os.environ["TINYPERF_CACHE"]},
                 timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    out = " ".join(r.stdout.split())
    for wl in ("kws01", "vww01", "ic01", "ad01"):
        assert wl in out
    assert "architecture only, synthetic weights" in out
    assert "accuracy not measured for kws01, vww01, ic01, ad01" in out
    assert "inputs: synthetic (no sample set" in out  # the summary says what the figures were measured on

    run_dir = only_run_dir(tmp_path)
    run = load_run(run_dir)
    s = run.summary
    perf = s[s["mode"] == "performance"].set_index("workload")
    acc = s[s["mode"] == "accuracy"].set_index("workload")
    assert sorted(perf.index) == ["ad01", "ic01", "kws01", "vww01"]
    assert (perf["throughput_ips"] > 0).all() and perf["synthetic_weights"].all()
    assert (perf["model_note"] == "architecture only, synthetic weights").all()
    assert (perf["dataset"] == "synthetic inputs").all()
    assert acc["top1_pct"].isna().all() and acc["auc"].isna().all()  # missing, never 0
    assert acc["note"].str.contains("no sample set").all()
    for name in ("run.json", "journal.jsonl", "windows.parquet", "windows.csv", "summary.parquet",
                 "summary.csv", "samples.parquet", "samples.csv"):
        assert (run_dir / name).is_file(), name
    for wl in perf.index:
        figures = parse_results_txt((run_dir / wl / "results.txt").read_text())
        assert figures.get("throughput_ips", 0) > 0 or figures["errors"]  # the official median line, or its ERROR line
    assert np.isclose(perf.loc["ad01", "latency_ms"], 1000 / perf.loc["ad01", "throughput_ips"])


def test_first_run_says_up_front_what_it_will_do_and_about_how_long(tmp_path: Path, monkeypatch) -> None:
    from tinyperf.core.console import console
    from tinyperf.device_runners.host import HostRunner
    from tinyperf.engine.orchestrator import RunPlan, announce_first_run

    monkeypatch.setenv("TINYPERF_CACHE", str(tmp_path / "empty-cache"))  # nothing built, nothing fetched
    monkeypatch.delenv("TINYPERF_MODELS", raising=False)
    with console.capture() as captured:
        announce_first_run(RunPlan(), HostRunner)
    said = " ".join(captured.get().split())
    assert said.startswith("first run: no model for kws01, vww01, ic01, ad01"), said
    assert "TensorFlow once (about 1 min" in said and "20 performance windows of at least 10 s (about 4 min)" in said
    assert "accuracy is not measured" in said
    with console.capture() as captured:
        announce_first_run(RunPlan(models_dir=str(tmp_path)), HostRunner)  # models named: nothing to build
    assert captured.get() == ""
