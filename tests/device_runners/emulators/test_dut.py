"""The DUT emulator speaks the EEMBC firmware protocol byte for byte, quirks included.

Driven over a real pty with pyserial, as a host program would see it.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import serial

from tinyperf.device_runners.emulators.dut import atoi, format_results
from tests.device_runners.serial import helpers as H


class Raw:
    """A bare pyserial client: bytes out, bytes back up to the reply's final m-ready."""

    def __init__(self, url: str, baud: int = 115200, expect_banner: bool = False):
        self.port = serial.serial_for_url(url, baudrate=baud, timeout=0.05)
        self.banner = self.until(b"m-ready\r\n") if expect_banner else b""


    def ask(self, text: str | bytes, timeout: float = 5.0) -> bytes:
        self.port.write(text.encode("latin-1") if isinstance(text, str) else text)
        return self.until(b"m-ready\r\n", timeout)

    def until(self, end: bytes, timeout: float = 5.0) -> bytes:
        out = b""
        deadline = time.monotonic() + timeout
        while not out.endswith(end):
            assert time.monotonic() < deadline, f"no {end!r} after {out!r}"
            out += self.port.read(max(1, self.port.in_waiting))
        return out

    def close(self) -> None:
        self.port.close()


@pytest.fixture
def kws(models_dir):
    r = H.rig(models_dir, "kws01", us_per_inference=20_000)
    raw = Raw(r.url)
    yield r, raw
    raw.close()
    r.close()


def upload(raw: Raw, data: bytes, chunk: int = 31) -> bytes:
    out = raw.ask(f"db load {len(data)}%")
    for i in range(0, len(data), chunk):
        out += raw.ask("db " + data[i:i + chunk].hex() + "%")
    return out


def test_identity_commands(kws) -> None:
    _, raw = kws
    assert raw.ask("name%") == b"m-name-dut-[tinyperf emulator]\r\nm-ready\r\n"
    assert raw.ask("profile%") == b"m-profile-[ULPMark for tinyML Firmware V0.0.1]\r\nm-model-[kws01]\r\nm-ready\r\n"
    assert raw.ask("timestamp%").startswith(b"m-lap-us-")
    assert raw.ask("help%").startswith(b"ULPMark for tinyML Firmware V0.0.1\r\n\r\nhelp ")


def test_upload_and_infer_defaults(kws, data_dir) -> None:
    r, raw = kws
    data = H.items(data_dir, "kws01", 1)[0].data
    out = upload(raw, data)
    assert out.startswith(b"m-[Expecting 490 bytes]\r\nm-ready\r\n")
    assert out.endswith(b"m-load-done\r\nm-ready\r\n") and out.count(b"m-load-done") == 1
    # `infer` alone: N defaults to 1 and W to 10; `infer 3`: W still 10
    reply = raw.ask("infer%").decode()
    assert reply.startswith("m-warmup-start-10\r\nm-warmup-done\r\nm-infer-start-1\r\nm-lap-us-")
    reply = raw.ask("infer 3%").decode().split("\r\n")
    assert reply[0] == "m-warmup-start-10" and reply[2] == "m-infer-start-3"
    a, b = (int(x.removeprefix("m-lap-us-")) for x in reply[3:5])
    assert b - a == 60_000  # exactly N x us_per_inference, no wall time in the window
    assert reply[5] == "m-infer-done" and reply[6].startswith("m-results-[") and reply[7] == "m-ready"
    assert raw.ask("results%").decode().split("\r\n")[0] == reply[6]


def test_results_equal_the_host_reference_kernels(kws, models_dir, data_dir) -> None:
    _, raw = kws
    batch = H.items(data_dir, "kws01", 5)
    for item, ref in zip(batch, H.host_reference(models_dir, "kws01", batch)):
        upload(raw, item.data)
        line = raw.ask("infer 1 0%").decode().split("\r\n")[-3]
        assert line == f"m-results-[{format_results('kws01', ref)}]"


def test_kws_decimals_are_truncated_not_rounded() -> None:
    values = np.array([0.99609375, 0.00390625, 0.0703125, 0.4296875] + [0.0] * 8)
    text = format_results("kws01", values)
    assert text.split(",")[:4] == ["0.996", "0.003", "0.070", "0.429"]  # 0.0039 -> 0.003, 0.4297 -> 0.429


def test_result_formats_per_workload() -> None:
    assert format_results("vww01", np.array([0.07421875, 0.92578125])) == "0.074,0.926,"  # trailing comma
    assert format_results("ic01", np.array([0.99609375] + [0.0] * 9)).startswith("0.996,0.000,")
    assert format_results("ic01", np.array([0.99609375] + [0.0] * 9), "fixed6").startswith("0.996094,")
    assert format_results("ad01", np.array([94.518875])) == "94.518875"


def test_stray_crlf_becomes_part_of_the_next_command(kws) -> None:
    _, raw = kws
    assert raw.ask("\r\nname%") == b"e-[Unknown command: \r\nname]\r\nm-ready\r\n"
    assert raw.ask("bogus extra%") == b"e-[Unknown command: bogus]\r\nm-ready\r\n"


def test_the_80_character_buffer_silently_cuts_long_commands(kws, data_dir) -> None:
    _, raw = kws
    raw.ask("db load 490%")
    # 'db ' + 78 hex digits fills 81 characters; the 81st lands in the spare slot and is lost,
    # so the DUT sees 77 digits: an odd count
    assert raw.ask("db " + "11" * 39 + "%") == b"e-[Insufficent number of hex digits]\r\nm-ready\r\n"
    raw.ask("db load 40%")
    # with two spaces the kept 80 characters hold 76 digits: 38 of the 40 bytes load, silently
    assert raw.ask("db  " + "22" * 40 + "%") == b"m-ready\r\n"
    out = raw.ask("db print%").decode()
    assert out.count("22") == 38 and out.count("-00") == 2 and "m-load-done" not in out


def test_db_errors_and_quirks(kws) -> None:
    _, raw = kws
    assert raw.ask("db%") == b"e-[Command 'db' requires a subcommand]\r\nm-ready\r\n"
    assert raw.ask("db load%") == b"e-[Command 'db load' requires the # of bytes]\r\nm-ready\r\n"
    assert raw.ask("db load 0%") == b"e-[Command 'db load' must be >0 bytes]\r\nm-ready\r\n"
    assert raw.ask("db load 4%") == b"m-[Expecting 4 bytes]\r\nm-ready\r\n"
    assert raw.ask("db 123%") == b"e-[Insufficent number of hex digits]\r\nm-ready\r\n"
    assert raw.ask("db 01zz%") == b"e-[Invalid hex digit 'zz']\r\nm-ready\r\n"  # 01 is stored already
    assert raw.ask("db 02AbcDeeff%") == b"m-load-done\r\nm-ready\r\n"  # ignores digits after the 4th byte
    # size not a multiple of 8: the reference prints one extra empty line
    assert raw.ask("db print%") == b"m-buffer-01-02-ab-cd\r\n\r\nm-ready\r\n"
    # too large: the bare message (LF only), and the size is still accepted
    assert raw.ask("db load 600%") == b"Supplied buffer size 600 exceeds maximum of 490\nm-ready\r\n"
    assert raw.ask("infer 0%") == b"e-[Inference iterations must be >0]\r\nm-ready\r\n"
    assert raw.ask("infer 1 -1%") == b"e-[Inference warmup must be >=0]\r\nm-ready\r\n"


def test_short_input_is_reported_and_the_old_input_used(kws) -> None:
    _, raw = kws
    raw.ask("db load 490%")
    raw.ask("db " + "00" * 10 + "%")
    out = raw.ask("infer 1 0%").decode()
    assert out.startswith("Input db has 10 elemented, expected 490\nm-warmup-start-0\r\n")
    assert "m-results-[" in out


def test_boot_banner_and_reset(models_dir) -> None:
    r = H.rig(models_dir, "ad01", faults="reset@2")
    raw = Raw(r.url)
    try:
        assert raw.ask("name%").startswith(b"m-name-dut-")
        raw.ask("db load 2560%")  # command 2: resets instead
    finally:
        raw.close()
        r.close()
    assert r.dut.boots == 2 and r.dut.buff_size == 0


def test_boot_banner_lines(models_dir) -> None:
    from tinyperf.device_runners.emulators.dut import DutFirmware
    from tinyperf.workloads.catalog import get_workload

    out: list[bytes] = []
    dut = DutFirmware(get_workload("ad01"), H.model_path(models_dir, "ad01"))
    dut.emit = out.append
    dut.boot()
    text = b"".join(out).decode()
    lines = text.split("\r\n")
    assert lines[0] == "m-timestamp-mode-performance" and lines[1].startswith("m-lap-us-")
    assert lines[2:5] == ["Initialized", "m-init-done", "m-ready"]  # ad01's reference prints Initialized


def test_energy_mode_pulses_instead_of_printing(models_dir) -> None:
    from tinyperf.device_runners.emulators.dut import DutFirmware
    from tinyperf.workloads.catalog import get_workload

    out: list[bytes] = []
    pulses: list[int] = []
    dut = DutFirmware(get_workload("kws01"), H.model_path(models_dir, "kws01"), us_per_inference=20_000, mode="energy")
    dut.emit = out.append
    dut.on_timestamp(pulses.append)
    dut.boot()
    assert b"".join(out).startswith(b"m-timestamp-mode-energy\r\nm-init-done\r\nm-ready\r\n")
    assert len(pulses) == 1  # the boot timestamp pulses too
    dut.receive(b"db load 490%db " + b"00" * 31 + b"%")
    out.clear()
    dut.receive(b"infer 50 2%")
    text = b"".join(out).decode()
    assert "m-lap-us" not in text and "m-infer-done" in text
    assert len(pulses) == 3 and pulses[2] - pulses[1] == 50 * 20_000


def test_lap_counter_wraps_at_32_bits(models_dir) -> None:
    r = H.rig(models_dir, "kws01", us_per_inference=1_000_000)
    raw = Raw(r.url)
    try:
        r.clock.advance_us(2**32 - 5_000_000 - r.clock.now_us())  # 5 s before the counter wraps
        raw.ask("db load 490%")
        reply = raw.ask("infer 10 0%").decode().split("\r\n")
    finally:
        raw.close()
        r.close()
    a, b = (int(x.removeprefix("m-lap-us-")) for x in reply[3:5])
    assert a > 2**32 - 6_000_000 and b < 6_000_000 and (b - a) % 2**32 == 10_000_000


def test_atoi_reads_like_c() -> None:
    assert atoi("12abc") == 12 and atoi("  -3") == -3 and atoi("x1") == 0 and atoi("") == 0
    assert atoi("+7") == 7 and atoi("4294967297") == 1  # int overflow wraps
