"""The emulator's link behaves like a UART: throttled to the baud, garbage at the wrong baud."""

from __future__ import annotations

import time

import serial

from tests.device_runners.emulators.test_dut import Raw
from tests.device_runners.serial import helpers as H


def test_throttling_takes_the_wire_time_of_every_byte(models_dir) -> None:
    r = H.rig(models_dir, "kws01", baud=9600, baud_limit=9600)
    raw = Raw(r.url, 9600)
    try:
        t0 = time.perf_counter()
        reply = raw.ask("profile%")
        took = time.perf_counter() - t0
    finally:
        raw.close()
        r.close()
    wire = (len("profile%") + len(reply)) * 10 / 9600
    assert wire <= took  # throttled: never faster than the wire (how much slower is load, not behaviour)


def test_a_host_at_the_wrong_baud_reads_garbage(models_dir) -> None:
    r = H.rig(models_dir, "kws01", baud=9600)
    try:
        wrong = serial.serial_for_url(r.url, baudrate=115200, timeout=0.3)
        wrong.write(b"name%")
        junk = wrong.read(200)
        wrong.close()
        assert b"m-name" not in junk and b"\n" not in junk  # no line structure at all
        right = Raw(r.url, 9600)
        # the junk left in the DUT's command buffer spoils the first command, as on a real board
        assert right.ask("name%").startswith(b"e-[Unknown command: ")
        assert right.ask("name%") == b"m-name-dut-[tinyperf emulator]\r\nm-ready\r\n"
        right.close()
    finally:
        r.close()


def test_tcp_endpoint_serves_one_client_after_another(models_dir) -> None:
    r = H.rig(models_dir, "kws01", tcp_port=0)
    try:
        assert r.url.startswith("socket://127.0.0.1:")
        for _ in range(2):
            raw = Raw(r.url)
            assert raw.ask("name%") == b"m-name-dut-[tinyperf emulator]\r\nm-ready\r\n"
            raw.close()
            time.sleep(0.2)
    finally:
        r.close()
