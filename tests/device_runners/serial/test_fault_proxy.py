"""Shape-keeping corruption between `tinyperf run --runner serial` and `tinyperf emulate dut --tcp`.

A real TCP proxy (tests/device_runners/serial/proxy.py) rewrites the bytes: digits flipped in
results lines, in every window's closing lap stamp (identically on every retry), in uploaded hex
(still valid hex), and a whole `infer` reply replayed from the previous sample. Under the default
settings each run either ends with exactly the figures of a clean link or stops with one clear
line; none ends silently wrong. A device that never stops sending ends within the timeout.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.device_runners.serial import helpers as H
from tests.device_runners.serial.proxy import FaultProxy, Faults
from tests.harness.cli_helpers import only_run_dir, tinyperf

FILES = 20
US_PER_INFERENCE = 20_000


@pytest.fixture(scope="module")
def subset(data_dir, tmp_path_factory) -> Path:
    """The first FILES kws01 files as a sample set of their own."""
    root = tmp_path_factory.mktemp("data")
    folder = root / "kws01"
    folder.mkdir()
    rows = (data_dir / "kws01" / "y_labels.csv").read_text().splitlines()[:FILES]
    (folder / "y_labels.csv").write_text("\n".join(rows) + "\n")
    for row in rows:
        name = row.split(",")[0]
        (folder / name).write_bytes((data_dir / "kws01" / name).read_bytes())
    return root


@pytest.fixture(scope="module")
def expected(models_dir, data_dir) -> dict[str, np.ndarray]:
    """What a fault-free DUT prints for each file (host reference kernels, printed as firmware does)."""
    items = H.items(data_dir, "kws01", FILES)
    return {i.file: H.as_printed("kws01", v) for i, v in zip(items, H.host_reference(models_dir, "kws01", items))}


@contextlib.contextmanager
def proxied(models_dir: Path, tmp_path: Path, faults: Faults, *emulator_args: str) -> Iterator[FaultProxy]:
    with H.emulator_process("--workload", "kws01", "--models-dir", str(models_dir), "--tcp", "0",
                            "--us-per-inference", str(US_PER_INFERENCE), *emulator_args, tmp_path=tmp_path) as info:
        proxy = FaultProxy(int(info["port"].rsplit(":", 1)[1]), faults)
        try:
            yield proxy
        finally:
            proxy.stop()


def run(proxy: FaultProxy, subset: Path, out: Path, *args: str, timeout: float = 300):
    return tinyperf("run", "--runner", "serial", "--port", proxy.url, "-w", "kws01", "--data-dir", subset,
                    "--out", out, *args, timeout=timeout)


def sample_results(run_dir: Path) -> dict[str, np.ndarray]:
    out = {}
    for line in (run_dir / "journal.jsonl").read_text().splitlines():
        rec = json.loads(line)
        if rec.get("kind") == "sample":
            out[rec["file"]] = np.asarray(rec["results"], dtype=np.float64)
    return out


def exact_or_clear_stop(r, out: Path, expected: dict[str, np.ndarray]) -> str:
    """The run's figures equal the clean link's, or it stopped with one clear line: which one."""
    text = r.stdout + r.stderr
    assert "Traceback" not in text, text
    if r.returncode != 0:
        assert "error:" in text.lower() or "failed" in text, text
        return "stopped"
    got = sample_results(only_run_dir(out))
    assert sorted(got) == sorted(expected)
    for name, values in got.items():
        np.testing.assert_array_equal(values, expected[name], err_msg=name)
    return "exact"


@pytest.mark.parametrize("faults, what", [
    (Faults(seed=11, realtime=True, results_flip=0.15), "results_flip"),
    (Faults(seed=12, realtime=True, hex_flip=0.03), "hex_flip"),
    (Faults(seed=13, realtime=True, replay_every=4), "replay"),
])
def test_shape_keeping_corruption_never_becomes_a_wrong_number(faults, what, models_dir, subset, expected,
                                                              tmp_path) -> None:
    with proxied(models_dir, tmp_path, faults) as proxy:
        r = run(proxy, subset, tmp_path / "out", "-m", "accuracy")
    assert faults.done.get(what, 0) > 0, f"the proxy never did {what}: {faults.done}"
    assert exact_or_clear_stop(r, tmp_path / "out", expected) == "exact", r.stdout + r.stderr


#: two ways to make the emulator keep time like a board: the proxy holds the closing stamp back,
#: or the emulator itself runs in real time (`--realtime`, it then answers `clock` as real)
PACING = {"proxy": (True, ()), "emulator": (False, ("--realtime",))}


@pytest.mark.parametrize("pacing", sorted(PACING))
@pytest.mark.parametrize("digit", [6, 7])  # 0.1 s and 1 s: far above what host timing can hide
def test_a_closing_stamp_flipped_identically_on_every_retry_stops_the_run(digit, pacing, models_dir, subset,
                                                                          tmp_path) -> None:
    shim, emulator_args = PACING[pacing]
    faults = Faults(seed=14, realtime=shim, closing_lap_digit=digit)
    with proxied(models_dir, tmp_path, faults, *emulator_args) as proxy:
        r = run(proxy, subset, tmp_path / "out", "-m", "performance", "--min-window", "0.5")
    text = " ".join((r.stdout + r.stderr).split())
    assert faults.done.get("closing_lap_flip", 0) > 0
    assert r.returncode != 0 and "Traceback" not in text
    assert "than the" in text and "the host saw between its two timestamps" in text, text


@pytest.mark.parametrize("pacing", sorted(PACING))
def test_performance_through_a_clean_realtime_link_is_exact(pacing, models_dir, subset, tmp_path) -> None:
    """The host-clock checks do not refuse an honest DUT that takes its time."""
    shim, emulator_args = PACING[pacing]
    faults = Faults(seed=15, realtime=shim)
    with proxied(models_dir, tmp_path, faults, *emulator_args) as proxy:
        r = run(proxy, subset, tmp_path / "out", "-m", "performance", "--min-window", "0.5")
    assert r.returncode == 0, r.stdout + r.stderr
    assert shim == (faults.done.get("clock_hidden", 0) > 0)
    describe = [json.loads(l) for l in (only_run_dir(tmp_path / "out") / "journal.jsonl").read_text().splitlines()
                if '"session"' in l]
    assert describe and all(d["describe"]["device_clock"] == "real" for d in describe)
    windows = pd.read_parquet(only_run_dir(tmp_path / "out") / "windows.parquet")
    windows = windows[windows["mode"] == "performance"]
    assert len(windows) == 5 and np.allclose(windows["throughput_ips"], 1e6 / US_PER_INFERENCE, rtol=1e-12, atol=0)


@pytest.mark.parametrize("flood, interval", [(b"", 0.001), (b"m-debug tick\r\n", 0.015)])
def test_a_device_that_never_stops_sending_ends_within_the_timeout(flood, interval, models_dir, subset,
                                                                   tmp_path) -> None:
    faults = Faults(seed=16, flood=flood, flood_interval_s=interval)
    with proxied(models_dir, tmp_path, faults) as proxy:
        r = run(proxy, subset, tmp_path / "out", "-m", "accuracy", "--timeout", "2", timeout=120)
        d = tinyperf("devices", "--port", proxy.url, timeout=120)
    text = " ".join((r.stdout + r.stderr).split())
    assert r.returncode != 0 and "Traceback" not in text, text
    assert "never stops sending" in text or "did not end" in text, text
    dtext = d.stdout + d.stderr
    assert "Traceback" not in dtext and proxy.url in dtext, dtext


@pytest.mark.parametrize("faults", [Faults(seed=11, realtime=True, results_flip=0.15),
                                    Faults(seed=12, realtime=True, hex_flip=0.03),
                                    Faults(seed=13, realtime=True, replay_every=4)], ids=["results", "hex", "replay"])
def test_the_same_faults_with_verify_never_do_give_wrong_numbers(faults, models_dir, subset, expected,
                                                                 tmp_path) -> None:
    """The proxy's corruption is real: trusting the link (`--verify never`) lets it through."""
    with proxied(models_dir, tmp_path, faults) as proxy:
        r = run(proxy, subset, tmp_path / "out", "-m", "accuracy", "--verify", "never")
    assert r.returncode == 0, r.stdout + r.stderr
    got = sample_results(only_run_dir(tmp_path / "out"))
    assert any(not np.array_equal(got[f], expected[f]) for f in got)
