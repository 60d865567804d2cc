"""Intervals and verdicts on a comparison table, and the regression gate built on them.

The statistics themselves (which test, why) are in `tinyperf.engine.significance`; this module
attaches them to the rows of `tinyperf.outputs.leaderboard.compare` and decides what a CI job
should fail on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tinyperf.engine.significance import (LEVEL, MIN_EFFECT, SLOWER, WORSE, auc_difference, quality_difference,
                                          speed_ratio)

BASELINE = "baseline"


def _correct_by_file(samples: pd.DataFrame) -> pd.Series:
    """1.0 per correctly classified file (top-1 workloads), indexed by file."""
    s = samples.drop_duplicates("file", keep="last")
    return pd.Series((s["predicted"] == s["label"]).astype(float).to_numpy(), index=s["file"].to_numpy())


def _scores_by_file(samples: pd.DataFrame) -> pd.DataFrame:
    """Mean anomaly score and label per file (AUC workloads), as the AUC is scored."""
    return samples.groupby("file", sort=True).agg(score=("score", "mean"), label=("label", "first"))


def _quality_interval(base: pd.DataFrame | None, new: pd.DataFrame | None, scoring: str, level: float):
    if base is None or new is None or base.empty or new.empty or "file" not in base or "file" not in new:
        return None
    if scoring == "auc":
        a, b = _scores_by_file(base), _scores_by_file(new)
        common = a.index.intersection(b.index)
        if len(common) == 0:
            return None
        return auc_difference(a.loc[common, "label"].to_numpy(), a.loc[common, "score"].to_numpy(),
                              b.loc[common, "score"].to_numpy(), level)
    a, b = _correct_by_file(base), _correct_by_file(new)
    common = a.index.intersection(b.index)
    if len(common) == 0:
        return None
    return quality_difference(a.loc[common].to_numpy(), b.loc[common].to_numpy(), level)


def add_intervals(table: pd.DataFrame, windows: dict[tuple[str, str], np.ndarray],
                  samples: dict[tuple[str, str], pd.DataFrame], level: float = LEVEL,
                  min_effect: float = MIN_EFFECT) -> pd.DataFrame:
    """Speed-up against the first row of each workload with its interval and verdict; the same for quality.

    `windows[(label, workload)]` are the window throughputs of that row (pooled over its runs),
    `samples[(label, workload)]` its accuracy samples.
    """
    from tinyperf.workloads.catalog import WORKLOADS

    for col in ("speedup_vs_first", "speedup_low", "speedup_high", "speedup_level", "quality_diff",
                "quality_low", "quality_high"):
        table[col] = np.nan
    table["verdict"] = None
    table["quality_verdict"] = None
    table["interval_method"] = None
    for wl, group in table.groupby("workload", sort=False):
        timed = group[group["throughput_ips"].notna()]
        scoring = WORKLOADS[wl].scoring if wl in WORKLOADS else "top1"
        if len(timed):
            base_label = timed.iloc[0]["run"]
            base = windows.get((base_label, wl), np.array([]))
            for i, r in timed.iterrows():
                if r["run"] == base_label:
                    table.loc[i, ["speedup_vs_first", "verdict"]] = [1.0, BASELINE]
                    continue
                iv = speed_ratio(base, windows.get((r["run"], wl), np.array([])), level, min_effect)
                table.loc[i, ["speedup_vs_first", "speedup_low", "speedup_high", "speedup_level"]] = \
                    [iv.estimate, iv.low, iv.high, iv.level]
                table.loc[i, ["verdict", "interval_method"]] = [iv.verdict, iv.method]
        scored = group[(group["top1_pct"].notna() | group["auc"].notna()) & group["quality_withheld"].isna()]
        if len(scored) > 1:
            base_label = scored.iloc[0]["run"]
            for i, r in scored.iloc[1:].iterrows():
                iv = _quality_interval(samples.get((base_label, wl)), samples.get((r["run"], wl)), scoring, level)
                if iv is not None:
                    table.loc[i, ["quality_diff", "quality_low", "quality_high"]] = [iv.estimate, iv.low, iv.high]
                    table.loc[i, "quality_verdict"] = iv.verdict
    return table


@dataclass(frozen=True)
class Regression:
    workload: str
    run: str
    message: str


def parse_threshold(text: str) -> float:
    """'5%' or '0.05' -> 0.05; raises ValueError with the accepted forms."""
    t = str(text).strip()
    try:
        value = float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        raise ValueError(f"{text!r} is not a threshold; write it as 5% or 0.05") from None
    if not 0 <= value < 1 or math.isnan(value):
        raise ValueError(f"{text!r} is out of range; a threshold is between 0% and 100%")
    return value


def _pct(x: float) -> str:
    return f"{100 * (x - 1):+.1f} %"


def regressions(table: pd.DataFrame, threshold: float) -> list[Regression]:
    """Rows significantly slower (or less accurate) than their workload's baseline by more than threshold.

    Speed: the verdict is "slower" (the interval excludes 1) and the speed-up is below 1 - threshold.
    Quality: the verdict is "less accurate" and the drop exceeds `threshold` of the baseline's figure
    (relative: 5 % of 90 % top-1 is 4.5 points).
    """
    out: list[Regression] = []
    for i, r in table.iterrows():
        base_rows = table[(table["workload"] == r["workload"]) & (table["verdict"] == BASELINE)]
        base_label = base_rows.iloc[0]["run"] if len(base_rows) else None
        if r.get("verdict") == SLOWER and r["speedup_vs_first"] < 1 - threshold:
            base = base_rows.iloc[0]
            out.append(Regression(r["workload"], r["run"], (
                f"{r['workload']}: {r['run']} is slower than {base_label}: {r['throughput_ips']:,.3f} vs "
                f"{base['throughput_ips']:,.3f} inf/s, speed-up {r['speedup_vs_first']:.3f}x "
                f"({_pct(r['speedup_vs_first'])}; {100 * r['speedup_level']:.1f} % interval "
                f"{r['speedup_low']:.3f}-{r['speedup_high']:.3f}x), more than the {100 * threshold:g} % allowed")))
        if r.get("quality_verdict") == WORSE:
            what, unit = ("AUC", "") if pd.notna(r.get("auc")) else ("top-1", " points")
            scored = table[(table["workload"] == r["workload"]) & (table["top1_pct"].notna() | table["auc"].notna())]
            base = scored.iloc[0]
            base_value = base["auc"] if what == "AUC" else base["top1_pct"]
            if -r["quality_diff"] > threshold * base_value:
                value = r["auc"] if what == "AUC" else r["top1_pct"]
                out.append(Regression(r["workload"], r["run"], (
                    f"{r['workload']}: {r['run']} is less accurate than {base['run']}: {what} {value:.3f} vs "
                    f"{base_value:.3f} ({r['quality_diff']:+.3f}{unit}; {100 * LEVEL:g} % interval "
                    f"{r['quality_low']:+.3f} to {r['quality_high']:+.3f}), more than the {100 * threshold:g} % allowed")))
    return out


def row_flags(r: dict[str, Any]) -> str:
    """'~' when a row's windows or runs carried a stability warning."""
    w = r.get("warnings")
    return "~" if isinstance(w, str) and ("unstable" in w or "spread" in w or "busy" in w) else ""
