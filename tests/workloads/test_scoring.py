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
