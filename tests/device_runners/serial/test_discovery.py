"""`tinyperf devices`: probe ports at the usual rates, name the rate that answers and any mismatch."""

from __future__ import annotations

import json
import os
import tty

from tinyperf.device_runners.serial.discovery import PortInfo, list_ports, probe
from tests.device_runners.serial import helpers as H
from tests.harness.cli_helpers import tinyperf


def test_a_dut_at_another_baud_is_a_mismatch(models_dir) -> None:
    r = H.rig(models_dir, "kws01", baud=9600)
    try:
        result = probe(r.url, 115200, timeout=0.3)
    finally:
        r.close()
    assert result.kind == "dut" and result.answered_baud == 9600 and result.baud_mismatch
    assert result.vendor == "tinyperf emulator" and result.model == "kws01"
    assert [b for b, _ in result.tried] == [115200, 921600, 9600]
    assert "baud mismatch: answers at 9600, not 115200" in result.note and "--baud 9600" in result.note


def test_a_dut_at_the_requested_baud(models_dir) -> None:
    r = H.rig(models_dir, "ad01", baud=921600)
    try:
        result = probe(r.url, 921600, timeout=0.3)
    finally:
        r.close()
    assert result.kind == "dut" and result.answered_baud == 921600 and not result.baud_mismatch
    assert result.model == "ad01" and result.profile == "ULPMark for tinyML Firmware V0.0.1" and result.note == ""


def test_an_interface_board_and_the_dut_behind_it(models_dir) -> None:
    r = H.rig(models_dir, "vww01", interface_board="stm32h573", mode="energy", vendor="ACME board")
    try:
        result = probe(r.url, timeout=0.3)
    finally:
        r.close()
    assert result.kind == "interface-board" and result.board == "tinyML Enhanced Interface Board"
    assert result.vendor == "ACME board" and result.model == "vww01"


def test_socket_urls_have_no_rate_to_try(models_dir) -> None:
    r = H.rig(models_dir, "kws01", tcp_port=0)
    try:
        result = probe(r.url, timeout=0.3)
    finally:
        r.close()
    assert result.kind == "dut" and result.tried == [(115200, "dut")]


def test_a_silent_port() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        result = probe(os.ttyname(slave), timeout=0.1)
    finally:
        os.close(master)
        os.close(slave)
    assert result.kind == "silent" and result.answered_baud is None and "no answer at 115200" in result.note


def test_port_listing_has_usb_facts() -> None:
    info = PortInfo("/dev/ttyACM0", 0x0483, 0x374B, "STM32 STLink")
    assert info.usb_id == "0483:374B" and "ST-LINK" in info.hint
    assert PortInfo("/dev/ttyUSB0", 0x2341, 0x0043).hint == "Arduino"
    assert all(p.vid is not None for p in list_ports())  # non-USB ports only with include_all


def test_devices_command(models_dir) -> None:
    r = H.rig(models_dir, "kws01", baud=9600)
    try:
        out = tinyperf("devices", "--port", r.url, "--json", "--timeout", "0.3")
        table = tinyperf("devices", "--port", r.url, "--timeout", "0.3")
    finally:
        r.close()
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)[0]
    assert row["answer"] == "dut" and row["baud"] == 9600 and row["baud_mismatch"] and row["model"] == "kws01"
    assert table.returncode == 0 and "baud mismatch" in table.stdout and "tinyperf emulator" in table.stdout
    assert tinyperf("devices", "--no-probe").returncode == 0
