"""Which of several repeated `infer` replies the client vouches for.

A garbled digit keeps a line's shape, and a garbled low digit of a lap timestamp can move a
window's duration by less than real hardware's jitter; these cases pin that such a reply is never
the one reported (CI once saw 19,960 us reported for a 20,000 us window).
"""

from __future__ import annotations

import numpy as np

from tinyperf.device_runners.serial.protocol import DutClient, WindowReply


def reply(elapsed_us: int | None, results: str = "m-results-[0.996,0.004]") -> WindowReply:
    return WindowReply(results=np.zeros(2), results_text=results, uniform_decimals=True,
                       laps=None if elapsed_us is None else (0, elapsed_us), elapsed_us=elapsed_us,
                       wraps=0, host_s=0.03)


def test_two_identical_replies_confirm() -> None:
    tries = [reply(20_000), reply(20_000)]
    assert DutClient._confirmed(tries) is tries[-1]


def test_a_close_but_different_timing_needs_a_third_reply_and_the_median_wins() -> None:
    garbled = reply(19_960)  # '20000' with one digit garbled: within the 0.2 % jitter allowance
    assert DutClient._confirmed([reply(20_000), garbled]) is None
    assert DutClient._confirmed([garbled, reply(20_000)]) is None
    tries = [reply(20_000), garbled, reply(20_001)]
    assert DutClient._confirmed(tries).elapsed_us == 20_000
    tries = [garbled, reply(19_999), reply(20_001)]
    assert DutClient._confirmed(tries).elapsed_us == 19_999


def test_jittery_real_timings_confirm_after_three() -> None:
    tries = [reply(20_010), reply(19_995)]
    assert DutClient._confirmed(tries) is None
    tries.append(reply(20_004))
    assert DutClient._confirmed(tries).elapsed_us == 20_004


def test_different_results_never_confirm_each_other() -> None:
    tries = [reply(20_000), reply(20_000, "m-results-[0.996,0.005]"), reply(20_000, "m-results-[0.995,0.004]")]
    assert DutClient._confirmed(tries) is None
    tries.append(reply(20_000, "m-results-[0.995,0.004]"))
    assert DutClient._confirmed(tries) is tries[-1]


def test_far_timings_do_not_confirm() -> None:
    assert DutClient._confirmed([reply(20_000), reply(28_000), reply(20_900)]) is None


def test_energy_mode_replies_without_laps_confirm_on_results() -> None:
    tries = [reply(None), reply(None)]
    assert DutClient._confirmed(tries) is tries[-1]
    assert DutClient._confirmed([reply(None, "m-results-[1.000,0.000]"), reply(None)]) is None
