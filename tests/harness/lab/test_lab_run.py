"""A lab on one machine, loopback only: four emulated boards (115200 baud, so they take real time),
two on their ptys, one exported by ser2net as rfc2217://, one a labgrid place (coordinator +
exporter of a NetworkSerialPort on our own ser2net). A suite across all four; a board that dies;
a place held by someone else; a board at the wrong baud."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.device_runners.serial.helpers import REPO, emulator_process
from tests.harness.lab import helpers as L
from tests.harness.lab.helpers import KWS_FILES, RUN_TIMEOUT_S, inventory_text, journal, lab_dir, lab_json, suite_args, tinyperf

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(tmp_path_factory, models_dir, data_dir):
    with L.loopback_lab(tmp_path_factory.mktemp("lab"), models_dir, data_dir) as lab:
        yield lab


def test_suite_across_four_boards_one_leaderboard(lab, tmp_path) -> None:
    out = tmp_path / "results"
    proc = tinyperf(*suite_args(lab, out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    d = lab_dir(out)
    meta = lab_json(d)
    assert {n: s["status"] for n, s in meta["boards"].items()} == dict.fromkeys(lab.ports, "complete")
    runs = {n: d / s["run_dir"] for n, s in meta["boards"].items()}
    assert len(set(runs.values())) == 4
    for name, run in runs.items():
        rj = json.loads((run / "run.json").read_text())
        assert rj["status"] == "complete"
        session = journal(run, "session")[0]["describe"]
        assert session["device"] == name  # the lab's name, not the (shared) vendor string
        if name == "ad-b":
            assert session["port"].startswith("rfc2217://127.0.0.1:")  # resolved through the place
    assert len(journal(runs["kws-a"], "sample")) == KWS_FILES  # kws: performance and accuracy on the data
    import pandas as pd

    board = pd.read_csv(d / "leaderboard.csv")
    assert sorted(board["LabBoard"]) == sorted(lab.ports)
    assert set(board["Model"]) == {"kws", "ad"}
    # the suite's short windows break the rules: every board is listed, none is ranked, each says why
    assert board.groupby("Model").size().to_dict() == {"ad": 2, "kws": 2}
    assert board["Rank"].isna().all() and board["Unranked"].str.contains("invalid").all()
    assert board.loc[board["Model"] == "kws", "Accuracy"].notna().all()
    assert set(board["Processor"]) == {"virtual M4"}
    assert "merged leaderboard" in proc.stdout
    # the place is released after the run; every listener of the lab is on the loopback
    assert "acquired: None" in L.lg(lab.coordinator, "-p", "ad-b", "show")
    for pid in lab.pids:
        assert all(L.is_loopback(a) for a in L.listeners(pid)), L.listeners(pid)


def test_dead_board_keeps_samples_and_resume_completes_it(lab, tmp_path) -> None:
    out = tmp_path / "results"
    inv = tmp_path / "lab.yaml"
    with emulator_process("-w", "kws01", "--models-dir", str(lab.models), "--pty", "--baud-limit", "115200",
                          tmp_path=tmp_path) as dying:
        ports = {**lab.ports, "kws-dying": dying["port"]}
        ports.pop("kws-b")
        inv.write_text(inventory_text(lab.coordinator, ports))
        args = ["run", "--lab", str(inv), "-w", "kws01", "-w", "ad01", "--min-window", "1", "--data-dir", str(lab.data),
                "--models-dir", str(lab.models), "--out", str(out)]
        proc = subprocess.Popen([sys.executable, "-m", "tinyperf.cli", *args], cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "250"})
        try:
            deadline = time.monotonic() + RUN_TIMEOUT_S
            while True:  # kill the board's emulator once it has finished a few accuracy samples
                runs = list(out.glob("*/kws-dying/*/journal.jsonl"))
                if runs and len(journal(runs[0].parent, "sample")) >= 5:
                    break
                assert proc.poll() is None and time.monotonic() < deadline, "the dying board never got going"
                time.sleep(0.05)
            dying["process"].kill()
            text, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 1, text
    d = lab_dir(out)
    meta = lab_json(d)
    states = {n: s["status"] for n, s in meta["boards"].items()}
    assert states == {"kws-a": "complete", "ad-a": "complete", "ad-b": "complete", "kws-dying": "incomplete"}, text
    assert meta["boards"]["kws-dying"]["note"]  # why it stopped, from the board's own run
    dead_run = d / meta["boards"]["kws-dying"]["run_dir"]
    kept = journal(dead_run, "sample")
    assert 5 <= len(kept) < KWS_FILES
    assert f"tinyperf run --resume {d}" in text
    # the board comes back (at another pty, as a re-plugged USB board would): the inventory says where
    with emulator_process("-w", "kws01", "--models-dir", str(lab.models), "--pty", "--baud-limit", "115200",
                          tmp_path=tmp_path) as back:
        inv.write_text(inventory_text(lab.coordinator, {**ports, "kws-dying": back["port"]}))
        again = tinyperf("run", "--resume", str(d))
    assert again.returncode == 0, again.stdout + again.stderr
    meta = lab_json(d)
    assert {s["status"] for s in meta["boards"].values()} == {"complete"}
    assert [meta["boards"][n]["attempts"] for n in ("kws-a", "ad-a", "ad-b", "kws-dying")] == [1, 1, 1, 2]
    samples = journal(dead_run, "sample")
    assert len(samples) == KWS_FILES and samples[:len(kept)] == kept  # finished samples kept, not redone
    rj = json.loads((dead_run / "run.json").read_text())
    assert rj["status"] == "complete" and rj["config"]["runner_options"]["port"] == back["port"]
    if back["port"] != dying["port"]:  # the kernel may hand out the same pty number again
        assert rj["resume_commands"][-1]["relocated"] == {"port": back["port"]}
    import pandas as pd

    assert "kws-dying" in set(pd.read_csv(d / "leaderboard.csv")["LabBoard"])


def test_place_held_by_another_user_skipped_then_waited_for(lab, tmp_path) -> None:
    L.lg(lab.coordinator, "-p", "ad-b", "acquire", env=L.ALICE)
    released = threading.Event()
    try:
        out = tmp_path / "results"
        args = ["run", "--lab", str(lab.inventory), "--boards", "ad-b,kws-a", "--mode", "performance",
                "--min-window", "1", "--models-dir", str(lab.models), "--out", str(out)]
        proc = tinyperf(*args)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        d = lab_dir(out)
        meta = lab_json(d)
        assert meta["boards"]["ad-b"]["status"] == "skipped" and meta["boards"]["ad-b"]["owner"] == "benchpc/alice"
        assert meta["boards"]["kws-a"]["status"] == "complete"
        assert "acquired by benchpc/alice" in proc.stdout
        # --wait: alice releases it a little later; the run takes it then, and hands it back after
        timer = threading.Timer(4.0, lambda: (L.lg(lab.coordinator, "-p", "ad-b", "release", env=L.ALICE),
                                              released.set()))
        timer.start()
        again = tinyperf("run", "--resume", str(d), "--wait", "--wait-timeout", "120")
        timer.join()
        assert again.returncode == 0, again.stdout + again.stderr
        assert lab_json(d)["boards"]["ad-b"]["status"] == "complete"
        assert "acquired: None" in L.lg(lab.coordinator, "-p", "ad-b", "show")
    finally:
        if not released.is_set():
            with contextlib.suppress(Exception):
                L.lg(lab.coordinator, "-p", "ad-b", "release", env=L.ALICE)


def test_check_health_table_names_the_rate_that_answered(lab, tmp_path) -> None:
    L.lg(lab.coordinator, "-p", "ad-b", "acquire", env=L.ALICE)
    try:
        with emulator_process("-w", "kws01", "--models-dir", str(lab.models), "--pty", "--baud", "921600",
                              tmp_path=tmp_path) as fast:
            inv = tmp_path / "lab.yaml"
            inv.write_text(inventory_text(lab.coordinator, {**lab.ports, "kws-921k": fast["port"]}))
            proc = tinyperf("lab", "check", str(inv), "--json", timeout=120)
            table = tinyperf("lab", "check", str(inv), timeout=120)
    finally:
        L.lg(lab.coordinator, "-p", "ad-b", "release", env=L.ALICE)
    assert proc.returncode == 1, proc.stderr
    rows = {r["board"]: r for r in json.loads(proc.stdout)}
    for name, fw in (("kws-a", "kws01"), ("ad-a", "ad01"), ("kws-b", "kws01")):
        assert (rows[name]["reachable"], rows[name]["firmware"], rows[name]["baud"], rows[name]["ok"]) == (True, fw, 115200, True)
    assert rows["ad-b"]["locked_by"] == "benchpc/alice" and not rows["ad-b"]["reachable"]
    wrong = rows["kws-921k"]
    assert (wrong["reachable"], wrong["wrong_baud"], wrong["baud"], wrong["configured_baud"]) == (True, True, 921600, 115200)
    assert "answers at 921600, not the configured 115200" in wrong["note"]
    assert "921600 (configured 115200)" in table.stdout and "benchpc/alice" in table.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_lab_run_releases_the_place_and_closes_every_run(lab, tmp_path, sig) -> None:
    out = tmp_path / "results"
    args = ["run", "--lab", str(lab.inventory), "--boards", "kws-a,ad-b", "-w", "kws01", "-w", "ad01",
            "--min-window", "1", "--data-dir", str(lab.data), "--models-dir", str(lab.models), "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "tinyperf.cli", *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "250"})
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while True:  # interrupt once the place is ours and a board has measured something
            held = "acquired: None" not in L.lg(lab.coordinator, "-p", "ad-b", "show")
            started = any(journal(j.parent, "window") for j in out.glob("*/*/*/journal.jsonl"))
            if held and started:
                break
            assert proc.poll() is None and time.monotonic() < deadline, "the lab run never got going"
            time.sleep(0.1)
        proc.send_signal(sig)
        text, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, text
    assert "acquired: None" in L.lg(lab.coordinator, "-p", "ad-b", "show")  # released on the way out
    d = lab_dir(out)
    meta = lab_json(d)
    assert meta["status"] == "incomplete" and "tinyperf run --resume" in text
    for state in meta["boards"].values():
        if state["run_dir"]:
            assert json.loads((d / state["run_dir"] / "run.json").read_text())["status"] in ("incomplete", "complete")
