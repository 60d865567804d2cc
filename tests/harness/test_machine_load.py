"""Machine load around host measurements: measured from /proc, recorded before and after, warned about."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tinyperf.core import machine_load
from tinyperf.engine.rundir import load_run
from tests.harness.cli_helpers import only_run_dir, tinyperf


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_snapshot_names_a_busy_process_and_never_itself() -> None:
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        snap = machine_load.snapshot(sample_s=1.0)
    finally:
        spinner.kill()
        spinner.wait(timeout=10)
    pids = {p["pid"] for p in snap["busy_processes"]}
    assert spinner.pid in pids  # a spinning process gets a share of a CPU even on a loaded machine
    assert os.getpid() not in pids
    assert snap["cpus"] >= 1 and "loadavg_1m" in snap and "governor" in snap


def test_busy_is_judged_on_other_processes_cpu() -> None:
    quiet = {"cpus": 2, "loadavg_1m": 1.0, "busy_processes": [{"pid": 1, "name": "sshd", "cpu_pct": 6.0}]}
    busy = {"cpus": 2, "loadavg_1m": 1.5, "busy_processes": [{"pid": 2, "name": "yes", "cpu_pct": 99.0}],
            "governor": "powersave"}
    assert machine_load.is_busy(quiet) is False and machine_load.is_busy(busy) is True
    assert machine_load.is_busy({"cpus": 2, "busy_processes": None}) is None  # not measured: not judged
    assert machine_load.describe(busy) == ("1 other process used 99 % of a CPU (yes 99 %); load average 1.5 on 2 CPUs; "
                                           "governor powersave")


def test_host_runs_record_load_before_and_after(models_dir: Path, tmp_path: Path) -> None:
    r = tinyperf("run", "-w", "ad01", "--mode", "performance", "--min-window", "0.2", "--models-dir", models_dir,
                 "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    run_dir = only_run_dir(tmp_path)
    records = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()]
    loads = [rec for rec in records if rec["kind"] == "load"]
    assert [rec["phase"] for rec in loads] == ["before", "after"]
    kinds = [rec["kind"] for rec in records]
    assert kinds.index("load") < kinds.index("window") and len(kinds) - 1 - kinds[::-1].index("load") > \
        len(kinds) - 1 - kinds[::-1].index("window")  # around the windows
    row = load_run(run_dir).summary.iloc[0]
    assert isinstance(row["load_before"], str) and "load average" in row["load_before"]
    assert row["load_busy"] in (True, False)
    if row["load_busy"]:  # on a shared machine: said where the user looks
        assert "the machine was busy while timing" in " ".join(r.stdout.split())
