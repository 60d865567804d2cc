"""Comparisons and leaderboards: merge what is comparable, refuse what is not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness.errors import ResultsError
from harness.leaderboard import OURS, compare, leaderboard, merge_runs
from harness.results import load_run
from harness.site import write_site
from tests.harness.cli_helpers import only_run_dir, tinyperf


@pytest.fixture(scope="module")
def two_runs(models_dir: Path, data_dir: Path, tmp_path_factory) -> list[Path]:
    runs = []
    for kernels in ("xnnpack", "builtin"):
        out = tmp_path_factory.mktemp(kernels)
        r = tinyperf("run", "--workload", "ic01", "--models-dir", models_dir, "--data-dir", data_dir,
                     "--min-window", "0.2", "--kernels", kernels, "--out", out)
        assert r.returncode == 0, r.stderr
        runs.append(only_run_dir(out))
    return runs


def test_compare_puts_runs_side_by_side(two_runs: list[Path]) -> None:
    table = compare(two_runs)
    perf = table[table["mode"] == "performance"]
    assert list(perf["kernels"]) == ["xnnpack", "builtin"]
    assert perf["speedup_vs_first"].iloc[0] == 1.0
    assert perf["speedup_vs_first"].iloc[1] == pytest.approx(perf["latency_ms"].iloc[0] / perf["latency_ms"].iloc[1])
    r = tinyperf("compare", *two_runs)
    assert r.returncode == 0 and "speed-up" in r.stdout


def test_compare_refuses_accuracy_on_different_data(two_runs: list[Path], tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(two_runs[1], other)
    journal = other / "run.json"
    meta = json.loads(journal.read_text())
    meta["workloads"]["ic01"]["dataset"]["sha256"] = "0" * 64
    journal.write_text(json.dumps(meta))
    with pytest.raises(ResultsError, match="different sample sets"):
        compare([two_runs[0], other])


def test_repeated_runs_merge_by_median_and_conflicts_are_refused(two_runs: list[Path], tmp_path: Path) -> None:
    a = load_run(two_runs[0])
    merged = merge_runs([a, a])
    perf = merged[merged["mode"] == "performance"].iloc[0]
    assert perf["runs"] == 2 and perf["throughput_ips"] == a.summary.set_index("mode").loc["performance", "throughput_ips"]
    b = load_run(two_runs[0])
    b.summary["harness_version"] = "9.9.9"
    with pytest.raises(ResultsError, match="different harness_version"):
        merge_runs([a, b])


def test_leaderboard_with_published_table_and_site(two_runs: list[Path], shared_root: Path, tmp_path: Path) -> None:
    published = shared_root / "published" / "tiny_results_v1.2_summary.csv"
    board = leaderboard(two_runs, published)
    ic = board[board["Model"] == "ic"]
    assert list(ic["Rank"]) == list(range(1, len(ic) + 1))
    assert ic["Result"].is_monotonic_decreasing
    ours = ic[ic["Organization"] == OURS]
    assert len(ours) == 2 and ours["Accuracy"].between(80, 90).all()  # optimized kernels: 85.0, not 86.5
    assert not ours["Valid"].any()  # 0.2 s windows are flagged, not hidden
    pub = pd.read_csv(published)
    assert len(board) == len(pub) + 2
    assert board.loc[board["HasPower"].astype(str).str.lower() != "true", "Power"].isna().all()  # 0 = not measured
    index = write_site(board, tmp_path / "site")
    text = index.read_text()
    assert "<svg" in text and "Image classification (ic01)" in text and "not a valid MLPerf result" in text
    r = tinyperf("leaderboard", *two_runs, "--published", published, "--html", tmp_path / "site2", "--csv", tmp_path / "b.csv")
    assert r.returncode == 0 and (tmp_path / "site2" / "index.html").is_file()
    assert len(pd.read_csv(tmp_path / "b.csv")) == len(board)
