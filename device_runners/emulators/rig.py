"""Assemble an emulated rig: DUT firmware, optional interface board, optional LPM01A, one port.

`start_rig(...)` is what `tinyperf emulate dut` and the tests use: it returns a running rig whose
`url` a serial runner opens (a /dev/pts path or socket://127.0.0.1:PORT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyperf.device_runners.emulators.clock import EmulatedClock
from tinyperf.device_runners.emulators.dut import DutFirmware
from tinyperf.device_runners.emulators.faults import FaultPlan
from tinyperf.device_runners.emulators.interface_board import InterfaceBoardEmulator
from tinyperf.device_runners.emulators.wire import Endpoint, PtyEndpoint, TcpEndpoint
from tinyperf.workloads.catalog import get_workload

PERFORMANCE_BAUD = 115200
ENERGY_BAUD = 9600


@dataclass
class EmulatorRig:
    dut: DutFirmware
    endpoint: Endpoint
    clock: EmulatedClock
    board: InterfaceBoardEmulator | None = None
    monitor: Any = None  # an LPM01AEmulatorHandle when one was started
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def monitor_url(self) -> str | None:
        return self.monitor.port_url if self.monitor is not None else None

    @property
    def faults(self) -> FaultPlan:
        return self.dut.faults

    def close(self) -> None:
        self.endpoint.close()
        if self.monitor is not None:
            self.monitor.close()

    def __enter__(self) -> EmulatorRig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_rig(workload: str, model_path: str | Path, *, tcp_port: int | None = None, baud: int | None = None,
              baud_limit: int | None = None, us_per_inference: float | None = None, mode: str = "performance",
              vendor: str | None = None, faults: str | FaultPlan | None = None, start_us: int = 0,
              result_format: str = "reference", interface_board: str | None = None, dut_baud: int | None = None,
              model_id: str | None = None, lpm01a: dict[str, Any] | None = None,
              realtime: bool = False) -> EmulatorRig:
    """Start an emulated DUT (behind an interface board if asked) on a pty, or on TCP `tcp_port`.

    `baud` is the rate the DUT's UART runs at (115200, or 9600 in energy mode); a host opening the
    pty at another rate gets garbage. Behind a board the DUT runs at `dut_baud` (9600) and the
    host talks to the board (USB, any rate). `baud_limit` throttles the host link to that rate.
    `lpm01a` = keyword arguments for an LPM01A emulator that records the DUT's timestamp pulses.
    `realtime` makes each emulated window take its emulated time on the wall clock.
    """
    wl = get_workload(workload)
    clock = EmulatedClock(start_us=start_us)
    plan = faults if isinstance(faults, FaultPlan) else FaultPlan.parse(faults)
    kwargs: dict[str, Any] = {}
    if vendor:
        kwargs["vendor"] = vendor
    dut = DutFirmware(wl, model_path, clock=clock, us_per_inference=us_per_inference, mode=mode,
                      result_format=result_format, faults=plan, model_id=model_id, realtime=realtime, **kwargs)
    board = None
    device: Any = dut
    if interface_board and interface_board != "none":
        rate = dut_baud or ENERGY_BAUD
        board = InterfaceBoardEmulator(dut, interface_board, dut_baud=rate, dut_uart_baud=baud or rate)
        device = board
        host_baud = PERFORMANCE_BAUD if interface_board == "arduino" else None  # STM32: USB VCP, any rate
    else:
        host_baud = baud or (ENERGY_BAUD if mode == "energy" else PERFORMANCE_BAUD)
    monitor = None
    if lpm01a is not None:
        from tinyperf.device_runners.emulators.lpm01a import start_lpm01a_emulator

        monitor = start_lpm01a_emulator(clock, **lpm01a)
        dut.add_timestamp_listener(monitor.event_at)
    if tcp_port is not None:
        endpoint: Endpoint = TcpEndpoint(device, tcp_port, baud_limit=baud_limit, device_baud=host_baud)
    else:
        endpoint = PtyEndpoint(device, baud_limit=baud_limit, device_baud=host_baud)
    endpoint.start()
    return EmulatorRig(dut, endpoint, clock, board, monitor)
