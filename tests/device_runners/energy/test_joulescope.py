"""Joulescope: raw 1 MHz current/voltage/GPI0 -> 1 ms energy bins and events, on synthetic arrays.

The instrument itself is not here; everything between its stream and the energy window is.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from tinyperf.device_runners.energy import open_energy_monitor
from tinyperf.device_runners.energy.joulescope import INSTALL_HINT, SETTINGS, EnergyBinner, Joulescope, availability
from tinyperf.core.errors import DeviceError

FS = 1_000_000


def _never_opened(*args, **kwargs):
    raise AssertionError("these tests feed the driver directly; the device must not be opened")


def synthetic(duration_s: float, current_a: float, volts: float = 1.8, pulses_at_s: tuple[float, ...] = (),
              pulse_s: float = 20e-6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = round(duration_s * FS)
    t = np.arange(n)
    current = np.full(n, current_a) * (1 + 0.2 * np.sin(2 * np.pi * t / 1000.0))  # ripple of 1 kHz, mean 0
    voltage = np.full(n, volts)
    gpi = np.zeros(n, dtype=np.uint8)
    for at in pulses_at_s:
        a = round(at * FS)
        gpi[a:a + round(pulse_s * FS)] = 1
    return current, voltage, gpi


def test_bins_are_current_times_voltage_over_the_sampling_rate():
    current, voltage, gpi = synthetic(0.05, 2.5e-3)
    bins, events = EnergyBinner().feed(current, voltage, gpi)
    assert len(bins) == 50 and events == []
    assert bins == pytest.approx(np.full(50, 2.5e-3 * 1.8 * 1e-3), rel=1e-9)


def test_rising_edges_become_events_at_their_bin():
    current, voltage, gpi = synthetic(0.1, 1e-3, pulses_at_s=(0.012345, 0.06789))
    _, events = EnergyBinner().feed(current, voltage, gpi)
    assert events == [12, 68]  # nearest 1 ms boundary; the falling edges are not events


def test_falling_edges_when_asked():
    current, voltage, gpi = synthetic(0.01, 1e-3, pulses_at_s=(0.002,), pulse_s=0.003)
    _, events = EnergyBinner(edge="falling").feed(current, voltage, gpi)
    assert events == [5]


@pytest.mark.parametrize("cuts", [[1], [999, 1001, 7], [123_456, 500_000], [12_345]])
def test_the_result_does_not_depend_on_how_the_stream_was_cut(cuts):
    current, voltage, gpi = synthetic(0.2, 3e-3, pulses_at_s=(0.0123455, 0.05, 0.1 - 1e-6, 0.15))
    whole_bins, whole_events = EnergyBinner().feed(current, voltage, gpi)
    binner = EnergyBinner()
    bins, events, at = [], [], 0
    for cut in cuts + [len(current)]:
        end = min(len(current), at + cut) if cut != len(current) else len(current)
        b, e = binner.feed(current[at:end], voltage[at:end], gpi[at:end])
        bins.append(b)
        events += e
        at = end
    assert events == whole_events and len(events) == 4
    assert np.concatenate(bins) == pytest.approx(whole_bins, rel=1e-12)


def test_a_level_held_high_across_a_chunk_is_one_edge():
    binner = EnergyBinner()
    ones = np.ones(1500, dtype=np.uint8)
    zeros = np.zeros(1500, dtype=np.uint8)
    i = np.full(1500, 1e-3)
    assert binner.feed(i, i, zeros)[1] == []
    assert binner.feed(i, i, ones)[1] == [2]  # edge at raw sample 1500 -> bin boundary 2 (round half even)
    assert binner.feed(i, i, ones)[1] == []  # still high: no new edge
    first = EnergyBinner()
    assert first.feed(i, i, ones)[1] == []  # a stream that starts high has no edge


def test_gpi_rides_in_the_lsb_of_any_integer():
    lsb = np.array([2, 2, 3, 3, 2, 3], dtype=np.uint8)  # only bit 0 counts
    _, events = EnergyBinner(sampling_frequency=1000, bin_s=1e-3).feed(np.ones(6), np.ones(6), lsb)
    assert events == [2, 5]


def test_nan_samples_are_missing_and_a_bin_without_valid_samples_is_nan():
    current, voltage, gpi = synthetic(0.004, 1e-3)
    current = current.copy()
    current[1000:1100] = np.nan  # range switching inside bin 1
    current[2000:3000] = np.nan  # bin 2 entirely
    bins, _ = EnergyBinner().feed(current, voltage, gpi)
    expected_bin1 = np.mean(current[1100:2000] * 1.8) * 1e-3  # mean of the valid samples over the whole bin
    assert bins[1] == pytest.approx(expected_bin1, rel=1e-12)
    assert math.isnan(bins[2]) and not math.isnan(bins[3])


def test_lost_raw_samples_keep_the_timeline():
    binner = EnergyBinner()
    current, voltage, gpi = synthetic(0.0015, 1e-3)
    first, _ = binner.feed(current, voltage, gpi)
    gap = binner.skip(2500)  # host fell behind: 2.5 ms never arrived
    after, events = binner.feed(*synthetic(0.001, 1e-3, pulses_at_s=(0.0005,)))
    assert len(first) == 1 and len(gap) == 3 and len(after) == 1
    # the bin half-filled before the gap is estimated from its valid half; the next two are missing
    assert not math.isnan(gap[0]) and np.isnan(gap[1:]).all()
    assert events == [round((1500 + 2500 + 500) / 1000)]


def test_driver_window_gives_energy_per_inference():
    """50 inferences of 20 ms at 5.0 mW between two GPI0 pulses: 100 uJ/inf; idle at 20 mW around it."""
    jscope = Joulescope(device_factory=_never_opened)
    volts = 1.8
    idle = synthetic(0.0301, 20e-3 / volts, volts, pulses_at_s=(0.03,))
    active = synthetic(1.0, 5e-3 / volts, volts)
    tail = synthetic(0.05, 20e-3 / volts, volts, pulses_at_s=(0.0,))
    # the window starts at 30 ms (pulse in the idle part) and ends at the first sample of the tail
    current = np.concatenate([idle[0][:30_000], active[0], tail[0]])
    voltage = np.concatenate([idle[1][:30_000], active[1], tail[1]])
    gpi = np.concatenate([idle[2][:30_000], active[2], tail[2]])
    gpi[30_000:30_020] = 1
    for at in range(0, len(current), 100_000):  # the device delivers blocks
        jscope.on_chunk(current[at:at + 100_000], voltage[at:at + 100_000], gpi[at:at + 100_000])
    jscope.wait_for_events(2, timeout=1)
    w = jscope.window(0, 1)
    assert (w.start_sample, w.end_sample) == (30, 1030)
    assert w.energy_j / 50 * 1e6 == pytest.approx(100.0, rel=0.01)
    assert w.average_power_w * 1e3 == pytest.approx(5.0, rel=0.01)
    assert jscope.measured_voltage_v() == pytest.approx(volts)


def test_voltage_mismatch_is_a_warning():
    jscope = Joulescope(device_factory=_never_opened)
    jscope._voltage_mv = 3300
    jscope.on_chunk(*synthetic(0.002, 1e-3, volts=1.8))
    assert any("measured 1800 mV" in w and "3300 mV" in w for w in jscope.warnings())


def test_settings_are_the_mlperf_tiny_runners():
    assert SETTINGS == [("source", "raw"), ("sensor_power", "on"), ("sampling_frequency", 1_000_000),
                        ("io_voltage", "3.3V"), ("trigger_source", "gpi0"), ("current_lsb", "gpi0")]


def test_missing_package_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "joulescope" else real(name, *a))
    assert INSTALL_HINT == "pip install tinyperf[joulescope]"
    assert availability() == "the `joulescope` package is not installed. Fix: pip install tinyperf[joulescope]"
    with pytest.raises(DeviceError) as err:
        open_energy_monitor("joulescope")
    assert err.value.fix == "pip install tinyperf[joulescope]"
    assert "not installed" in err.value.one_line()
