"""Every injected fault ends in correct figures or a clean stop that names the cause.

The emulator injects the fault (seeded, so each case is reproducible); the runner must return
exactly what a fault-free DUT prints, report what it had to redo, or raise a DeviceError.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from tinyperf.device_runners.serial.transport import PortGone
from tinyperf.core.errors import DeviceError
from tests.device_runners.serial import helpers as H

# commands the runner sends when a session opens: a sync marker, name x2, profile x2, timestamp x2, clock x2,
# tinyperf-info;
# then per kws01 file: `db load` (11), 16 chunks (12-27), `db print` (28), `infer 1 0` (29), `results` (30) ...
FIRST_CHUNK, FIRST_INFER = 12, 29


@pytest.fixture(scope="module")
def batch(data_dir):
    return H.items(data_dir, "kws01", 16)


@pytest.fixture(scope="module")
def expected(models_dir, batch):
    return [H.as_printed("kws01", v) for v in H.host_reference(models_dir, "kws01", batch)]


def run_batch(url, batch, tmp_path, **options):
    s = H.session(url, run_dir=tmp_path, **options)
    try:
        got = []
        for item in batch:
            s.load(item.data)
            got.append(s.infer(1, 0))
        return got, s.client.counters
    finally:
        s.close()


def assert_exact(got, expected) -> None:
    for inf, ref in zip(got, expected, strict=True):
        np.testing.assert_array_equal(inf.results, ref)
        assert inf.elapsed_s == pytest.approx(0.02)


@pytest.mark.parametrize("faults", ["drop=0.003,seed=1", "garble=0.003,seed=2",
                                    "rxdrop=0.0005,seed=3", "rxgarble=0.0005,seed=4"])
def test_corrupted_bytes_never_become_wrong_numbers(faults, models_dir, batch, expected, tmp_path) -> None:
    r = H.rig(models_dir, "kws01", faults=faults)
    try:
        got, counters = run_batch(r.url, batch, tmp_path, verify="always")
    finally:
        r.close()
    assert sum(r.faults.injected.values()) > 0, "the fault never fired"
    assert_exact(got, expected)
    assert counters.link_errors > 0 and counters.confirmations > 0
    assert "# " in (tmp_path / "serial-transcript.log").read_text()  # recovery is noted


def test_auto_verification_starts_at_the_first_error(models_dir, batch, expected, tmp_path) -> None:
    r = H.rig(models_dir, "kws01", faults="garble=0.002,seed=5")
    try:
        got, counters = run_batch(r.url, batch, tmp_path)  # verify=auto, the default
    finally:
        r.close()
    assert_exact(got, expected)
    assert counters.link_errors > 0 and counters.confirmations > 0
    text = (tmp_path / "serial-transcript.log").read_text()
    assert "verification on" in text


@pytest.mark.parametrize("faults, resets, retries", [
    (f"reset@{FIRST_CHUNK + 5}", 1, 1),  # reset in the middle of an upload
    (f"reset@{FIRST_INFER}", 1, 1),  # reset instead of the inference: re-upload, redo
    (f"error@{FIRST_CHUNK + 3}", 0, 1),  # a chunk refused with e-[...]: the upload is redone
    (f"error@{FIRST_INFER}", 0, 1),
    (f"stall=3@{FIRST_CHUNK + 2}", 0, 1),  # a chunk answered after 3 s: given up after 1 s, redone
    (f"stall=2@{FIRST_INFER}", 0, 0),  # an inference may take its time
    ("slow=0.03", 0, 0),  # every reply late
])
def test_command_faults(faults, resets, retries, models_dir, batch, expected, tmp_path) -> None:
    r = H.rig(models_dir, "kws01", faults=faults)
    try:
        got, counters = run_batch(r.url, batch[:3], tmp_path)
    finally:
        r.close()
    assert sum(r.faults.injected.values()) > 0
    assert_exact(got, expected[:3])
    assert got[0].extra["resets"] == resets and got[0].extra["retries"] == retries  # reported where it hit
    assert sum(i.extra["resets"] for i in got) == resets and counters.resets == resets


def test_a_reset_between_commands_is_noticed(models_dir, batch, expected, tmp_path) -> None:
    r = H.rig(models_dir, "kws01")
    s = H.session(r.url, run_dir=tmp_path)
    try:
        s.load(batch[0].data)
        r.dut.reset()  # power glitch while idle: the banner arrives unasked, the input is gone
        time.sleep(0.05)
        inf = s.infer(1, 0)
    finally:
        s.close()
        r.close()
    np.testing.assert_array_equal(inf.results, expected[0])
    assert inf.extra["resets"] == 1 and r.dut.boots == 2


def test_faults_in_performance_mode_keep_exact_windows(models_dir, batch) -> None:
    r = H.rig(models_dir, "kws01", faults=f"garble=0.003,seed=7,reset@{FIRST_INFER + 1}", us_per_inference=20_000)
    s = H.session(r.url, mode="performance")
    try:
        s.load(batch[0].data)
        windows = [s.infer(500, 10) for _ in range(5)]
    finally:
        s.close()
        r.close()
    for w in windows:
        assert w.elapsed_s == pytest.approx(10.0, abs=1e-9) and w.n / w.elapsed_s == pytest.approx(50.0)
    assert sum(w.extra["resets"] for w in windows) == 1


def test_a_vanishing_port_stops_cleanly(models_dir, batch) -> None:
    r = H.rig(models_dir, "kws01", tcp_port=0)
    s = H.session(r.url)
    try:
        s.load(batch[0].data)
        s.infer(1, 0)
        r.close()  # the board is unplugged (ser2net, the emulator or USB gone)
        with pytest.raises(PortGone) as err:
            s.load(batch[1].data)
    finally:
        s.close()
    msg = err.value.one_line()
    assert "vanished" in msg and "--resume" in msg and isinstance(err.value, DeviceError)


def test_a_silent_dut_times_out_naming_command_wait_and_checks(models_dir, batch) -> None:
    r = H.rig(models_dir, "kws01", faults=f"stall=30@{FIRST_INFER}")
    s = H.session(r.url, timeout=0.5, infer_timeout=1.0)
    try:
        s.load(batch[0].data)
        t0 = time.monotonic()
        with pytest.raises(DeviceError) as err:
            s.infer(1, 0)
        assert time.monotonic() - t0 < 10
    finally:
        s.close()
        r.close()
    msg = err.value.one_line()
    assert "no reply to `infer 1 0` after 1.0 s" in msg and "stopped answering" in msg
    assert "baud" in msg and "cable" in msg and "firmware" in msg
