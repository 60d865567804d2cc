"""Small real runs shared by the rendering tests (report, show, plots): seconds, not minutes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tinyperf.engine.rundir import JOURNAL, RUN_JSON
from tests.harness.cli_helpers import only_run_dir, run_cli as tinyperf


@pytest.fixture(scope="session")
def host_run(models_dir: Path, data_dir: Path, tmp_path_factory) -> Path:
    """kws01 and ic01, performance (short windows) and accuracy, on this machine."""
    out = tmp_path_factory.mktemp("host-run")
    r = tinyperf("run", "-w", "kws01", "-w", "ic01", "--min-window", "0.2", "--models-dir", models_dir,
                 "--data-dir", data_dir, "--out", out)
    assert r.returncode == 0, r.stdout + r.stderr
    return only_run_dir(out)


@pytest.fixture(scope="session")
def incomplete_run(host_run: Path, tmp_path_factory) -> Path:
    """What a run killed during ic01's performance windows leaves: a prefix of the journal.

    The journal is appended line by line, so a kill leaves exactly such a prefix; cutting a
    finished run's journal gives one deterministically (a real kill races the workloads).
    """
    run_dir = tmp_path_factory.mktemp("incomplete") / host_run.name
    shutil.copytree(host_run, run_dir)
    for table in [*run_dir.glob("*.parquet"), *run_dir.glob("*.csv")]:  # written only at the end
        table.unlink()
    lines = (run_dir / JOURNAL).read_text().splitlines(keepends=True)
    first_ic01_window = next(i for i, line in enumerate(lines)
                             if json.loads(line)["kind"] == "window" and json.loads(line)["workload"] == "ic01")
    (run_dir / JOURNAL).write_text("".join(lines[:first_ic01_window + 1]))
    meta = json.loads((run_dir / RUN_JSON).read_text())
    meta["status"] = "incomplete"
    (run_dir / RUN_JSON).write_text(json.dumps(meta))
    return run_dir


@pytest.fixture(scope="session")
def serial_run(models_dir: Path, data_dir: Path, tmp_path_factory) -> Path:
    """kws01 performance through the serial runner, against `tinyperf emulate dut` on a pty."""
    from tests.device_runners.serial import helpers as H

    tmp = tmp_path_factory.mktemp("serial-run")
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--pty",
                            "--us-per-inference", "2000", tmp_path=tmp) as info:
        r = tinyperf("run", "--runner", "serial", "--port", info["port"], "--workload", "kws01",
                     "--mode", "performance", "--min-window", "0.2", "--data-dir", data_dir, "--out", tmp / "runs")
    assert r.returncode == 0, r.stdout + r.stderr
    return only_run_dir(tmp / "runs")
