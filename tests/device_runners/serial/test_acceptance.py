"""Acceptance, end to end: `tinyperf run --runner serial` against `tinyperf emulate dut` processes.

- kws01 accuracy on a pty: the same top-1 class on every file as the host runner with reference
  kernels, and the same accuracy; the same over socket:// and over rfc2217:// through ser2net;
- performance at 20,000 us per inference: 50.0 inf./sec. median, 5 windows, each >= --min-window;
- a port that vanishes mid-run stops it with finished samples kept, and --resume finishes it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tinyperf.engine.rundir import load_run
from tests.device_runners.serial import helpers as H
from tests.harness.cli_helpers import only_run_dir, tinyperf
from tinyperf.outputs.results_txt import parse_results_txt


@pytest.fixture(scope="module")
def host_top1(models_dir, data_dir) -> dict[str, int]:
    items = H.items(data_dir, "kws01")
    assert len(items) == 1000
    return {item.file: int(np.argmax(v)) for item, v in zip(items, H.host_reference(models_dir, "kws01", items))}


def accuracy_run(url: str, data_dir: Path, out: Path) -> Path:
    r = tinyperf("run", "--runner", "serial", "--port", url, "--workload", "kws01", "--mode", "accuracy",
                 "--data-dir", data_dir, "--out", out)
    assert r.returncode == 0, r.stdout + r.stderr
    return only_run_dir(out)


def assert_same_top1(run_dir: Path, host_top1: dict[str, int]) -> None:
    samples = pd.read_parquet(run_dir / "samples.parquet")
    samples = samples[samples["workload"] == "kws01"]
    assert len(samples) == 1000
    mismatched = [f for f, p in zip(samples["file"], samples["predicted"]) if host_top1[f] != int(p)]
    assert mismatched == []
    labels = dict(zip(samples["file"], samples["label"]))
    host_acc = 100.0 * np.mean([host_top1[f] == labels[f] for f in host_top1])
    assert parse_results_txt((run_dir / "kws01" / "results.txt").read_text())["top1_pct"] == round(host_acc, 1)


@pytest.fixture(scope="module")
def emulator_on_pty(models_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("emu")
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--pty",
                            "--us-per-inference", "20000", tmp_path=tmp) as info:
        yield info["port"]


def test_kws01_accuracy_on_a_pty_equals_the_host_reference(emulator_on_pty, data_dir, host_top1, tmp_path) -> None:
    t0 = time.monotonic()
    run_dir = accuracy_run(emulator_on_pty, data_dir, tmp_path)
    print(f"\nkws01 accuracy, 1000 files over a pty (no throttle): {time.monotonic() - t0:.1f} s")
    assert_same_top1(run_dir, host_top1)
    assert (run_dir / "serial-transcript.log").stat().st_size > 1_000_000  # every byte, both ways


def test_performance_reports_50_inferences_per_second(emulator_on_pty, data_dir, tmp_path) -> None:
    r = tinyperf("run", "--runner", "serial", "--port", emulator_on_pty, "--workload", "kws01",
                 "--mode", "performance", "--data-dir", data_dir, "--out", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    run_dir = only_run_dir(tmp_path)
    assert parse_results_txt((run_dir / "kws01" / "results.txt").read_text())["throughput_ips"] == 50.0
    windows = pd.read_parquet(run_dir / "windows.parquet")
    windows = windows[windows["mode"] == "performance"]
    assert len(windows) == 5 and (windows["elapsed_s"] >= 10.0).all()
    assert windows["throughput_ips"].median() == pytest.approx(50.0, abs=1e-9)
    summary = pd.read_parquet(run_dir / "summary.parquet")
    assert summary.iloc[0]["runner"] == "serial" and summary.iloc[0]["kernels"] == "device firmware"


def test_kws01_accuracy_over_socket_and_rfc2217(models_dir, data_dir, host_top1, tmp_path) -> None:
    port = H.free_tcp_port()
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--tcp", str(port),
                            tmp_path=tmp_path) as info:
        assert info["port"] == f"socket://127.0.0.1:{port}"
        assert_same_top1(accuracy_run(info["port"], data_dir, tmp_path / "socket"), host_top1)
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--pty",
                            tmp_path=tmp_path) as info, H.ser2net(info["port"], tmp_path) as url:
        assert_same_top1(accuracy_run(url, data_dir, tmp_path / "rfc2217"), host_top1)


def test_a_vanished_port_keeps_finished_samples_and_resume_finishes(models_dir, data_dir, host_top1,
                                                                     tmp_path) -> None:
    import subprocess
    import sys

    port = H.free_tcp_port()
    emulate = ("--workload", "kws01", "--models-dir", str(models_dir), "--tcp", str(port))
    out = tmp_path / "out"
    with H.emulator_process(*emulate, tmp_path=tmp_path) as info:
        run = subprocess.Popen([sys.executable, "-m", "tinyperf.cli", "run", "--runner", "serial", "--port",
                                info["port"], "--workload", "kws01", "--mode", "accuracy", "--data-dir",
                                str(data_dir), "--out", str(out)], cwd=H.REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**__import__("os").environ, "COLUMNS": "200"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # let some samples finish, then pull the plug
            journals = list(out.glob("*/journal.jsonl"))
            if journals and journals[0].read_text().count('"sample"') >= 100:
                break
            time.sleep(0.1)
        info["process"].kill()
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode != 0
    assert "vanished" in stderr and "--resume" in stdout + stderr
    run_dir = only_run_dir(out)
    kept = run_dir.joinpath("journal.jsonl").read_text().count('"sample"')
    assert 100 <= kept < 1000
    with H.emulator_process(*emulate, tmp_path=tmp_path):
        r = tinyperf("run", "--resume", run_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert_same_top1(run_dir, host_top1)


def test_without_workload_the_board_says_what_it_runs(emulator_on_pty, data_dir, tmp_path) -> None:
    r = tinyperf("run", "--runner", "serial", "--port", emulator_on_pty, "--mode", "performance",
                 "--data-dir", data_dir, "--out", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "the device runs kws01" in r.stdout
    summary = pd.read_parquet(only_run_dir(tmp_path) / "summary.parquet")
    assert list(summary["workload"]) == ["kws01"]


def test_a_missing_port_fails_before_a_run_directory_is_made(tmp_path) -> None:
    r = tinyperf("run", "--runner", "serial", "--port", "/dev/tinyperf-no-such-port", "-w", "kws01",
                 "-m", "performance", "--out", tmp_path / "out")
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "Traceback" not in out
    assert "/dev/tinyperf-no-such-port: no such serial port" in out and "tinyperf devices" in out
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_an_unreachable_network_port_fails_before_a_run_directory_is_made(tmp_path) -> None:
    r = tinyperf("run", "--runner", "serial", "--port", "socket://127.0.0.1:1", "-w", "kws01",
                 "-m", "performance", "--out", tmp_path / "out")
    out = " ".join((r.stdout + r.stderr).split())
    assert r.returncode != 0 and "Traceback" not in out
    assert "socket://127.0.0.1:1: cannot connect" in out
    assert "run incomplete" not in out and "--resume" not in out  # the board is asked who it is first
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_faulty_link_gives_exact_figures_and_a_warning_counting_the_recovery(models_dir, data_dir, host_top1,
                                                                               tmp_path) -> None:
    subset = tmp_path / "data" / "kws01"  # 40 files: enough faults to recover from, quick to run
    subset.mkdir(parents=True)
    rows = (data_dir / "kws01" / "y_labels.csv").read_text().splitlines()[:40]
    (subset / "y_labels.csv").write_text("\n".join(rows) + "\n")
    for row in rows:
        name = row.split(",")[0]
        (subset / name).write_bytes((data_dir / "kws01" / name).read_bytes())
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--tcp", "0", "--faults",
                            "drop=0.002,garble=0.002,reset@40,error@7,seed=1", tmp_path=tmp_path) as info:
        r = tinyperf("run", "--runner", "serial", "--port", info["port"], "-w", "kws01", "-m", "accuracy",
                     "--data-dir", tmp_path / "data", "--out", tmp_path / "out")
    out = " ".join(r.stdout.split())
    assert r.returncode == 0, r.stdout + r.stderr
    samples = load_run(only_run_dir(tmp_path / "out")).samples
    assert len(samples) == 40 and all(host_top1[f] == p for f, p in zip(samples["file"], samples["predicted"]))
    m = re.search(r"warning: kws01 accuracy: the device link needed recovery \(([\d,]+) link errors?, "
                  r"([\d,]+) retr(?:y|ies), ([\d,]+) resets?; see the device transcript", out)
    assert m, out
    errors, retries, resets = (int(g.replace(",", "")) for g in m.groups())
    extras = samples["extra"]
    assert errors == sum(int(e["link_errors"]) for e in extras) > 0
    assert retries == sum(int(e["retries"]) for e in extras) > 0 and resets == 1
