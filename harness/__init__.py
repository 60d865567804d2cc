"""tinyperf: benchmark tiny ML models and hardware the MLPerf Tiny way.

The small public API, loaded on first use so that `import tinyperf.workloads...` or a runner
never pays for pandas:

    tinyperf.load_run(path) -> tinyperf.Run      a run directory as pandas tables
    tinyperf.Runner, tinyperf.RunnerConfig,      the runner plug-in interface
    tinyperf.DeviceSession, tinyperf.Inference
    tinyperf.__version__

This folder (`harness/` in the repository) is installed as the `tinyperf` package;
`workloads/` and `device_runners/` are installed as `tinyperf.workloads` and
`tinyperf.device_runners`. Install with `pip install -e .` to run from a checkout.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if __name__ != "tinyperf":  # e.g. `import harness` from the repository root
    raise ImportError("this folder is the `tinyperf` package: `pip install -e .`, then `import tinyperf`")

from tinyperf.core.version import __version__

_LAZY = {
    "load_run": "tinyperf.engine.rundir",
    "Run": "tinyperf.engine.rundir",
    "Runner": "tinyperf.device_runners.base",
    "RunnerConfig": "tinyperf.device_runners.base",
    "DeviceSession": "tinyperf.device_runners.base",
    "Inference": "tinyperf.device_runners.base",
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:
    from tinyperf.device_runners.base import DeviceSession, Inference, Runner, RunnerConfig
    from tinyperf.engine.rundir import Run, load_run


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tinyperf' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
