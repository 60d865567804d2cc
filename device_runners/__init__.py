"""Runners: the things that execute a workload's inferences (host, serial DUT, accelerators)."""

from device_runners.base import MODES, DeviceSession, Inference, Runner, RunnerConfig
from device_runners.registry import available_runners, get_runner

__all__ = ["MODES", "DeviceSession", "Inference", "Runner", "RunnerConfig", "available_runners", "get_runner"]
