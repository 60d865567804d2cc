"""Time as an emulated rig sees it: wall time since boot plus simulated compute time.

The DUT emulator advances it by `us_per_inference` per inference instead of sleeping, so a 10 s
MLPerf window costs no wall time; the LPM01A emulator reads the same clock, so its sample stream
and the DUT's timestamp events agree exactly.
"""

from __future__ import annotations

import threading
import time


class EmulatedClock:
    def __init__(self, follow_wall: bool = True, start_us: int = 0):
        self._follow_wall = follow_wall
        self._wall0 = time.monotonic_ns()
        self._offset_us = start_us
        self._lock = threading.Lock()

    def now_us(self) -> int:
        """Microseconds since boot (unbounded; firmware masks to its counter width)."""
        with self._lock:
            wall = (time.monotonic_ns() - self._wall0) // 1000 if self._follow_wall else 0
            return wall + self._offset_us

    def advance_us(self, us: int) -> None:
        with self._lock:
            self._offset_us += int(us)
