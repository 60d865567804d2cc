"""Shared by the serial-runner and emulator tests: real emulators on real ptys and sockets."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tinyperf.device_runners.base import RunnerConfig
from tinyperf.device_runners.emulators.dut import format_results
from tinyperf.device_runners.emulators.rig import EmulatorRig, start_rig
from tinyperf.device_runners.serial.parse import parse_results
from tinyperf.device_runners.serial.runner import SerialRunner, SerialSession
from tinyperf.workloads.catalog import get_workload
from tinyperf.workloads.dataset import Dataset, Item

REPO = Path(__file__).resolve().parents[3]


def model_path(models_dir: Path, workload: str) -> Path:
    return models_dir / get_workload(workload).reference_model


def rig(models_dir: Path, workload: str = "kws01", **kw) -> EmulatorRig:
    """An in-process emulator (its own thread) on a fresh pty, or TCP with tcp_port=0."""
    kw.setdefault("us_per_inference", 20_000)
    return start_rig(workload, model_path(models_dir, workload), **kw)


def session(url: str, workload: str = "kws01", mode: str = "accuracy", run_dir: Path | None = None,
            **options) -> SerialSession:
    cfg = RunnerConfig(workload=get_workload(workload), mode=mode, options={"port": url, **options}, run_dir=run_dir)
    return SerialRunner().open(cfg)


def items(data_dir: Path, workload: str = "kws01", count: int | None = None) -> list[Item]:
    out = []
    for i, item in enumerate(Dataset.open(get_workload(workload), data_dir / workload).items()):
        if count is not None and i >= count:
            break
        out.append(item)
    return out


def host_reference(models_dir: Path, workload: str, batch: list[Item]) -> list[np.ndarray]:
    """What the host runner with reference kernels reports for each item."""
    from tinyperf.device_runners.host import HostRunner
    from tinyperf.core.modelfile import ModelFile

    wl = get_workload(workload)
    s = HostRunner().open(RunnerConfig(workload=wl, mode="accuracy",
                                       model=ModelFile(model_path(models_dir, workload), "reference"),
                                       kernels="reference", threads=1))
    out = []
    for item in batch:
        s.load(item.data)
        out.append(s.infer(1, 0).results)
    s.close()
    return out


def as_printed(workload: str, values: np.ndarray) -> np.ndarray:
    """Host values as the reference firmware prints them (truncated / rounded decimals)."""
    return parse_results(f"m-results-[{format_results(workload, values)}]").values


@contextlib.contextmanager
def emulator_process(*args: str, tmp_path: Path, timeout: float = 60.0) -> Iterator[dict]:
    """`tinyperf emulate dut ARGS` in its own process (real parallelism); yields its ready file."""
    ready = tmp_path / f"ready-{time.monotonic_ns()}.json"
    log = open(tmp_path / f"emulator-{time.monotonic_ns()}.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "tinyperf.cli", "emulate", "dut", *args, "--ready-file", str(ready)],
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "COLUMNS": "200"})
    try:
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(f"emulator did not start: {(tmp_path / log.name).read_text()}")
            time.sleep(0.05)
        time.sleep(0.05)
        info = json.loads(ready.read_text())
        info["process"] = proc
        yield info
    finally:
        _stop(proc, log, wait_s=10)


def _stop(proc: subprocess.Popen, log, wait_s: float) -> None:
    """Terminate a helper process (kill it if it lingers) and close its log."""
    proc.terminate()
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def free_tcp_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SER2NET_CONFIG = """%YAML 1.1
---
connection: &dut
  accepter: telnet(rfc2217),tcp(nodelay),127.0.0.1,{port}
  connector: serialdev,{device},{baud}n81,local
  options:
    kickolduser: true
    chardelay: false
"""


@contextlib.contextmanager
def ser2net(device: str, tmp_path: Path, baud: int = 115200) -> Iterator[str]:
    """ser2net exporting `device` as RFC 2217 on the loopback; yields the rfc2217:// URL.

    `chardelay: false`: ser2net otherwise holds received bytes back to batch them (about a
    millisecond per reply), which a one-command-per-round-trip protocol pays on every chunk.
    """
    import shutil
    import socket

    exe = shutil.which("ser2net")
    if exe is None:
        import pytest

        pytest.skip("ser2net is not installed (Debian: apt-get install ser2net)")
    port = free_tcp_port()
    config = tmp_path / f"ser2net-{port}.yaml"
    config.write_text(SER2NET_CONFIG.format(port=port, device=device, baud=baud))
    log = open(tmp_path / f"ser2net-{port}.log", "w")
    proc = subprocess.Popen([exe, "-n", "-u", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"ser2net did not start: {(tmp_path / log.name).read_text()}")
                time.sleep(0.05)
        time.sleep(0.2)  # let it notice the probe connection went away
        yield f"rfc2217://127.0.0.1:{port}"
    finally:
        _stop(proc, log, wait_s=5)
