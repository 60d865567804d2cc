"""How close the serial runner gets to the wire: measured time over the time the bytes need.

The wire-time bound of an exchange is every byte both ways (commands and replies) at 10 bits
per byte (8N1) at the link's baud rate; a runner can only approach it, never beat it. The ratio
measured time / wire time shows what round trips and host overhead add.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from tinyperf.device_runners.serial.runner import SerialSession


@dataclass(frozen=True)
class WireFigures:
    seconds: float  # measured
    tx_bytes: int  # host -> device
    rx_bytes: int  # device -> host
    baud: int
    items: int

    @property
    def wire_s(self) -> float:
        return (self.tx_bytes + self.rx_bytes) * 10.0 / self.baud

    @property
    def ratio(self) -> float:
        return self.seconds / self.wire_s

    def line(self, what: str) -> str:
        return (f"{what}: {self.seconds:.3f} s for {self.tx_bytes} + {self.rx_bytes} bytes; wire time at "
                f"{self.baud} baud {self.wire_s:.3f} s; ratio {self.ratio:.3f}")


def _counted(session: SerialSession, baud: int, items: int, work) -> WireFigures:
    transport = session.link.transport
    tx0, rx0 = transport.tx_bytes, transport.rx_bytes
    t0 = time.perf_counter()
    work()
    seconds = time.perf_counter() - t0
    return WireFigures(seconds, transport.tx_bytes - tx0, transport.rx_bytes - rx0, baud, items)


def measure_upload(session: SerialSession, data: bytes, baud: int) -> WireFigures:
    """One `db load` + chunks upload of `data`."""
    return _counted(session, baud, 1, lambda: session.load(data))


def measure_accuracy(session: SerialSession, inputs: Iterable[bytes], baud: int) -> WireFigures:
    """An accuracy pass: upload and `infer 1 0` per input, as the harness's accuracy mode does."""
    inputs = list(inputs)

    def work() -> None:
        for data in inputs:
            session.load(data)
            session.infer(1, 0)

    return _counted(session, baud, len(inputs), work)
