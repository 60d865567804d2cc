"""The LPM01A driver against the LPM01A emulator over a real pty and over TCP (pyserial socket://)."""

from __future__ import annotations

import logging
import time

import pytest

from tinyperf.device_runners.emulators.clock import EmulatedClock
from tinyperf.device_runners.emulators.lpm01a import start_lpm01a_emulator
from tinyperf.device_runners.energy import open_energy_monitor
from tinyperf.device_runners.energy.lpm01a import LPM01A, LPM01AError, LPM01AResource, setup_commands
from tinyperf.core.errors import DeviceError, TinyperfError

US_PER_INFERENCE = 20_000
N = 500  # 500 inferences x 20 ms = a 10 s window


@pytest.fixture(params=["pty", "tcp"])
def make_rig(request):
    """Factory: start an emulator with the given knobs on a pty or TCP and open the driver on its port."""
    opened = []

    def make(**knobs):
        clock = EmulatedClock()
        handle = start_lpm01a_emulator(clock, 5.0, 1800, tcp=0 if request.param == "tcp" else None, **knobs)
        monitor = LPM01A(LPM01AResource(handle.port_url), command_timeout=2.0)
        opened.append((monitor, handle))
        return clock, handle, monitor

    yield make
    for monitor, handle in opened:
        monitor.close()
        handle.close()


@pytest.fixture
def rig(make_rig):
    return make_rig()


def infer_window(clock: EmulatedClock, handle, n: int = N, us: int = US_PER_INFERENCE) -> tuple[int, int]:
    """What the DUT emulator does for `infer N W` in energy mode: timestamp, compute, timestamp."""
    t_start = clock.now_us()
    handle.event_at(t_start)  # sends the samples up to it at once, which takes some wall time
    clock.advance_us(n * us)
    t_end = t_start + n * us  # the DUT stamps the end at start + N x us, not at "now" (DutFirmware._infer)
    handle.event_at(t_end)
    return t_start, t_end


def test_setup_sequence_is_sent_in_order_and_acknowledged(rig):
    clock, handle, monitor = rig
    monitor.start(1800)  # raises if any command is refused or unanswered
    assert handle.stats.commands == ["powershield", "version", *setup_commands(1800), "pwr on nostatus", "start"]
    info = monitor.describe()
    assert info["firmware"] == "1.0.6" and info["board_id"] == "TINYPERF0000EMU1" and info["voltage_mv"] == 1800
    monitor.close()
    assert handle.stats.commands[-3:] == ["stop", "pwr off", "hrc"]


def test_energy_per_inference_of_a_ten_second_window(make_rig):
    """5.0 mW, 500 inferences at 20 ms: 100 uJ per inference. Between windows the DUT draws 50 mW,
    so a window placed at the wrong samples would show in its energy."""
    clock, handle, monitor = make_rig(idle_power_mw=50.0)
    monitor.start(1800)
    t0 = handle.emulator.acquisition_start_us
    time.sleep(0.2)  # some idle stream first, as between real windows
    per_inf_uj = []
    for _ in range(3):
        k = monitor.event_count()
        t_start, t_end = infer_window(clock, handle)
        monitor.wait_for_events(k + 2, timeout=10)
        w = monitor.window(k, k + 1)
        # events sit at the sample position of the DUT's pulse
        assert w.start_sample == round((t_start - t0) / 1000)
        assert w.end_sample == round((t_end - t0) / 1000)
        assert w.duration_s == pytest.approx((t_end - t_start) / 1e6, abs=1.5e-3)
        assert w.missing_samples == 0
        per_inf_uj.append(w.energy_j / N * 1e6)
        assert w.average_power_w * 1e3 == pytest.approx(5.0, rel=0.01)
        time.sleep(0.05)
    assert per_inf_uj == pytest.approx([100.0] * 3, rel=0.01)
    assert handle.stats.late_events == 0


def test_lost_partial_values_are_missing_not_shifted(make_rig):
    clock, handle, monitor = make_rig(lose_partial_every=40, values_per_line=10)
    monitor.start(1800)
    k = monitor.event_count()
    t_start, t_end = infer_window(clock, handle)
    monitor.wait_for_events(k + 2, timeout=10)
    w = monitor.window(k, k + 1)
    monitor.stop()
    assert handle.stats.lost_values > 0
    assert monitor.log.missing_count() == handle.stats.lost_values  # one slot per damaged line edge
    assert monitor.log.sample_count() == handle.stats.samples  # the timeline kept its length
    assert 0 < w.missing_samples < w.samples
    assert w.samples == round((t_end - t_start) / 1000)
    assert w.energy_j / N * 1e6 == pytest.approx(100.0, rel=0.01)
    assert w.measured_j < w.energy_j  # the raw sum lacks the lost values; the estimate fills them
    assert any(f"{handle.stats.lost_values} samples were missing (partial values" in m for m in monitor.warnings())


def test_a_refused_command_raises_with_its_error_detail(rig):
    _, _, monitor = rig
    with pytest.raises(LPM01AError, match=r"refused `volt 5000m` \(error volt 5000m; detail: value out of range"):
        monitor.command("volt 5000m")
    assert monitor.command("volt 2500m") == "2500m"  # the session goes on after an error


def test_an_error_in_the_setup_sequence_stops_the_start(make_rig):
    _, handle, monitor = make_rig(errors={"trigdelay": "parameter not accepted in this mode"})
    with pytest.raises(LPM01AError, match="trigdelay 0.*parameter not accepted in this mode"):
        monitor.start(1800)
    assert "start" not in handle.stats.commands


def test_a_voltage_outside_the_supply_range_is_refused_before_sending(rig):
    _, handle, monitor = rig
    with pytest.raises(TinyperfError, match="--voltage-mv: 5000 mV is outside .* 1800..3300"):
        monitor.start(5000)
    assert handle.stats.commands == []


def test_firmware_older_than_1_0_6_is_named(make_rig):
    _, handle, monitor = make_rig(firmware="1.0.4")
    with pytest.raises(LPM01AError, match=r"firmware 1\.0\.4 is older than 1\.0\.6.*Fix: update"):
        monitor.start(1800)
    assert "pwr off" not in handle.stats.commands  # stopped before the sequence
    with pytest.raises(LPM01AError, match="refused `pwr off`.*older than 1.0.6"):
        monitor.command("pwr off")  # what the old firmware does to the sequence itself


def test_buffer_above_zero_is_a_warning(make_rig, caplog):
    clock, handle, monitor = make_rig(buff_percent=7)
    caplog.set_level(logging.WARNING, logger="tinyperf.device_runners.energy.lpm01a")
    monitor.start(1800)
    k = monitor.event_count()
    infer_window(clock, handle, n=100)  # 2 s: two status lines
    monitor.wait_for_events(k + 2, timeout=10)
    monitor.stop()
    assert monitor._status_lines >= 2
    assert any("buffer at 7 %" in w and "falling behind" in w for w in monitor.warnings())
    assert "buffer at 7 %" in caplog.text


def test_no_warning_when_the_buffer_stays_empty(rig):
    clock, handle, monitor = rig
    monitor.start(1800)
    infer_window(clock, handle, n=100)
    monitor.wait_for_events(2, timeout=10)
    monitor.stop()
    assert monitor._status_lines >= 2 and monitor.warnings() == []


def test_stop_waits_for_acquisition_completed(rig):
    clock, handle, monitor = rig
    monitor.start(1800)
    clock.advance_us(3_000_000)  # 3 s of samples the hold has not released yet
    monitor.stop()
    # everything the monitor sent before `Acquisition completed` is in when stop returns
    assert monitor.log.sample_count() == handle.stats.samples >= 3000
    assert not monitor._acquiring


def test_stop_without_acquisition_completed_times_out(make_rig):
    _, _, monitor = make_rig(stop_completes=False)
    monitor.start(1800)
    with pytest.raises(LPM01AError, match="no `Acquisition completed` within 1 s of `stop`"):
        monitor.stop(timeout=1.0)
    monitor._in_control = False  # nothing more to tear down on a monitor that hangs


def test_identity_and_status_queries(rig):
    _, _, monitor = rig
    assert monitor.board_id() == "TINYPERF0000EMU1"
    assert monitor.version() == "1.0.6"
    assert monitor.status() == "ok"
    assert monitor.command("echo hello") == "hello"


def test_a_window_before_start_has_no_events(rig):
    _, _, monitor = rig
    with pytest.raises(DeviceError, match="only 0 of 2 timestamp events"):
        monitor.wait_for_events(2, timeout=0.1)


def test_vanished_port_stops_the_wait_at_once():
    clock = EmulatedClock()
    handle = start_lpm01a_emulator(clock, tcp=0)
    monitor = LPM01A(LPM01AResource(handle.port_url))
    try:
        monitor.start(1800)
        handle.close()  # the monitor's cable is pulled
        t0 = time.monotonic()
        with pytest.raises(DeviceError, match="stream ended before timestamp event 2"):
            monitor.wait_for_events(2, timeout=30)
        assert time.monotonic() - t0 < 5
    finally:
        monitor.close()


def test_unanswered_command_names_the_port_and_baud(tmp_path):
    import os
    import tty

    master, slave = os.openpty()  # a port where nothing answers
    tty.setraw(slave)
    try:
        monitor = LPM01A(LPM01AResource(os.ttyname(slave)), command_timeout=0.3)
        with pytest.raises(LPM01AError, match=r"no answer to `powershield` within 0.3 s.*3686400 baud"):
            monitor.board_id()
        monitor.close()
    finally:
        os.close(master)
        os.close(slave)


def test_open_energy_monitor_and_transcript(tmp_path):
    clock = EmulatedClock()
    with start_lpm01a_emulator(clock) as handle:
        monitor = open_energy_monitor(f"lpm01a:{handle.port_url}", transcript=tmp_path / "lpm01a.log")
        with monitor:
            monitor.start(3300)
            infer_window(clock, handle, n=50)
            monitor.wait_for_events(2, timeout=10)
            # at 3.3 V the emulated DUT (5 mW at 1.8 V, a constant current) draws 5 x 3.3 / 1.8 mW
            assert monitor.window(0, 1).average_power_w * 1e3 == pytest.approx(5.0 * 3.3 / 1.8, rel=0.01)
    text = (tmp_path / "lpm01a.log").read_text()
    assert "> volt 3300m" in text and "< ack start" in text and "< event 01 ris @" in text and "> hrc" in text


def test_missing_port_is_a_user_error():
    with pytest.raises(LPM01AError, match="cannot open the port"):
        LPM01A(LPM01AResource("/dev/does-not-exist-lpm01a"))


def test_mark_counts_a_pulse_still_in_flight(rig):
    clock, handle, monitor = rig
    monitor.start(1800)
    handle.event_at(clock.now_us())  # the emulator holds it back, as a monitor's latency would
    assert monitor.mark() == 1
    k = monitor.mark()
    infer_window(clock, handle, n=100)
    monitor.wait_for_events(k + 2, timeout=10)
    assert monitor.window(k, k + 1).duration_s == pytest.approx(2.0, abs=2e-3)


def test_mark_on_a_stream_that_does_not_advance(make_rig):
    clock, handle, monitor = make_rig()
    with pytest.raises(DeviceError, match="sample stream stalled: 0 of 250 samples after 0 s"):
        monitor.mark(timeout=0.2)  # never started: no samples come
