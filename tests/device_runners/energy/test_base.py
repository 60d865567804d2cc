"""Window energy from a stream of 1 ms samples and events: the arithmetic every monitor shares."""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import pytest

from tinyperf.device_runners.energy import pair_windows, parse_monitor_spec, window_energy
from tinyperf.device_runners.energy.stream import SampleLog
from tinyperf.core.errors import DeviceError, TinyperfError


def test_window_is_the_sum_between_the_two_events():
    samples = np.arange(10, dtype=float) * 1e-6  # 0, 1, ..., 9 uJ
    w = window_energy(samples, 2, 5, 1e-3)
    assert w.energy_j == pytest.approx(9e-6)  # 2 + 3 + 4
    assert w.measured_j == pytest.approx(9e-6)
    assert (w.samples, w.missing_samples) == (3, 0)
    assert w.duration_s == pytest.approx(3e-3)
    assert w.average_power_w == pytest.approx(9e-6 / 3e-3)


def test_missing_samples_keep_their_slot_and_are_filled_with_the_window_mean():
    samples = np.full(100, 5e-6)
    samples[[10, 50]] = np.nan
    w = window_energy(samples, 0, 100, 1e-3)
    assert w.samples == 100 and w.missing_samples == 2
    assert w.duration_s == pytest.approx(0.1)  # the timeline did not shrink
    assert w.energy_j == pytest.approx(100 * 5e-6)
    assert w.measured_j == pytest.approx(98 * 5e-6)


def test_a_window_with_nothing_measured_is_nan_not_zero():
    w = window_energy(np.full(5, np.nan), 0, 5, 1e-3)
    assert math.isnan(w.energy_j) and math.isnan(w.average_power_w) and w.missing_samples == 5


def test_window_outside_the_stream_is_refused():
    with pytest.raises(ValueError, match="stream has 3"):
        window_energy(np.zeros(3), 0, 4, 1e-3)
    with pytest.raises(ValueError, match="before it starts"):
        window_energy(np.zeros(3), 2, 1, 1e-3)


def test_pair_windows_reads_start_end_pairs():
    samples = np.concatenate([np.full(10, 1e-6), np.full(20, 2e-6), np.full(10, 1e-6), np.full(30, 3e-6)])
    windows = pair_windows(samples, [10, 30, 40, 70], 1e-3)
    assert [round(w.energy_j * 1e6, 6) for w in windows] == [40.0, 90.0]
    assert [w.duration_s for w in windows] == pytest.approx([0.02, 0.03])


def test_sample_log_waits_for_events_and_the_samples_before_them():
    log = SampleLog(1e-3, "test monitor")

    def writer():
        log.add_samples([1e-6] * 5)
        log.add_event("1")
        time.sleep(0.05)
        log.add_samples([2e-6] * 7)
        log.add_event("2")

    t = threading.Thread(target=writer)
    t.start()
    log.wait_for_events(2, timeout=5)
    t.join()
    w = log.window(0, 1)
    assert (w.start_sample, w.end_sample, w.samples) == (5, 12, 7)
    assert w.energy_j == pytest.approx(14e-6)
    assert [e.label for e in log.events()] == ["1", "2"]


def test_an_event_ahead_of_the_samples_waits_for_them():
    log = SampleLog(1e-3, "test monitor")
    log.add_event(position=0)
    log.add_event(position=3)  # a binning monitor knows where the edge is before the bin closes
    with pytest.raises(DeviceError, match="samples before it did not"):
        log.wait_for_events(2, timeout=0.1)
    log.add_samples([1e-6] * 3)
    log.wait_for_events(2, timeout=0.1)
    assert log.window(0, 1).energy_j == pytest.approx(3e-6)


def test_a_missing_event_times_out_naming_the_wiring():
    log = SampleLog(1e-3, "LPM01A on /dev/null")
    log.add_event()
    with pytest.raises(DeviceError, match=r"LPM01A on /dev/null: only 1 of 2 timestamp events .*D7"):
        log.wait_for_events(2, timeout=0.05)


def test_a_dead_stream_wakes_the_waiter_at_once():
    log = SampleLog(1e-3, "m")
    threading.Timer(0.05, log.fail, args=("socket disconnected",)).start()
    t0 = time.monotonic()
    with pytest.raises(DeviceError, match="socket disconnected"):
        log.wait_for_events(1, timeout=30)
    assert time.monotonic() - t0 < 5


def test_window_before_its_events_arrived_is_refused():
    log = SampleLog(1e-3, "m")
    log.add_event()
    with pytest.raises(DeviceError, match="events 0..1 but 1 have arrived"):
        log.window(0, 1)


@pytest.mark.parametrize("spec, expected", [
    ("lpm01a:/dev/ttyACM0", ("lpm01a", "/dev/ttyACM0")),
    ("lpm01a:socket://127.0.0.1:4000", ("lpm01a", "socket://127.0.0.1:4000")),
    ("joulescope", ("joulescope", None)),
    ("Joulescope:000415", ("joulescope", "000415")),
])
def test_monitor_spec(spec, expected):
    assert parse_monitor_spec(spec) == expected


@pytest.mark.parametrize("spec, message", [("lpm01a", "needs its port"), ("ina219:/dev/x", "unknown energy monitor")])
def test_bad_monitor_spec_says_the_accepted_forms(spec, message):
    with pytest.raises(TinyperfError, match=message) as err:
        parse_monitor_spec(spec)
    assert "lpm01a:" in err.value.one_line()


def test_wait_for_samples():
    log = SampleLog(1e-3, "m")
    threading.Timer(0.05, log.add_samples, args=([1e-6] * 10,)).start()
    log.wait_for_samples(10, timeout=5)
    with pytest.raises(DeviceError, match="stalled: 10 of 11 samples"):
        log.wait_for_samples(11, timeout=0.05)
