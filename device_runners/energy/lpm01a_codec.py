"""The LPM01A's ASCII stream, both ways: one codec for the driver (reading) and the emulator (writing).

With `output energy`, `format ascii_dec` and `freq 1k` the monitor prints each 1 ms sample as a
four-digit mantissa and a signed two-digit exponent (`1234-09` = 1234e-9 J), several to a line;
`event NN ris` where the DUT pulsed its timestamp pin (numbered from 00, two digits, as the
firmware prints them); `TimeStamp: 001s 000ms, buff 00%` every 1000 samples.
"""

from __future__ import annotations

import math
import re

PROMPT = "PowerShield > "

_VALUE = re.compile(r"(\d{4})([+-])(\d{2})")
_DATA_LINE = re.compile(r"[0-9+\-\s]*\d[0-9+\-\s]*")
_EVENT = re.compile(r"event\s+(\d+)\s+(ris|fal)\b", re.IGNORECASE)
_STATUS = re.compile(r"TimeStamp:\s*(\d+)\s*s\s*(\d+)\s*ms\s*,\s*buff\s*(\d+)\s*%", re.IGNORECASE)
_VERSION = re.compile(r"\b(\d+)\.(\d+)\.(\d+)\b")


def format_value(joules: float) -> str:
    """Energy as the LPM01A prints it: four-digit mantissa, signed two-digit exponent."""
    if not math.isfinite(joules) or joules <= 0:
        return "0000+00"
    exp = math.floor(math.log10(joules)) - 3
    mant = round(joules / 10.0 ** exp)
    if mant >= 10000:
        mant, exp = round(mant / 10), exp + 1
    return f"{mant:04d}{'+' if exp >= 0 else '-'}{abs(exp):02d}"


def format_event(number: int) -> str:
    """The event line of the `number`-th timestamp pulse of an acquisition (0 first): `event 00 ris`."""
    return f"event {number:02d} ris"


def format_status(sample: int, buff_percent: int) -> str:
    """The status line printed after `sample` samples (a multiple of 1000)."""
    return f"TimeStamp: {sample // 1000:03d}s {sample % 1000:03d}ms, buff {buff_percent:02d}%"


def parse_values(line: str) -> list[float]:
    """Sample values of one data line; each fragment left by bytes lost on the line is one NaN slot,
    so a lost value is counted as missing without shifting the samples after it."""
    out: list[float] = []
    pos = 0
    for m in _VALUE.finditer(line):
        out.extend([math.nan] * len(line[pos:m.start()].split()))
        out.append(float(f"{m[1]}e{m[2]}{m[3]}"))
        pos = m.end()
    out.extend([math.nan] * len(line[pos:].split()))
    return out


def is_data_line(line: str) -> bool:
    return bool(_DATA_LINE.fullmatch(line))


def parse_event(line: str) -> str | None:
    """The instrument's number of an `event <n> ris` line, or None if the line is not an event."""
    m = _EVENT.fullmatch(line.strip())
    return m[1] if m else None


def parse_status(line: str) -> tuple[float, int] | None:
    """(acquisition time in s, buffer fill in %) of a `TimeStamp: 001s 000ms, buff 00%` line."""
    m = _STATUS.search(line)
    if not m:
        return None
    return int(m[1]) + int(m[2]) / 1000.0, int(m[3])


def parse_version(text: str) -> tuple[int, int, int] | None:
    m = _VERSION.search(text)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def strip_prompt(line: str) -> tuple[str, int]:
    """Line without the prompts that prefix it, and how many there were."""
    n = 0
    while line.startswith(PROMPT) or line.startswith(PROMPT.rstrip()):
        line = line[len(PROMPT):] if line.startswith(PROMPT) else line[len(PROMPT.rstrip()):]
        n += 1
    return line, n
