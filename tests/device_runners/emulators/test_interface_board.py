"""The interface-board emulator relays like the STM32H573I-DK enhanced board (and the Arduino IO manager)."""

from __future__ import annotations

import time

from tests.device_runners.emulators.test_dut import Raw
from tests.device_runners.serial import helpers as H


def test_stm32_board_commands_and_passthrough(models_dir) -> None:
    r = H.rig(models_dir, "kws01", interface_board="stm32h573", mode="energy")
    raw = Raw(r.url)
    try:
        assert raw.ask("name%") == b"tinyML Enhanced Interface Board\r\nm-ready\r\n"
        assert raw.ask("checkbaud%") == b"checkbaud(9600)\r\nm-ready\r\n"
        assert raw.ask("whatever%") == b"m-ready\r\n"  # unknown: only m-ready
        t0 = time.perf_counter()
        reply = raw.until(b"[dut]: m-ready\r\n") if raw.port.write(b"dut name%") else b""
        took = time.perf_counter() - t0
        assert reply == (b"m-dut-passthrough(name)\r\nm-ready\r\n"
                         b"[dut]: m-name-dut-[tinyperf emulator]\r\n[dut]: m-ready\r\n")
        # the DUT side runs at 9600 baud: command and reply cross it at about 1 ms per byte
        assert took >= (len("name%") + len("m-name-dut-[tinyperf emulator]\r\nm-ready\r\n")) * 10 / 9600
    finally:
        raw.close()
        r.close()


def test_a_menu_word_with_junk_gets_no_answer(models_dir) -> None:
    r = H.rig(models_dir, "kws01", interface_board="stm32h573")
    raw = Raw(r.url)
    try:
        raw.port.write(b"namex%")
        time.sleep(0.3)
        assert raw.port.read(raw.port.in_waiting) == b""
        assert raw.ask("name%") == b"tinyML Enhanced Interface Board\r\nm-ready\r\n"
    finally:
        raw.close()
        r.close()


def test_setbaud_changes_the_dut_side_and_a_mismatch_hangs_the_relay(models_dir) -> None:
    r = H.rig(models_dir, "kws01", interface_board="stm32h573")
    raw = Raw(r.url)
    try:
        assert raw.ask("setbaud 115200%") == b"setbaud(115200)\r\nm-ready\r\n"
        assert r.board.boots == 2  # the board reset
        assert raw.ask("checkbaud%") == b"checkbaud(115200)\r\nm-ready\r\n"
        raw.port.write(b"dut name%")
        time.sleep(0.5)
        got = raw.port.read(raw.port.in_waiting)
        assert got == b"m-dut-passthrough(name)\r\nm-ready\r\n"  # the DUT at 9600 never answers
        raw.port.write(b"name%")
        time.sleep(0.3)
        assert raw.port.read(raw.port.in_waiting) == b""  # the board waits for the DUT forever
    finally:
        raw.close()
        r.close()


def test_dut_lines_after_a_bare_lf_lose_their_prefix(models_dir) -> None:
    r = H.rig(models_dir, "kws01", interface_board="stm32h573")
    raw = Raw(r.url)
    try:
        raw.port.write(b"dut db load 600%")
        reply = raw.until(b"m-ready\r\n", 2.0)
        reply += raw.until(b"m-ready\r\n", 2.0)
        # the board splits DUT output on CRLF only: the overflow message (LF) swallows m-ready
        assert reply == (b"m-dut-passthrough(db load 600)\r\nm-ready\r\n"
                         b"[dut]: Supplied buffer size 600 exceeds maximum of 490\nm-ready\r\n")
    finally:
        raw.close()
        r.close()


def test_arduino_relay_is_half_duplex(models_dir) -> None:
    r = H.rig(models_dir, "kws01", interface_board="arduino")
    raw = Raw(r.url)
    try:
        assert raw.ask("name%") == b"m-name-[io-manager]\r\nm-ready\r\n"
        raw.ask("dut db load 490%")
        raw.port.write(b"dut db print%")
        time.sleep(0.05)
        raw.port.write(b"version%")  # talking over the relay corrupts what comes back
        raw.until(b"m-ready\r\n", 5.0)
        deadline = time.monotonic() + 5
        while r.board.corrupted_lines == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert r.board.corrupted_lines > 0
    finally:
        raw.close()
        r.close()
