"""An energy run keeps each window's power trace as data (traces/ in the run directory), and
`show --plot` and the leaderboard page draw it. Rig: the emulated DUT behind an emulated STM32H573
interface board, powered by an emulated LPM01A at 5.0 mW."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinyperf.core.errors import ResultsError
from tinyperf.engine.rundir import load_run, load_trace
from tests.device_runners.serial import helpers as H
from tests.harness.cli_helpers import only_run_dir, tinyperf


@pytest.fixture(scope="module")
def energy_run(models_dir, data_dir, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("energy")
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--pty", "--mode", "energy",
                            "--interface-board", "stm32h573", "--energy-monitor", "lpm01a", "--power-mw", "5.0",
                            "--voltage-mv", "1800", "--us-per-inference", "20000", tmp_path=tmp_path) as info:
        r = tinyperf("run", "--runner", "serial", "--mode", "energy", "--port", info["port"],
                     "--interface-board", "stm32h573", "--energy-monitor", f"lpm01a:{info['monitor']}",
                     "--voltage-mv", "1800", "--workload", "kws01", "--data-dir", data_dir, "--out", tmp_path / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    return only_run_dir(tmp_path / "out")


def test_energy_windows_keep_their_power_trace(energy_run) -> None:
    run = load_run(energy_run)
    w = run.windows[run.windows["mode"] == "energy"]
    assert len(w) == 5 and w["trace_file"].notna().all()
    for _, r in w.iterrows():
        trace = load_trace(run, r["trace_file"])
        assert r["trace_file"].startswith("traces/")
        # the trace is the window: its samples sum to the window's energy, at the emulated 5.0 mW
        assert len(trace) * r["trace_period_s"] == pytest.approx(r["elapsed_s"], rel=1e-6)
        assert np.nansum(trace) * r["trace_period_s"] == pytest.approx(r["energy_j"], rel=1e-3)
        assert np.nanmedian(trace) == pytest.approx(5.0e-3, rel=0.01)


def test_show_plot_and_leaderboard_draw_the_trace(energy_run, tmp_path) -> None:
    r = tinyperf("show", energy_run, "--plot")
    assert r.returncode == 0, r.stderr
    assert "kws01 energy window 0: power" in r.stdout and "mW" in r.stdout
    try:
        import matplotlib  # noqa: F401
        assert len(list((energy_run / "plots").glob("power_kws01_energy_w*.png"))) == 5
    except ImportError:
        assert "install matplotlib" in r.stdout
    r = tinyperf("leaderboard", energy_run, "--html", tmp_path / "site")
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    assert "Power traces of energy windows" in page and "<polyline" in page and "power (mW)" in page


def test_a_trace_path_outside_the_run_is_refused(energy_run, tmp_path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(energy_run, copy)
    journal = copy / "journal.jsonl"
    lines = journal.read_text().splitlines()
    bad = []
    for line in lines:
        rec = json.loads(line)
        if rec.get("trace_file"):
            rec["trace_file"] = "../../etc/passwd"
        bad.append(json.dumps(rec))
    journal.write_text("\n".join(bad) + "\n")
    run = load_run(copy)
    with pytest.raises(ResultsError, match="outside the run directory"):
        load_trace(run, run.windows["trace_file"].dropna().iloc[0])
    r = tinyperf("show", copy, "--plot")
    assert r.returncode != 0 and "outside the run directory" in r.stderr and "Traceback" not in r.stderr
