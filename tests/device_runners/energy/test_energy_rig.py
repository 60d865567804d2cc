"""The emulated DUT's timestamp pulses, through the LPM01A emulator, read back by the LPM01A driver.

This is the energy-mode acceptance figure without the serial runner: 5.0 mW at 20 ms per
inference must read 100 uJ per inference, median of 5 windows, within 1 %.
"""

from __future__ import annotations

import statistics

import pytest

from tinyperf.device_runners.emulators.clock import EmulatedClock
from tinyperf.device_runners.emulators.lpm01a import start_lpm01a_emulator
from tinyperf.device_runners.energy.lpm01a import LPM01A, LPM01AResource
from tinyperf.workloads.catalog import get_workload

dut_module = pytest.importorskip("tinyperf.device_runners.emulators.dut", reason="the DUT emulator is not in this tree")


def test_dut_timestamps_become_windows_of_100_uj_per_inference(models_dir):
    clock = EmulatedClock()
    dut = dut_module.DutFirmware(get_workload("kws01"), models_dir / "kws_ref_model.tflite", clock=clock,
                                 us_per_inference=20_000, mode="energy")
    said: list[bytes] = []
    dut.emit = said.append
    with start_lpm01a_emulator(clock, power_mw=5.0, voltage_mv=1800) as lpm:
        dut.add_timestamp_listener(lpm.event_at)
        with LPM01A(LPM01AResource(lpm.port_url)) as monitor:
            monitor.start(1800)
            dut.boot()  # the DUT powers up once the monitor supplies it
            per_inference = []
            assert monitor.mark() == 1  # the boot timestamp is an event too
            for _ in range(5):
                k = monitor.mark()  # the boot pulse may still be in flight
                dut.receive(b"infer 500 1%")
                monitor.wait_for_events(k + 2, timeout=10)
                w = monitor.window(k, k + 1)
                assert w.duration_s == pytest.approx(10.0, abs=2e-3)
                per_inference.append(w.energy_j / 500 * 1e6)
    assert b"m-infer-done" in b"".join(said)
    assert statistics.median(per_inference) == pytest.approx(100.0, rel=0.01)
    assert max(per_inference) == pytest.approx(min(per_inference), rel=0.001)
