"""What a DUT's replies mean: identity, one `infer` reply checked line by line, and agreement.

Pure functions over reply lines (no I/O): a reply out of shape is LinkTrouble, a mode
mismatch (lap stamps from energy firmware, none from performance firmware) a DeviceError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tinyperf.device_runners.serial import parse as P
from tinyperf.device_runners.serial.recovery import InputLost, LinkTrouble
from tinyperf.core.errors import DeviceError

#: repeated windows' elapsed times are close when they differ by at most this fraction (+2 us)
AGREE_REL = 2e-3
AGREE_ABS_US = 2
#: the protocol's counts are C `int`s (atoi): N or W beyond this are not what the DUT runs
MAX_PROTOCOL_COUNT = 2**31 - 1


@dataclass(frozen=True)
class Identity:
    name: str
    profile: str | None
    model: str | None
    timestamp_mode: str | None  # "performance" (prints m-lap-us), "energy" (GPIO only), None = not probed
    clock: str = "real"  # "real": its microsecond counter follows time; "virtual": an emulator's simulated clock


@dataclass
class WindowReply:
    """One parsed `infer N W`."""

    results: np.ndarray
    results_text: str
    uniform_decimals: bool
    laps: tuple[int, int] | None
    elapsed_us: int | None
    wraps: int
    host_s: float  # host-side duration of the exchange
    sent_at: float = 0.0  # time.monotonic() the command was written
    lap_times: tuple[float, float] | None = None  # time.monotonic() each lap line arrived


@dataclass
class ParsedWindow:
    laps: list[int]
    lap_index: list[int]  # where the lap lines are in `lines`
    results: P.ParsedResults | None  # None: lost or garbled, ask `results` again


def parse_window(lines: list[str], n: int, warmup: int, mode: str, expected_results: int,
                 trouble: Callable[[str], None], where: str, strict_decimals: bool) -> ParsedWindow:
    """The lines of an `infer N W` reply, in the order and shapes the protocol prints them."""
    fixed = {"warmup-start": f"m-warmup-start-{warmup}", "warmup-done": P.WARMUP_DONE,
             "infer-start": f"m-infer-start-{n}", "infer-done": P.INFER_DONE}
    events: list[str] = []
    laps: list[int] = []
    lap_index: list[int] = []
    results_line: str | None = None
    garbled: list[str] = []
    for i, line in enumerate(lines):
        if P.RE_SHORT_INPUT.fullmatch(line):
            raise InputLost(line)
        if P.RE_LAP.fullmatch(line):
            laps.append(P.parse_lap(line))
            lap_index.append(i)
            events.append("lap")
        elif line.startswith("m-results-["):
            results_line = line
            events.append("results")
        elif (name := next((k for k, e in fixed.items() if P.near(line, e)), None)) is not None:
            if line != fixed[name]:
                trouble(f"{fixed[name]!r} arrived as {line!r}")
            events.append(name)
        elif P.looks_garbled(line):
            garbled.append(line)
            events.append("garbled")
    if "infer-done" not in events:
        raise LinkTrouble(f"`infer {n} {warmup}` reply without m-infer-done: {lines!r}")
    done = events.index("infer-done")
    head, tail = events[:done], events[done + 1:]
    if "garbled" in head:
        raise LinkTrouble(f"garbled line in the `infer` reply: {garbled[0]!r}")
    if head != ["warmup-start", "warmup-done", "infer-start"] + ["lap"] * len(laps) or len(laps) not in (0, 2):
        raise LinkTrouble(f"`infer {n} {warmup}` reply out of shape: {lines!r}")
    if laps and mode == "energy":
        raise DeviceError(where, "the DUT prints m-lap-us timestamps: its firmware is built for "
                          "performance mode, so the energy monitor sees no timestamp pulses",
                          "flash energy-mode firmware (EE_CFG_ENERGY_MODE=1) for energy runs")
    if not laps and mode == "performance":
        raise DeviceError(where, "the DUT prints no m-lap-us timestamps: its firmware is built for "
                          "energy mode (timestamps are GPIO pulses)",
                          "flash performance-mode firmware, or run --mode energy through an interface board "
                          "with an energy monitor")
    results = None
    if tail == ["results"]:
        try:
            results = P.parse_results(results_line or "", expected_results)
        except P.GarbledLine as exc:
            trouble(f"results line garbled ({exc}); asking `results` again")
    elif tail not in ([], ["garbled"]):
        raise LinkTrouble(f"unexpected lines after m-infer-done: {lines!r}")
    else:
        trouble("the results line was lost; asking `results` again")
    if results is not None and not results.uniform_decimals and strict_decimals:
        trouble(f"results printed with mixed decimals ({results.text!r}); asking `results` again")
        results = None
    return ParsedWindow(laps, lap_index, results)


def confirmed(tries: list[WindowReply]) -> WindowReply | None:
    """The reply the repeated windows vouch for, or None while they do not yet.

    Results must match to the character. A window's duration jitters on real hardware, so
    timings cannot be required to match; but a digit garbled in a lap timestamp may shift it
    by less than the jitter allowance. So: two identical timings confirm; otherwise three
    mutually close ones do, and the median of the three (never an outlier) is reported.
    """
    nxt = tries[-1]
    same = [t for t in tries[:-1] if t.results_text == nxt.results_text]
    if any(t.elapsed_us == nxt.elapsed_us for t in same):
        return nxt
    if nxt.elapsed_us is None:
        return None
    near = [t for t in same if t.elapsed_us is not None and close(t, nxt)]
    for i, a in enumerate(near):
        for b in near[i + 1:]:
            if close(a, b):
                return sorted((a, b, nxt), key=lambda t: t.elapsed_us)[1]
    return None


def close(a: WindowReply, b: WindowReply) -> bool:
    return abs(a.elapsed_us - b.elapsed_us) <= AGREE_ABS_US + AGREE_REL * max(a.elapsed_us, b.elapsed_us)
