"""Energy monitors for MLPerf Tiny energy mode: one interface (`EnergyMonitor`), one driver per instrument.

Drivers are found through the `tinyperf.energy_monitors` entry-point group (the built-in LPM01A and
Joulescope are declared there like any plug-in), so adding a monitor is one driver module and its
entry point. `open_energy_monitor("lpm01a:/dev/ttyACM0")`, `open_energy_monitor("joulescope")` or
`open_energy_monitor("<kind>[:<where>]")` turn a command-line value into a driver, so a runner needs a
single `--energy-monitor` option.
"""

from __future__ import annotations

from pathlib import Path

from tinyperf.core.errors import TinyperfError
from tinyperf.core.registry import Broken, Registry
from tinyperf.device_runners.energy.base import EnergyMonitor, EnergyWindow, pair_windows, window_energy

GROUP = "tinyperf.energy_monitors"
ENERGY_MONITORS: Registry[type[EnergyMonitor]] = Registry(GROUP, "energy monitor")


def monitors() -> dict[str, type[EnergyMonitor]]:
    """Every energy monitor that imports, by name (a broken plug-in is left out; `broken_monitors` names it)."""
    return {n: c for n, c in ENERGY_MONITORS.load_all().items()
            if isinstance(c, type) and issubclass(c, EnergyMonitor)}


def broken_monitors() -> dict[str, str]:
    """Registered monitors that cannot be used: name -> why."""
    out = {}
    for name, c in ENERGY_MONITORS.load_all().items():
        if isinstance(c, Broken):
            out[name] = c.reason
        elif not (isinstance(c, type) and issubclass(c, EnergyMonitor)):
            out[name] = f"{ENERGY_MONITORS.entries()[name].value} is not an EnergyMonitor subclass"
    return out


def monitor_forms(found: dict[str, type[EnergyMonitor]] | None = None) -> str:
    """The accepted `--energy-monitor` values, as the drivers declare them."""
    found = monitors() if found is None else found
    forms = [c.spec_form() for c in found.values()]
    return " or ".join(forms) if len(forms) < 3 else ", ".join(forms[:-1]) + " or " + forms[-1]


def parse_monitor_spec(spec: str) -> tuple[str, str | None]:
    """`kind[:where]` -> (kind, where); TinyperfError naming the accepted forms if it is neither."""
    kind, _, where = spec.partition(":")
    kind = kind.strip().lower()
    found = monitors()
    if kind not in found:
        why = broken_monitors().get(kind)
        if why:
            raise TinyperfError("--energy-monitor", f"energy monitor '{kind}' cannot be used: {why}",
                                "reinstall or fix the package that provides it")
        raise TinyperfError("--energy-monitor", f"unknown energy monitor '{spec}'", f"use {monitor_forms(found)}")
    cls = found[kind]
    if cls.where_required and not where:
        raise TinyperfError("--energy-monitor", f"{kind} needs its {cls.where.strip('<>')}",
                            f"write {cls.spec_form()}")
    return kind, where or None


def open_energy_monitor(spec: str, transcript: Path | None = None) -> EnergyMonitor:
    """Open the monitor named by `spec` (see module doc); `transcript` logs its dialogue where it has one."""
    kind, where = parse_monitor_spec(spec)
    return monitors()[kind].from_spec(where, transcript=transcript)


__all__ = ["ENERGY_MONITORS", "EnergyMonitor", "EnergyWindow", "monitor_forms", "monitors", "open_energy_monitor",
           "pair_windows", "parse_monitor_spec", "window_energy"]
