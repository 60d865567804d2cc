"""Speed targets are reported, not asserted: the README's test command must pass on a busy machine.

The benchmarks run when asked for, by path (`python -m pytest tests/benchmarks`) or with
TINYPERF_BENCHMARKS=1: several time real 115200-baud links for minutes of wall time, which says
nothing on a shared CI machine and would double the README's test command. `python -m pytest`
alone lists them as skipped, saying how to run them.

Each benchmark measures, records its figure in pytest-benchmark's extra_info and prints it; a
missed target is a warning. On a quiet machine set TINYPERF_BENCH_GATE=1 to make missed targets
fail (the way to gate a release on speed).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

GATE_ENV = "TINYPERF_BENCH_GATE"
RUN_ENV = "TINYPERF_BENCHMARKS"
HERE = Path(__file__).resolve().parent


def _asked_for(config: pytest.Config) -> bool:
    if os.environ.get(RUN_ENV) == "1":
        return True
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _asked_for(config):
        return
    skip = pytest.mark.skip(reason=f"benchmarks run when asked: `python -m pytest tests/benchmarks` or {RUN_ENV}=1")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


class SpeedTargetMissed(UserWarning):
    """A benchmark figure above its target: real on a quiet machine, often noise on a loaded one."""


def check_target(benchmark, name: str, value: float, limit: float) -> None:
    """Record `value` against `limit`; warn when it is missed, fail only when the gate is on."""
    benchmark.extra_info[f"{name}_target"] = limit
    benchmark.extra_info[f"{name}_met"] = value <= limit
    if value <= limit:
        return
    message = f"{name} {value:.3f} is above its target {limit:.3f} (set {GATE_ENV}=1 on a quiet machine to fail on it)"
    if os.environ.get(GATE_ENV) == "1":
        pytest.fail(message)
    warnings.warn(message, SpeedTargetMissed, stacklevel=2)
