"""Interrupt an accuracy run halfway: nothing finished is lost, and --resume completes it exactly."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

from tinyperf import load_run
from tests.harness.cli_helpers import TINYPERF, only_run_dir, tinyperf


def _samples_in(journal: Path) -> int:
    if not journal.exists():
        return 0
    return sum(1 for line in journal.read_text().splitlines() if '"kind": "sample"' in line)


def _interrupt_halfway(args: list, out: Path, at: int, sig: int) -> Path:
    proc = subprocess.Popen([*TINYPERF, *map(str, args), "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 300
    journal = None
    while time.monotonic() < deadline:
        dirs = [d for d in out.iterdir() if d.is_dir()] if out.exists() else []
        if dirs and _samples_in(journal := dirs[0] / "journal.jsonl") >= at:
            break
        time.sleep(0.05)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL}[sig]
    assert "Traceback" not in stderr, stderr
    if sig != signal.SIGKILL:  # a killed process cannot say anything
        assert "--resume" in stdout + stderr
    assert journal is not None
    return journal.parent


def test_sigint_then_resume_gives_the_same_figures(models_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    args = ["run", "--mode", "accuracy", "--workload", "ad01", "--workload", "kws01",
            "--models-dir", models_dir, "--data-dir", data_dir]
    run_dir = _interrupt_halfway(args, tmp_path / "interrupted", at=20000, sig=signal.SIGINT)

    partial = load_run(run_dir)
    assert partial.status == "incomplete"
    assert json.loads((run_dir / "run.json").read_text())["status"] == "incomplete"
    done_before = len(partial.samples)
    assert 20000 <= done_before < 48608 + 1000
    assert (run_dir / "samples.parquet").is_file()  # partial tables are readable
    before_keys = set(zip(partial.samples["workload"], partial.samples["file"], partial.samples["window"]))

    r = tinyperf("run", "--resume", run_dir)
    assert r.returncode == 0, r.stderr
    assert f"{done_before} samples" in " ".join(r.stdout.split())
    resumed = load_run(run_dir)
    assert resumed.complete
    keys = list(zip(resumed.samples["workload"], resumed.samples["file"], resumed.samples["window"]))
    assert len(keys) == len(set(keys)) == 48608 + 1000  # nothing redone, nothing missing
    assert before_keys <= set(keys)

    r = tinyperf(*args, "--out", tmp_path / "straight")
    assert r.returncode == 0
    straight = load_run(only_run_dir(tmp_path / "straight")).summary.set_index("workload")
    got = resumed.summary.set_index("workload")
    assert got.loc["ad01", "auc"] == straight.loc["ad01", "auc"]
    assert got.loc["kws01", "top1_pct"] == straight.loc["kws01", "top1_pct"]
    assert abs(got.loc["kws01", "top1_pct"] - 90.1) < 1e-9


def test_sigterm_is_as_clean_as_sigint(models_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    args = ["run", "--mode", "accuracy", "--workload", "ad01", "--models-dir", models_dir, "--data-dir", data_dir]
    run_dir = _interrupt_halfway(args, tmp_path, at=5000, sig=signal.SIGTERM)
    assert load_run(run_dir).status == "incomplete"


def test_killed_run_is_incomplete_and_resumable(models_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    args = ["run", "--mode", "accuracy", "--workload", "ic01", "--models-dir", models_dir, "--data-dir", data_dir]
    run_dir = _interrupt_halfway(args, tmp_path, at=50, sig=signal.SIGKILL)
    run = load_run(run_dir)  # the writer died: no status update, yet the journal is intact
    assert run.status == "incomplete" and len(run.samples) >= 50
    r = tinyperf("run", "--resume", run_dir)
    assert r.returncode == 0, r.stderr
    run = load_run(run_dir)
    assert abs(run.summary.set_index("workload").loc["ic01", "top1_pct"] - 86.5) < 1e-9
    # both commands are on record, as typed
    assert run.meta["command"]["argv"] == shlex.join(["tinyperf", *map(str, args), "--out", str(tmp_path)])
    assert len(run.meta["resumed"]) == 1  # when
    assert [c["argv"] for c in run.meta["resume_commands"]] == [shlex.join(["tinyperf", "run", "--resume", str(run_dir)])]


def test_resume_refuses_a_complete_run_and_changed_data(models_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    r = tinyperf("run", "--mode", "accuracy", "--workload", "ic01", "--models-dir", models_dir,
                 "--data-dir", data_dir, "--out", tmp_path)
    assert r.returncode == 0
    run_dir = only_run_dir(tmp_path)
    r = tinyperf("run", "--resume", run_dir)
    assert r.returncode == 2 and "already complete" in r.stderr


def test_performance_run_resumes_at_the_next_window(models_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    args = ["run", "--mode", "performance", "--workload", "kws01", "--models-dir", models_dir,
            "--data-dir", data_dir, "--min-window", "1"]
    proc = subprocess.Popen([*TINYPERF, *map(str, args), "--out", str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        dirs = [d for d in tmp_path.iterdir() if d.is_dir()]
        journal = dirs[0] / "journal.jsonl" if dirs else None
        if journal and journal.exists() and journal.read_text().count('"kind": "window"') >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    run_dir = dirs[0]
    before = load_run(run_dir).windows
    assert 2 <= len(before) < 5
    r = tinyperf("run", "--resume", run_dir)
    assert r.returncode == 0, r.stderr
    after = load_run(run_dir)
    w = after.windows
    assert list(w["window"]) == list(range(5)) and (w["elapsed_s"] >= 1.0).all()
    assert list(w["elapsed_s"][: len(before)]) == list(before["elapsed_s"])  # finished windows kept as they were
    calibrations = (run_dir / "journal.jsonl").read_text().count('"kind": "calibration"')
    assert calibrations == 1  # the resumed part reuses the run's N
    assert after.summary.iloc[0]["windows"] == 5
