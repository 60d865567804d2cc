"""Benchmark: the serial runner against the wire limit, the emulator throttled to 115200 baud.

The wire-time bound is every byte both ways (commands and replies, as the transcript records
them) at 10 bits per byte. Targets: a vww01 sample (27,648 B) uploads in at most 1.10x its wire
time; a full kws01 accuracy run (1000 files, `tinyperf run`) takes at most 1.15x its wire time.
The emulator runs in its own process so the two sides do not share one interpreter lock.
The targets are reported (a warning when missed), not asserted: see conftest.py.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from tinyperf.device_runners.serial.bench import measure_upload
from tests.benchmarks.conftest import check_target
from tests.device_runners.serial import helpers as H
from tests.harness.cli_helpers import only_run_dir, tinyperf
from tinyperf.outputs.results_txt import parse_results_txt

BAUD = 115200


def transcript_bytes(path: Path) -> tuple[int, int]:
    """Bytes host->device and device->host, as the transcript recorded them."""
    tx = rx = 0
    for line in path.read_text().splitlines():
        direction, data = line[13:15], line[15:]
        if direction in ("> ", "< "):
            n = len(data.encode("ascii").decode("unicode_escape").encode("latin-1"))
            if direction == "> ":
                tx += n
            else:
                rx += n
    return tx, rx


def test_vww01_upload_within_10_percent_of_wire_time(benchmark, models_dir, data_dir, tmp_path) -> None:
    sample = H.items(data_dir, "vww01", 1)[0].data
    assert len(sample) == 27648
    with H.emulator_process("--workload", "vww01", "--models-dir", str(models_dir), "--pty",
                            "--baud-limit", str(BAUD), tmp_path=tmp_path) as info:
        s = H.session(info["port"], "vww01")
        try:
            figures = []
            benchmark.pedantic(lambda: figures.append(measure_upload(s, sample, BAUD)), rounds=3, iterations=1)
        finally:
            s.close()
    ratios = [f.ratio for f in figures]
    f = figures[0]
    benchmark.extra_info.update(wire_s=f.wire_s, tx_bytes=f.tx_bytes, rx_bytes=f.rx_bytes, ratios=ratios,
                                payload_bytes_per_s=len(sample) / statistics.median(x.seconds for x in figures))
    print(f"\n{f.line('vww01 upload')}; ratios of 3 rounds {', '.join(f'{r:.3f}' for r in ratios)}; "
          f"payload {len(sample) / statistics.median(x.seconds for x in figures):.0f} B/s")
    check_target(benchmark, "vww01_upload_ratio", statistics.median(ratios), 1.10)


@pytest.mark.slow
def test_kws01_accuracy_run_within_15_percent_of_wire_time(benchmark, models_dir, data_dir, tmp_path) -> None:
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--pty",
                            "--baud-limit", str(BAUD), "--us-per-inference", "1000", tmp_path=tmp_path) as info:
        def run() -> float:
            t0 = time.perf_counter()
            r = tinyperf("run", "--runner", "serial", "--port", info["port"], "--workload", "kws01",
                         "--mode", "accuracy", "--data-dir", data_dir, "--out", tmp_path / "out")
            assert r.returncode == 0, r.stdout + r.stderr
            return time.perf_counter() - t0

        seconds = benchmark.pedantic(run, rounds=1, iterations=1)
    run_dir = only_run_dir(tmp_path / "out")
    tx, rx = transcript_bytes(run_dir / "serial-transcript.log")
    wire = (tx + rx) * 10 / BAUD
    ratio = seconds / wire
    benchmark.extra_info.update(seconds=seconds, wire_s=wire, tx_bytes=tx, rx_bytes=rx, ratio=ratio)
    print(f"\nkws01 accuracy run (1000 files, whole `tinyperf run`): {seconds:.1f} s for {tx} + {rx} bytes; "
          f"wire time {wire:.1f} s; ratio {ratio:.3f}")
    assert "top1_pct" in parse_results_txt((run_dir / "kws01" / "results.txt").read_text())
    check_target(benchmark, "kws01_accuracy_run_ratio", ratio, 1.15)
