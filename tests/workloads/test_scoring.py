from __future__ import annotations

import itertools

import numpy as np

from tinyperf.workloads.scoring import roc_auc, top1_percent


def _pairwise_auc(scores, labels) -> float:
    pos = [s for s, l in zip(scores, labels) if l]
    neg = [s for s, l in zip(scores, labels) if not l]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_auc_matches_pairwise_definition_with_ties() -> None:
    rng = np.random.default_rng(1)
    scores = np.round(rng.normal(size=200), 1)  # rounding forces ties
    labels = rng.integers(0, 2, 200)
    assert abs(roc_auc(scores, labels) - _pairwise_auc(scores, labels)) < 1e-12


def test_auc_extremes_and_undefined() -> None:
    assert roc_auc([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1]) == 1.0
    assert roc_auc([0.9, 0.8, 0.1, 0.2], [0, 0, 1, 1]) == 0.0
    assert np.isnan(roc_auc([0.1, 0.2], [1, 1]))


def test_top1() -> None:
    assert top1_percent(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 75.0
    assert np.isnan(top1_percent(np.array([]), np.array([])))


def test_each_workload_carries_a_scoring_object_that_writes_its_own_lines() -> None:
    import pandas as pd

    from tinyperf.workloads.catalog import AD01, KWS01, WORKLOADS
    from tinyperf.workloads.scoring import AUC, SCORINGS, TOP1

    assert {w.scoring for w in WORKLOADS.values()} <= set(SCORINGS)
    assert KWS01.scoring is TOP1 and AD01.scoring is AUC
    assert TOP1.results_line(90.14) == "Top 1% = 90.1" and AUC.results_line(0.8587) == "AUC = 0.859"
    assert TOP1.cell(90.14) == "90.1 %" and AUC.cell(0.8587) == "AUC 0.859"
    assert TOP1.target(90.0) == "top-1 >= 90 %" and AUC.target(0.85) == "AUC >= 0.85"
    assert TOP1.predict(np.array([0.1, 0.7, 0.2])) == (1, 0.7) and AUC.predict(np.array([3.5])) == (None, 3.5)
    assert KWS01.n_results == 12 and AD01.n_results == 1
    rows = pd.DataFrame({"file": ["a", "a", "b", "b", "c"], "window": [0, 1, 0, 1, 0],
                         "label": [0, 0, 1, 1, 1], "score": [1.0, 1.0, 5.0, 5.0, 0.0], "predicted": [None] * 5})
    value, files = AUC.aggregate(rows, windows_per_file=2)  # c has one window of two: not scored
    assert (value, files) == (1.0, 2)
    assert AUC.aggregate(rows.iloc[:0], 2) == (None, 0) and TOP1.aggregate(rows.iloc[:0], 1) == (None, 0)
