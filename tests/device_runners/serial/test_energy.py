"""Energy mode end to end: emulated DUT (energy firmware, 9600 baud) behind an emulated STM32H573
interface board, powered by an emulated LPM01A at 5.0 mW; 20 ms per inference must read 100 uJ/inf."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.device_runners.serial import helpers as H
from tests.harness.cli_helpers import only_run_dir, tinyperf
from tinyperf.outputs.results_txt import parse_results_txt


def test_energy_run_reports_100_uj_per_inference(models_dir, data_dir, tmp_path) -> None:
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--pty", "--mode", "energy",
                            "--interface-board", "stm32h573", "--energy-monitor", "lpm01a", "--power-mw", "5.0",
                            "--voltage-mv", "1800", "--us-per-inference", "20000", tmp_path=tmp_path) as info:
        r = tinyperf("run", "--runner", "serial", "--mode", "energy", "--port", info["port"],
                     "--interface-board", "stm32h573", "--energy-monitor", f"lpm01a:{info['monitor']}",
                     "--voltage-mv", "1800", "--workload", "kws01", "--data-dir", data_dir, "--out", tmp_path / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    run_dir = only_run_dir(tmp_path / "out")
    text = (run_dir / "kws01" / "results.txt").read_bytes().decode()
    # the official runner's energy block: per-trial figures, the median with 4 decimals, CRLF
    assert text.startswith("Power Edition Output\r\nEnergy data for trial 0\r\n") and text.count("Energy data for trial") == 5
    assert "\r\nMedian energy cost is 100.0000 uJ/inf.\r\n" in text
    assert parse_results_txt(text)["energy_uj_per_inf"] == pytest.approx(100.0, rel=0.01)
    windows = pd.read_parquet(run_dir / "windows.parquet")
    windows = windows[windows["mode"] == "energy"]
    assert len(windows) == 5 and (windows["elapsed_s"] >= 10.0).all()
    assert windows["energy_uj_per_inf"].median() == pytest.approx(100.0, rel=0.01)
    assert (windows["voltage_mv"] == 1800).all()  # every energy row says what supply it was measured at
    session = pd.read_parquet(run_dir / "summary.parquet").iloc[0]
    assert session["runner"] == "serial" and session["voltage_mv"] == 1800
    transcript = (run_dir / "serial-transcript.log").read_text()
    assert "> dut infer " in transcript and "[dut]: m-infer-done" in transcript


def test_monitor_buffer_warnings_reach_the_journal_summary_and_show(models_dir, data_dir, tmp_path) -> None:
    """An LPM01A whose status lines report a filling buffer: the run says so, in every place a reader looks."""
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--pty", "--mode", "energy",
                            "--interface-board", "stm32h573", "--energy-monitor", "lpm01a", "--power-mw", "5.0",
                            "--voltage-mv", "1800", "--us-per-inference", "20000", "--buff-percent", "7",
                            tmp_path=tmp_path) as info:
        r = tinyperf("run", "--runner", "serial", "--mode", "energy", "--port", info["port"],
                     "--interface-board", "stm32h573", "--energy-monitor", f"lpm01a:{info['monitor']}",
                     "--voltage-mv", "1800", "--workload", "kws01", "--data-dir", data_dir, "--out", tmp_path / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    run_dir = only_run_dir(tmp_path / "out")
    journal = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]
    warned = [j for j in journal if j["kind"] == "warning"]
    assert warned and all("buffer at 7 %" in j["message"] for j in warned) and warned[0]["workload"] == "kws01"
    summary = pd.read_parquet(run_dir / "summary.parquet").iloc[0]
    assert "buffer at 7 %" in summary["warnings"] and "falling behind" in summary["warnings"]
    assert "buffer at 7 %" in " ".join(r.stdout.split())  # the run's own report
    shown = tinyperf("show", run_dir)
    assert shown.returncode == 0 and "buffer at 7 %" in " ".join(shown.stdout.split()), shown.stdout
