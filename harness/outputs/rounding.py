"""Numbers as MLPerf Tiny publishes them, for every table we write (CSV, HTML).

The published summary.csv prints throughput with 3 decimals, top-1 with 1, AUC with 3 and energy
with 4; binary floats printed raw read `90.10000000000001`, which nobody publishes.
"""

from __future__ import annotations

import pandas as pd

#: decimals per column name (compare table and leaderboard, both spellings)
DECIMALS: dict[str, int] = {
    "throughput_ips": 3, "Result": 3, "latency_ms": 4, "lat_p99_us": 1, "lat_median_us": 2,
    "energy_uj_per_inf": 4, "Power": 4, "power_mw": 4, "top1_pct": 1, "auc": 3,
    "speedup_vs_first": 3, "speedup_low": 3, "speedup_high": 3, "speedup_level": 3, "Speedup": 3,
    "SpeedupLow": 3, "SpeedupHigh": 3, "quality_diff": 3, "quality_low": 3, "quality_high": 3,
    "run_spread_pct": 1, "RunSpreadPct": 1, "quality_target": 3,
}


def accuracy_decimals(value: float) -> int:
    """The published Accuracy column mixes top-1 % (90.2) and AUC / F1 (0.862): 1 or 3 decimals."""
    return 3 if abs(value) <= 1.0 else 1


def rounded(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with every known numeric column rounded as published; the rest untouched."""
    out = df.copy()
    for col, d in DECIMALS.items():
        if col in out:
            out[col] = pd.to_numeric(out[col], errors="coerce").round(d)
    if "Accuracy" in out:
        acc = pd.to_numeric(out["Accuracy"], errors="coerce")
        out["Accuracy"] = [round(v, accuracy_decimals(v)) if pd.notna(v) else v for v in acc]
    return out
