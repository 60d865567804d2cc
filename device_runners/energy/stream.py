"""The accumulated stream of an energy monitor: 1 ms energy samples and timestamp events.

A driver's reader thread appends to it; the runner's thread waits on it and reads windows out of
it. Samples live in a compact `array('d')` (8 bytes each: an hour is ~29 MB), with NaN marking a
value lost on the line, so lost values keep their slot and never shift the event positions.
"""

from __future__ import annotations

import threading
import time
from array import array
from dataclasses import dataclass, replace
from typing import Iterable

import numpy as np

from tinyperf.device_runners.energy.base import EnergyMonitor, EnergyWindow, window_energy
from tinyperf.core.errors import DeviceError


@dataclass(frozen=True)
class Event:
    """One timestamp event: where it sits in the sample stream and what the instrument called it."""

    position: int  # samples that precede it in the stream
    label: str | None = None  # instrument's own numbering, e.g. LPM01A `event 3 ris` -> "3"
    host_time: float = 0.0  # time.monotonic() when it arrived, for diagnostics


class SampleLog:
    """Thread-safe samples + events, with waits that say what is missing when they time out."""

    def __init__(self, sample_period_s: float, where: str):
        self.sample_period_s = sample_period_s
        self.where = where
        self._samples = array("d")
        self._events: list[Event] = []
        self._cond = threading.Condition()
        self._closed_reason: str | None = None

    # writer side (the driver's reader thread) -------------------------------------------------
    def add_samples(self, values: Iterable[float]) -> None:
        with self._cond:
            self._samples.extend(values)
            self._cond.notify_all()

    def add_event(self, label: str | None = None, position: int | None = None) -> None:
        """Record an event at `position` (default: here, after the samples received so far)."""
        with self._cond:
            pos = len(self._samples) if position is None else int(position)
            self._events.append(Event(pos, label, time.monotonic()))
            self._cond.notify_all()

    def fail(self, reason: str) -> None:
        """The stream ended abnormally (port vanished): wake waiters so they report it at once."""
        with self._cond:
            self._closed_reason = reason
            self._cond.notify_all()

    def reset(self) -> None:
        with self._cond:
            self._samples = array("d")
            self._events = []
            self._closed_reason = None

    # reader side (the runner) -----------------------------------------------------------------
    def sample_count(self) -> int:
        with self._cond:
            return len(self._samples)

    def missing_count(self) -> int:
        with self._cond:
            return int(np.isnan(self._view()).sum())

    def event_count(self) -> int:
        with self._cond:
            return len(self._events)

    def events(self) -> list[Event]:
        with self._cond:
            return list(self._events)

    def wait_for_events(self, count: int, timeout: float) -> None:
        """Wait until `count` events are in and the samples up to the last of them have arrived."""
        deadline = time.monotonic() + timeout

        def ready() -> bool:
            return (len(self._events) >= count
                    and len(self._samples) >= self._events[count - 1].position) or self._closed_reason is not None

        with self._cond:
            while not ready():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.5))
            if self._closed_reason is not None and len(self._events) < count:
                raise DeviceError(self.where, f"the sample stream ended before timestamp event {count} "
                                  f"arrived ({self._closed_reason})",
                                  "check the monitor's USB cable and that nothing else opened its port")
            if len(self._events) < count:
                raise DeviceError(self.where, f"only {len(self._events)} of {count} timestamp events arrived "
                                  f"within {timeout:.0f} s ({len(self._samples)} samples so far)",
                                  "check that the DUT's timestamp pin is wired to the monitor's event input "
                                  "(LPM01A: D7; Joulescope: GPI0) and that the DUT firmware is built for "
                                  "energy mode")
            if len(self._samples) < self._events[count - 1].position:
                raise DeviceError(self.where, f"event {count} arrived but the samples before it did not "
                                  f"within {timeout:.0f} s", "the monitor is falling behind; use a direct "
                                  "USB port (no hub) and close other programs reading it")

    def wait_for_samples(self, count: int, timeout: float) -> None:
        """Wait until `count` sample slots have arrived; DeviceError naming the stall if not."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._samples) < count and self._closed_reason is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DeviceError(self.where, f"the sample stream stalled: {len(self._samples)} of "
                                      f"{count} samples after {timeout:.0f} s",
                                      "check that the monitor is acquiring (started) and its USB cable")
                self._cond.wait(min(left, 0.5))
            if self._closed_reason is not None:
                raise DeviceError(self.where, f"the sample stream ended ({self._closed_reason})",
                                  "check the monitor's USB cable and that nothing else opened its port")

    def window(self, start_event: int, end_event: int) -> EnergyWindow:
        with self._cond:
            n = len(self._events)
            if not (0 <= start_event < end_event < n):
                raise DeviceError(self.where, f"energy window asks for events {start_event}..{end_event} "
                                  f"but {n} have arrived", "wait_for_events(end_event + 1) first")
            a, b = self._events[start_event].position, self._events[end_event].position
            part = self._view()[a:b].copy()
        # the copy was taken under the lock; the sums need not hold it
        return replace(window_energy(part, 0, len(part), self.sample_period_s), start_sample=a, end_sample=b)

    def samples(self) -> np.ndarray:
        """A copy of every sample so far (J per slot, NaN = lost)."""
        with self._cond:
            return self._view().copy()

    def _view(self) -> np.ndarray:
        # callers hold the lock and drop the view before releasing it: array('d') cannot grow
        # while a buffer export is alive
        return np.frombuffer(self._samples, dtype=np.float64)


class SampleLogMonitor(EnergyMonitor):
    """An EnergyMonitor whose driver fills `self.log`: events and windows are read from it alike."""

    log: SampleLog

    def event_count(self) -> int:
        return self.log.event_count()

    def mark(self, settle_s: float = 0.25, timeout: float = 10.0) -> int:
        self.log.wait_for_samples(self.log.sample_count() + round(settle_s / self.log.sample_period_s), timeout)
        return self.log.event_count()

    def wait_for_events(self, count: int, timeout: float) -> None:
        self.log.wait_for_events(count, timeout)

    def window(self, start_event: int, end_event: int) -> EnergyWindow:
        return self.log.window(start_event, end_event)

    def missing_warning(self, why: str) -> list[str]:
        """A warning naming how many 1 ms samples were estimated rather than measured, if any."""
        missing = self.log.missing_count()
        if not missing:
            return []
        return [f"{self.log.where}: {missing} samples were missing ({why}); each kept its 1 ms slot and "
                "windows estimate it from their mean"]
