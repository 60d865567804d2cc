"""Is a difference between two measurements real? Intervals and verdicts for compare and leaderboard.

Speed: a rank test over *windows*, not a bootstrap over per-inference latencies. Within a window,
consecutive inferences share cache state, CPU frequency and interrupts, so their latencies are
serially correlated: resampling 50,000 of them as if independent gives intervals so narrow that any
two runs of the same model "differ". The window is the unit MLPerf Tiny itself repeats (5 per run,
headline = their median), and windows are far closer to independent. With 5 windows a side a
bootstrap has too few distinct resamples to be trusted, while the exact Mann-Whitney distribution
gives a distribution-free interval with its true coverage: the Hodges-Lehmann interval for the
ratio of throughputs (a shift of log throughput), between order statistics of the m x n pairwise
ratios chosen from the exact null distribution of U (normal approximation beyond 2,500 pairs).
For 5 vs 5 windows the achievable two-sided level closest to 95 % without going under it is 96.8 %.

A verdict also needs the change to exceed `min_effect` (asv's `--factor`): an interval only covers
the window-to-window noise of the runs it sees, and two runs of one model at different times also
differ by their machine state (frequency, cache, other programs), which one run per side cannot
measure. Changes smaller than that are reported as "no significant difference".

Quality: a paired bootstrap over sample files (the same files scored by both runs, so the pairing
removes the files' difficulty from the noise): top-1 percentage points or AUC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats as sps

from tinyperf.workloads.scoring import roc_auc

LEVEL = 0.95
#: changes under this fraction are within run-to-run noise (asv's default factor is 10 %)
MIN_EFFECT = 0.05
FASTER, SLOWER, SAME, TOO_FEW = "faster", "slower", "no significant difference", "too few windows"
BETTER, WORSE = "more accurate", "less accurate"
BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval and the verdict it supports."""

    estimate: float  # new / base (speed) or new - base (quality)
    low: float
    high: float
    level: float  # the interval's actual coverage (exact where the test is exact)
    verdict: str
    method: str
    p_value: float = math.nan

    def excludes(self, value: float) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high)) and (self.low > value or self.high < value)


@lru_cache(maxsize=256)
def _u_cdf(m: int, n: int) -> np.ndarray:
    """P(U <= u) for u = 0..m*n under the null, exactly (counts of rank arrangements)."""
    # counts[i][j] as vectors: c(i, j, u) = c(i-1, j, u-j) + c(i, j-1, u)
    prev = [np.zeros(m * n + 1, dtype=np.float64) for _ in range(n + 1)]
    for j in range(n + 1):
        prev[j][0] = 1.0  # i = 0: one arrangement, U = 0
    for i in range(1, m + 1):
        cur = [np.zeros(m * n + 1, dtype=np.float64) for _ in range(n + 1)]
        cur[0][0] = 1.0
        for j in range(1, n + 1):
            shifted = np.zeros(m * n + 1)
            shifted[j:] = prev[j][:m * n + 1 - j]
            cur[j] = shifted + cur[j - 1]
        prev = cur
    counts = prev[n]
    return np.cumsum(counts) / counts.sum()


def _order_index(m: int, n: int, level: float) -> tuple[int, float]:
    """k (1-based) such that [d_(k), d_(mn-k+1)] covers at least `level`; 0 when no k can."""
    alpha = 1.0 - level
    if m * n <= 2500:
        cdf = _u_cdf(m, n)
        ks = np.nonzero(cdf <= alpha / 2)[0]  # P(U <= k-1) <= alpha/2
        if ks.size == 0:
            return 0, math.nan
        k = int(ks[-1]) + 1
        return k, float(1.0 - 2.0 * cdf[k - 1])
    z = sps.norm.ppf(1 - alpha / 2)
    k = int(math.floor(m * n / 2 - z * math.sqrt(m * n * (m + n + 1) / 12)))
    return max(k, 0), level


def speed_ratio(base: np.ndarray | list[float], new: np.ndarray | list[float], level: float = LEVEL,
                min_effect: float = MIN_EFFECT) -> Interval:
    """Speed-up of `new` over `base` (ratio of median throughputs) with the Hodges-Lehmann interval.

    `base` and `new` are window throughputs (inf/s, higher is faster), pooled over repeated runs.
    """
    a = np.asarray([v for v in base if v is not None and np.isfinite(v) and v > 0], dtype=np.float64)
    b = np.asarray([v for v in new if v is not None and np.isfinite(v) and v > 0], dtype=np.float64)
    method = f"Mann-Whitney over windows ({len(a)} vs {len(b)})"
    if a.size == 0 or b.size == 0:
        return Interval(math.nan, math.nan, math.nan, level, TOO_FEW, method)
    ratio = float(np.median(b) / np.median(a))
    k, coverage = _order_index(a.size, b.size, level)
    if k < 1:
        return Interval(ratio, math.nan, math.nan, level, TOO_FEW, method)
    d = np.sort((np.log(b)[:, None] - np.log(a)[None, :]).ravel())
    low, high = float(np.exp(d[k - 1])), float(np.exp(d[d.size - k]))
    p = float(sps.mannwhitneyu(b, a, alternative="two-sided").pvalue)
    verdict = SAME
    if low > 1.0 and ratio >= 1.0 + min_effect:
        verdict = FASTER
    elif high < 1.0 and ratio <= 1.0 - min_effect:
        verdict = SLOWER
    return Interval(ratio, low, high, coverage, verdict, method, p)


def _paired_bootstrap(base: np.ndarray, new: np.ndarray, statistic, level: float, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, base.shape[0], size=(BOOTSTRAP_RESAMPLES, base.shape[0]))
    diffs = np.array([statistic(new[i]) - statistic(base[i]) for i in idx])
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(diffs, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)


def quality_difference(base_correct: np.ndarray, new_correct: np.ndarray, level: float = LEVEL,
                       min_effect_points: float = 0.0) -> Interval:
    """Top-1 difference in percentage points (new - base) over the same files, paired bootstrap."""
    a = np.asarray(base_correct, dtype=np.float64)
    b = np.asarray(new_correct, dtype=np.float64)
    method = f"paired bootstrap over {a.size} files"
    if a.size == 0 or a.size != b.size:
        return Interval(math.nan, math.nan, math.nan, level, SAME, method)
    est = 100.0 * float(b.mean() - a.mean())
    lo, hi = _paired_bootstrap(100.0 * a, 100.0 * b, np.mean, level)
    return Interval(est, lo, hi, level, _quality_verdict(est, lo, hi, min_effect_points), method)


def auc_difference(labels: np.ndarray, base_scores: np.ndarray, new_scores: np.ndarray, level: float = LEVEL) -> Interval:
    """AUC difference (new - base) over the same files, paired bootstrap (labels resampled with them)."""
    y = np.asarray(labels)
    pairs = np.stack([np.asarray(base_scores, dtype=np.float64), np.asarray(new_scores, dtype=np.float64), y], axis=1)
    method = f"paired bootstrap over {len(y)} files"
    if len(y) == 0 or len(set(y.tolist())) < 2:
        return Interval(math.nan, math.nan, math.nan, level, SAME, method)
    est = float(roc_auc(pairs[:, 1], y) - roc_auc(pairs[:, 0], y))
    rng = np.random.default_rng(0)
    diffs = []
    for idx in rng.integers(0, len(y), size=(BOOTSTRAP_RESAMPLES, len(y))):
        s = pairs[idx]
        if len(set(s[:, 2].tolist())) < 2:
            continue
        diffs.append(roc_auc(s[:, 1], s[:, 2]) - roc_auc(s[:, 0], s[:, 2]))
    lo, hi = (np.percentile(diffs, [100 * (1 - level) / 2, 100 * (1 + level) / 2]) if diffs else (math.nan, math.nan))
    return Interval(est, float(lo), float(hi), level, _quality_verdict(est, float(lo), float(hi), 0.0), method)


def _quality_verdict(est: float, lo: float, hi: float, min_effect: float) -> str:
    if not math.isnan(lo) and lo > 0 and est >= min_effect:
        return BETTER
    if not math.isnan(hi) and hi < 0 and est <= -min_effect:
        return WORSE
    return SAME
