"""Range-based precision and recall (Tatbul, Lee, Zdonik, Alam & Gottschlich, NeurIPS 2018).

Anomalies and predictions are ranges (maximal runs of 1s). For each real range ``R`` (recall) or predicted range
``P`` (precision)::

    reward = α · existence + (1 − α) · γ(k) · Σ ω(range, overlap with each of the k ranges of the other side)

* ``existence`` is 1 when the range overlaps at least one range of the other side;
* ``ω`` is the share of the range that the overlap covers, each position weighted by the positional bias ``δ``:
  ``flat`` (all 1), ``front`` (earlier positions weigh more), ``back`` (later ones), ``middle`` (the centre);
* ``γ(k)`` is the cardinality factor: ``one`` (always 1) or ``reciprocal`` (``1/k`` when the range overlaps ``k > 1``
  ranges), or a callable ``k -> factor``.

Recall is the mean reward over the real ranges, precision over the predicted ones (0 when there are none). The
paper recommends ``α = 0`` for precision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError

BIASES = ("flat", "front", "middle", "back")
CARDINALITIES = ("one", "reciprocal")


def ranges_of(flags: Any) -> np.ndarray:
    """``(start, end)`` rows (inclusive) of the maximal runs of non-zero values of a 1-D array."""
    x = np.asarray(flags).reshape(-1) != 0
    edges = np.flatnonzero(np.diff(np.r_[False, x, False].astype(np.int8)))
    return np.stack([edges[::2], edges[1::2] - 1], axis=1) if edges.size else np.empty((0, 2), dtype=np.int64)


def _bias_weights(length: int, bias: str) -> np.ndarray:
    t = np.arange(1, length + 1, dtype=np.float64)
    if bias == "flat":
        return np.ones(length)
    if bias == "front":
        return length - t + 1.0
    if bias == "back":
        return t
    return np.where(t <= length / 2.0, t, length - t + 1.0)  # middle


def _gamma(cardinality: str | Callable[[int], float]) -> Callable[[int], float]:
    if callable(cardinality):
        return cardinality
    if cardinality == "one":
        return lambda k: 1.0
    if cardinality == "reciprocal":
        return lambda k: 1.0 / k if k > 1 else 1.0
    raise InputError(f"cardinality must be one of {', '.join(CARDINALITIES)} or a callable, got {cardinality!r}")


def _check(y_true: Any, y_pred: Any, alpha: float, bias: str) -> tuple[np.ndarray, np.ndarray]:
    real = np.asarray(y_true).reshape(-1)
    pred = np.asarray(y_pred).reshape(-1)
    if real.shape != pred.shape:
        raise InputError(f"labels have {real.size} rows but predictions have {pred.size}")
    for name, values in (("labels", real), ("predictions", pred)):
        if not set(np.unique(values).tolist()) <= {0, 1}:
            raise InputError(f"{name} must be 0/1")
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"alpha must be in [0, 1], got {alpha}")
    if bias not in BIASES:
        raise InputError(f"bias must be one of {', '.join(BIASES)}, got {bias!r}")
    return ranges_of(real), ranges_of(pred)


def _mean_reward(own: np.ndarray, other: np.ndarray, alpha: float, gamma: Callable[[int], float],
                 bias: str) -> float:
    """Mean over the ranges ``own`` of their reward against the ranges ``other`` (both sorted, disjoint)."""
    if own.shape[0] == 0:
        return 0.0
    first = np.searchsorted(other[:, 1], own[:, 0], side="left")  # first other range ending at or after the start
    last = np.searchsorted(other[:, 0], own[:, 1], side="right")  # past the last one starting at or before the end
    total = 0.0
    for (start, end), lo, hi in zip(own, first, last, strict=True):
        k = int(hi - lo)
        if k <= 0:
            continue
        weights = _bias_weights(int(end - start + 1), bias)
        cumulative = np.r_[0.0, np.cumsum(weights)]
        lo_pos = np.maximum(other[lo:hi, 0], start) - start
        hi_pos = np.minimum(other[lo:hi, 1], end) - start
        omega = float(np.sum(cumulative[hi_pos + 1] - cumulative[lo_pos])) / cumulative[-1]
        total += alpha + (1.0 - alpha) * gamma(k) * omega
    return total / own.shape[0]


def range_recall(y_true: Any, y_pred: Any, *, alpha: float = 0.0, cardinality: str | Callable[[int], float] = "one",
                 bias: str = "flat") -> float:
    """Range-based recall of 0/1 predictions against 0/1 labels (0 when there is no real anomaly)."""
    real, pred = _check(y_true, y_pred, alpha, bias)
    return _mean_reward(real, pred, alpha, _gamma(cardinality), bias)


def range_precision(y_true: Any, y_pred: Any, *, alpha: float = 0.0,
                    cardinality: str | Callable[[int], float] = "one", bias: str = "flat") -> float:
    """Range-based precision of 0/1 predictions against 0/1 labels (0 when nothing is predicted)."""
    real, pred = _check(y_true, y_pred, alpha, bias)
    return _mean_reward(pred, real, alpha, _gamma(cardinality), bias)


def range_f1(y_true: Any, y_pred: Any, *, alpha: float = 0.0, cardinality: str | Callable[[int], float] = "one",
             bias: str = "flat") -> float:
    """Harmonic mean of range precision (with ``α = 0``) and range recall (with ``alpha``)."""
    precision = range_precision(y_true, y_pred, cardinality=cardinality, bias=bias)
    recall = range_recall(y_true, y_pred, alpha=alpha, cardinality=cardinality, bias=bias)
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
