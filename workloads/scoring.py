"""Quality metrics as the MLPerf Tiny runner computes them."""

from __future__ import annotations

from typing import Any

import numpy as np


def top1_percent(predicted: np.ndarray, labels: np.ndarray) -> float:
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    if len(labels) == 0:
        return float("nan")
    return float(np.mean(predicted == labels) * 100.0)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (label 1 = positive), ties counted half, as sklearn does."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


class Scoring:
    """How a workload is scored, as one object: what an inference reports, what it predicts, how the
    predictions aggregate into the headline, and how that headline is written (summary column,
    results.txt line, table cell). A workload carries one; nothing else tests what kind it is.
    """

    name: str = ""
    #: the summary column holding the headline (also the column of compare and quantize tables)
    column: str = ""
    #: its name in tables, and the unit after a number ("" for a unitless score)
    label: str = ""
    unit: str = ""
    #: decimals in results.txt (the submission checker's format) and in tables comparing variants
    digits: int = 1
    fine_digits: int = 2
    #: True when an inference predicts a class (argmax); False when it yields one score per window
    classifies: bool = True

    def outputs(self, real_input: np.ndarray, real_output: np.ndarray) -> np.ndarray:
        """The values a DUT prints in `m-results-[...]` for one inference."""
        return real_output.reshape(-1).astype(np.float64)

    def n_results(self, output_size: int) -> int:
        """How many values a DUT reports per inference."""
        return output_size

    def predict(self, results: np.ndarray) -> tuple[int | None, float | None]:
        """(predicted class, score) of one inference."""
        return int(np.argmax(results)), float(np.max(results))

    def aggregate(self, samples: Any, windows_per_file: int) -> tuple[float | None, int]:
        """(headline, files scored) from the accuracy rows (a DataFrame: file, window, label, predicted, score)."""
        raise NotImplementedError

    def results_line(self, value: float) -> str:
        """The results.txt line the MLPerf Tiny submission checker greps."""
        raise NotImplementedError

    def cell(self, value: float) -> str:
        """The headline in a table: '90.1 %', 'AUC 0.860'."""
        raise NotImplementedError

    def target(self, target: float) -> str:
        """The quality target in words: 'top-1 >= 90 %', 'AUC >= 0.85'."""
        return f"{self.label} >= {target:g}{self.unit}"

    def heading(self) -> str:
        """Column heading: 'top-1 %', 'AUC'."""
        return f"{self.label}{self.unit}"

    def __repr__(self) -> str:
        return f"<scoring {self.name}>"


class TopOne(Scoring):
    """Classifiers: the class with the highest output; top-1 accuracy in percent over every file."""

    name, column, label, unit, digits, fine_digits, classifies = "top1", "top1_pct", "top-1", " %", 1, 2, True

    def aggregate(self, samples: Any, windows_per_file: int) -> tuple[float | None, int]:
        if not len(samples):
            return None, 0
        return top1_percent(samples["predicted"], samples["label"]), len(samples)

    def results_line(self, value: float) -> str:
        return f"Top 1% = {value:2.{self.digits}f}"  # the official runner's line (after its time prefix)

    def cell(self, value: float) -> str:
        return f"{value:.1f} %"


class AreaUnderCurve(Scoring):
    """The anomaly detector: each window scores its mean squared reconstruction error (as the
    reference firmware prints it), a recording scores the mean over its windows, and the headline
    is the ROC AUC over complete recordings."""

    name, column, label, unit, digits, fine_digits, classifies = "auc", "auc", "AUC", "", 3, 3, False

    def outputs(self, real_input: np.ndarray, real_output: np.ndarray) -> np.ndarray:
        diff = real_output.reshape(-1).astype(np.float64) - real_input.reshape(-1).astype(np.float64)
        return np.array([np.mean(diff * diff)])

    def n_results(self, output_size: int) -> int:
        return 1

    def predict(self, results: np.ndarray) -> tuple[int | None, float | None]:
        return None, float(results[0])

    def aggregate(self, samples: Any, windows_per_file: int) -> tuple[float | None, int]:
        if not len(samples):
            return None, 0
        per_file = samples.groupby("file", sort=False).agg(score=("score", "mean"), label=("label", "first"),
                                                           windows=("window", "count"))
        per_file = per_file[per_file["windows"] == windows_per_file]  # a partial recording is not scored
        if not len(per_file):
            return None, 0
        return roc_auc(per_file["score"].to_numpy(), per_file["label"].to_numpy()), len(per_file)

    def results_line(self, value: float) -> str:
        return f"AUC = {value:.{self.digits}f}"  # the official runner's line (after its time prefix)

    def cell(self, value: float) -> str:
        return f"AUC {value:.3f}"

    def target(self, target: float) -> str:
        return f"AUC >= {target:g}"


TOP1 = TopOne()
AUC = AreaUnderCurve()
#: every scoring tinyperf writes a summary column for, in column order
SCORINGS: tuple[Scoring, ...] = (TOP1, AUC)


def scoring_columns() -> list[str]:
    return [s.column for s in SCORINGS]
