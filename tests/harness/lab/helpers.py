"""A lab on one machine, loopback only: DUT emulators on ptys, ser2net on 127.0.0.1, and a labgrid
coordinator + exporter on 127.0.0.1. Every process is started here and stopped by its pid."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.device_runners.serial.helpers import REPO, _stop, emulator_process, free_tcp_port, ser2net

LG_TIMEOUT_S = 30.0
RUN_TIMEOUT_S = 300
KWS_FILES = 40


def need_labgrid() -> None:
    if importlib.util.find_spec("labgrid") is None:
        pytest.skip("labgrid is not installed (`pip install -e '.[lab]'`)")


def need_ser2net() -> None:
    if shutil.which("ser2net") is None:
        pytest.skip("ser2net is not installed (Debian: apt-get install ser2net)")


def small_data(data_dir: Path, out: Path, counts: dict[str, int]) -> Path:
    """The first N files of each workload's set (y_labels.csv order), as a set of its own."""
    for wl, n in counts.items():
        (out / wl).mkdir(parents=True)
        lines = (data_dir / wl / "y_labels.csv").read_text().splitlines()[:n]
        (out / wl / "y_labels.csv").write_text("\n".join(lines) + "\n")
        for line in lines:
            name = line.split(",")[0]
            shutil.copyfile(data_dir / wl / name, out / wl / name)
    return out


def _wait_port(port: int, proc: subprocess.Popen, log: Path, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start: {log.read_text()}")
            time.sleep(0.1)


def _lg_client(address: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labgrid.remote.client", "-x", address, *args],
                          capture_output=True, text=True, timeout=LG_TIMEOUT_S, env={**os.environ, **(env or {})})


def lg(address: str, *args: str, env: dict[str, str] | None = None) -> str:
    proc = _lg_client(address, *args, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"labgrid-client {' '.join(args)}: {proc.stderr or proc.stdout}")
    return proc.stdout


@contextlib.contextmanager
def coordinator(tmp: Path) -> Iterator[tuple[str, int]]:
    """`labgrid-coordinator -l 127.0.0.1:PORT`; yields (address, pid)."""
    port = free_tcp_port()
    log_path = tmp / f"coordinator-{port}.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "labgrid.remote.coordinator", "-l", f"127.0.0.1:{port}"],
                            cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_port(port, proc, log_path, "labgrid-coordinator")
        yield f"127.0.0.1:{port}", proc.pid
    finally:
        _stop(proc, log, wait_s=10)


EXPORTER_CONFIG = """{group}:
  NetworkSerialPort:
    host: 127.0.0.1
    port: {port}
    speed: {baud}
    protocol: rfc2217
"""


@contextlib.contextmanager
def exporter(address: str, name: str, groups: dict[str, int], tmp: Path, baud: int = 115200) -> Iterator[int]:
    """`labgrid-exporter` exporting one NetworkSerialPort per group: our own ser2net on 127.0.0.1
    (the exporter itself starts no listener). Yields its pid once every group is on the coordinator."""
    config = tmp / f"exporter-{name}.yaml"
    config.write_text("".join(EXPORTER_CONFIG.format(group=g, port=p, baud=baud) for g, p in groups.items()))
    log_path = tmp / f"exporter-{name}.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "labgrid.remote.exporter", "-c", address, "-n", name,
                             "--hostname", "127.0.0.1", str(config)], cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + LG_TIMEOUT_S
        while True:
            out = _lg_client(address, "resources").stdout
            if all(f"{name}/{g}/NetworkSerialPort" in out for g in groups):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"labgrid-exporter did not register: {log_path.read_text()}")
            time.sleep(0.3)
        yield proc.pid
    finally:
        _stop(proc, log, wait_s=10)


def create_place(address: str, place: str, match: str) -> None:
    lg(address, "-p", place, "create")
    lg(address, "-p", place, "add-match", match)


ALICE = {"LG_USERNAME": "alice", "LG_HOSTNAME": "benchpc"}


def listeners(pid: int) -> list[str]:
    """Local addresses `pid` listens on (TCP, from /proc): the lab must bind 127.0.0.1 only."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A" and f[9] in inodes:  # LISTEN
                out.append(_addr(f[1]))
    return out


def _addr(hexaddr: str) -> str:
    host, port = hexaddr.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return f"{socket.inet_ntop(socket.AF_INET, raw[::-1])}:{int(port, 16)}"
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return f"[{socket.inet_ntop(socket.AF_INET6, words)}]:{int(port, 16)}"


def is_loopback(addr: str) -> bool:
    host = addr.rsplit(":", 1)[0].strip("[]")
    return host == "127.0.0.1" or host == "::1" or host == "::ffff:127.0.0.1"


@dataclass
class Lab:
    tmp: Path
    inventory: Path
    coordinator: str
    data: Path
    models: Path
    ports: dict[str, str]
    pids: list[int]


def inventory_text(coordinator: str, ports: dict[str, str]) -> str:
    lines = [f"coordinator: {coordinator}", "boards:"]
    fw = {"kws": "kws01", "ad-": "ad01"}
    for name, where in ports.items():
        key = "place" if not where.startswith(("/", "rfc2217://", "socket://")) else "port"
        lines += [f"  - name: {name}", f"    {key}: {where}", "    baud: 115200",
                  f"    labels: {{board: emulated {name}, processor: virtual M4, clock: 80 MHz, firmware: {fw[name[:3]]}}}"]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def loopback_lab(tmp: Path, models_dir: Path, data_dir: Path) -> Iterator[Lab]:
    """Four kws01/ad01 boards at 115200 baud: kws-a and ad-a on their ptys, kws-b exported by ser2net
    (rfc2217://), ad-b a labgrid place (coordinator + exporter of a NetworkSerialPort on its ser2net)."""
    need_labgrid()
    need_ser2net()
    tmp.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:  # every process stopped by its pid, even when a test fails
        emu = {name: stack.enter_context(emulator_process("-w", wl, "--models-dir", str(models_dir), "--pty",
                                                          "--baud-limit", "115200", tmp_path=tmp))
               for name, wl in (("kws-a", "kws01"), ("ad-a", "ad01"), ("kws-b", "kws01"), ("ad-b", "ad01"))}
        kws_b = stack.enter_context(ser2net(emu["kws-b"]["port"], tmp))
        ad_b = stack.enter_context(ser2net(emu["ad-b"]["port"], tmp))
        address, coord_pid = stack.enter_context(coordinator(tmp))
        exp_pid = stack.enter_context(exporter(address, "bench", {"ad-b-uart": int(ad_b.rsplit(":", 1)[1])}, tmp))
        create_place(address, "ad-b", "bench/ad-b-uart/*")
        ports = {"kws-a": emu["kws-a"]["port"], "ad-a": emu["ad-a"]["port"], "kws-b": kws_b, "ad-b": "ad-b"}
        inv = tmp / "lab.yaml"
        inv.write_text(inventory_text(address, ports))
        data = small_data(data_dir, tmp / "data", {"kws01": KWS_FILES})
        yield Lab(tmp, inv, address, data, models_dir, ports, [coord_pid, exp_pid])


def tinyperf(*args: str, timeout: float = RUN_TIMEOUT_S, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinyperf.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "250", **(env or {})})


def lab_dir(out: Path) -> Path:
    (found,) = [p for p in out.iterdir() if (p / "lab.json").is_file()]
    return found


def lab_json(directory: Path) -> dict:
    return json.loads((directory / "lab.json").read_text())


def journal(run_dir: Path, kind: str) -> list[dict]:
    return [r for r in map(json.loads, (run_dir / "journal.jsonl").read_text().splitlines()) if r["kind"] == kind]


def suite_args(lab: Lab, out: Path, *extra: str) -> list[str]:
    """kws01 + ad01 on the lab: kws boards run performance and accuracy (the small set), ad boards performance."""
    return ["run", "--lab", str(lab.inventory), "-w", "kws01", "-w", "ad01", "--min-window", "1",
            "--data-dir", str(lab.data), "--models-dir", str(lab.models), "--out", str(out), *extra]
