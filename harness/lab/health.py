"""`tinyperf lab check`: ask every board of the inventory who it is, all at once, within a bound.

Per board: is it reachable, which workload its firmware runs (`profile`), which baud answered
(the configured one first, then the usual rates: a board at the wrong rate is named with the
rate that answered), and, for a labgrid place, who holds it. A place held by someone else is not
touched; a free one is acquired for the probe and released.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

from tinyperf.core.errors import TinyperfError
from tinyperf.device_runners.serial.discovery import PROBE_BAUDS, probe
from tinyperf.lab.inventory import Board, Inventory
from tinyperf.lab.labgrid import PlaceLocked, board_port

#: extra time per board beyond its probes: labgrid calls, opening a network port
SLACK_S = 20.0


@dataclass
class Health:
    board: Board
    resource: str
    reachable: bool = False
    vendor: str | None = None
    firmware: str | None = None
    baud: int | None = None
    configured_baud: int | None = None
    locked_by: str | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.reachable and self.baud == self.configured_baud and not self.firmware_mismatch

    @property
    def wrong_baud(self) -> bool:
        return self.baud is not None and self.configured_baud is not None and self.baud != self.configured_baud

    @property
    def firmware_mismatch(self) -> bool:
        return bool(self.board.firmware and self.firmware and self.firmware != self.board.firmware)


def check_board(board: Board, coordinator: str | None, timeout: float) -> Health:
    h = Health(board, board.resource)
    try:
        with board_port(board, coordinator) as port:
            h.resource = port.url if not board.place else f"{board.place} -> {port.url}"
            h.configured_baud = port.baud
            r = probe(port.url, port.baud, PROBE_BAUDS, timeout)
    except PlaceLocked as exc:
        h.locked_by = exc.owner
        h.note = f"acquired by {exc.owner}: not probed"
        return h
    except TinyperfError as exc:
        h.note = exc.one_line()
        return h
    h.reachable = r.kind in ("dut", "interface-board")
    h.vendor, h.firmware, h.baud = r.vendor, r.model, r.answered_baud
    notes = []
    if h.wrong_baud:
        notes.append(f"wrong baud: answers at {r.answered_baud}, not the configured {port.baud} "
                     f"(set baud: {r.answered_baud})")
    elif r.note:
        notes.append(r.note)
    if h.firmware_mismatch:
        notes.append(f"runs {h.firmware} firmware, the inventory says {board.firmware}")
    h.note = "; ".join(notes)
    return h


def check_lab(inventory: Inventory, boards: list[Board], timeout: float = 0.5) -> list[Health]:
    """Probe `boards` in parallel; a board that does not finish within its bound is reported as such."""
    coordinator = inventory.coordinator_address()
    bound = timeout * 4 * len(PROBE_BAUDS) + SLACK_S  # name + profile, two tries, every rate
    pool = ThreadPoolExecutor(max_workers=max(1, len(boards)), thread_name_prefix="lab-check")
    futures = {b.name: pool.submit(check_board, b, coordinator, timeout) for b in boards}
    wait(futures.values(), timeout=bound)
    out = []
    for b in boards:
        f = futures[b.name]
        if f.done():
            out.append(f.result())
        else:
            out.append(Health(b, b.resource, note=f"no result within {bound:g} s"))
    pool.shutdown(wait=False, cancel_futures=True)
    return out
