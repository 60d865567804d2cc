"""Benchmark: what the default link checks cost, kws01 accuracy over a 115200-baud link.

The same 1000-file run twice against one emulator throttled to 115200 baud: the default
(`--verify auto`: every upload read back with `db print`, results read twice, timestamps
checked) and `--verify never` (trust the link). Reports the wall times and bytes; asserts
only that both runs give the same figures (speed belongs in the report, not in a gate).
"""

from __future__ import annotations

import time

import pandas as pd
import pytest

from tests.benchmarks.test_serial_upload import BAUD, transcript_bytes
from tests.device_runners.serial import helpers as H
from tests.harness.cli_helpers import only_run_dir, tinyperf
from tinyperf.outputs.results_txt import parse_results_txt


@pytest.mark.slow
def test_kws01_accuracy_default_checks_versus_verify_never(models_dir, data_dir, tmp_path) -> None:
    figures = {}
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--pty",
                            "--baud-limit", str(BAUD), "--us-per-inference", "1000", tmp_path=tmp_path) as info:
        for verify in ("never", "auto"):
            out = tmp_path / verify
            t0 = time.perf_counter()
            r = tinyperf("run", "--runner", "serial", "--port", info["port"], "--workload", "kws01",
                         "--mode", "accuracy", "--data-dir", data_dir, "--out", out, "--verify", verify,
                         timeout=1800)
            seconds = time.perf_counter() - t0
            assert r.returncode == 0, r.stdout + r.stderr
            run_dir = only_run_dir(out)
            tx, rx = transcript_bytes(run_dir / "serial-transcript.log")
            samples = pd.read_parquet(run_dir / "samples.parquet")
            figures[verify] = (seconds, tx, rx, parse_results_txt((run_dir / "kws01" / "results.txt").read_text()),
                               list(samples.sort_values("file")["predicted"]))
    for verify, (seconds, tx, rx, result, _) in figures.items():
        print(f"\nkws01 accuracy, 1000 files, 115200 baud, --verify {verify}: {seconds:.1f} s, "
              f"{tx:,} B sent, {rx:,} B received; {result}")
    print(f"default checks cost: x{figures['auto'][0] / figures['never'][0]:.2f} wall time")
    # the same figures; the lines' time prefix (when each run ended) differs by design
    assert parse_results_txt(figures["auto"][3]) == parse_results_txt(figures["never"][3])
    assert figures["auto"][4] == figures["never"][4]
