"""Intervals, verdicts and the regression gate of `tinyperf compare`, on runs with known noise.

The runs are journalled on a simulated clock (`tests.harness.synthetic_runs`): the true speed
ratio between two runs is known, so a verdict can be checked against the truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Group

from tinyperf.outputs.compare import compare_renderables
from tinyperf.core.errors import ResultsError
from tinyperf.engine.significance import SAME, SLOWER, TOO_FEW, speed_ratio, _u_cdf
from tinyperf.outputs.compare_stats import parse_threshold
from tinyperf.outputs.leaderboard import compare
from tests.harness.cli_helpers import rendered, tinyperf
from tests.harness.synthetic_runs import simulated_run


def test_exact_rank_distribution_matches_scipy() -> None:
    from scipy.stats import mannwhitneyu

    for m, n in ((3, 4), (5, 5), (6, 2)):
        cdf = _u_cdf(m, n)
        a, b = np.arange(m, dtype=float), np.arange(m, m + n, dtype=float)  # U = 0: the most extreme
        assert 2 * cdf[0] == pytest.approx(mannwhitneyu(a, b, method="exact").pvalue)
        assert cdf[-1] == pytest.approx(1.0)


def test_same_model_same_machine_is_no_significant_difference(tmp_path: Path) -> None:
    """Twenty pairs of runs of one model with 2 % window noise: never called faster or slower."""
    verdicts = []
    for seed in range(20):
        a = simulated_run(tmp_path, f"a{seed}", us_per_inference=100, seed=2 * seed)
        b = simulated_run(tmp_path, f"b{seed}", us_per_inference=100, seed=2 * seed + 1)
        row = compare([a, b]).iloc[1]
        verdicts.append(row["verdict"])
        assert row["speedup_low"] < row["speedup_vs_first"] < row["speedup_high"]
    assert set(verdicts) == {SAME}


def test_twenty_percent_slower_is_called_slower_with_an_interval_excluding_one(tmp_path: Path) -> None:
    a = simulated_run(tmp_path, "a", us_per_inference=100, seed=1)
    b = simulated_run(tmp_path, "b", us_per_inference=125, seed=2)  # throughput x 0.8
    row = compare([a, b]).iloc[1]
    assert row["verdict"] == SLOWER
    assert row["speedup_high"] < 1.0
    assert row["speedup_low"] < 0.8 < row["speedup_high"]  # and it covers the truth
    assert row["speedup_level"] == pytest.approx(1 - 2 * 4 / 252)  # exact coverage for 5 vs 5 windows
    text = rendered(Group(*compare_renderables(compare([a, b]))), 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert f"{row['speedup_low']:.2f}–{row['speedup_high']:.2f}" in text and "slower" in text
    assert "96.8 % interval" in " ".join(text.split())


def test_a_change_under_the_minimum_effect_is_not_called(tmp_path: Path) -> None:
    """3 % slower with almost no noise is statistically clear but within run-to-run noise."""
    a = simulated_run(tmp_path, "a", us_per_inference=100, window_noise=0.001, jitter=0.001, seed=1)
    b = simulated_run(tmp_path, "b", us_per_inference=103, window_noise=0.001, jitter=0.001, seed=2)
    assert compare([a, b]).iloc[1]["verdict"] == SAME
    assert compare([a, b], min_effect=0.01).iloc[1]["verdict"] == SLOWER


def test_too_few_windows_gives_no_verdict() -> None:
    iv = speed_ratio([100.0, 101.0], [80.0, 81.0])
    assert iv.verdict == TOO_FEW and np.isnan(iv.low)


def test_repeated_runs_are_combined_with_their_spread(tmp_path: Path) -> None:
    a = [simulated_run(tmp_path, f"a{i}", us_per_inference=100, seed=i) for i in range(3)]
    b = simulated_run(tmp_path, "b", us_per_inference=125, seed=9)
    table = compare([a, b])
    base = table.iloc[0]
    assert base["runs"] == 3 and base["run_spread_pct"] > 0
    assert table.iloc[1]["verdict"] == SLOWER
    text = rendered(Group(*compare_renderables(table)), 80)
    assert "3 runs combined" in " ".join(text.split()) and f"kws01 {base['run_spread_pct']:.1f} %" in text
    # the CLI joins repeated runs with commas
    r = tinyperf("compare", ",".join(map(str, a)), b)
    assert r.returncode == 0, r.stderr
    assert "3 runs combined" in " ".join(r.stdout.split())


def test_runs_of_different_systems_or_load_are_not_combined(tmp_path: Path) -> None:
    quiet = {"loadavg_1m": 0.2, "cpus": 2, "busy_processes": []}
    a = simulated_run(tmp_path, "a", us_per_inference=100, seed=1, load=quiet)
    other = simulated_run(tmp_path, "b", us_per_inference=100, seed=2, kernels="reference", load=quiet)
    with pytest.raises(ResultsError, match="different kernels"):
        compare([[a, other]])
    busy = simulated_run(tmp_path, "c", us_per_inference=100, seed=3,
                         load={"loadavg_1m": 4.0, "cpus": 2, "busy_processes": [{"pid": 1, "name": "yes", "cpu_pct": 99.0}]})
    with pytest.raises(ResultsError, match="different load_busy"):
        compare([[a, busy]])
    # the busy run says so, in the comparison and in its own summary
    table = compare([a, busy])
    assert table.iloc[1]["load_busy"] == True  # noqa: E712 (numpy bool)
    assert "machine was busy" in table.iloc[1]["warnings"] and "yes 99 %" in table.iloc[1]["warnings"]
    text = " ".join(rendered(Group(*compare_renderables(table)), 80).split())
    assert "~ stability warning" in text and "~ B kws01: the machine was busy" in text


def test_fail_on_regression_exit_codes(tmp_path: Path) -> None:
    base = simulated_run(tmp_path, "base", us_per_inference=100, seed=1)
    same = simulated_run(tmp_path, "same", us_per_inference=100, seed=2)
    slow = simulated_run(tmp_path, "slow", us_per_inference=125, seed=3)
    ok = tinyperf("compare", base, same, "--fail-on-regression", "5%")
    assert ok.returncode == 0, ok.stderr
    assert "no regression beyond 5 %" in ok.stdout
    bad = tinyperf("compare", base, slow, "--fail-on-regression", "5%")
    assert bad.returncode == 1
    msg = " ".join(bad.stderr.split())
    assert "regression: kws01: B is slower than A" in msg and "interval" in msg and "inf/s" in msg
    table = compare([base, slow])
    assert f"{table.iloc[1]['speedup_low']:.3f}-{table.iloc[1]['speedup_high']:.3f}x" in msg
    # 30 % allowed: a 20 % slow-down passes the gate
    assert tinyperf("compare", base, slow, "--fail-on-regression", "30%").returncode == 0
    # usage errors stay 2
    usage = tinyperf("compare", base, slow, "--fail-on-regression", "lots")
    assert usage.returncode == 2 and "5%" in usage.stderr and "Traceback" not in usage.stderr
    missing = tinyperf("compare", base, tmp_path / "no-such-run", "--fail-on-regression", "5%")
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr


def test_fail_on_regression_catches_a_significant_accuracy_drop(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 12, 400)
    good = [(f"f{i}.bin", int(y), int(y) if i % 10 else int((y + 1) % 12)) for i, y in enumerate(labels)]  # 90 %
    worse = [(f, y, p if i % 4 else (y + 1) % 12) for i, (f, y, p) in enumerate(good)]  # about 67 %
    base = simulated_run(tmp_path, "base", us_per_inference=100, seed=1, accuracy=good)
    new = simulated_run(tmp_path, "new", us_per_inference=100, seed=2, accuracy=worse)
    table = compare([base, new])
    row = table.iloc[1]
    assert row["quality_verdict"] == "less accurate" and row["quality_high"] < 0
    r = tinyperf("compare", base, new, "--fail-on-regression", "5%")
    assert r.returncode == 1 and "less accurate than A: top-1" in " ".join(r.stderr.split())
    assert tinyperf("compare", base, base, "--fail-on-regression", "5%").returncode == 0


def test_compare_csv_is_rounded_as_published(tmp_path: Path) -> None:
    a = simulated_run(tmp_path, "a", us_per_inference=100, seed=1)
    b = simulated_run(tmp_path, "b", us_per_inference=125, seed=2)
    out = tmp_path / "c.csv"
    assert tinyperf("compare", a, b, "--csv", out).returncode == 0
    text = out.read_text()
    df = pd.read_csv(out)
    for col, d in (("throughput_ips", 3), ("latency_ms", 4), ("speedup_vs_first", 3), ("speedup_low", 3)):
        for v in df[col].dropna():
            assert round(v, d) == v, (col, v)
    assert not any(len(tok.split(".")[-1]) > 6 for tok in text.replace("\n", ",").split(",")
                   if tok.replace(".", "", 1).isdigit())


@pytest.mark.parametrize("text, value", [("5%", 0.05), ("0.05", 0.05), (" 12.5% ", 0.125)])
def test_thresholds_parse(text: str, value: float) -> None:
    assert parse_threshold(text) == pytest.approx(value)


def _fake_run(out: Path, us: float, seed: int) -> Path:
    """A kws01 run of tinyperf's fake runner: 2 s windows on a simulated clock, 5 % per-inference noise."""
    from tests.harness.cli_helpers import only_run_dir

    r = tinyperf("run", "--runner", "fake", "-w", "kws01", "--mode", "performance", "--min-window", "2",
                 "--fake-us-per-inference", str(us), "--fake-noise", "0.05", "--fake-seed", str(seed), "--out", out)
    assert r.returncode == 0, r.stderr
    return only_run_dir(out)


def test_fake_runner_same_model_and_a_twenty_percent_slower_one(tmp_path: Path) -> None:
    """The same verdicts from runs tinyperf itself recorded on the fake runner's simulated clock."""
    a = _fake_run(tmp_path / "a", 1000, seed=1)
    b = _fake_run(tmp_path / "b", 1000, seed=2)
    slow = _fake_run(tmp_path / "slow", 1250, seed=3)  # throughput x 0.8
    table = compare([a, b, slow])
    same, slower = table.iloc[1], table.iloc[2]
    assert same["verdict"] == SAME and same["speedup_low"] <= 1.0 + 0.01 and same["speedup_high"] >= 1.0 - 0.01
    assert slower["verdict"] == SLOWER and slower["speedup_high"] < 1.0
    assert slower["speedup_vs_first"] == pytest.approx(0.8, abs=0.01)
    assert tinyperf("compare", a, b, "--fail-on-regression", "5%").returncode == 0
    assert tinyperf("compare", a, slow, "--fail-on-regression", "5%").returncode == 1
