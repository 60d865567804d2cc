"""The layers stay true: floor < workloads < runners < fetch < engine < outputs < tools < cli."""

from __future__ import annotations

from tests.architecture.layers import LAYERS, cycles, imports_of, layer_of, modules, violations


def test_no_module_imports_a_higher_layer() -> None:
    assert violations() == []


def test_no_import_cycles_at_module_level() -> None:
    assert cycles() == []


def test_every_module_belongs_to_a_layer() -> None:
    unplaced = [name for name in modules() if name != "tinyperf" and layer_of(name) is None]
    assert unplaced == []


def test_a_forbidden_import_is_reported_with_file_and_line() -> None:
    mods = modules()
    src = mods["tinyperf.workloads.spec"].read_text() + "\n\ndef f():\n    from tinyperf.engine.summary import summarize\n"
    found = violations(mods, {"tinyperf.workloads.spec": src})
    assert len(found) == 1
    assert "workloads/spec.py" in found[0]
    assert "tinyperf.workloads.spec (workloads) imports tinyperf.engine.summary (engine)" in found[0]


def test_the_floor_may_not_import_even_a_runner() -> None:
    mods = modules()
    src = "from tinyperf.device_runners.base import Runner\n"
    found = violations({"tinyperf.core.errors": mods["tinyperf.core.errors"]}, {"tinyperf.core.errors": src})
    assert found and "(floor) imports tinyperf.device_runners.base (runners)" in found[0]


def test_type_checking_imports_do_not_count_and_relative_imports_resolve() -> None:
    src = ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tinyperf.engine.rundir import Run\n"
           "from .errors import TinyperfError\n")
    got = [i.target for i in imports_of(src, "tinyperf.core.console", False)]
    assert "tinyperf.engine.rundir" not in got
    assert "tinyperf.core.errors" in got


def test_layers_are_listed_bottom_first() -> None:
    assert LAYERS[0][1] == ("tinyperf.core",) and LAYERS[-1][1] == ("tinyperf.cli",)
