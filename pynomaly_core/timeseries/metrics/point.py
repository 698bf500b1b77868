"""Point-wise metrics of a score series: each row is one sample (ROC-AUC and average precision come from
:mod:`pynomaly_core.metrics`), plus the best F1 over thresholds."""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.metrics import _check_binary, average_precision, roc_auc


def best_f1(y_true: Any, scores: Any) -> tuple[float, float]:
    """The largest point-wise F1 over the thresholds ``score >= t`` and the threshold that gives it."""
    positive, values = _check_binary(y_true, scores)
    order = np.argsort(-values, kind="mergesort")
    ranked = values[order]
    ends = np.r_[np.flatnonzero(np.diff(ranked)), ranked.size - 1]
    true_pos = np.cumsum(positive[order])[ends]
    f1 = 2.0 * true_pos / (ends + 1 + positive.sum())
    best = int(np.argmax(f1))
    return float(f1[best]), float(ranked[ends[best]])


def point_metrics(y_true: Any, scores: Any) -> dict[str, float]:
    """ROC-AUC, average precision and best F1 of per-row scores against per-row 0/1 labels."""
    return {"roc_auc": roc_auc(y_true, scores), "average_precision": average_precision(y_true, scores),
            "best_f1": best_f1(y_true, scores)[0]}
