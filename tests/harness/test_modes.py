"""Window calibration against a session whose speed changes under it (a busy machine)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from tinyperf.device_runners.base import Inference
from tinyperf.engine.journal import Window
from tinyperf.engine.modes import calibrate, run_performance
from tinyperf.workloads import KWS01
from tinyperf.workloads.dataset import Item


class ClockedSession:
    """A session with a known cost per inference, so calibration can be checked exactly."""

    def __init__(self, seconds_per_inference: float):
        self.spi = seconds_per_inference
        self.calls: list[tuple[int, int]] = []

    def describe(self):
        return {"runner": "test"}

    def load(self, data: bytes) -> None:
        pass

    def infer(self, n: int, warmup: int) -> Inference:
        self.calls.append((n, warmup))
        return Inference(results=np.zeros(12), n=n, warmup=warmup, elapsed_s=n * self.spi)

    def close(self) -> None:
        pass


def test_calibration_reaches_the_window_length() -> None:
    s = ClockedSession(0.002)
    c = calibrate(s, warmup=10, min_window=10.0)
    assert c.n * 0.002 >= 10.0 and c.n * 0.002 < 10.0 * 1.1
    assert s.calls[0] == (1, 10)  # warm-ups only before the first pilot
    assert all(w == 0 for _, w in s.calls[1:])


def test_a_short_window_is_redone_and_later_windows_keep_the_larger_n() -> None:
    s = ClockedSession(0.002)
    items = [Item(f"f{i}", 0, 0, b"") for i in range(5)]
    rows = []
    cal = calibrate(s, 10, 1.0)
    s.spi = 0.001  # the machine got twice as fast after the pilot
    run_performance(s, KWS01, items, 1.0, lambda rec: rows.append(asdict(rec)) if isinstance(rec, Window) else None,
                    set(), cal)
    assert [r["retries"] for r in rows] == [1, 0, 0, 0, 0]
    assert all(r["elapsed_s"] >= 1.0 for r in rows)
    assert len({r["n"] for r in rows}) == 1


class SpeedingUpSession(ClockedSession):
    """Each call runs 8 % faster than the one before: a neighbour's load draining away."""

    def infer(self, n: int, warmup: int) -> Inference:
        inf = super().infer(n, warmup)
        self.spi /= 1.08
        return inf


def test_windows_reach_the_length_on_a_machine_that_keeps_speeding_up() -> None:
    s = SpeedingUpSession(0.002)
    items = [Item(f"f{i}", 0, 0, b"") for i in range(5)]
    rows = []
    cal = calibrate(s, 10, 1.0)
    run_performance(s, KWS01, items, 1.0, lambda rec: rows.append(asdict(rec)) if isinstance(rec, Window) else None,
                    set(), cal)
    assert all(r["elapsed_s"] >= 1.0 for r in rows), [r["elapsed_s"] for r in rows]
    assert all(r["retries"] <= 3 for r in rows)
