"""pytest plugin: benchmark a model from a test, stored and compared by pytest-benchmark.

    def test_model_speed(tinyperf):
        tinyperf("kws01", model="my_model.tflite", min_window=1)

The `tinyperf` fixture runs one workload in performance mode on a runner (a real run directory,
under pytest's tmp_path unless `--tinyperf-out DIR`), then hands its windows to pytest-benchmark
as rounds: one round per window, its value the window's time per inference (elapsed / N), so
pytest-benchmark's OPS is tinyperf's throughput and `--benchmark-autosave`, `--benchmark-compare`
and `--benchmark-compare-fail` work on tinyperf's own measurements (pytest-benchmark never times
anything itself). Windows, not single inferences, are the rounds for the reason given in
`tinyperf.engine.significance`. tinyperf's figures (throughput, latency, validity, run directory)
go into the benchmark's `extra_info` and a "tinyperf" section of the terminal summary.
Registered through the `pytest11` entry point; without pytest-benchmark the fixture still runs
and returns the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

RESULTS_KEY = pytest.StashKey[list]()


@dataclass(frozen=True)
class BenchResult:
    """What one `tinyperf(...)` call measured (the summary row of its performance mode)."""

    workload: str
    throughput_ips: float
    latency_ms: float
    valid: bool
    invalid_reason: str | None
    warnings: str | None
    windows: int
    run_dir: Path
    summary: dict[str, Any]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinyperf")
    group.addoption("--tinyperf-out", metavar="DIR", default=None,
                    help="keep the run directories of the tinyperf fixture here (default: the test's tmp_path)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RESULTS_KEY] = []


class TinyperfFixture:
    """Callable once per test: `tinyperf(workload, runner="host", model=..., min_window=...)`."""

    def __init__(self, request: pytest.FixtureRequest, out: Path) -> None:
        self._request = request
        self._out = out
        self._used = False

    def _benchmark(self):
        if not self._request.config.pluginmanager.hasplugin("benchmark"):
            return None
        return self._request.getfixturevalue("benchmark")

    def __call__(self, workload: str, *, runner: str = "host", model: str | Path | None = None,
                 models_dir: str | Path | None = None, data_dir: str | Path | None = None, min_window: float = 10.0,
                 kernels: str | None = None, threads: int | None = None,
                 runner_options: dict[str, Any] | None = None) -> BenchResult:
        from tinyperf.core.errors import TinyperfError
        from tinyperf.engine.orchestrator import RunPlan, start

        if self._used:
            raise TinyperfError(None, "the tinyperf fixture measures one workload per test",
                                "write one test per workload (or parametrize the test)")
        self._used = True
        plan = RunPlan(workloads=[workload], mode="performance", runner=runner, runner_options=dict(runner_options or {}),
                       min_window=float(min_window), models_dir=str(models_dir) if models_dir else None,
                       data_dir=str(data_dir) if data_dir else None, model=str(model) if model else None,
                       out=str(self._out), kernels=kernels, threads=threads, workloads_explicit=True)
        run = start(plan, command=["pytest", self._request.node.nodeid])
        rows = run.summary[(run.summary["workload"] == workload) & (run.summary["mode"] == "performance")]
        if rows.empty or not run.complete:
            raise TinyperfError(run.path, "the run measured nothing", "see the run directory and `tinyperf show` it")
        row = rows.iloc[0].to_dict()
        windows = run.windows[(run.windows["workload"] == workload) & (run.windows["mode"] == "performance")]
        result = BenchResult(workload=workload, throughput_ips=float(row["throughput_ips"]),
                             latency_ms=float(row["latency_ms"]), valid=bool(row["valid"]),
                             invalid_reason=row.get("invalid_reason") if isinstance(row.get("invalid_reason"), str) else None,
                             warnings=row.get("warnings") if isinstance(row.get("warnings"), str) else None,
                             windows=len(windows), run_dir=run.path, summary=row)
        self._request.config.stash[RESULTS_KEY].append((self._request.node.nodeid, result))
        bench = self._benchmark()
        if bench is not None:
            bench._mode = "tinyperf(...)"  # the fixture counts as used, and cannot be used a second time
            if not bench.disabled:  # --benchmark-disable: run, return the figures, store nothing
                _store(bench, windows, result)
        return result


def _store(bench, windows, result: BenchResult) -> None:
    """tinyperf's windows as pytest-benchmark rounds (seconds per inference), its figures as extra_info."""
    bench.group = bench.group or f"tinyperf {result.workload}"
    bench.extra_info.update({
        "tinyperf_throughput_ips": result.throughput_ips, "tinyperf_latency_ms": result.latency_ms,
        "tinyperf_valid": result.valid, "tinyperf_invalid_reason": result.invalid_reason,
        "tinyperf_windows": result.windows, "tinyperf_run_dir": str(result.run_dir),
        "tinyperf_runner": result.summary.get("runner"), "tinyperf_kernels": result.summary.get("kernels"),
        "tinyperf_model_sha256": result.summary.get("model_sha256"),
        "rounds_are": "tinyperf windows: elapsed / N seconds per inference",
    })
    stats = bench._make_stats(1)
    for elapsed, n in zip(windows["elapsed_s"], windows["n"]):
        if n and not math.isnan(float(elapsed)):
            stats.update(float(elapsed) / float(n))


@pytest.fixture
def tinyperf(request: pytest.FixtureRequest, tmp_path: Path) -> TinyperfFixture:
    """Run a tinyperf workload inside a test; its windows go to pytest-benchmark (see the module doc)."""
    out = request.config.getoption("--tinyperf-out")
    return TinyperfFixture(request, Path(out) if out else tmp_path / "tinyperf")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash.get(RESULTS_KEY, [])
    if not results:
        return
    terminalreporter.section("tinyperf")
    for nodeid, r in results:
        mark = "" if r.valid else f"  * not a valid MLPerf Tiny result: {r.invalid_reason}"
        terminalreporter.write_line(f"{nodeid}: {r.workload} {r.throughput_ips:,.3f} inf./sec. "
                                    f"(latency {r.latency_ms:.4f} ms, {r.windows} windows) run {r.run_dir}{mark}")
        if r.warnings:
            terminalreporter.write_line(f"  warning: {r.warnings}")
