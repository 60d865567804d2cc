"""The MLPerf Tiny modes as procedures over a DeviceSession.

Performance: 5 windows on the first 5 samples; each window is one `infer N W` with N calibrated
from a pilot so the window lasts at least `min_window` seconds. Accuracy: every file (ad01:
every window), `infer 1 0`. Each finished window or sample is handed to `sink` at once, so it
is on disk before the next starts (records are the journal's dataclasses).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinyperf.core.errors import TinyperfError
from tinyperf.device_runners.base import DeviceSession, Inference
from tinyperf.engine.journal import CalibrationRecord, Record, Sample, Window
from tinyperf.engine.stats import Stats
from tinyperf.workloads.dataset import Item
from tinyperf.workloads.spec import Workload

#: a window may fall short of min_window (noise, turbo); re-run with a larger N at most this often
MAX_WINDOW_RETRIES = 3
#: aim this much above min_window so ordinary jitter does not force a retry
WINDOW_HEADROOM = 1.05


def retry_headroom(retry: int) -> float:
    """The margin a redone window aims for: it doubles with each retry (1.1, 1.2, 1.4 x).

    A machine that keeps speeding up (a neighbour's load going away, turbo) makes a fixed
    margin fall short again and again; a growing one catches up within the retries.
    """
    return 1.0 + (WINDOW_HEADROOM - 1.0) * 2 ** retry


@dataclass(frozen=True)
class Calibration:
    n: int
    warmup: int
    pilot_n: int
    pilot_elapsed_s: float
    first_ns: int | None = None  # the cold first inference, seen during the pilot

    @property
    def seconds_per_inference(self) -> float:
        return self.pilot_elapsed_s / self.pilot_n


def window_limit(n: int, max_n: int | None, min_window: float) -> int:
    """N itself, or a clear refusal when a window would need more inferences than the runner can run."""
    if max_n is not None and n > max_n:
        raise TinyperfError("--min-window", f"a {min_window:g} s window needs {n:,} inferences here, more than "
                            f"the runner can run in one window ({max_n:,})", "use a shorter --min-window (the rules need 10 s)")
    return n


def calibrate(session: DeviceSession, warmup: int, min_window: float, max_n: int | None = None) -> Calibration:
    """Find N so that N inferences last at least `min_window` (the sample is already loaded).

    The pilot grows geometrically until it lasts a twentieth of a window (at most 0.5 s), so
    a slow board spends little time on it and a fast host gets a stable estimate.
    """
    target = min(0.5, max(min_window / 20.0, 0.01))
    n = 1
    first = True
    first_ns = None
    while True:
        pilot = session.infer(n, warmup if first else 0)
        if first:
            first_ns = pilot.first_ns
        first = False
        if pilot.elapsed_s >= target or n >= 10_000_000:
            break
        grow = target / max(pilot.elapsed_s, 1e-7)
        n = int(min(max(n * 2, math.ceil(n * grow * 1.2)), n * 100))
    per_inf = max(pilot.elapsed_s / n, 1e-9)
    window_n = window_limit(max(1, math.ceil(min_window * WINDOW_HEADROOM / per_inf)), max_n, min_window)
    return Calibration(n=window_n, warmup=warmup, pilot_n=n, pilot_elapsed_s=pilot.elapsed_s, first_ns=first_ns)


def window_row(workload: Workload, mode: str, index: int, item: Item, inf: Inference,
               retries: int) -> dict[str, Any]:
    lat = Stats.of(inf.latencies_ns / 1000.0) if inf.latencies_ns is not None else None
    row: dict[str, Any] = {
        "workload": workload.id, "mode": mode, "window": index, "file": item.file,
        "n": inf.n, "warmup": inf.warmup, "elapsed_s": inf.elapsed_s,
        "throughput_ips": inf.n / inf.elapsed_s if inf.elapsed_s > 0 else None,
        "first_ns": inf.first_ns, "retries": retries,
        "energy_j": inf.energy_j,
        "energy_uj_per_inf": inf.energy_j * 1e6 / inf.n if inf.energy_j is not None else None,
    }
    for key in ("median", "p90", "p99", "min", "max"):
        row[f"lat_{key}_us"] = getattr(lat, key) if lat else None
    if inf.extra:
        row["extra"] = inf.extra
        if inf.extra.get("voltage_mv") is not None:
            row["voltage_mv"] = inf.extra["voltage_mv"]  # the supply every energy row was measured at
    return row


Sink = Callable[[Record], Any]


def run_performance(session: DeviceSession, workload: Workload, items: list[Item], min_window: float,
                    sink: Sink, done: set[int], calibration: Calibration | None,
                    on_window: Callable[[int], None] = lambda i: None, mode: str = "performance",
                    save_latencies: Callable[[int, np.ndarray], str] | None = None,
                    max_n: int | None = None) -> Calibration | None:
    """Run the windows not in `done`; each calibration and window goes to `sink` as a journal record."""
    n_next: int | None = None  # a window that fell short raises N for the windows after it too
    for index, item in enumerate(items):
        if index in done:
            continue
        session.load(item.data)
        if calibration is None:
            calibration = calibrate(session, workload.default_warmup, min_window, max_n)
            sink(CalibrationRecord(workload=workload.id, mode=mode, n=calibration.n, warmup=calibration.warmup,
                                   pilot_n=calibration.pilot_n, pilot_elapsed_s=calibration.pilot_elapsed_s,
                                   first_ns=calibration.first_ns))
        n, retries = n_next or calibration.n, 0
        while True:
            inf = session.infer(n, calibration.warmup)
            if inf.elapsed_s >= min_window or retries >= MAX_WINDOW_RETRIES:
                break
            retries += 1
            n = window_limit(math.ceil(n * min_window * retry_headroom(retries) / max(inf.elapsed_s, 1e-9)),
                             max_n, min_window)
        n_next = n
        row = window_row(workload, mode, index, item, inf, retries)
        if index == 0 and row["first_ns"] is None:
            row["first_ns"] = calibration.first_ns  # the cold inference happened in the pilot
        if save_latencies and inf.latencies_ns is not None:
            row["latencies_file"] = save_latencies(index, inf.latencies_ns)
        sink(Window(**row))
        on_window(index)
    return calibration


def prediction(workload: Workload, results: np.ndarray) -> tuple[int | None, float | None]:
    """(predicted class, score), as the workload's scoring reads one inference's results."""
    return workload.scoring.predict(results)


def run_accuracy(session: DeviceSession, workload: Workload, items: Iterable[Item], sink: Sink,
                 done: set[tuple[str, int]], on_item: Callable[[], None] = lambda: None) -> None:
    for item in items:
        if (item.file, item.window) in done:
            continue
        session.load(item.data)
        inf = session.infer(1, 0)
        predicted, score = prediction(workload, inf.results)
        row = {"workload": workload.id, "mode": "accuracy", "file": item.file, "window": item.window,
               "label": item.label, "predicted": predicted, "score": score,
               "results": [float(v) for v in inf.results]}
        if inf.extra:
            row["extra"] = inf.extra
        sink(Sample(**row))
        on_item()
