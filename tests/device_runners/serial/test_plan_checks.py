"""Serial checks that need no run directory are made before one exists (issue 8, item 13).

A failed run used to leave an empty run directory and advise a `--resume` that failed the
same way; these refusals now come first, with nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.device_runners.serial import helpers as H
from tests.harness.cli_helpers import tinyperf


@pytest.fixture(scope="module")
def kws_emulator(models_dir, tmp_path_factory):
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--tcp", "0",
                            tmp_path=tmp_path_factory.mktemp("emu")) as info:
        yield info["port"]


def refused_before_a_run_dir(out: Path, *args: str) -> str:
    r = tinyperf("run", "--runner", "serial", *args, "--out", out)
    text = " ".join((r.stdout + r.stderr).split())
    assert r.returncode != 0 and "Traceback" not in text, text
    assert not out.exists() or not any(out.iterdir()), "a run directory was made"
    assert "--resume" not in text, text
    return text


def test_energy_mode_without_an_interface_board(kws_emulator, tmp_path) -> None:
    text = refused_before_a_run_dir(tmp_path / "out", "--port", kws_emulator, "-w", "kws01", "-m", "energy")
    assert "energy mode needs the DUT behind an interface board" in text and "--interface-board" in text


def test_energy_mode_without_a_monitor(kws_emulator, tmp_path) -> None:
    text = refused_before_a_run_dir(tmp_path / "out", "--port", kws_emulator, "-w", "kws01", "-m", "energy",
                                    "--interface-board", "stm32h573")
    assert "energy mode needs an energy monitor" in text and "--energy-monitor" in text


def test_firmware_for_another_workload(kws_emulator, tmp_path) -> None:
    text = refused_before_a_run_dir(tmp_path / "out", "--port", kws_emulator, "-w", "vww01", "-m", "performance")
    assert "runs kws01 firmware, but the workload is vww01" in text and "--workload kws01" in text
