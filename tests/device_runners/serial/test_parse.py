"""Every result format real firmware prints parses; anything corrupted is refused, never coerced."""

from __future__ import annotations

import numpy as np
import pytest

from tinyperf.device_runners.serial import parse as P


@pytest.mark.parametrize("line, expected", [
    # keyword spotting, truncated 3 decimals (the reference avoids %f)
    ("m-results-[0.000,0.000,0.000,0.000,0.000,0.007,0.000,0.000,0.000,0.000,0.000,0.992]",
     [0.0] * 5 + [0.007] + [0.0] * 5 + [0.992]),
    # visual wake words: two values and the trailing comma bug
    ("m-results-[0.074,0.925,]", [0.074, 0.925]),
    # image classification, %0.3f and 6 decimals
    ("m-results-[0.000,0.996,0.000,0.000,0.000,0.000,0.000,0.000,0.000,0.003]", [0, .996, 0, 0, 0, 0, 0, 0, 0, .003]),
    ("m-results-[0.000000,0.996094,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.000000,0.003906]",
     [0, .996094, 0, 0, 0, 0, 0, 0, 0, .003906]),
    # anomaly detection: the window's mean squared error
    ("m-results-[94.518875]", [94.518875]),
    ("m-results-[ 1.5e-3 , 2 ]", [0.0015, 2.0]),
])
def test_every_real_format_parses(line: str, expected: list[float]) -> None:
    parsed = P.parse_results(line, len(expected))
    np.testing.assert_allclose(parsed.values, expected)


@pytest.mark.parametrize("line", [
    "m-results-[0.000,0.9x6]",  # a corrupted digit
    "m-results-[0.000;0.996]",  # a corrupted comma
    "m-results-[0.000,0.996",  # lost bracket
    "m-resulds-[0.000,0.996]",
    "m-results-[]",
    "m-results-[,,]",
])
def test_corrupted_results_are_refused(line: str) -> None:
    with pytest.raises(P.GarbledLine):
        P.parse_results(line, 2)


def test_value_count_must_match_the_workload() -> None:
    # a dropped comma merges two values into one that still looks like a number
    with pytest.raises(P.GarbledLine, match="11 result values, expected 12"):
        P.parse_results("m-results-[" + ",".join(["0.000"] * 11) + "]", 12)
    assert P.parse_results("m-results-[94.5]", 1).values.tolist() == [94.5]


def test_mixed_decimals_are_flagged_for_confirmation() -> None:
    assert P.parse_results("m-results-[0.000,0.996]", 2).uniform_decimals
    assert not P.parse_results("m-results-[0.00,0.996]", 2).uniform_decimals  # a digit was lost


def test_laps_and_the_32_bit_wrap() -> None:
    assert P.parse_lap("m-lap-us-67410227") == 67410227
    with pytest.raises(P.GarbledLine):
        P.parse_lap("m-lap-us-674l0227")
    assert P.lap_elapsed_us(67410227, 67565820) == (155593, 0)
    start = 2**32 - 4_000_000
    assert P.lap_elapsed_us(start, 6_000_000) == (10_000_000, 1)
    # a window longer than one counter period is resolved by the host's own clock
    assert P.lap_elapsed_us(100, 200, host_elapsed_us=2**32 + 150) == (2**32 + 100, 1)


def test_line_classes() -> None:
    assert P.is_boot_line("m-timestamp-mode-performance") and P.is_boot_line("m-init-done")
    assert not P.is_boot_line("m-ready")
    for garbled in ("m-rady", "m-re\x01dy", "m-lap-us-12x4", "x-lap-us-1234", "m_results-[0.1]", "e-[Unknown comm"):
        assert P.looks_garbled(garbled), garbled
    for fine in ("m-ready", "Initialized", "m-lap-us-5", "e-[Invalid hex digit 'zz']", "Some vendor text",
                 "loading weights", "ready to infer"):
        assert not P.looks_garbled(fine), fine


def test_split_lines_accepts_crlf_lone_lf_and_lone_cr() -> None:
    buf = bytearray(b"m-a\r\nSupplied buffer size 9 exceeds maximum of 2\nm-ready\r\n\r\nm-b\rm-par")
    assert P.split_lines(buf) == ["m-a", "Supplied buffer size 9 exceeds maximum of 2", "m-ready", "m-b"]
    assert bytes(buf) == b"m-par"


def test_db_print_lines_read_back() -> None:
    assert P.parse_buffer_lines(["m-buffer-00-01-02-03-04-05-06-07", "m-buffer-ff-FE"]) == bytes(
        [0, 1, 2, 3, 4, 5, 6, 7, 255, 254])
    with pytest.raises(P.GarbledLine):
        P.parse_buffer_lines(["m-buffer-00-0g"])
