"""Acceptance: reference models on the real sets reproduce the published reference-device figures."""

from __future__ import annotations

import re

from pathlib import Path

import pandas as pd
import pytest

from tinyperf import load_run
from tests.harness.cli_helpers import only_run_dir, run_cli as tinyperf
from tinyperf.outputs.results_txt import parse_results_txt

PUBLISHED = {"kws01": 90.1, "vww01": 85.4, "ic01": 86.5}


@pytest.fixture(scope="module")
def accuracy_run(models_dir: Path, data_dir: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("acc")
    # LiteRT's reference kernels, chosen explicitly: the default (TFLM) is covered by tests/device_runners/test_tflm.py
    r = tinyperf("run", "--mode", "accuracy", "--kernels", "reference", "--models-dir", models_dir, "--data-dir", data_dir,
                 "--out", out)
    assert r.returncode == 0, r.stdout + r.stderr
    return only_run_dir(out)


def test_reference_kernels_reproduce_published_accuracy(accuracy_run: Path) -> None:
    run = load_run(accuracy_run)
    assert run.complete
    s = run.summary.set_index("workload")
    for wl, published in PUBLISHED.items():
        assert abs(s.loc[wl, "top1_pct"] - published) <= 0.005 + 1e-9, wl
        assert s.loc[wl, "kernels"] == "reference" and s.loc[wl, "arithmetic"] == "LiteRT reference kernels"
    assert abs(s.loc["ad01", "auc"] - 0.86) <= 0.005
    assert s.loc["ad01", "n_inferences"] == 48608 and s.loc["ad01", "n_files"] == 248


def test_run_directory_holds_every_artifact(accuracy_run: Path) -> None:
    for name in ("run.json", "journal.jsonl", "samples.parquet", "samples.csv", "summary.parquet",
                 "summary.csv", "windows.parquet", "windows.csv"):
        assert (accuracy_run / name).is_file(), name
    samples = pd.read_parquet(accuracy_run / "samples.parquet")
    assert len(samples) == 1000 + 1000 + 200 + 48608
    kws = samples[samples["workload"] == "kws01"]
    assert len(kws.iloc[0]["results"]) == 12  # per-sample outputs kept
    kws_txt = (accuracy_run / "kws01" / "results.txt").read_bytes().decode()
    # the official runner's accuracy lines: time prefix, "Top 1% = ", "AUC = ", CRLF
    assert re.fullmatch(r"\d{4}\.\d{6} ulp-mlperf: Top 1% = 90\.1\r\n\d{4}\.\d{6} ulp-mlperf: AUC = 0\.\d{3}\r\n", kws_txt)
    ad = parse_results_txt((accuracy_run / "ad01" / "results.txt").read_text())
    assert 0.8 <= ad["auc"] < 0.9


def test_provenance_in_every_summary_row(accuracy_run: Path) -> None:
    summary = pd.read_parquet(accuracy_run / "summary.parquet")
    for col in ("runner", "kernels", "threads", "model_sha256", "dataset", "dataset_sha256",
                "harness_version", "hostname", "cpu", "backend"):
        assert summary[col].notna().all(), col
    assert (summary["model_sha256"].str.len() == 64).all()


def test_show_prints_the_run(accuracy_run: Path) -> None:
    r = tinyperf("show", accuracy_run)
    assert r.returncode == 0
    assert "90.1 %" in r.stdout and "AUC 0.859" in r.stdout and "complete" in r.stdout
