"""What a run plan refuses before a run directory is made: bad values, and options the runner cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyperf.core.errors import TinyperfError
from tinyperf.engine.orchestrator import RunPlan, start
from tests.harness.cli_helpers import run_cli as tinyperf


@pytest.mark.parametrize("plan, option", [
    (RunPlan(min_window=0.0), "--min-window"),
    (RunPlan(min_window=float("inf")), "--min-window"),
    (RunPlan(threads=0), "--threads"),
])
def test_plans_built_in_python_are_checked_too(plan: RunPlan, option: str, tmp_path: Path) -> None:
    plan.out = str(tmp_path / "results")
    with pytest.raises(TinyperfError, match=option):
        start(plan)
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("extra, option", [
    (["--kernels", "reference"], "--kernels"),  # the board runs its own firmware: nothing to choose
    (["--threads", "2"], "--threads"),
])
def test_host_options_given_to_a_board_are_refused_not_ignored(extra: list[str], option: str, tmp_path: Path) -> None:
    r = tinyperf("run", "--runner", "serial", "--port", "socket://127.0.0.1:9", "-w", "kws01", *extra,
                 "--out", tmp_path / "o")
    assert r.returncode == 2 and f"error: {option}: the serial runner" in r.stderr and "leave" in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()
