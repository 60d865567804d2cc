"""Latency histogram: the tails get open-ended rows, not the end bins."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from tinyperf import load_run
from tinyperf.outputs.plots import TAIL_PERCENTILES, latency_histogram
from tests.harness.cli_helpers import rendered

ROW = re.compile(r"^\s*(<|≥)?\s*([\d,.]+)(?:–([\d,.]+))?\s.*?([\d,]+)\s*$")


def _latencies_us(run_dir: Path, workload: str) -> np.ndarray:
    w = load_run(run_dir).windows
    files = w[(w["workload"] == workload) & (w["mode"] == "performance")]["latencies_file"]
    return np.concatenate([np.load(run_dir / f) for f in files]).astype(np.float64) / 1000.0


def _rows(text: str) -> list[tuple[str | None, int]]:
    out = []
    for line in text.splitlines():
        m = ROW.match(line)
        if m:
            out.append((m.group(1), int(m.group(4).replace(",", ""))))
    return out


def test_tails_are_counted_in_open_ended_rows(host_run: Path) -> None:
    lat = _latencies_us(host_run, "kws01")
    lo, hi = np.percentile(lat, TAIL_PERCENTILES)
    text = rendered(latency_histogram(lat, "kws01 latency"), width=80)
    rows = _rows(text)
    assert sum(c for _, c in rows) == lat.size  # every inference counted once
    assert rows[-1] == ("≥", int((lat > hi).sum())) and rows[-1][1] > 0
    assert rows[0] == ("<", int((lat < lo).sum())) and rows[0][1] > 0
    closed = [c for mark, c in rows if mark is None]
    assert len(closed) == 16 and sum(closed) == int(((lat >= lo) & (lat <= hi)).sum())
    assert "beyond the 0.5th–99.5th percentiles" in " ".join(text.split())
    assert "◀ median" in text


def test_bin_labels_tell_narrow_bins_apart() -> None:
    lat = np.linspace(4.0, 5.2, 10_000)  # ad01-like: bins 0.075 us wide
    labels = [line.split()[0] for line in rendered(latency_histogram(lat, "narrow"), width=80).splitlines()
              if "–" in line.split()[0]]
    assert len(labels) == 16 and len(set(labels)) == 16
    assert all(a.split("–")[0] != a.split("–")[1] for a in labels)
