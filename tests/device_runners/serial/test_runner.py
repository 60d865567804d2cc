"""The serial runner through the DeviceSession API, against the emulator on real ptys and sockets."""

from __future__ import annotations

import numpy as np
import pytest

from tinyperf.device_runners.serial.runner import SerialRunner
from tinyperf.core.errors import DeviceError
from tests.device_runners.serial import helpers as H


@pytest.fixture
def kws_rig(models_dir):
    r = H.rig(models_dir, "kws01")
    yield r
    r.close()


def test_identity_and_provenance(kws_rig, tmp_path) -> None:
    s = H.session(kws_rig.url, run_dir=tmp_path)
    try:
        d = s.describe()
    finally:
        s.close()
    assert d["runner"] == "serial" and d["kernels"] == "device firmware"
    assert d["port"] == kws_rig.url and d["baud"] == 115200
    assert d["dut_name"] == "tinyperf emulator" and d["model_id"] == "kws01"
    assert d["profile"] == "ULPMark for tinyML Firmware V0.0.1" and d["timestamp_mode"] == "performance"
    assert d["interface_board"] is None and d["chunk_size"] == 31


def test_runner_plugin_facts() -> None:
    assert SerialRunner.needs_model is False and "energy" in SerialRunner.modes
    names = SerialRunner.option_names()
    for opt in ("port", "baud", "interface_board", "chunk_size", "timeout", "verify", "energy_monitor"):
        assert opt in names


def test_accuracy_outputs_equal_the_host_reference_kernels(kws_rig, models_dir, data_dir, tmp_path) -> None:
    batch = H.items(data_dir, "kws01", 60)
    reference = H.host_reference(models_dir, "kws01", batch)
    s = H.session(kws_rig.url, run_dir=tmp_path)
    try:
        for item, ref in zip(batch, reference):
            s.load(item.data)
            inf = s.infer(1, 0)
            np.testing.assert_array_equal(inf.results, H.as_printed("kws01", ref))
            assert int(np.argmax(inf.results)) == int(np.argmax(ref))
    finally:
        s.close()
    assert inf.n == 1 and inf.warmup == 0 and inf.latencies_ns is None and inf.energy_j is None
    assert inf.elapsed_s == pytest.approx(0.02)  # the window of two m-lap-us values: 20,000 us
    assert inf.extra["resets"] == 0 and inf.extra["retries"] == 0 and len(inf.extra["lap_us"]) == 2


@pytest.mark.parametrize("workload", ["vww01", "ic01", "ad01"])
def test_other_workloads_and_their_result_formats(workload, models_dir, data_dir, tmp_path) -> None:
    batch = H.items(data_dir, workload, 3)
    reference = H.host_reference(models_dir, workload, batch)
    r = H.rig(models_dir, workload)
    s = H.session(r.url, workload)
    try:
        for item, ref in zip(batch, reference):
            s.load(item.data)
            inf = s.infer(1, 0)
            np.testing.assert_allclose(inf.results, H.as_printed(workload, ref), atol=1e-6)
    finally:
        s.close()
        r.close()


def test_performance_window_from_the_laps(kws_rig, data_dir) -> None:
    s = H.session(kws_rig.url, mode="performance")
    try:
        s.load(H.items(data_dir, "kws01", 1)[0].data)
        inf = s.infer(500, 10)
    finally:
        s.close()
    assert inf.elapsed_s == pytest.approx(10.0, abs=1e-9) and inf.n / inf.elapsed_s == pytest.approx(50.0)


def test_the_32_bit_timer_wrap(models_dir, data_dir) -> None:
    r = H.rig(models_dir, "kws01", us_per_inference=20_000)
    s = H.session(r.url, mode="performance")
    try:
        s.load(H.items(data_dir, "kws01", 1)[0].data)
        r.clock.advance_us(2**32 - 3_000_000 - r.clock.now_us())  # the window crosses the wrap
        inf = s.infer(500, 0)
    finally:
        s.close()
        r.close()
    a, b = inf.extra["lap_us"]
    assert b < a and inf.extra["timer_wraps"] == 1
    assert inf.elapsed_s == pytest.approx(10.0, abs=1e-9)


def test_transcript_records_every_byte_both_ways(kws_rig, data_dir, tmp_path) -> None:
    s = H.session(kws_rig.url, run_dir=tmp_path)
    try:
        s.load(H.items(data_dir, "kws01", 1)[0].data)
        s.infer(1, 0)
        tx, rx = s.link.transport.tx_bytes, s.link.transport.rx_bytes
    finally:
        s.close()
    text = (tmp_path / "serial-transcript.log").read_text()
    assert text.startswith("# tinyperf serial transcript")
    out = [l for l in text.splitlines() if l[13:15] == "> "]
    back = [l for l in text.splitlines() if l[13:15] == "< "]
    assert any(l.endswith("> db load 490%") for l in out) and any("m-load-done\\r\\n" in l for l in back)
    unescaped = lambda lines: sum(len(l[15:].encode().decode("unicode_escape").encode("latin-1")) for l in lines)
    assert unescaped(out) == tx and unescaped(back) == rx
    assert "# resynchronising with" in text  # the opening sync point is noted


def test_transcript_rotates_keeping_the_newest_bytes(kws_rig, data_dir, tmp_path) -> None:
    """A whole serial accuracy run writes hundreds of MB; past --transcript-mb two files are kept."""
    s = H.session(kws_rig.url, run_dir=tmp_path, transcript_mb=0.005)
    try:
        for item in H.items(data_dir, "kws01", 6):  # ~3 kB of transcript per kws01 sample
            s.load(item.data)
            s.infer(1, 0)
        rotations = s.transcript.rotations
    finally:
        s.close()
    now, before = tmp_path / "serial-transcript.log", tmp_path / "serial-transcript.1.log"
    assert rotations >= 2
    assert 0 < now.stat().st_size < 5_000 and 5_000 <= before.stat().st_size <= 5_000 + 2_000
    text = now.read_text()
    assert text.startswith(f"# continued ({rotations} rotation(s) at 0.005 MB): the bytes before this are in "
                           "serial-transcript.1.log; older bytes were dropped")
    assert "m-results-" in text  # the last inference, where a failure would be, is kept
    assert before.read_text().startswith("# continued (")


def test_a_negative_transcript_size_is_refused(kws_rig, tmp_path) -> None:
    with pytest.raises(DeviceError, match=r"--transcript-mb -1 is negative.*0 to keep every byte"):
        H.session(kws_rig.url, run_dir=tmp_path, transcript_mb=-1)


def test_model_id_mismatch_is_named(kws_rig) -> None:
    with pytest.raises(DeviceError) as err:
        H.session(kws_rig.url, "vww01")
    msg = err.value.one_line()
    assert "runs kws01 firmware, but the workload is vww01" in msg and "--workload kws01" in msg
    s = H.session(kws_rig.url, "vww01", no_model_check=True)  # allowed on request
    s.close()


def test_missing_and_unknown_ports() -> None:
    with pytest.raises(DeviceError, match="needs --port"):
        H.session("")
    with pytest.raises(DeviceError, match="no such serial port"):
        H.session("/dev/tinyperf-no-such-port")
    with pytest.raises(DeviceError, match="cannot connect"):
        H.session("socket://127.0.0.1:1")


def test_a_wrong_baud_says_what_to_check(models_dir) -> None:
    r = H.rig(models_dir, "kws01", baud=9600)
    try:
        with pytest.raises(DeviceError) as err:
            H.session(r.url, timeout=0.3)
    finally:
        r.close()
    msg = err.value.one_line()
    assert "baud" in msg and "tinyperf devices" in msg


def test_chunk_size_limits(kws_rig, data_dir) -> None:
    with pytest.raises(DeviceError, match="80-character command buffer"):
        H.session(kws_rig.url, chunk_size=39)
    s = H.session(kws_rig.url, chunk_size=38, verify="always")  # the largest that fits, read back
    try:
        s.load(H.items(data_dir, "kws01", 1)[0].data)
        assert s.client.counters.confirmations >= 1
    finally:
        s.close()


def test_never_uploads_more_than_the_input(kws_rig) -> None:
    s = H.session(kws_rig.url)
    try:
        with pytest.raises(DeviceError, match="uploads 490 bytes"):
            s.load(b"\0" * 491)
    finally:
        s.close()


def test_mode_and_firmware_must_agree(models_dir, data_dir) -> None:
    with pytest.raises(DeviceError, match="needs the DUT behind an interface board"):
        H.session("/dev/null", mode="energy")
    r = H.rig(models_dir, "kws01", mode="energy", baud=115200)  # energy firmware, no timestamps printed
    try:
        s = H.session(r.url, mode="performance")
        s.load(H.items(data_dir, "kws01", 1)[0].data)
        with pytest.raises(DeviceError, match="built for energy mode"):
            s.infer(10, 0)
        s.close()
        s = H.session(r.url, mode="accuracy")  # accuracy needs no timestamps
        s.load(H.items(data_dir, "kws01", 1)[0].data)
        assert np.isnan(s.infer(1, 0).elapsed_s)
        s.close()
    finally:
        r.close()


def test_the_workload_a_board_runs(kws_rig) -> None:
    # a run without --workload can benchmark what is flashed instead of failing on the rest
    assert SerialRunner.device_workloads({"port": kws_rig.url}) == ["kws01"]


def test_vendor_text_between_protocol_lines_is_ignored(models_dir, data_dir) -> None:
    batch = H.items(data_dir, "kws01", 2)
    expected = [H.as_printed("kws01", v) for v in H.host_reference(models_dir, "kws01", batch)]
    r = H.rig(models_dir, "kws01")
    plain = r.dut._infer

    def chatty(n: int, w: int) -> None:  # some firmware narrates what it does
        r.dut._print("loading input tensor\r\n")
        plain(n, w)
        r.dut._print("Inference took some time\r\n")

    r.dut._infer = chatty
    s = H.session(r.url)
    try:
        for item, ref in zip(batch, expected):
            s.load(item.data)
            inf = s.infer(1, 0)
            np.testing.assert_array_equal(inf.results, ref)
            assert inf.extra["retries"] == 0
    finally:
        s.close()
        r.close()


def test_live_status_counts_link_trouble_while_it_happens(models_dir, data_dir) -> None:
    clean = H.rig(models_dir, "kws01")
    s = H.session(clean.url)
    try:
        s.load(H.items(data_dir, "kws01", 1)[0].data)
        s.infer(1, 0)
        assert s.live_status() is None  # nothing to say on a clean link
    finally:
        s.close()
        clean.close()
    r = H.rig(models_dir, "kws01", faults="garble=0.003,seed=2")
    s = H.session(r.url)
    try:
        for item in H.items(data_dir, "kws01", 4):
            s.load(item.data)
            s.infer(1, 0)
        c = s.client.counters
        assert c.link_errors > 0
        assert s.live_status() == (f"{c.link_errors:,} link errors, {c.retries:,} retries"
                                   + (f", {c.resets} resets" if c.resets else ""))
    finally:
        s.close()
        r.close()


@pytest.mark.parametrize("option, value", [("baud", 0), ("timeout", 0.0), ("infer_timeout", -1.0), ("retries", -1),
                                           ("chunk_size", 0), ("dut_baud", 0)])
def test_out_of_range_options_from_python_are_refused_before_connecting(option: str, value: float) -> None:
    """A 0 s timeout or 0 baud used to be replaced by the default without a word."""
    with pytest.raises(DeviceError, match=f"--{option.replace('_', '-')} .* out of range"):
        SerialRunner.preflight({"port": "socket://127.0.0.1:9", option: value})
