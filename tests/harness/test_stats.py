"""The stability warning reads as it is judged: one decimal, never "10 % (more than 10 %)"."""

from __future__ import annotations

import numpy as np

from tinyperf.engine.stats import Stats


def _with_relative_stdev(rel: float) -> Stats:
    d = rel / np.sqrt(2)  # two values 1 ± d: mean 1, sample standard deviation rel
    s = Stats.of([1 - d, 1 + d])
    assert s is not None and np.isclose(s.relative_stdev, rel)
    return s


def test_warning_gives_one_decimal() -> None:
    warning = _with_relative_stdev(0.1046).stability_warning("throughput across windows")
    assert warning is not None
    assert "standard deviation is 10.5 % of the mean (more than 10 %)" in warning


def test_no_warning_when_the_printed_value_would_not_exceed_the_limit() -> None:
    assert _with_relative_stdev(0.1004).stability_warning("throughput") is None
    assert _with_relative_stdev(0.05).stability_warning("throughput") is None
    assert "25.0 %" in (_with_relative_stdev(0.25).stability_warning("throughput") or "")
