"""Fault injection for the DUT emulator: a spec string, a seeded random source, and the faults.

Spec: comma-separated items, e.g. `drop=0.01,garble=0.01,stall=3@12,reset@40,slow=0.2,error@7`.

| item | effect |
|---|---|
| `drop=P` | each byte the DUT sends is lost with probability P |
| `garble=P` | each byte the DUT sends is replaced by a random other byte with probability P |
| `rxdrop=P`, `rxgarble=P` | the same for bytes the DUT receives |
| `stall=S@N` | command number N (1-based, counted since power-on) is answered after S s of silence |
| `slow=S` / `slow=S@N` | every reply (or command N's) starts S seconds late |
| `reset@N` | the DUT resets on command N: boot banner again, loaded input lost |
| `error@N` | command N is refused with `e-[...]` instead of being executed |
| `seed=K` | random seed for drop/garble (default 0), so a faulty run is reproducible |

`@N` items may repeat (`reset@40,reset@90`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tinyperf.core.errors import TinyperfError

_RATES = ("drop", "garble", "rxdrop", "rxgarble")


@dataclass
class FaultPlan:
    drop: float = 0.0
    garble: float = 0.0
    rxdrop: float = 0.0
    rxgarble: float = 0.0
    slow: float = 0.0
    stalls: dict[int, float] = field(default_factory=dict)
    slow_at: dict[int, float] = field(default_factory=dict)
    resets: set[int] = field(default_factory=set)
    errors: set[int] = field(default_factory=set)
    seed: int = 0
    spec: str = ""

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self.injected: dict[str, int] = {}

    @classmethod
    def parse(cls, spec: str | None) -> FaultPlan:
        plan = cls(spec=spec or "")
        for raw in (spec or "").split(","):
            item = raw.strip()
            if not item:
                continue
            try:
                plan._add(item)
            except ValueError as exc:
                raise TinyperfError("--faults", f"cannot read '{item}' ({exc})",
                                    "write items like drop=0.01, garble=0.01, stall=3@12, reset@40, slow=0.2, "
                                    "error@7, seed=1, separated by commas") from None
        plan._rng = random.Random(plan.seed)
        return plan

    def _add(self, item: str) -> None:
        key, _, value = item.partition("=")
        at = None
        if "@" in (value or key):
            if value:
                value, _, at_s = value.partition("@")
            else:
                key, _, at_s = key.partition("@")
            at = int(at_s)
            if at < 1:
                raise ValueError("command numbers start at 1")
        key = key.strip().lower()
        if key in _RATES:
            p = float(value)
            if not 0.0 <= p <= 1.0:
                raise ValueError("a probability is between 0 and 1")
            setattr(self, key, p)
        elif key == "seed":
            self.seed = int(value)
        elif key == "stall":
            if at is None:
                raise ValueError("stall needs @N")
            self.stalls[at] = float(value)
        elif key == "slow":
            if at is None:
                self.slow = float(value)
            else:
                self.slow_at[at] = float(value)
        elif key in ("reset", "error"):
            if at is None or value:
                raise ValueError(f"write {key}@N")
            (self.resets if key == "reset" else self.errors).add(at)
        else:
            raise ValueError(f"unknown fault '{key}'")

    @property
    def active(self) -> bool:
        return bool(self.drop or self.garble or self.rxdrop or self.rxgarble or self.slow or self.stalls
                    or self.slow_at or self.resets or self.errors)

    def count(self, kind: str, n: int = 1) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + n

    def corrupt(self, data: bytes, drop: float, garble: float, tag: str) -> bytes:
        """Apply byte loss and corruption to one burst; the common case (no faults) is free."""
        if not (drop or garble) or not data:
            return data
        rng = self._rng
        out = bytearray()
        for b in data:
            if drop and rng.random() < drop:
                self.count(f"{tag}drop")
                continue
            if garble and rng.random() < garble:
                self.count(f"{tag}garble")
                b = (b + rng.randrange(1, 256)) & 0xFF
            out.append(b)
        return bytes(out)

    def tx(self, data: bytes) -> bytes:
        return self.corrupt(data, self.drop, self.garble, "")

    def rx(self, data: bytes) -> bytes:
        return self.corrupt(data, self.rxdrop, self.rxgarble, "rx")
