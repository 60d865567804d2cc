"""The official MLPerf Tiny runner (mlcommons/tiny benchmark/runner, ../shared) as a client of the emulators.

Its main.py runs unmodified in its own venv (pyserial, pyyaml, numpy, scipy, scikit-learn,
matplotlib, pyusb, joulescope; made once per machine under the temp dir, or the test skips saying
why). Only its USB discovery is replaced: `serial.tools.list_ports.comports` lists the emulator ptys
with the VID:PID of the official devices_kws_ic_vww.yaml, and `usb.core.find` finds no USB-only
device. kws01 performance and energy use the official YAML scripts (5 windows of `infer 70 10`);
accuracy uses the official script on a 20-file set. The figures it prints must equal tinyperf's own
run against the same emulator (same options, without --realtime: the emulated timestamps are the same).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

import pandas as pd
import pytest

from tests.device_runners.serial import helpers as H
from tests.harness.cli_helpers import only_run_dir, tinyperf
from tinyperf.outputs.results_txt import parse_results_txt

pytestmark = pytest.mark.slow

REQUIREMENTS = ["pyserial", "pyyaml", "numpy", "scipy", "scikit-learn", "matplotlib", "pyusb", "joulescope"]
VENV = Path(tempfile.gettempdir()) / f"tinyperf-official-runner-venv-py{sys.version_info[0]}{sys.version_info[1]}"
US_PER_INFERENCE = "150000"  # 70 inferences = 10.5 s: the official scripts' windows meet the 10 s rule
POWER_MW, VOLTAGE_MV = "5.0", "1800"
#: VID:PID of the official devices_kws_ic_vww.yaml
DUT_USB, BOARD_USB, LPM_USB = (0x0483, 0x374B), (0x0483, 0x374E), (0x0483, 0x5740)

DISCOVERY = '''
import json, os, runpy, sys
runner = os.environ["OFFICIAL_RUNNER_DIR"]
sys.path.insert(0, runner)
from serial.tools import list_ports, list_ports_common
def comports(include_links=False):
    out = []
    for p in json.loads(os.environ["OFFICIAL_RUNNER_PORTS"]):
        info = list_ports_common.ListPortInfo(p["device"], skip_link_detection=True)
        info.vid, info.pid, info.description = p["vid"], p["pid"], "emulated"
        out.append(info)
    return out
list_ports.comports = comports          # the emulator ptys, as USB serial ports
import usb.core
usb.core.find = lambda *a, **k: iter(())  # no USB-only devices (JS220)
sys.argv = [os.path.join(runner, "main.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def _runner_python() -> Path:
    python = VENV / "bin" / "python"
    marker = VENV / ".complete"
    if marker.exists():
        return python
    try:
        if not python.exists():
            venv.create(VENV, with_pip=True)
        r = subprocess.run([str(python), "-m", "pip", "install", "-q", *REQUIREMENTS], capture_output=True,
                           text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot make the official runner's venv at {VENV}: {exc}")
    if r.returncode != 0:
        pytest.skip(f"cannot install the official runner's requirements into {VENV}: {r.stderr.strip()[-300:]}")
    marker.write_text("ok\n")
    return python


@pytest.fixture(scope="module")
def runner_python() -> Path:
    return _runner_python()


@pytest.fixture(scope="module")
def runner_dir(shared_root) -> Path:
    path = shared_root / "tools" / "runner"
    if not (path / "main.py").is_file():
        pytest.skip(f"the official runner is not at {path}")
    return path


@pytest.fixture
def kws_set(data_dir, tmp_path) -> Path:
    """The first 20 kws01 files, as a runner dataset folder (<root>/kws01/y_labels.csv)."""
    src = data_dir / "kws01"
    root = tmp_path / "datasets"
    (root / "kws01").mkdir(parents=True)
    rows = (src / "y_labels.csv").read_text().splitlines()[:20]
    for row in rows:
        shutil.copy(src / row.split(",")[0], root / "kws01")
    (root / "kws01" / "y_labels.csv").write_text("\n".join(rows) + "\n")
    return root


def run_official(python: Path, runner_dir: Path, cwd: Path, mode: str, ports: list[dict], tests_yaml: Path,
                 dataset: Path, timeout: float = 300) -> tuple[str, str]:
    """main.py -m MODE in `cwd`; returns (its results.txt, its stdout)."""
    cwd.mkdir(parents=True, exist_ok=True)
    wrapper = cwd / "discovery.py"
    wrapper.write_text(DISCOVERY)
    env = {**os.environ, "OFFICIAL_RUNNER_DIR": str(runner_dir), "OFFICIAL_RUNNER_PORTS": json.dumps(ports),
           "MPLBACKEND": "Agg", "PYTHONPATH": ""}
    r = subprocess.run([str(python), str(wrapper), "-d", str(runner_dir / "devices_kws_ic_vww.yaml"),
                        "-t", str(tests_yaml), "-s", str(dataset), "-m", mode], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=timeout)
    sessions = sorted((cwd / "sessions").glob("*/results.txt"))
    assert r.returncode == 0 and sessions, f"official runner failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return sessions[-1].read_text(), r.stdout


def median_of(pattern: str, text: str) -> str:
    m = re.search(pattern, text)
    assert m, f"no line matching {pattern!r} in:\n{text}"
    return m[1]


def test_official_runner_accepts_the_emulators(runner_python, runner_dir, models_dir, kws_set, tmp_path):
    dut_args = ("--workload", "kws01", "--models-dir", str(models_dir), "--pty", "--us-per-inference", US_PER_INFERENCE)
    energy_args = ("--mode", "energy", "--interface-board", "stm32h573", "--energy-monitor", "lpm01a",
                   "--power-mw", POWER_MW, "--voltage-mv", VOLTAGE_MV)
    accuracy_yaml = tmp_path / "tests_accuracy.yaml"
    accuracy_yaml.write_text((runner_dir / "tests_accuracy.yaml").read_text().replace(
        "kws01:\n  name: keyword_spotting\n  model: kws01\n  truth_file: y_labels.csv\n  script:\n    - loop:",
        "kws01:\n  name: keyword_spotting\n  model: kws01\n  truth_file: y_labels.csv\n  script:\n    - loop 20:"))
    assert "loop 20:" in accuracy_yaml.read_text()

    # -- the official runner against `tinyperf emulate dut --realtime` ---------------------------------
    with H.emulator_process(*dut_args, "--realtime", tmp_path=tmp_path) as info:
        ports = [{"device": info["port"], "vid": DUT_USB[0], "pid": DUT_USB[1]}]
        perf, perf_log = run_official(runner_python, runner_dir, tmp_path / "p", "p", ports,
                                      runner_dir / "tests_performance.yaml", kws_set)
        acc, _ = run_official(runner_python, runner_dir, tmp_path / "a", "a", ports, accuracy_yaml, kws_set)
        # tinyperf's own accuracy run on the same 20 files, against the same emulator process
        r = tinyperf("run", "--runner", "serial", "--port", info["port"], "--mode", "accuracy", "--workload",
                     "kws01", "--data-dir", kws_set, "--out", tmp_path / "ours-a")
        assert r.returncode == 0, r.stdout + r.stderr
    with H.emulator_process(*dut_args, *energy_args, "--realtime", tmp_path=tmp_path) as info:
        ports = [{"device": info["port"], "vid": BOARD_USB[0], "pid": BOARD_USB[1]},
                 {"device": info["monitor"], "vid": LPM_USB[0], "pid": LPM_USB[1]}]
        energy, energy_log = run_official(runner_python, runner_dir, tmp_path / "e", "e", ports,
                                          runner_dir / "tests_energy.yaml", kws_set)

    # performance: 5 windows, each over 10 s, and the median line (no ERROR)
    assert perf.count("Runtime requirements have been met.") == 5 and "ERROR" not in perf, perf
    official_tp = median_of(r"ulp-mlperf: Median throughput is\s+([\d.]+) inf\./sec\.", perf)
    # accuracy: both lines
    official_top1 = median_of(r"ulp-mlperf: Top 1% = ([\d.]+)", acc)
    official_auc = median_of(r"ulp-mlperf: AUC = ([\d.]+)", acc)
    # energy: each window's samples and both its timestamps in its capture
    captures = re.findall(r"Captured samples:(\d+) timestamps:(\d+)", energy_log)
    assert len(captures) == 5 and all(ts == "2" for _, ts in captures), captures
    assert energy.count("Energy data for trial") == 5 and "below minimum duration" not in energy, energy
    official_energy = median_of(r"Median energy cost is ([\d.]+) uJ/inf\.", energy)

    # -- tinyperf's own run against the same emulator (same options, no --realtime) ---------------------
    with H.emulator_process(*dut_args, tmp_path=tmp_path) as info:
        r = tinyperf("run", "--runner", "serial", "--port", info["port"], "--mode", "performance", "--workload",
                     "kws01", "--data-dir", kws_set, "--out", tmp_path / "ours-p")
        assert r.returncode == 0, r.stdout + r.stderr
    with H.emulator_process(*dut_args, *energy_args, tmp_path=tmp_path) as info:
        r = tinyperf("run", "--runner", "serial", "--mode", "energy", "--port", info["port"], "--interface-board",
                     "stm32h573", "--energy-monitor", f"lpm01a:{info['monitor']}", "--workload", "kws01",
                     "--data-dir", kws_set, "--out", tmp_path / "ours-e")
        assert r.returncode == 0, r.stdout + r.stderr
    ours_p = pd.read_parquet(only_run_dir(tmp_path / "ours-p") / "summary.parquet").iloc[0]
    ours_a = (only_run_dir(tmp_path / "ours-a") / "kws01" / "results.txt").read_text()
    ours_e = pd.read_parquet(only_run_dir(tmp_path / "ours-e") / "summary.parquet").iloc[0]
    assert f"{ours_p['throughput_ips']:.3f}" == official_tp
    assert parse_results_txt(ours_a) == {"top1_pct": float(official_top1), "auc": float(official_auc)}
    assert f"{ours_e['energy_uj_per_inf']:.4f}" == official_energy
    assert ours_e["voltage_mv"] == float(VOLTAGE_MV)
    print(f"official runner: {official_tp} inf./sec., Top 1% {official_top1}, AUC {official_auc}, "
          f"{official_energy} uJ/inf.; tinyperf: {ours_p['throughput_ips']:.3f}, {ours_e['energy_uj_per_inf']:.4f}")
