"""argparse types for numbers with a meaningful range.

A bare `type=int` lets `--threads 0` or `--baud 0` through, to fail later as something else
(LiteRT then calls the model corrupt) or to be silently replaced by a default. These refuse
the value at the command line, naming the option and the range, before anything is written.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from tinyperf.core.errors import TinyperfError


def _ranged(cast: Callable[[str], float], kind: str, ok: Callable[[float], bool], wanted: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}: pass {wanted}") from None
        if not math.isfinite(value) or not ok(value):  # nan and inf are never a window, a rate or a count
            raise argparse.ArgumentTypeError(f"{text} is out of range: pass {wanted}")
        return value

    return parse


#: counts, rates and sizes that must be at least 1 (threads, baud, inferences, rows)
positive_int = _ranged(int, "a whole number", lambda v: v >= 1, "a whole number of 1 or more")
#: counts where 0 means "none" (retries, a start value, TCP port 0 = any free port)
non_negative_int = _ranged(int, "a whole number", lambda v: v >= 0, "a whole number of 0 or more")
#: durations and physical quantities that must be above zero (seconds, microseconds, millivolts)
positive_float = _ranged(float, "a number", lambda v: v > 0, "a number above 0")
#: a performance window: above 0 and at most an hour (the rules need 10 s; 1e12 s is a typo, not a plan)
MAX_WINDOW_S = 3600.0
window_seconds = _ranged(float, "a number", lambda v: 0 < v <= MAX_WINDOW_S,
                         f"a number of seconds above 0 and at most {MAX_WINDOW_S:g} (the rules need 10)")
#: quantities where 0 is meaningful (a transcript limit of 0 = keep every byte, 0 mW)
non_negative_float = _ranged(float, "a number", lambda v: v >= 0, "a number of 0 or more")


def check_option(option: str, value: Any, parse: Callable[[str], float],
                 error: type[TinyperfError] = TinyperfError) -> None:
    """The same range check for a value that arrives from Python or run.json instead of argv."""
    if value is None:
        return
    try:
        parse(str(value))
    except argparse.ArgumentTypeError as exc:
        raise error(None, f"{option} {exc}", None) from None
