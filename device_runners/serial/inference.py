"""`infer N W` on the staged input: one window, checked, confirmed when the link is suspect.

Unless verify="never", every window is checked before it counts: its stamps against the host
clock and the previous window (timestamps.py), and its results line against a second copy
(`results` asked again, compared to the character: a flipped digit rarely hits both copies
alike). Once the link has shown any error (verify="always": from the start), the inference
is repeated until the replies agree (replies.confirmed).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tinyperf.device_runners.serial import parse as P
from tinyperf.device_runners.serial.recovery import Channel, InputLost, LinkTrouble
from tinyperf.device_runners.serial.replies import MAX_PROTOCOL_COUNT, WindowReply, confirmed, parse_window
from tinyperf.device_runners.serial.timestamps import LapGuard
from tinyperf.core.errors import DeviceError
from tinyperf.workloads.spec import Workload

MAX_AGREEMENT_TRIES = 6
FIRST_INFER_TIMEOUT_S = 120.0


class Inferencer:
    def __init__(self, channel: Channel, workload: Workload, mode: str, first_infer_timeout: float,
                 on_window: Callable[[str, WindowReply | None], None] | None = None, clock: str = "real"):
        self.channel = channel
        self.workload = workload
        self.mode = mode
        self.first_infer_timeout = float(first_infer_timeout)
        self.on_window = on_window
        self.expected_results = workload.n_results
        self.guard = LapGuard(clock)
        channel.on_reset.append(self.guard.forget)
        self._per_inference_s: float | None = None
        self._mixed_decimals_normal = False

    def infer(self, n: int, warmup: int) -> WindowReply:
        """`infer N W` on the staged input; with verification, repeated until two agree."""
        if n < 1 or warmup < 0:
            raise ValueError(f"infer needs n >= 1 and warmup >= 0, got {n}, {warmup}")
        for value, what in ((n, "N"), (warmup, "W")):
            if value > MAX_PROTOCOL_COUNT:
                raise DeviceError(self.channel.where, f"`infer {n} {warmup}`: {what} = {value:,} is more than the "
                                  f"firmware can count (its atoi() reads a 32-bit int, at most {MAX_PROTOCOL_COUNT:,})",
                                  "use a shorter --min-window (N is chosen to fill it)")
        ch = self.channel
        first = ch.recover(f"infer {n} {warmup}", lambda: self._checked_window(n, warmup))
        if not first.uniform_decimals and not self._mixed_decimals_normal:
            ch.trouble(f"results printed with mixed decimals ({first.results_text!r}): confirming")
        if not ch.suspicious:
            self._learn(first, n, warmup)
            return first
        tries = [first]
        while len(tries) < MAX_AGREEMENT_TRIES:
            nxt = ch.recover(f"infer {n} {warmup}", lambda: self._checked_window(n, warmup))
            ch.counters.confirmations += 1
            tries.append(nxt)
            agreed = confirmed(tries)
            if agreed is not None:
                self._learn(agreed, n, warmup)
                if not agreed.uniform_decimals:  # confirmed twice: this firmware prints that way (%g)
                    self._mixed_decimals_normal = True
                return agreed
        raise DeviceError(ch.where, f"{MAX_AGREEMENT_TRIES} runs of `infer {n} {warmup}` gave no agreeing "
                          "replies: the link corrupts data faster than it can be confirmed",
                          "fix the link (shorter cable, lower baud, ground) and resume the run")

    def _checked_window(self, n: int, warmup: int) -> WindowReply:
        """One window that passed the timestamp checks and, if not yet suspicious, a second
        reading of its results."""
        w = self._window(n, warmup)
        if self.channel.verify == "never":
            return w
        self.guard.check(w)
        self.guard.accept(w)
        if not self.channel.suspicious:
            again = self._results_again()
            if again.text != w.results_text:
                self.channel.trouble(f"`results` printed [{again.text}] after `infer` printed [{w.results_text}]")
                raise LinkTrouble("the two copies of the results differ")
            self.channel.counters.confirmations += 1
        return w

    def _learn(self, w: WindowReply, n: int, warmup: int) -> None:
        # the board's own clock, unless the wall clock says inferences take longer: an emulated
        # board (QEMU -icount) counts instructions at a nominal rate, not wall time
        wall = w.host_s / (n + warmup)
        if w.elapsed_us is not None and w.elapsed_us > 0:
            self._per_inference_s = max(w.elapsed_us / 1e6 / n, wall)
        elif self._per_inference_s is None:
            self._per_inference_s = wall

    def patience(self, n: int, warmup: int) -> float:
        """How long `infer N W` may stay silent: > 2x the expected window plus a margin."""
        if self._per_inference_s is None:
            return max(self.first_infer_timeout, self.channel.timeout)
        expected = (n + warmup) * self._per_inference_s
        return 2.0 * expected + max(self.channel.timeout, 5.0)

    def _window(self, n: int, warmup: int) -> WindowReply:
        ch = self.channel
        if ch.buffer_lost:
            raise InputLost("the DUT lost its input")
        if self.on_window:
            self.on_window("start", None)

        def still_computing(lines: list[str]) -> bool:
            laps = 0
            for line in lines:
                if line == P.INFER_DONE or line.startswith("m-results-"):
                    return False
                if line.startswith("m-lap-us-"):
                    laps += 1
            return laps < 2

        replies: list = []
        t0 = time.monotonic()
        lines = ch.command(f"infer {n} {warmup}", patience=self.patience(n, warmup), wait_long=still_computing,
                           reply_out=replies)
        host_s = time.monotonic() - t0
        reply = replies[-1]
        strict = ch.suspicious and not self._mixed_decimals_normal
        parsed = parse_window(lines, n, warmup, self.mode, self.expected_results, ch.trouble, ch.where, strict)
        results = parsed.results
        if results is None:  # the window itself is fine: fetch its results, do not redo it
            results = self._results_again()
        elapsed = wraps = None
        laps = parsed.laps
        if laps:
            elapsed, wraps = P.lap_elapsed_us(laps[0], laps[1], host_s * 1e6)
        lap_times = (reply.times[parsed.lap_index[0]], reply.times[parsed.lap_index[1]]) if laps else None
        w = WindowReply(results.values, results.text, results.uniform_decimals,
                        (laps[0], laps[1]) if laps else None, elapsed, wraps or 0, host_s,
                        sent_at=reply.sent_at, lap_times=lap_times)
        if self.on_window:
            self.on_window("end", w)
        return w

    def _results_again(self) -> P.ParsedResults:
        ch = self.channel
        last: Exception | None = None
        for _ in range(3):
            try:
                found = [l for l in ch.command("results") if l.startswith("m-results-[") or P.looks_garbled(l)]
                if len(found) == 1:
                    return P.parse_results(found[0], self.expected_results)
                last = LinkTrouble(f"{len(found)} results lines for `results`")
            except (LinkTrouble, P.GarbledLine) as exc:
                last = exc
            ch.trouble(f"`results`: {last}")
            ch.resync(context=str(last))
        raise LinkTrouble(f"no intact results line after 3 requests ({last})")

    def results(self) -> P.ParsedResults:
        """`results`: the last inference's values again."""
        return self.channel.recover("results", self._results_again)
