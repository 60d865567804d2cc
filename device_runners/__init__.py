"""Runners: the things that execute a workload's inferences (host, serial DUT, accelerators)."""

if __name__ != "tinyperf.device_runners":  # e.g. `import device_runners` from the repository root
    raise ImportError("this folder is the `tinyperf.device_runners` package: `pip install -e .`, then `import tinyperf.device_runners`")


from tinyperf.device_runners.base import MODES, DeviceSession, Inference, Runner, RunnerConfig
from tinyperf.device_runners.registry import available_runners, get_runner

__all__ = ["MODES", "DeviceSession", "Inference", "Runner", "RunnerConfig", "available_runners", "get_runner"]
