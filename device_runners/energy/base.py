"""What the serial runner's energy mode needs from an energy monitor, whatever the instrument.

In MLPerf Tiny energy mode the DUT is powered by the monitor and its `timestamp` GPIO pulse reaches
the monitor as an event, so one stream carries both the 1 ms energy samples and the window
boundaries. Every driver (LPM01A, Joulescope) turns its instrument into that stream (see
`tinyperf.device_runners.energy.stream.SampleLog`) and this interface reads windows out of it:

    k = monitor.mark()                          # events so far, in-flight ones included
    session.send(f"infer {n} {w}")              # the DUT pulses timestamp at start and end
    monitor.wait_for_events(k + 2, timeout)
    per_inference_j = monitor.window(k, k + 1).energy_j / n

`mark()` rather than `event_count()`: a pulse the DUT gave just before (its boot timestamp, when
the monitor powers it up) may still be on its way through the monitor's stream, and counting it
after the fact would pair the wrong events.

Resource / driver / protocol split (as in labgrid): a *resource* says where the instrument is
(port or URL, serial number), a *driver* knows how to talk to it, and `EnergyMonitor` is the
protocol the harness relies on.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class EnergyWindow:
    """Energy between two events of the stream (one `infer N W` window).

    `energy_j` estimates the whole window: samples lost on the line (NaN) are filled with the mean
    of the window's measured samples, so a lost value neither shifts the timeline nor reads as zero.
    `measured_j` is the plain sum of the samples that arrived. Both are NaN when nothing arrived.
    """

    energy_j: float
    duration_s: float
    samples: int  # sample slots in the window, missing ones included
    missing_samples: int
    average_power_w: float
    measured_j: float
    start_sample: int  # stream position of the opening event
    end_sample: int  # stream position of the closing event

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def window_energy(samples: np.ndarray, start: int, end: int, sample_period_s: float) -> EnergyWindow:
    """Energy of samples[start:end] (per-sample energies in J, NaN = lost on the line).

    `start`/`end` are event positions: the number of samples that preceded each event in the
    stream, so the window holds exactly the samples between the two events.
    """
    if end < start:
        raise ValueError(f"window ends (sample {end}) before it starts (sample {start})")
    if end > len(samples):
        raise ValueError(f"window needs samples up to {end} but the stream has {len(samples)}")
    part = np.asarray(samples[start:end], dtype=np.float64)
    slots = int(part.size)
    valid = ~np.isnan(part)
    present = int(valid.sum())
    missing = slots - present
    duration = slots * sample_period_s
    if present == 0:
        nan = math.nan
        return EnergyWindow(nan, duration, slots, missing, nan, nan, start, end)
    measured = float(part[valid].sum())
    energy = measured * slots / present
    power = energy / duration if duration > 0 else math.nan
    return EnergyWindow(energy, duration, slots, missing, power, measured, start, end)


def pair_windows(samples: np.ndarray, event_positions: list[int] | np.ndarray,
                 sample_period_s: float) -> list[EnergyWindow]:
    """Windows of consecutive event pairs (0,1), (2,3), ...: each `infer N W` emits a start and an
    end timestamp, so a whole energy run reads back as a list of windows."""
    pos = list(event_positions)
    return [window_energy(samples, pos[i], pos[i + 1], sample_period_s) for i in range(0, len(pos) - 1, 2)]


class EnergyMonitor(ABC):
    """Protocol of an energy monitor: acquisition of 1 ms energy samples plus timestamp events."""

    #: short instrument name used in provenance and messages (= its name in `tinyperf.energy_monitors`)
    kind: ClassVar[str] = ""
    #: what follows `kind:` in `--energy-monitor kind:where`, for help and messages (e.g. "<port-or-URL>")
    where: ClassVar[str] = ""
    #: whether `where` must be given (a serial port) or may be left out (the first USB device found)
    where_required: ClassVar[bool] = False
    #: whether `tinyperf emulate dut --energy-monitor` can put a virtual one of these in the rig
    emulated: ClassVar[bool] = False

    @classmethod
    def spec_form(cls) -> str:
        """How to write this monitor on the command line: lpm01a:<port-or-URL>, joulescope[:<serial>]."""
        if not cls.where:
            return cls.kind
        return f"{cls.kind}:{cls.where}" if cls.where_required else f"{cls.kind}[:{cls.where}]"

    @classmethod
    def from_spec(cls, where: str | None, transcript: Path | None = None) -> EnergyMonitor:
        """The driver for `--energy-monitor kind:where`; `transcript` may log the instrument's dialogue."""
        raise NotImplementedError(f"{cls.__name__} does not say how to open it from --energy-monitor")

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Provenance: instrument, firmware, identity, settings (recorded with every energy row)."""

    @abstractmethod
    def start(self, voltage_mv: int) -> None:
        """Configure the instrument, power the DUT at `voltage_mv` and start acquiring."""

    @abstractmethod
    def stop(self) -> None:
        """End the acquisition (samples and events already received stay readable)."""

    @abstractmethod
    def event_count(self) -> int:
        """Timestamp events received since `start`."""

    @abstractmethod
    def mark(self, settle_s: float = 0.25, timeout: float = 10.0) -> int:
        """Event count once every pulse given before this call has arrived: waits until `settle_s`
        more of the stream has come in (the monitor's latency is well below that)."""

    @abstractmethod
    def wait_for_events(self, count: int, timeout: float) -> None:
        """Block until `count` events (and the samples up to the last one) are in; DeviceError if not."""

    @abstractmethod
    def window(self, start_event: int, end_event: int) -> EnergyWindow:
        """Energy between events `start_event` and `end_event` (0-based, in arrival order)."""

    @abstractmethod
    def close(self) -> None:
        """Stop if needed, hand the instrument back (power off, release control) and free the port."""

    def warnings(self) -> list[str]:
        """Problems seen during acquisition worth recording (monitor falling behind, lost values)."""
        return []

    def __enter__(self) -> EnergyMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
