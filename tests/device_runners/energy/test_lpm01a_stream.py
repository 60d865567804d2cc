"""The LPM01A's ASCII stream, line by line: values, lost fragments, events, status lines."""

from __future__ import annotations

import math

import pytest

from tinyperf.device_runners.energy.lpm01a import (format_value, is_data_line, parse_event, parse_status, parse_values,
                                          parse_version, setup_commands, strip_prompt)


@pytest.mark.parametrize("text, joules", [("1234-09", 1234e-9), ("5000-09", 5e-6), ("0001+00", 1.0),
                                          ("9999+02", 999900.0), ("0000+00", 0.0)])
def test_values_decode(text, joules):
    assert parse_values(text) == [pytest.approx(joules, rel=1e-12)]


@pytest.mark.parametrize("joules", [5e-6, 1.2345e-7, 9.99951e-6, 1e-3, 61337e-6 / 12060, 3.3e-9])
def test_format_round_trips_within_the_four_digit_mantissa(joules):
    text = format_value(joules)
    assert len(text) == 7 and text[4] in "+-"
    assert parse_values(text)[0] == pytest.approx(joules, rel=5e-4)


def test_several_values_share_a_line():
    assert parse_values("5000-09 5001-09  4999-09") == pytest.approx([5e-6, 5.001e-6, 4.999e-6])
    assert parse_values("5000-095001-09") == pytest.approx([5e-6, 5.001e-6])  # no separator at all


@pytest.mark.parametrize("line, slots, lost", [
    ("00-09 5000-09 5000-09", 3, [0]),  # head of the first value lost
    ("5000-09 5000-09 5000", 3, [2]),  # tail of the last value lost
    ("9 5000-09 50", 3, [0, 2]),  # both edges
    ("5000-09 500-09 5000-09", 3, [1]),  # a byte lost inside the line
])
def test_partial_values_count_as_missing_without_shifting(line, slots, lost):
    values = parse_values(line)
    assert len(values) == slots
    assert [i for i, v in enumerate(values) if math.isnan(v)] == lost
    assert all(v == pytest.approx(5e-6) for i, v in enumerate(values) if i not in lost)


def test_data_lines_are_told_from_messages():
    assert is_data_line("5000-09 5000-09") and is_data_line("00-09")
    for line in ("ack stop", "event 1 ris", "TimeStamp: 001s 000ms, buff 00%", "1.0.6", "Acquisition completed"):
        assert not is_data_line(line)


def test_events_and_status_lines():
    assert parse_event("event 3 ris") == "3"
    assert parse_event("event 12 fal") == "12"
    assert parse_event("ack eventsrc d7 fal") is None
    assert parse_status("TimeStamp: 001s 000ms, buff 00%") == (1.0, 0)
    assert parse_status("TimeStamp: 012s 250ms, buff 37%") == (12.25, 37)
    assert parse_status("5000-09") is None


def test_prompt_and_version():
    assert strip_prompt("PowerShield > ack htc") == ("ack htc", 1)
    assert strip_prompt("PowerShield > PowerShield > x") == ("x", 2)
    assert parse_version("ack version 1.0.6") == (1, 0, 6)
    assert parse_version("ack version") is None


def test_setup_sequence_is_the_mlperf_tiny_runners():
    assert setup_commands(1800) == ["htc", 'lcd 1 "MLPerf Tiny"', 'lcd 2 "     monitor    "', "pwr off",
                                    "acqtime inf", "trigdelay 0", "trigsrc sw", "eventsrc d7 fal",
                                    "output energy", "format ascii_dec", "freq 1k", "volt 1800m"]


def test_one_codec_serves_the_driver_and_the_emulator():
    """The emulator writes the stream with the functions the driver reads it with (issue 7, part 5)."""
    from tinyperf.device_runners.emulators import lpm01a as emulator
    from tinyperf.device_runners.energy import lpm01a as driver
    from tinyperf.device_runners.energy import lpm01a_codec as codec

    assert driver.format_value is codec.format_value is emulator.format_value
    assert driver.parse_values is codec.parse_values and driver.parse_event is codec.parse_event
    assert emulator.format_event is codec.format_event and emulator.format_status is codec.format_status
    assert codec.format_event(0) == "event 00 ris" and codec.parse_event(codec.format_event(12)) == "12"
    assert codec.parse_status(codec.format_status(3000, 7)) == (3.0, 7)
    for joules in (5e-6, 1.2345e-9, 0.0123):
        assert codec.parse_values(codec.format_value(joules))[0] == pytest.approx(joules, rel=1e-3)
