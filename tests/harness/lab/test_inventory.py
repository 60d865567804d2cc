"""The lab inventory: what a valid file gives, and one clear line for each bad entry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tinyperf.lab.inventory import LabError, load_inventory

GOOD = """coordinator: 127.0.0.1:20408
boards:
  - name: kws-nucleo
    port: /dev/ttyACM0
    baud: 115200
    labels: {board: NUCLEO-L4R5ZI, processor: Arm Cortex-M4, clock: 120 MHz, firmware: kws01}
  - name: ad-remote
    port: rfc2217://10.0.0.5:3001
    interface_board: stm32h573
    energy_monitor: lpm01a:/dev/ttyACM1
  - name: vww-shared
    place: vww-bench-2
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "lab.yaml"
    p.write_text(text)
    return p


def test_good_inventory(tmp_path) -> None:
    inv = load_inventory(write(tmp_path, GOOD))
    assert [b.name for b in inv.boards] == ["kws-nucleo", "ad-remote", "vww-shared"]
    kws, ad, vww = inv.boards
    assert (kws.port, kws.baud, kws.firmware, kws.labels["clock"]) == ("/dev/ttyACM0", 115200, "kws01", "120 MHz")
    assert (ad.interface_board, ad.energy_monitor, ad.baud) == ("stm32h573", "lpm01a:/dev/ttyACM1", None)
    assert (vww.place, vww.port) == ("vww-bench-2", None)
    assert inv.coordinator_address() == "127.0.0.1:20408"
    assert [b.name for b in inv.select(["vww-shared", "kws-nucleo"])] == ["kws-nucleo", "vww-shared"]
    with pytest.raises(LabError, match=r"--boards: no board 'nope' in .*lab.yaml"):
        inv.select(["nope"])


BAD = [
    ("boards:\n  - name: a\n    port: /dev/x\n    baud: fast\n", r"board 'a': field 'baud': 'fast' is not a positive"),
    ("boards:\n  - name: a\n    port: /dev/x\n    baud: 0\n", r"board 'a': field 'baud': 0 is not"),
    ("boards:\n  - name: a\n", r"board 'a': field 'port'/'place': neither is given"),
    ("coordinator: h:1\nboards:\n  - name: a\n    port: /dev/x\n    place: p\n", r"board 'a': field 'port'/'place': both"),
    ("boards:\n  - name: a\n    port: /dev/x\n    speed: 9600\n", r"board 'a': unknown field 'speed'"),
    ("boards:\n  - name: a\n    port: /dev/x\n    interface_board: nucleo\n", r"board 'a': field 'interface_board'"),
    ("boards:\n  - name: a\n    port: /dev/x\n    labels: {firmware: kws}\n", r"board 'a': field 'labels.firmware': 'kws'"),
    ("boards:\n  - name: a\n    port: /dev/x\n    labels: {cpu: m4}\n", r"board 'a': field 'labels.cpu': unknown label"),
    ("boards:\n  - name: a\n    port: /dev/x\n  - name: a\n    port: /dev/y\n", r"board 'a': field 'name': listed twice"),
    ("boards:\n  - port: /dev/x\n", r"boards\[0\]: field 'name': None"),
    ("boards:\n  - name: a\n    port: /dev/x\n  - name: b\n    port: /dev/x\n",
     r"board 'b': field 'port': /dev/x is board 'a' already"),
    ("boards:\n  - name: a\n    place: p\n", r"board 'a': field 'place': no labgrid coordinator"),
    ("boards: []\n", r"field 'boards': no boards listed"),
    ("board:\n  - name: a\n", r"unknown top-level field 'board'"),
    ("boards:\n  - name: a\n   port: x\n", r"is not valid YAML at line"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_bad_entry_is_one_line_naming_file_board_and_field(tmp_path, monkeypatch, text, message) -> None:
    monkeypatch.delenv("LG_COORDINATOR", raising=False)
    path = write(tmp_path, text)
    with pytest.raises(LabError) as exc:
        load_inventory(path)
    line = exc.value.one_line()
    assert "\n" not in line and line.startswith(f"{path}: ") and "Fix: " in line
    assert __import__("re").search(message, line), line


def test_missing_file(tmp_path) -> None:
    with pytest.raises(LabError, match="no such lab inventory"):
        load_inventory(tmp_path / "nope.yaml")


def test_cli_prints_one_line_without_traceback(tmp_path) -> None:
    path = write(tmp_path, "boards:\n  - name: a\n    port: /dev/x\n    baud: -3\n")
    for argv in (["lab", "check", str(path)], ["run", "--lab", str(path)]):
        proc = subprocess.run([sys.executable, "-m", "tinyperf.cli", *argv], capture_output=True, text=True, timeout=120,
                              env={**__import__("os").environ, "COLUMNS": "300"})
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and f"{path}: board 'a': field 'baud': -3" in lines[0], proc.stderr
