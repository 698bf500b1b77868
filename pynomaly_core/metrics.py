"""Ranking metrics in NumPy (identical to scikit-learn's on the same input, ties included)."""

from __future__ import annotations

import numpy as np

from pynomaly_core.errors import InputError


def rankdata(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based), ties share the mean of their ranks."""
    values = np.asarray(values)
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(starts)
    bounds = np.r_[np.flatnonzero(starts), values.size]
    average = 0.5 * (bounds[group] + bounds[group - 1] + 1)
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = average
    return ranks


def _check_binary(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if y_true.shape != scores.shape:
        raise InputError(f"labels have {y_true.size} rows but scores have {scores.size}")
    labels = set(np.unique(y_true).tolist())
    if not labels <= {0, 1}:
        raise InputError(f"labels must be 0/1, got values {sorted(labels)[:5]}")
    if labels != {0, 1}:
        raise InputError("labels contain only one class; ROC-AUC and average precision are undefined")
    return y_true.astype(bool), scores


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney U with mid-ranks for ties)."""
    positive, scores = _check_binary(y_true, scores)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Average precision: sum over distinct thresholds of (recall step) x precision."""
    positive, scores = _check_binary(y_true, scores)
    order = np.argsort(-scores, kind="mergesort")
    ordered = scores[order]
    hits = positive[order]
    ends = np.r_[np.flatnonzero(np.diff(ordered)), ordered.size - 1]
    true_pos = np.cumsum(hits)[ends]
    predicted = ends + 1
    precision = true_pos / predicted
    recall = true_pos / true_pos[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def precision_at_n(y_true: np.ndarray, scores: np.ndarray, n: int | None = None) -> float:
    """Precision among the ``n`` highest scores (default ``n`` = number of anomalies)."""
    positive, scores = _check_binary(y_true, scores)
    n = int(positive.sum()) if n is None else n
    top = np.argsort(-scores, kind="mergesort")[:n]
    return float(positive[top].mean())


def f1_at_threshold(y_true: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    """F1 of the rows flagged ``score > threshold`` (a detector's ``predict``); 0 when nothing is flagged."""
    positive, scores = _check_binary(y_true, scores)
    flagged = scores > threshold
    true_pos = int(np.sum(flagged & positive))
    denominator = int(flagged.sum()) + int(positive.sum())
    return 0.0 if denominator == 0 else 2.0 * true_pos / denominator


def label_metrics(y_true: np.ndarray | None, scores: np.ndarray) -> dict[str, float]:
    """ROC-AUC and average precision of ``scores`` when ``y_true`` holds both classes; ``{}`` without labels or with
    one class only. The metrics of every detection, scoring and training run (SDK, CLI, server, streaming)."""
    if y_true is None:
        return {}
    y_true = np.asarray(y_true).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if y_true.size != scores.size:
        raise InputError(f"labels have {y_true.size} rows but the data has {scores.size}")
    if np.unique(y_true).size != 2:
        return {}
    return {"roc_auc": roc_auc(y_true, scores), "average_precision": average_precision(y_true, scores)}
