"""Fault specs parse into a reproducible plan; a bad spec is one clear error."""

from __future__ import annotations

import pytest

from tinyperf.device_runners.emulators.faults import FaultPlan
from tinyperf.core.errors import TinyperfError


def test_the_documented_example_parses() -> None:
    plan = FaultPlan.parse("drop=0.01,garble=0.01,stall=3@12,reset@40,slow=0.2,error@7")
    assert (plan.drop, plan.garble, plan.slow) == (0.01, 0.01, 0.2)
    assert plan.stalls == {12: 3.0} and plan.resets == {40} and plan.errors == {7}
    assert plan.active and not FaultPlan.parse("").active


def test_repeated_and_targeted_items() -> None:
    plan = FaultPlan.parse("reset@40, reset@90, slow=0.5@3, rxdrop=0.1, rxgarble=0.2, seed=7")
    assert plan.resets == {40, 90} and plan.slow_at == {3: 0.5} and plan.slow == 0.0
    assert (plan.rxdrop, plan.rxgarble, plan.seed) == (0.1, 0.2, 7)


@pytest.mark.parametrize("spec", ["drop=2", "stall=3", "reset=1", "frobnicate=1", "error@0", "garble=x"])
def test_bad_specs_name_the_item(spec: str) -> None:
    with pytest.raises(TinyperfError) as err:
        FaultPlan.parse(spec)
    assert err.value.where == "--faults" and spec.split("=")[0].split("@")[0] in err.value.problem


def test_byte_faults_are_seeded() -> None:
    data = bytes(range(256)) * 40
    a = FaultPlan.parse("drop=0.05,garble=0.05,seed=3").tx(data)
    b = FaultPlan.parse("drop=0.05,garble=0.05,seed=3").tx(data)
    c = FaultPlan.parse("drop=0.05,garble=0.05,seed=4").tx(data)
    assert a == b != c
    assert 0.9 * len(data) < len(a) < len(data)  # about 5 % dropped
    assert FaultPlan.parse("garble=1").tx(b"abc") != b"abc" and len(FaultPlan.parse("garble=1").tx(b"abc")) == 3
