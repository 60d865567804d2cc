"""Numbers out of range are refused at the command line, naming the option, before anything is written."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tinyperf.core.argtypes import non_negative_float, non_negative_int, positive_float, positive_int
from tests.harness.cli_helpers import run_cli as tinyperf


@pytest.mark.parametrize("parse, good, bad", [
    (positive_int, {"1": 1, "16": 16}, ["0", "-3", "1.5", "two", ""]),
    (non_negative_int, {"0": 0, "5": 5}, ["-1", "x"]),
    (positive_float, {"0.2": 0.2, "10": 10.0, "1e-3": 1e-3}, ["0", "-1", "nan", "inf", "ten"]),
    (non_negative_float, {"0": 0.0, "64": 64.0}, ["-0.5", "nan", "inf"]),
])
def test_ranges(parse, good: dict, bad: list[str]) -> None:
    for text, value in good.items():
        assert parse(text) == value
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError, match="pass a"):
            parse(text)


@pytest.mark.parametrize("args, option", [
    (["run", "--min-window", "-1"], "--min-window"),
    (["run", "--min-window", "0"], "--min-window"),
    (["run", "--threads", "0"], "--threads"),  # LiteRT would call the model corrupt
    (["run", "--runner", "serial", "--port", "socket://127.0.0.1:9", "--baud", "0"], "--baud"),
    (["run", "--runner", "serial", "--port", "socket://127.0.0.1:9", "--timeout", "0"], "--timeout"),
    (["run", "--runner", "serial", "--port", "socket://127.0.0.1:9", "--retries", "-1"], "--retries"),
    (["quantize", "kws01", "--threads", "0"], "--threads"),
    (["leaderboard", "--top", "0"], "--top"),
    (["bench", "overhead", "-n", "0"], "-n"),
    (["emulate", "dut", "-w", "kws01", "--us-per-inference", "0"], "--us-per-inference"),
    (["devices", "--timeout", "0"], "--timeout"),
])
def test_the_cli_refuses_out_of_range_numbers(args: list[str], option: str, tmp_path: Path) -> None:
    out = tmp_path / "results"
    r = tinyperf(*args, *(["--out", out] if args[0] in ("run", "quantize") else []))
    assert r.returncode == 2
    assert f"argument {option}" in r.stderr and "out of range: pass a" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and not out.exists()  # refused before a run directory is made
