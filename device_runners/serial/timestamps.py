"""Device timestamps checked against the host's clock and against each other.

A digit flipped in an `m-lap-us` line keeps the line's shape, and a flip repeated on every
retry survives any agreement test. What no corruption can fake is time: the DUT prints each
lap stamp as it takes it, so the device's window (end lap - start lap) must match the host's
time between the two lines' arrival, within the host's read latency and a clock tolerance.
And stamps only move forward: a window starting before the previous one ended is a replayed
or corrupted reply.

An emulator with a simulated clock (it answers `clock` with `m-clock-[virtual]`; real
firmware answers `e-[Unknown command: clock]`) advances its counter without taking the time,
so only the ordering checks apply to it.
"""

from __future__ import annotations

from tinyperf.device_runners.serial import parse as P
from tinyperf.device_runners.serial.recovery import LinkTrouble
from tinyperf.device_runners.serial.replies import WindowReply

#: the device's timer may run this fraction off the host's (crystals: ~0.005 %; RC oscillators 0.5-2 %)
CLOCK_TOLERANCE = 0.002
#: how late the host may read a lap line after the device printed it (UART line + USB latency)
READ_LATENCY_US = 50_000


class LapGuard:
    def __init__(self, clock: str = "real"):
        self.clock = clock
        self.previous: tuple[int, int] | None = None

    def forget(self) -> None:
        """The DUT reset: its counter restarted."""
        self.previous = None

    def check(self, w: WindowReply) -> None:
        """Raise LinkTrouble for a window whose stamps cannot be true."""
        if w.laps is None:
            return
        start, end = w.laps
        if self.previous is not None:
            if w.laps == self.previous:
                raise LinkTrouble(f"the window's timestamps {start} -> {end} repeat the previous window's: "
                                  "a stale or replayed reply")
            gap = (start - self.previous[1]) % P.LAP_MODULUS
            if gap >= P.LAP_MODULUS // 2:
                raise LinkTrouble(f"the window starts at {start} us, before the previous one ended "
                                  f"({self.previous[1]} us): a stale, replayed or corrupted reply")
        if self.clock == "real" and w.lap_times is not None and w.elapsed_us is not None:
            host_us = (w.lap_times[1] - w.lap_times[0]) * 1e6
            allowed = CLOCK_TOLERANCE * max(host_us, w.elapsed_us) + READ_LATENCY_US
            if abs(w.elapsed_us - host_us) > allowed:
                longer = "longer" if w.elapsed_us > host_us else "shorter"
                raise LinkTrouble(f"the DUT's window ({start} -> {end}: {w.elapsed_us:,} us) is {longer} than the "
                                  f"{host_us:,.0f} us the host saw between its two timestamps (allowed "
                                  f"{allowed:,.0f} us): a corrupted timestamp, or a timer more than "
                                  f"{CLOCK_TOLERANCE:.1%} off")

    def accept(self, w: WindowReply) -> None:
        if w.laps is not None:
            self.previous = w.laps
