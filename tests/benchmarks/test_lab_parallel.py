"""Benchmark: a lab run's wall time against its boards alone (reported, not asserted).

Four emulated boards throttled to 115200 baud (tests/harness/lab/helpers.py: two on ptys, one
through ser2net, one a labgrid place), kws01 + ad01: kws boards run performance and a 40-file
accuracy set, ad boards performance. Run in parallel, the lab should take about as long as its
slowest board alone, not the sum of all four.
"""

from __future__ import annotations

import pytest

from tests.harness.lab import helpers as L


@pytest.mark.slow
def test_lab_wall_time_against_boards_alone(models_dir, data_dir, tmp_path) -> None:
    with L.loopback_lab(tmp_path / "lab", models_dir, data_dir) as lab:
        proc = L.tinyperf(*L.suite_args(lab, tmp_path / "parallel"))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        meta = L.lab_json(L.lab_dir(tmp_path / "parallel"))
        parallel = meta["attempts"][-1]["wall_s"]
        alone = {}
        for name in lab.ports:
            out = tmp_path / f"alone-{name}"
            assert L.tinyperf(*L.suite_args(lab, out, "--boards", name)).returncode == 0
            alone[name] = L.lab_json(L.lab_dir(out))["attempts"][-1]["wall_s"]
    slowest = max(alone.values())
    print(f"\nlab of {len(alone)} boards in parallel: {parallel:.1f} s wall; each board alone "
          + ", ".join(f"{n} {s:.1f} s" for n, s in alone.items())
          + f"; slowest alone {slowest:.1f} s, sum {sum(alone.values()):.1f} s, parallel/slowest {parallel / slowest:.2f}")
