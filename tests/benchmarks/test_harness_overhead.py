"""Benchmark: the harness's timed window costs at most 10 % over a bare LiteRT invoke() loop.

ad01 is the worst case (about 4-6 us per inference), so per-inference bookkeeping shows most.
"""

from __future__ import annotations

from pathlib import Path

from tinyperf.device_runners.base import RunnerConfig
from tinyperf.device_runners.host import HostRunner
from tinyperf.bench import measure_overhead
from tinyperf.core.modelfile import ModelFile
from tinyperf.workloads import AD01, Dataset
from tests.benchmarks.conftest import check_target


def test_ad01_harness_overhead_within_10_percent(benchmark, models_dir: Path, data_dir: Path) -> None:
    item = Dataset.open(AD01, data_dir / "ad01").performance_items(1)[0]
    model = models_dir / AD01.reference_model
    result = measure_overhead(AD01, model, item.data, "xnnpack", n=20000, repeats=7)

    session = HostRunner().open(RunnerConfig(workload=AD01, mode="performance", model=ModelFile(model, "reference"),
                                             kernels="xnnpack", threads=1))
    session.load(item.data)
    benchmark.pedantic(session.infer, args=(20000, 0), rounds=5, warmup_rounds=1)
    benchmark.extra_info.update(bare_us_per_inference=result.bare_us, harness_us_per_inference=result.harness_us,
                                ratio=result.ratio)
    print(f"\nad01 xnnpack: bare invoke() {result.bare_us:.3f} us/inf, harness {result.harness_us:.3f} us/inf, "
          f"ratio {result.ratio:.3f}")
    check_target(benchmark, "ad01_overhead_ratio", result.ratio, 1.10)
