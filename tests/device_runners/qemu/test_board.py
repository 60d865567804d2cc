"""The virtual board end to end: firmware built from the pinned archives, booted under QEMU,
benchmarked by `tinyperf run --runner serial` as a real board would be.

- the build is cached by content (a second build is a cache hit), and says its flash and RAM;
- kws01 accuracy on a subset gives the host reference kernels' top-1 on every file, performance
  gives 5 windows with the same per-inference time in each (emulated time is deterministic), and
  every row says the timing is emulated and how the firmware was built;
- with single-rounding FC, ad01's window errors equal the host reference kernels';
- a model too large for the machine is refused with its sizes; a firmware that faults is a
  stopped device, with the finished samples kept; QEMU is stopped with the command.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tinyperf.fetch.firmware import ARCHIVES
from tests.device_runners.serial import helpers as H
from tests.harness.cli_helpers import only_run_dir, tinyperf

REPO = Path(__file__).resolve().parents[3]
COMMITS = {a.key: a.version for a in ARCHIVES}


@contextlib.contextmanager
def board_process(*args: str, tmp_path: Path, timeout: float = 900.0) -> Iterator[dict]:
    """`tinyperf emulate board ARGS --tcp 0` in its own process; yields its ready file's JSON."""
    ready = tmp_path / f"ready-{time.monotonic_ns()}.json"
    log_path = tmp_path / f"board-{time.monotonic_ns()}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tinyperf.cli", "emulate", "board", *args, "--tcp", "0",
                                 "--ready-file", str(ready)], cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not ready.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"board did not start: {log_path.read_text()}")
                time.sleep(0.1)
            time.sleep(0.05)
            info = json.loads(ready.read_text())
            info["process"] = proc
            yield info
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def qemu_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def subset(data_dir: Path, workload: str, count: int, tmp_path: Path) -> Path:
    """The first `count` files of a sample set (links), with their labels."""
    src = data_dir / workload
    dest = tmp_path / "data" / workload
    dest.mkdir(parents=True)
    lines = (src / "y_labels.csv").read_text().splitlines()[:count]
    for line in lines:
        (dest / line.split(",")[0]).symlink_to(src / line.split(",")[0])
    (dest / "y_labels.csv").write_text("\n".join(lines) + "\n")
    return dest.parent


def test_a_second_build_is_a_cache_hit_and_says_its_memory(build, kws01_image, models_dir) -> None:
    again = build("kws01", models_dir / "kws_ref_model.tflite")
    assert again.cached and again.elf == kws01_image.elf
    rec = again.record
    assert rec["model_flash_bytes"] == (models_dir / "kws_ref_model.tflite").stat().st_size
    assert rec["model_flash_bytes"] < rec["flash_bytes"] <= rec["machine_flash_bytes"]
    assert 0 < rec["static_ram_bytes"] and rec["stack_bytes"] > 0
    assert rec["tflm"] == COMMITS["tflite-micro"] and rec["cmsis-nn"] == COMMITS["cmsis-nn"]
    assert rec["ops"] == ["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]


def test_fetch_refuses_an_archive_whose_digest_differs(mirror, tmp_path) -> None:
    bad = tmp_path / "mirror"
    bad.mkdir()
    name = ARCHIVES[0].name
    (bad / name).write_bytes((mirror / name).read_bytes()[:100_000])
    r = tinyperf("fetch", "firmware-sources", "--mirror", bad, env={"TINYPERF_CACHE": str(tmp_path / "cache")})
    assert r.returncode != 0
    assert name in r.stderr + r.stdout and "Traceback" not in r.stderr
    assert not (tmp_path / "cache" / "firmware-sources" / ARCHIVES[0].key).exists()


def test_kws01_end_to_end_over_the_serial_runner(kws01_image, models_dir, data_dir, tmp_path) -> None:
    data = subset(data_dir, "kws01", 25, tmp_path)
    items = H.items(data, "kws01")
    host_top1 = {i.file: int(np.argmax(v)) for i, v in zip(items, H.host_reference(models_dir, "kws01", items))}
    with board_process("-w", "kws01", "--models-dir", str(models_dir), tmp_path=tmp_path) as info:
        assert info["build"]["key"] == kws01_image.record["key"]  # the session's build, from the cache
        out = tmp_path / "acc"
        r = tinyperf("run", "--runner", "serial", "--port", info["port"], "-w", "kws01", "--mode", "accuracy",
                     "--data-dir", data, "--out", out)
        assert r.returncode == 0, r.stdout + r.stderr
        samples = pd.read_parquet(only_run_dir(out) / "samples.parquet")
        assert {f: int(p) for f, p in zip(samples["file"], samples["predicted"])} == host_top1
        runs = []
        for again in ("perf1", "perf2"):
            r = tinyperf("run", "--runner", "serial", "--port", info["port"], "-w", "kws01", "--mode", "performance",
                         "--data-dir", data, "--min-window", "0.2", "--out", tmp_path / again)
            assert r.returncode == 0, r.stdout + r.stderr
            runs.append(only_run_dir(tmp_path / again))
    assert qemu_gone(info["qemu_pid"])
    first, second = (pd.read_parquet(run / "windows.parquet") for run in runs)
    assert len(first) == len(second) == 5
    # emulated time is deterministic: each window (its own sample file) takes the same microseconds in both runs
    assert list(first["n"]) == list(second["n"])
    assert np.abs(first["elapsed_s"].to_numpy() - second["elapsed_s"].to_numpy()).max() <= 1e-6
    run = runs[1]
    row = pd.read_parquet(run / "summary.parquet").iloc[0]
    assert row["timing"].startswith("emulated: qemu-system-arm -icount shift=0")
    assert row["firmware_tflm"] == COMMITS["tflite-micro"] and row["firmware_cmsis_nn"] == COMMITS["cmsis-nn"]
    assert row["firmware_machine"] == "qemu mps2-an386" and "cortex-m4" in row["firmware_cflags"]
    assert row["flash_bytes"] == kws01_image.record["flash_bytes"]
    assert 0 < row["arena_bytes"] < row["ram_bytes"]
    assert row["ram_bytes"] == (kws01_image.record["static_ram_bytes"] + kws01_image.record["heap_bytes"]
                                + kws01_image.record["stack_bytes"] + row["arena_bytes"])


def test_single_rounding_fc_equals_the_host_reference_kernels(build, models_dir, data_dir) -> None:
    """TFLM as shipped rounds the FC rescale twice and differs from LiteRT by 1-4 LSB on ad01;
    rounded once, every window's reconstruction error equals the host's (to the printed 6 decimals)."""
    from tinyperf.device_runners.qemu.build import machines
    from tinyperf.device_runners.qemu.machine import QemuBoard

    image = build("ad01", models_dir / "ad01_int8.tflite", single_rounding=True)
    assert image.record["fc-rounding"].startswith("single")
    windows = H.items(data_dir, "ad01", count=8)
    host = [float(v[0]) for v in H.host_reference(models_dir, "ad01", windows)]
    with QemuBoard(image.elf, machines()["mps2-an386"], tcp_port=0) as board:
        s = H.session(board.url, "ad01")
        try:
            got = []
            for item in windows:
                s.load(item.data)
                got.append(float(s.infer(1, 0).results[0]))
        finally:
            s.close()
    assert np.allclose(got, host, rtol=1e-7, atol=5.1e-7), list(zip(got, host))


def test_a_model_too_large_for_the_machine_is_refused_with_its_sizes(build, tmp_path) -> None:
    from tinyperf.core.errors import TinyperfError

    big = tmp_path / "big_ad01.tflite"
    script = (
        "import numpy as np, tensorflow as tf\n"
        "m = tf.keras.Sequential([tf.keras.Input((640,)), tf.keras.layers.Dense(7000), tf.keras.layers.Dense(640)])\n"
        "c = tf.lite.TFLiteConverter.from_keras_model(m)\n"
        "c.optimizations = [tf.lite.Optimize.DEFAULT]\n"
        "c.representative_dataset = lambda: ([np.random.rand(1, 640).astype('float32')] for _ in range(4))\n"
        "c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]\n"
        "c.inference_input_type = tf.int8; c.inference_output_type = tf.int8\n"
        f"open({str(big)!r}, 'wb').write(c.convert())\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""})
    if r.returncode != 0:
        pytest.skip(f"cannot make a large model with TensorFlow here: {r.stderr[-300:]}")
    with pytest.raises(TinyperfError) as err:
        build("ad01", big)
    text = str(err.value)
    assert "does not fit mps2-an386" in text and "of 4,194,304 B" in text
    assert f"model {big.stat().st_size:,} B" in text


def test_a_faulting_firmware_is_a_stopped_device_with_finished_samples_kept(models_dir, data_dir, kws01_image,
                                                                           tmp_path) -> None:
    data = subset(data_dir, "kws01", 6, tmp_path)
    with board_process("-w", "kws01", "--models-dir", str(models_dir), "--fault-at-infer", "3",
                       tmp_path=tmp_path) as info:
        out = tmp_path / "fault"
        t0 = time.monotonic()
        r = tinyperf("run", "--runner", "serial", "--port", info["port"], "-w", "kws01", "--mode", "accuracy",
                     "--data-dir", data, "--out", out, "--timeout", "1", "--infer-timeout", "3", "--retries", "1",
                     timeout=300)
        print(f"\nfault detected after {time.monotonic() - t0:.1f} s")
    assert qemu_gone(info["qemu_pid"])
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    run = only_run_dir(out)
    assert "e-[board fault: HardFault at pc 0x" in (run / "serial-transcript.log").read_text(errors="replace")
    assert json.loads((run / "run.json").read_text())["status"] == "incomplete"
    samples = [json.loads(l) for l in (run / "journal.jsonl").read_text().splitlines()]
    assert sum(1 for s in samples if s.get("kind") == "sample") == 2
