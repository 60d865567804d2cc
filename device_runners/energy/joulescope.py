"""Joulescope JS220 / JS110 as an energy monitor, through the optional `joulescope` package.

The instrument streams raw current and voltage at 1 MHz; with `current_lsb gpi0` the DUT's
timestamp pin (wired to GPI0) rides in the least significant bit of every current sample. The
MLPerf Tiny runner's way is kept: current x voltage / sampling rate is accumulated into 1 ms
energy bins, and each rising edge of the GPI0 bit is an event, so windows are read exactly as
from an LPM01A.

`EnergyBinner` (pure numpy, tested on synthetic arrays) does all of that. The code that touches
the device is confined to `_JoulescopeDevice`, the only part that cannot run without the hardware.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tinyperf.device_runners.energy.stream import SampleLog, SampleLogMonitor
from tinyperf.core.errors import DeviceError

INSTALL_HINT = "pip install tinyperf[joulescope]"
SAMPLING_FREQUENCY = 1_000_000
BIN_S = 1e-3
#: parameter_set calls of the MLPerf Tiny runner, in order
SETTINGS: list[tuple[str, Any]] = [("source", "raw"), ("sensor_power", "on"),
                                   ("sampling_frequency", SAMPLING_FREQUENCY), ("io_voltage", "3.3V"),
                                   ("trigger_source", "gpi0"), ("current_lsb", "gpi0")]


def availability() -> str | None:
    """None if the `joulescope` package can be imported, else what to install."""
    if importlib.util.find_spec("joulescope") is None:
        return f"the `joulescope` package is not installed. Fix: {INSTALL_HINT}"
    return None


class EnergyBinner:
    """Raw (current, voltage, GPI0 bit) chunks -> 1 ms energy bins and event positions.

    Chunks may have any length; a partial bin and the last GPI0 level carry over to the next
    chunk, so the result does not depend on how the stream was cut. A sample whose current or
    voltage is NaN (the instrument marks range switches so) is missing: its bin's energy is the
    mean power of the bin's other samples over the whole bin, or NaN if none is left.
    """

    def __init__(self, sampling_frequency: int = SAMPLING_FREQUENCY, bin_s: float = BIN_S, edge: str = "rising"):
        if edge not in ("rising", "falling"):
            raise ValueError(f"edge must be rising or falling, not {edge!r}")
        self.sampling_frequency = sampling_frequency
        self.per_bin = round(sampling_frequency * bin_s)
        if self.per_bin < 1:
            raise ValueError(f"{sampling_frequency} Hz cannot fill {bin_s} s bins")
        self.edge = edge
        self._carry = np.empty(0, dtype=np.float64)  # power samples of the unfinished bin
        self._last_bit: int | None = None
        self._seen = 0  # raw samples consumed so far

    def feed(self, current: np.ndarray, voltage: np.ndarray, gpi: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """Energies (J) of the bins completed by this chunk, and the bin positions of its edges."""
        current = np.asarray(current, dtype=np.float64)
        voltage = np.asarray(voltage, dtype=np.float64)
        bits = np.asarray(gpi).astype(np.uint8) & 1
        if not (len(current) == len(voltage) == len(bits)):
            raise ValueError(f"chunk fields differ in length: current {len(current)}, voltage {len(voltage)}, "
                             f"gpi {len(bits)}")
        events = self._edges(bits)
        self._seen += len(bits)
        return self._bins(current * voltage), events

    def skip(self, n: int) -> np.ndarray:
        """`n` raw samples were lost (buffer overrun): keep the timeline with missing values."""
        self._seen += n
        return self._bins(np.full(n, np.nan))

    def _edges(self, bits: np.ndarray) -> list[int]:
        if bits.size == 0:
            return []
        prev = np.empty_like(bits)
        prev[0] = bits[0] if self._last_bit is None else self._last_bit
        prev[1:] = bits[:-1]
        self._last_bit = int(bits[-1])
        hit = (prev == 0) & (bits == 1) if self.edge == "rising" else (prev == 1) & (bits == 0)
        # an edge belongs at the nearest bin boundary, as an LPM01A places its events
        return [int(round((self._seen + i) / self.per_bin)) for i in np.flatnonzero(hit)]

    def _bins(self, power: np.ndarray) -> np.ndarray:
        joined = np.concatenate([self._carry, power]) if self._carry.size else power
        whole = len(joined) // self.per_bin * self.per_bin
        self._carry = joined[whole:].copy()
        if whole == 0:
            return np.empty(0, dtype=np.float64)
        rows = joined[:whole].reshape(-1, self.per_bin)
        valid = (~np.isnan(rows)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_power = np.nansum(rows, axis=1) / valid
        mean_power[valid == 0] = np.nan
        return mean_power * (self.per_bin / self.sampling_frequency)


@dataclass(frozen=True)
class JoulescopeResource:
    """Which Joulescope: the first one found, or the one whose path/serial contains `serial_number`."""

    serial_number: str | None = None


class _JoulescopeDevice:
    """The thin part that needs the hardware: open, configure, stream into a callback, close."""

    def __init__(self, resource: JoulescopeResource, on_chunk: Callable[[np.ndarray, np.ndarray, np.ndarray], None],
                 on_gap: Callable[[int], None], where: str):
        joulescope = importlib.import_module("joulescope")
        found = list(joulescope.scan(config="off"))
        if resource.serial_number:
            found = [d for d in found if resource.serial_number in str(d)]
        if not found:
            which = f" matching '{resource.serial_number}'" if resource.serial_number else ""
            raise DeviceError(where, f"no Joulescope{which} found",
                              "plug it in (directly, not through a hub); on Linux install the udev rules "
                              "from the Joulescope documentation")
        self.device = found[0]
        self.name = str(self.device)
        self._on_chunk, self._on_gap = on_chunk, on_gap
        self._next: int | None = None
        self.device.open()
        for name, value in SETTINGS:
            self.device.parameter_set(name, value)
        self.device.stream_process_register(self)

    def info(self) -> dict[str, Any]:
        try:
            return dict(self.device.info())
        except Exception:  # provenance is best-effort; a missing field must not stop a run
            return {}

    def start(self) -> None:
        self._next = None
        self.device.start()

    def stream_notify(self, stream_buffer: Any) -> bool:
        """Called by the joulescope package for each block; False keeps the stream going."""
        start, end = stream_buffer.sample_id_range
        if self._next is None:
            self._next = start
        if self._next < start:  # the host fell behind and the buffer wrapped
            self._on_gap(start - self._next)
            self._next = start
        if end > self._next:
            data = stream_buffer.samples_get(self._next, end, fields=["current", "voltage", "current_lsb"])
            sig = data["signals"]
            self._on_chunk(sig["current"]["value"], sig["voltage"]["value"], sig["current_lsb"]["value"])
            self._next = end
        return False

    def stop(self) -> None:
        self.device.stop()

    def close(self) -> None:
        self.device.close()


class Joulescope(SampleLogMonitor):
    """Driver: the binner feeding a SampleLog, fed by the device's stream."""

    kind = "joulescope"
    where = "<serial>"

    @classmethod
    def from_spec(cls, where: str | None, transcript: Path | None = None) -> Joulescope:
        return cls(JoulescopeResource(where))

    def __init__(self, resource: JoulescopeResource | None = None,
                 device_factory: Callable[..., Any] = _JoulescopeDevice):
        reason = availability() if device_factory is _JoulescopeDevice else None
        self.resource = resource or JoulescopeResource()
        self.where = f"Joulescope {self.resource.serial_number or '(first found)'}"
        if reason:
            raise DeviceError(self.where, reason.split(". Fix:")[0], INSTALL_HINT)
        self.log = SampleLog(BIN_S, self.where)
        self.binner = EnergyBinner()
        self._device_factory = device_factory
        self._device: Any = None
        self._voltage_mv: int | None = None
        self._volts_sum = 0.0
        self._volts_n = 0

    # fed by the device thread, and by tests with synthetic arrays
    def on_chunk(self, current: np.ndarray, voltage: np.ndarray, gpi: np.ndarray) -> None:
        bins, events = self.binner.feed(current, voltage, gpi)
        v = np.asarray(voltage, dtype=np.float64)
        ok = v[~np.isnan(v)]
        self._volts_sum += float(ok.sum())
        self._volts_n += int(ok.size)
        # events first: their positions are explicit, and a waiter needs the samples before them anyway
        for pos in events:
            self.log.add_event(position=pos)
        self.log.add_samples(bins)

    def on_gap(self, n: int) -> None:
        self.log.add_samples(self.binner.skip(n))

    def measured_voltage_v(self) -> float:
        return self._volts_sum / self._volts_n if self._volts_n else math.nan

    def describe(self) -> dict[str, Any]:
        dev = self._device
        return {"monitor": self.kind, "device": getattr(dev, "name", None),
                "info": dev.info() if dev is not None and hasattr(dev, "info") else None,
                "voltage_mv": self._voltage_mv, "sampling_frequency": self.binner.sampling_frequency,
                "bin_s": BIN_S, "event_source": "gpi0 rising edge", "settings": dict(SETTINGS)}

    def start(self, voltage_mv: int) -> None:
        """Open and configure the instrument, then stream. The Joulescope does not supply the DUT:
        `voltage_mv` is what the supply should give, checked against the measured voltage."""
        self._voltage_mv = int(voltage_mv)
        self.log.reset()
        self.binner = EnergyBinner()
        self._volts_sum, self._volts_n = 0.0, 0
        if self._device is None:
            self._device = self._device_factory(self.resource, self.on_chunk, self.on_gap, self.where)
        self._device.start()

    def stop(self) -> None:
        if self._device is not None:
            self._device.stop()

    def warnings(self) -> list[str]:
        out = []
        measured = self.measured_voltage_v()
        if self._voltage_mv and not math.isnan(measured) and abs(measured * 1000 - self._voltage_mv) > 0.1 * self._voltage_mv:
            out.append(f"{self.where}: measured {measured * 1000:.0f} mV, but the DUT should run at "
                       f"{self._voltage_mv} mV; check the supply and the Joulescope wiring")
        return out + self.missing_warning("no valid raw sample in the bin: host fell behind or range switching")

    def close(self) -> None:
        if self._device is not None:
            try:
                self._device.stop()
            finally:
                self._device.close()
                self._device = None
