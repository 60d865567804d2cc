"""A third-party package, built and pip-installed by the test, extends tinyperf through its entry points.

The package (written into tmp_path) adds a runner with its own kernel back-ends and options, an
energy monitor and an output format; `tinyperf run` finds all three through the entry-point
groups, exactly as it finds the built-ins, and uses them end to end in energy mode.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.harness.cli_helpers import only_run_dir, run_cli
from tinyperf.core.errors import TinyperfError
from tinyperf.device_runners.base import Runner
from tinyperf.device_runners.registry import add_runner_options

PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "tinyperf-acme"
version = "0.0.1"

[tool.setuptools]
packages = ["tinyperf_acme"]

[project.entry-points."tinyperf.runners"]
acme = "tinyperf_acme.runner:AcmeRunner"

[project.entry-points."tinyperf.energy_monitors"]
acmemeter = "tinyperf_acme.meter:AcmeMeter"

[project.entry-points."tinyperf.outputs"]
acme-report = "tinyperf_acme.report:AcmeReport"

[project.entry-points."tinyperf.workloads"]
acme01 = "tinyperf_acme.workload:ACME01"
"""

RUNNER = '''
"""A runner on a simulated clock with two kernel back-ends of its own and one option; in energy
mode it reads each window's energy from an energy monitor opened through tinyperf's registry."""

from tinyperf.core.argtypes import positive_float
from tinyperf.device_runners.base import Inference, Runner
from tinyperf.device_runners.energy import open_energy_monitor
from tinyperf.device_runners.fake import fake_outputs

SPEED = {"turbo": 2.0, "eco": 1.0}  # us per inference = --acme-us / speed


class AcmeSession:
    def __init__(self, config):
        self.workload, self.mode = config.workload, config.mode
        self.kernels = config.kernels or AcmeRunner.default_kernels[config.mode]
        self.us = (config.options.get("acme_us") or 100.0) / SPEED[self.kernels]
        self.monitor = None
        if config.mode == "energy":
            self.monitor = open_energy_monitor(config.options.get("acme_monitor") or "acmemeter:5")
            self.monitor.start(3300)

    def describe(self):
        d = {"runner": "acme", "kernels": self.kernels, "threads": 1, "backend": "acme sim", "device": "acme board"}
        if self.monitor:
            d["energy_monitor"] = self.monitor.describe()
        return d

    def load(self, data):
        self.data = data

    def infer(self, n, warmup):
        elapsed = n * self.us / 1e6
        energy = None
        if self.monitor:
            k = self.monitor.mark()
            self.monitor.run_for(elapsed)  # the board pulses its timestamp pin around the window
            self.monitor.wait_for_events(k + 2, timeout=1.0)
            energy = self.monitor.window(k, k + 1).energy_j
        return Inference(results=fake_outputs(self.workload, self.data), n=n, warmup=warmup,
                         elapsed_s=elapsed, energy_j=energy)

    def close(self):
        if self.monitor:
            self.monitor.close()


class AcmeRunner(Runner):
    name = "acme"
    summary = "Acme's simulated board"
    needs_model = False
    modes = ("performance", "accuracy", "energy")
    kernels = ("turbo", "eco")
    default_kernels = {"performance": "turbo", "accuracy": "eco", "energy": "eco"}

    @classmethod
    def add_arguments(cls, group):
        group.add_argument("--acme-us", type=positive_float, metavar="US", help="us per inference at eco speed")
        group.add_argument("--acme-monitor", metavar="SPEC", help="energy monitor (default acmemeter:5)")

    def open(self, config):
        return AcmeSession(config)
'''

METER = '''
"""A pure-Python energy monitor: a DUT drawing a constant power, timestamp pulses on demand."""

import math

from tinyperf.device_runners.energy.base import EnergyMonitor, EnergyWindow


class AcmeMeter(EnergyMonitor):
    kind = "acmemeter"
    where = "<milliwatts>"
    where_required = True

    def __init__(self, power_mw):
        self.power_w = power_mw / 1000.0
        self.events = []  # seconds since start of each timestamp pulse
        self.t = 0.0

    @classmethod
    def from_spec(cls, where, transcript=None):
        return cls(float(where))

    def describe(self):
        return {"instrument": "acmemeter", "power_mw": self.power_w * 1000.0}

    def start(self, voltage_mv):
        self.voltage_mv = voltage_mv

    def run_for(self, seconds):
        self.events.append(self.t)
        self.t += seconds
        self.events.append(self.t)

    def stop(self):
        pass

    def event_count(self):
        return len(self.events)

    def mark(self, settle_s=0.25, timeout=10.0):
        return len(self.events)

    def wait_for_events(self, count, timeout):
        assert len(self.events) >= count

    def window(self, start_event, end_event):
        d = self.events[end_event] - self.events[start_event]
        e = self.power_w * d
        return EnergyWindow(e, d, int(d * 1000), 0, self.power_w, e, start_event, end_event)

    def close(self):
        pass
'''

REPORT = '''
"""An output format: one line per summary row, beside the run's own tables."""


class AcmeReport:
    def write(self, run):
        lines = [f"{r.workload} {r.mode} kernels={r.kernels} energy_uj_per_inf={r.energy_uj_per_inf}"
                 for r in run.summary.itertuples()]
        (run.path / "acme-report.txt").write_text("\\n".join(lines) + "\\n")
'''

WORKLOAD = '''
"""A workload is one module: its spec, with the scoring object it carries."""

from tinyperf.workloads.scoring import TOP1
from tinyperf.workloads.spec import InputEncoding, Workload

ACME01 = Workload(id="acme01", task="acme toy task (8 bytes, 2 classes)", labels=("zero", "one"),
                  input_shape=(1, 8), output_shape=(1, 2), encoding=InputEncoding("uint8", 1 / 255, 0),
                  sample_bytes=8, scoring=TOP1, quality_target=50.0, reference_model="acme01.tflite",
                  reference_float_model="acme01_float.tflite", default_n=100, default_warmup=1)
'''


@pytest.fixture(scope="module")
def acme_installed(tmp_path_factory) -> Path:
    """tinyperf-acme built and installed (pip, no deps) into a folder of its own: its dist-info is real."""
    src = tmp_path_factory.mktemp("acme-src")
    (src / "pyproject.toml").write_text(PYPROJECT)
    pkg = src / "tinyperf_acme"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name, text in (("runner", RUNNER), ("meter", METER), ("report", REPORT), ("workload", WORKLOAD)):
        (pkg / f"{name}.py").write_text(textwrap.dedent(text))
    target = tmp_path_factory.mktemp("acme-site")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                        "--no-index", "--target", str(target), str(src)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (target / "tinyperf_acme-0.0.1.dist-info" / "entry_points.txt").is_file()
    return target


@pytest.fixture
def acme(acme_installed: Path, monkeypatch) -> Path:
    monkeypatch.syspath_prepend(str(acme_installed))  # what an installed package is: on sys.path, with metadata
    yield acme_installed
    for mod in [m for m in sys.modules if m.startswith("tinyperf_acme")]:
        del sys.modules[mod]


def test_a_third_party_runner_monitor_and_output_format_run_end_to_end(acme: Path, tmp_path: Path) -> None:
    listed = run_cli("list", "runners")
    assert "acme" in listed.stdout and "turbo, eco" in listed.stdout, listed.stdout
    helptext = run_cli("run", "--help").stdout
    assert "--acme-us" in helptext and "acme: turbo|eco" in helptext, helptext

    r = run_cli("run", "--runner", "acme", "-w", "kws01", "--mode", "energy", "--min-window", "0.5",
                "--acme-us", "200", "--acme-monitor", "acmemeter:5", "--out", tmp_path / "runs")
    assert r.returncode == 0, r.stdout + r.stderr
    run_dir = only_run_dir(tmp_path / "runs")
    report = (run_dir / "acme-report.txt").read_text()
    # eco kernels (the runner's own default for energy): 200 us at 5 mW = 1 uJ per inference
    assert report.startswith("kws01 energy kernels=eco energy_uj_per_inf=1.0"), report
    assert "Median energy cost is 1.0000 uJ/inf." in (run_dir / "kws01" / "results.txt").read_text()
    sessions = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]
    described = next(s["describe"] for s in sessions if s.get("kind") == "session")
    assert described["energy_monitor"] == {"instrument": "acmemeter", "power_mw": 5.0}

    turbo = run_cli("run", "--runner", "acme", "-w", "kws01", "--mode", "performance", "--kernels", "turbo",
                    "--min-window", "0.5", "--acme-us", "200", "--out", tmp_path / "turbo")
    assert turbo.returncode == 0, turbo.stderr
    assert "kws01 performance kernels=turbo" in (only_run_dir(tmp_path / "turbo") / "acme-report.txt").read_text()

    wrong = run_cli("run", "--runner", "acme", "-w", "kws01", "--kernels", "xnnpack", "--out", tmp_path / "x")
    assert wrong.returncode == 2 and "the acme runner has no 'xnnpack' kernel back-end" in wrong.stderr, wrong.stderr

    from tinyperf.device_runners.energy import parse_monitor_spec

    with pytest.raises(TinyperfError) as unknown:
        parse_monitor_spec("nosuch:1")
    assert "acmemeter:<milliwatts>" in unknown.value.one_line() and "lpm01a:<port-or-URL>" in unknown.value.one_line()
    emulate = run_cli("emulate", "dut", "--help").stdout
    assert "lpm01a" in emulate and "acmemeter" not in emulate  # only monitors with an emulator are offered there
    assert "acmemeter:<milliwatts>" in run_cli("run", "--help").stdout


def test_a_third_party_workload_is_one_module_and_an_entry_point(acme_installed: Path, tmp_path: Path) -> None:
    """In a fresh process (the catalog is read when tinyperf starts), as the installed package would be."""
    data = tmp_path / "data" / "acme01"
    data.mkdir(parents=True)
    rows = []
    for i in range(10):
        (data / f"s{i}.bin").write_bytes(bytes((i * 37 + k * 11) % 256 for k in range(8)))
        rows.append(f"s{i}.bin,2,{i % 2}")
    (data / "y_labels.csv").write_text("\n".join(rows) + "\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(acme_installed), os.environ.get("PYTHONPATH")])),
           "COLUMNS": "200"}
    listed = subprocess.run([sys.executable, "-m", "tinyperf.cli", "list", "workloads"], capture_output=True,
                            text=True, timeout=120, env=env)
    assert "acme01" in listed.stdout and "top-1 >= 50 %" in listed.stdout, listed.stdout + listed.stderr
    r = subprocess.run([sys.executable, "-m", "tinyperf.cli", "run", "--runner", "acme", "-w", "acme01", "--mode",
                        "all", "--min-window", "0.2", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    run_dir = only_run_dir(tmp_path / "o")
    txt = (run_dir / "acme01" / "results.txt").read_text()
    # turbo: 100 us / 2 = 50 us; windows of 0.2 s end within 10 s, so the official ERROR 2 line replaces the median
    assert "    Throughput: 20000.0 inf./sec." in txt and "ERROR 2 - loop exited" in txt and "Top 1% = " in txt, txt


class _PortRunner(Runner):
    name = "other"

    @classmethod
    def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
        group.add_argument("--port")


def test_two_runners_claiming_one_option_is_an_error_naming_both() -> None:
    from tinyperf.device_runners.serial.runner import SerialRunner

    with pytest.raises(TinyperfError) as err:
        add_runner_options(argparse.ArgumentParser(), {"serial": SerialRunner, "other": _PortRunner})
    assert "--port is claimed by both runner 'other'" in err.value.one_line()
    assert "runner 'serial' (tinyperf.device_runners.serial.runner:SerialRunner)" in err.value.one_line()


def test_a_clash_disables_only_run_and_says_why(monkeypatch) -> None:
    from tinyperf.cli import run_cmd
    from tinyperf.device_runners.registry import available_runners

    runners = {**available_runners(), "other": _PortRunner}
    monkeypatch.setattr(run_cmd, "available_runners", lambda: runners)
    r = run_cli("run", "-w", "kws01")
    assert r.returncode == 2 and "--port is claimed by both runner 'other'" in r.stderr, r.stderr
    assert run_cli("list", "workloads").returncode == 0


def test_a_runner_option_may_not_shadow_a_run_option() -> None:
    class Threads(Runner):
        @classmethod
        def add_arguments(cls, group: argparse._ArgumentGroup) -> None:
            group.add_argument("--threads")

    p = argparse.ArgumentParser()
    p.add_argument("--threads")
    with pytest.raises(TinyperfError, match="claimed by both runner 'mine'.*tinyperf's own `run` options"):
        add_runner_options(p, {"mine": Threads})
