"""Line shapes of the EEMBC DUT protocol, and parsers that refuse anything else.

A serial link without checksums can corrupt any byte, so every value the runner uses comes
from a line that matches its exact shape; a line that starts like a protocol line but does not
parse is reported as garbled, never coerced into a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

READY = "m-ready"
#: the microsecond counter of most MCUs is an unsigned 32-bit value
LAP_MODULUS = 1 << 32

RE_LAP = re.compile(r"m-lap-us-(\d{1,20})")
RE_RESULTS = re.compile(r"m-results-\[([^\[\]]*)\]")
RE_NAME = re.compile(r"m-name-dut-\[([^\[\]]*)\]")
RE_PROFILE = re.compile(r"m-profile-\[([^\[\]]*)\]")
RE_MODEL = re.compile(r"m-model-\[([^\[\]]*)\]")
RE_EXPECTING = re.compile(r"m-\[Expecting (\d+) bytes\]")
RE_ERROR = re.compile(r"e-\[(.*)\]")
RE_INFO = re.compile(r"m-info-([a-z0-9-]+)-\[([^\[\]]*)\]")  # tinyperf firmware: `tinyperf-info`
RE_WARMUP_START = re.compile(r"m-warmup-start-(\d+)")
RE_INFER_START = re.compile(r"m-infer-start-(\d+)")
RE_TIMESTAMP_MODE = re.compile(r"m-timestamp-mode-(performance|energy)")
RE_OVERFLOW = re.compile(r"Supplied buffer size (-?\d+) exceeds maximum of (\d+)")
RE_SHORT_INPUT = re.compile(r"Input db has (\d+) elemented, expected (\d+)")
RE_BUFFER = re.compile(r"m-buffer-([0-9a-fA-F]{2}(?:-[0-9a-fA-F]{2}){0,7})")
RE_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)", re.IGNORECASE)

#: lines whose exact text is a protocol event
WARMUP_DONE = "m-warmup-done"
INFER_DONE = "m-infer-done"
LOAD_DONE = "m-load-done"
INIT_DONE = "m-init-done"

_KNOWN_EXACT = {READY, WARMUP_DONE, INFER_DONE, LOAD_DONE, INIT_DONE}
_KNOWN_SHAPES = (RE_LAP, RE_RESULTS, RE_NAME, RE_PROFILE, RE_MODEL, RE_EXPECTING, RE_ERROR,
                 RE_WARMUP_START, RE_INFER_START, RE_TIMESTAMP_MODE, RE_BUFFER)


class GarbledLine(ValueError):
    """A line that should carry a protocol value but does not parse."""


def is_boot_line(line: str) -> bool:
    """True for the lines only a (re)booting DUT prints."""
    return bool(RE_TIMESTAMP_MODE.fullmatch(line)) or line == INIT_DONE


def is_protocol_line(line: str) -> bool:
    """A line in one of the known shapes (vendor debug text is not)."""
    return line in _KNOWN_EXACT or any(r.fullmatch(line) for r in _KNOWN_SHAPES)


def looks_garbled(line: str) -> bool:
    """A line that starts like protocol output but is in no known shape: corruption on the wire.

    Firmware may print free text (`Initialized`, vendor debug lines); those do not start with
    `m-`/`e-` and are not garbled. A near-miss of `m-ready` counts as garbled, because a lost
    terminator is the costliest corruption (the host would wait for it until its timeout).
    """
    if is_protocol_line(line):
        return False
    if line.startswith(("m-", "e-", "m_", "e_")) or resembles_ready(line):
        return True
    # a known line whose `m-` prefix lost a character ("x-lap-us-...", "m_results-[...")
    return bool(_MANGLED_PREFIX.match(line))


_MANGLED_PREFIX = re.compile(r"^(?:.-|m.)(?:lap-us|results|name-dut|profile|model|warmup|infer|load-done|ready|buffer)")


def resembles_ready(line: str) -> bool:
    """`m-ready` with one or two characters changed, dropped or added."""
    if line == READY:
        return True
    if not 5 <= len(line) <= 9:
        return False
    return _edit_distance(line, READY) <= 2


def near(line: str, expected: str) -> bool:
    """`line` is the fixed-text line `expected` with at most two characters corrupted.

    Only for lines whose meaning is the event itself (m-load-done, m-infer-done, ...): every
    number in `expected` must still appear in `line` exactly, as a whole number, so a corrupted
    digit never passes for another count.
    """
    if line == expected:
        return True
    if abs(len(line) - len(expected)) > 2 or _edit_distance(line, expected) > 2:
        return False
    return all(re.search(rf"(?<!\d){n}(?!\d)", line) for n in re.findall(r"\d+", expected))


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def parse_lap(line: str) -> int:
    m = RE_LAP.fullmatch(line)
    if not m:
        raise GarbledLine(f"not a timestamp line: {line!r}")
    return int(m.group(1))


@dataclass(frozen=True)
class ParsedResults:
    values: np.ndarray
    text: str  # the bracketed text as printed, for byte-exact confirmation
    uniform_decimals: bool  # every value printed with the same number of decimals


def parse_results(line: str, expected_count: int | None = None) -> ParsedResults:
    """`m-results-[...]` -> values. Split on commas, skip empty fields (VWW's trailing comma).

    Raises GarbledLine for anything that is not a float, and for a count other than
    `expected_count`: a dropped comma or digit must not become a different vector.
    """
    m = RE_RESULTS.fullmatch(line)
    if not m:
        raise GarbledLine(f"not a results line: {line!r}")
    fields = [f.strip() for f in m.group(1).split(",")]
    fields = [f for f in fields if f]
    values = []
    decimals = set()
    for f in fields:
        if not RE_FLOAT.fullmatch(f):
            raise GarbledLine(f"result field {f!r} is not a number in {line!r}")
        values.append(float(f))
        decimals.add(len(f.split(".", 1)[1]) if "." in f and "e" not in f.lower() else -1)
    if not values:
        raise GarbledLine(f"results line carries no values: {line!r}")
    if expected_count is not None and len(values) != expected_count:
        raise GarbledLine(f"{len(values)} result values, expected {expected_count}: {line!r}")
    return ParsedResults(np.asarray(values, dtype=np.float64), m.group(1), len(decimals) == 1)


def lap_elapsed_us(start: int, end: int, host_elapsed_us: float | None = None) -> tuple[int, int]:
    """Microseconds between two `m-lap-us` values, and how many counter wraps were assumed.

    The counter is 32-bit on most MCUs: an end below the start wrapped once. Windows longer
    than a full period (71.6 min) cannot be told from the laps alone; the host's own clock
    decides how many extra periods passed (it is only consulted when it says so).
    """
    if end >= start:
        delta, wraps = end - start, 0
    else:
        if start >= LAP_MODULUS or end >= LAP_MODULUS:
            raise GarbledLine(f"timestamps go backwards ({start} -> {end}) and exceed 32 bits")
        delta, wraps = end - start + LAP_MODULUS, 1
    if host_elapsed_us is not None and host_elapsed_us > LAP_MODULUS and start < LAP_MODULUS:
        extra = int((host_elapsed_us - delta) // LAP_MODULUS)
        if extra > 0:
            delta += extra * LAP_MODULUS
            wraps += extra
    return delta, wraps


def parse_profile(lines: list[str]) -> tuple[str | None, str | None]:
    """(firmware profile, model id) from the reply to `profile`; None for a missing line."""
    profile = model = None
    for line in lines:
        if m := RE_PROFILE.fullmatch(line):
            profile = m.group(1)
        elif m := RE_MODEL.fullmatch(line):
            model = m.group(1)
    return profile, model


def parse_buffer_lines(lines: list[str]) -> bytes:
    """The bytes printed by `db print` (8 per `m-buffer-` line)."""
    out = bytearray()
    for line in lines:
        m = RE_BUFFER.fullmatch(line)
        if not m:
            raise GarbledLine(f"not a buffer line: {line!r}")
        out.extend(int(h, 16) for h in m.group(1).split("-"))
    return bytes(out)


def split_lines(buffer: bytearray) -> list[str]:
    """Pop complete lines from `buffer`; CR, LF or CRLF end a line, empty lines are skipped.

    Accepting a lone CR or LF keeps the parser aligned when the firmware prints bare `\\n` (its
    overflow message) or when the wire drops one byte of a CRLF.
    """
    last = max(buffer.rfind(b"\n"), buffer.rfind(b"\r"))
    if last < 0:
        return []
    chunk = bytes(buffer[:last + 1])
    del buffer[:last + 1]
    return [part.decode("latin-1") for part in _EOL.split(chunk) if part]


_EOL = re.compile(rb"[\r\n]+")
