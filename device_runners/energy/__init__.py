"""Energy monitors for MLPerf Tiny energy mode: one interface (`EnergyMonitor`), one driver per instrument.

`open_energy_monitor("lpm01a:/dev/ttyACM0")`, `open_energy_monitor("lpm01a:socket://host:4000")`,
`open_energy_monitor("joulescope")` or `open_energy_monitor("joulescope:<serial>")` turn a
command-line value into a driver, so a runner needs a single `--energy-monitor` option.
"""

from __future__ import annotations

from pathlib import Path

from tinyperf.device_runners.energy.base import EnergyMonitor, EnergyWindow, pair_windows, window_energy
from tinyperf.core.errors import TinyperfError

#: instrument name -> what follows the colon
MONITORS = {"lpm01a": "serial port or pyserial URL (required)",
            "joulescope": "serial number (optional; default: the first one found)"}


def parse_monitor_spec(spec: str) -> tuple[str, str | None]:
    """`kind[:where]` -> (kind, where); TinyperfError naming the accepted forms if it is neither."""
    kind, _, where = spec.partition(":")
    kind = kind.strip().lower()
    if kind not in MONITORS:
        raise TinyperfError("--energy-monitor", f"unknown energy monitor '{spec}'",
                            "use lpm01a:<port-or-URL> (e.g. lpm01a:/dev/ttyACM0) or joulescope[:<serial>]")
    if kind == "lpm01a" and not where:
        raise TinyperfError("--energy-monitor", "lpm01a needs its port",
                            "write lpm01a:/dev/ttyACM0, lpm01a:COM5 or lpm01a:socket://host:port")
    return kind, where or None


def open_energy_monitor(spec: str, transcript: Path | None = None) -> EnergyMonitor:
    """Open the monitor named by `spec` (see module doc); `transcript` logs an LPM01A's dialogue."""
    kind, where = parse_monitor_spec(spec)
    if kind == "lpm01a":
        from tinyperf.device_runners.energy.lpm01a import LPM01A, LPM01AResource

        return LPM01A(LPM01AResource(where or ""), transcript=transcript)
    from tinyperf.device_runners.energy.joulescope import Joulescope, JoulescopeResource

    return Joulescope(JoulescopeResource(where))


__all__ = ["EnergyMonitor", "EnergyWindow", "MONITORS", "open_energy_monitor", "pair_windows",
           "parse_monitor_spec", "window_energy"]
