"""Small statistics objects with pyperf-style stability checks."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

#: pyperf warns when the standard deviation exceeds 10 % of the mean
UNSTABLE_RELATIVE_STDEV = 0.10


@dataclass(frozen=True)
class Stats:
    n: int
    median: float
    mean: float
    stdev: float
    min: float
    max: float
    q1: float
    q3: float
    p90: float
    p99: float

    @classmethod
    def of(cls, values) -> Stats | None:
        """Stats of the values, or None when there are none (never zeros for 'not measured')."""
        a = np.asarray(values, dtype=np.float64).ravel()
        if a.size == 0:
            return None
        q1, med, q3, p90, p99 = np.percentile(a, [25, 50, 75, 90, 99])
        return cls(
            n=int(a.size), median=float(med), mean=float(a.mean()),
            stdev=float(a.std(ddof=1)) if a.size > 1 else 0.0,
            min=float(a.min()), max=float(a.max()),
            q1=float(q1), q3=float(q3), p90=float(p90), p99=float(p99),
        )

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def relative_stdev(self) -> float:
        return self.stdev / self.mean if self.mean else math.nan

    def stability_warning(self, what: str) -> str | None:
        """A sentence when the spread is too large to trust the median, else None."""
        if self.n < 2:
            return None
        percent = round(self.relative_stdev * 100, 1)  # judged as printed: never "10.0 % (more than 10 %)"
        if percent > UNSTABLE_RELATIVE_STDEV * 100:
            return (f"{what} is unstable: standard deviation is {percent:.1f} % of the mean "
                    f"(more than {UNSTABLE_RELATIVE_STDEV * 100:g} %); close other programs, pin the CPU "
                    "frequency, or use longer windows")
        return None

    def as_dict(self, prefix: str = "", scale: float = 1.0) -> dict[str, float]:
        d = {k: v * scale if k != "n" else v for k, v in asdict(self).items()}
        d["iqr"] = self.iqr * scale
        return {f"{prefix}{k}": v for k, v in d.items()}
