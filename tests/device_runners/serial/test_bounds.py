"""Every wait ends: a device that never stops sending, a reply that never ends, a count the
firmware cannot hold, garbage where a reply should be (issue 8, items 7 and 9), and link
suspicion that outlives a session."""

from __future__ import annotations

import socket
import threading

import pytest

from tinyperf.core.errors import DeviceError
from tinyperf.device_runners.serial.recovery import TRUST_NAME
from tinyperf.device_runners.serial.resource import SerialResource
from tinyperf.device_runners.serial.transport import DeviceFlood, LineTransport
from tests.device_runners.serial import helpers as H


@pytest.fixture
def flooding_url():
    """A TCP peer on 127.0.0.1 that sends bytes without pause until stopped."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)
    stop = threading.Event()

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            while not stop.is_set():
                try:
                    conn.sendall(b"\x13\xfe noise m-lap-us-1\r\n" * 64)
                except OSError:
                    return
                stop.wait(0.001)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield f"socket://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()
    t.join(timeout=5)


def test_quiet_and_drain_are_bounded_under_a_flood(flooding_url) -> None:
    transport = LineTransport(SerialResource(flooding_url, 115200).open(), flooding_url)
    try:
        transport.drain(limit_s=0.2)  # returns what came, however much keeps coming
        with pytest.raises(DeviceFlood) as err:
            transport.quiet(0.05, limit_s=0.5)
    finally:
        transport.close()
    msg = err.value.one_line()
    assert "never stops sending" in msg and "noise" in msg and "reset the board" in msg


def test_infer_counts_past_a_32_bit_int_are_refused(models_dir, data_dir) -> None:
    r = H.rig(models_dir, "kws01")
    s = H.session(r.url)
    try:
        s.load(H.items(data_dir, "kws01", 1)[0].data)
        before = r.dut.commands
        with pytest.raises(DeviceError) as err:
            s.infer(2**32 + 5, 10)
        assert r.dut.commands == before  # refused, not sent
    finally:
        s.close()
        r.close()
    msg = err.value.one_line()
    assert "more than the firmware can count" in msg and "--min-window" in msg and "link" not in msg


def test_garbage_instead_of_a_reply_is_shown_not_called_silence(models_dir, data_dir) -> None:
    r = H.rig(models_dir, "kws01")
    s = H.session(r.url, timeout=0.5, retries=1)
    try:
        r.dut._dispatch = lambda command: r.dut._print("?? 7f-1a-2b\r\n")  # the firmware went astray
        with pytest.raises(DeviceError) as err:
            s.load(H.items(data_dir, "kws01", 1)[0].data)
    finally:
        s.close()
        r.close()
    msg = err.value.one_line()
    assert "got no reply" not in msg and "7f-1a-2b" in msg and "bytes came back" in msg


def test_a_new_session_of_a_run_does_not_trust_a_link_that_lied(models_dir, data_dir, tmp_path) -> None:
    batch = H.items(data_dir, "kws01", 4)
    noisy = H.rig(models_dir, "kws01", faults="garble=0.003,seed=2")
    s = H.session(noisy.url, run_dir=tmp_path)
    try:
        for item in batch:
            s.load(item.data)
            s.infer(1, 0)
        assert s.client.counters.link_errors > 0
    finally:
        s.close()
        noisy.close()
    assert (tmp_path / TRUST_NAME).is_file()
    clean = H.rig(models_dir, "kws01")
    s = H.session(clean.url, run_dir=tmp_path)  # a reconnect or --resume: the same run
    try:
        assert s.client.suspicious and s.client.counters.link_errors == 0
    finally:
        s.close()
        clean.close()
    assert "earlier sessions of this run saw" in (tmp_path / "serial-transcript.log").read_text()
    fresh = H.rig(models_dir, "kws01")
    s = H.session(fresh.url, run_dir=tmp_path / "other-run")
    try:
        assert not s.client.suspicious  # another run starts from the default
    finally:
        s.close()
        fresh.close()
