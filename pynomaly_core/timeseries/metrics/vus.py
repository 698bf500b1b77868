"""Volume Under the Surface: VUS-ROC and VUS-PR (Paparrizos, Boniol, Palpanas, Tsay, Elmore & Franklin, VLDB 2022).

Range-AUC softens the labels around each anomaly range with a buffer of length ``w``: the ``w // 2`` rows on each
side get the label ``sqrt(1 - d / w)`` at distance ``d`` (capped at 1 where buffers meet). At a threshold, with
``B`` the soft-label mass the predictions hit in the buffers and ``P`` the number of anomalous rows,

* ``TP = (anomalous rows flagged) + B``; ``recall = min(1, TP / ((P + P + B) / 2))``;
* ``TPR = recall · (share of anomaly segments with at least one flagged row)`` (segments: ranges with their
  buffers, merged where they meet); ``FPR = (flagged − TP) / (n − (2P + B) / 2)``; ``precision = TP / flagged``.

The ROC curve (with ``(0, 0)`` and ``(1, 1)`` added) is integrated by trapezoids, the PR curve as a step sum
(``Σ Δrecall · precision``); VUS averages the two areas over the buffer lengths ``0, 1, …, max_buffer``.
Thresholds are the scores at ``n_thresholds`` evenly spaced ranks of the sorted scores, as in the TSB-AD
reference implementation (``n_thresholds=None``: every distinct score). With ``max_buffer=0``,
``existence=False`` and every threshold, VUS-ROC is the point ROC-AUC and VUS-PR the average precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.timeseries.metrics.ranges import ranges_of


@dataclass(frozen=True)
class VUS:
    """VUS-ROC and VUS-PR of one score series, and the per-buffer areas they average."""

    roc: float
    pr: float
    roc_by_buffer: tuple[float, ...]
    pr_by_buffer: tuple[float, ...]


def _check(y_true: Any, scores: Any, max_buffer: int) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(y_true).reshape(-1)
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    if labels.shape != values.shape:
        raise InputError(f"labels have {labels.size} rows but scores have {values.size}")
    if not set(np.unique(labels).tolist()) <= {0, 1}:
        raise InputError("labels must be 0/1")
    if labels.sum() == 0 or labels.sum() == labels.size:
        raise InputError("labels contain only one class; VUS is undefined")
    if not np.isfinite(values).all():
        raise InputError("scores must be finite")
    if isinstance(max_buffer, bool) or not isinstance(max_buffer, int | np.integer) or max_buffer < 0:
        raise InputError(f"max_buffer must be an integer >= 0, got {max_buffer!r}")
    return labels.astype(np.int64), values


def soft_labels(labels: np.ndarray, ranges: np.ndarray, window: int) -> np.ndarray:
    """Labels with a buffer of ``window // 2`` rows on each side of each range, weighted ``sqrt(1 - d / window)``."""
    soft = labels.astype(np.float64)
    n = soft.size
    half = window // 2
    for start, end in ranges:
        after = np.arange(end + 1, min(end + half + 1, n))
        soft[after] += np.sqrt(1.0 - (after - end) / window)
        before = np.arange(max(start - half, 0), start)
        soft[before] += np.sqrt(1.0 - (start - before) / window)
    return np.minimum(soft, 1.0)


def segments(ranges: np.ndarray, window: int, n: int) -> np.ndarray:
    """Ranges widened by ``window // 2`` on each side (clipped to the series), merged where they meet."""
    half = window // 2
    starts, ends = [max(int(ranges[0, 0]) - half, 0)], []
    for k in range(ranges.shape[0] - 1):
        if ranges[k, 1] + half < ranges[k + 1, 0] - half:
            ends.append(int(ranges[k, 1]) + half)
            starts.append(int(ranges[k + 1, 0]) - half)
    ends.append(min(int(ranges[-1, 1]) + half, n - 1))
    return np.stack([starts, ends], axis=1)


def _thresholds(values: np.ndarray, n_thresholds: int | None) -> np.ndarray:
    ordered = -np.sort(-values)
    if n_thresholds is None:
        return np.unique(values)[::-1]
    if isinstance(n_thresholds, bool) or not isinstance(n_thresholds, int | np.integer) or n_thresholds < 1:
        raise InputError(f"n_thresholds must be an integer >= 1 or None, got {n_thresholds!r}")
    return ordered[np.linspace(0, values.size - 1, n_thresholds).astype(int)]


def _mass_at(values: np.ndarray, weights: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each threshold ``t``: the sum of ``weights`` over the rows with ``values >= t``."""
    order = np.argsort(values, kind="mergesort")
    suffix = np.r_[np.cumsum(weights[order][::-1])[::-1], 0.0]
    return suffix[np.searchsorted(values[order], thresholds, side="left")]


def vus(y_true: Any, scores: Any, max_buffer: int = 100, *, n_thresholds: int | None = 250,
        existence: bool = True) -> VUS:
    """VUS-ROC and VUS-PR of ``scores`` (higher = more anomalous) against per-row 0/1 labels.

    ``max_buffer`` is the largest buffer length ``ℓ`` (TSB-AD's ``slidingWindow``); the areas are averaged over
    ``0 … ℓ``. ``existence=False`` drops the existence factor from the TPR.
    """
    labels, values = _check(y_true, scores, max_buffer)
    n = values.size
    ranges = ranges_of(labels)
    positives = float(labels.sum())
    thresholds = _thresholds(values, n_thresholds)
    flagged = _mass_at(values, np.ones(n), thresholds)
    hit_anomalies = _mass_at(values, labels.astype(np.float64), thresholds)
    roc_areas, pr_areas = [], []
    for window in range(max_buffer + 1):
        buffer = soft_labels(labels, ranges, window) * (labels == 0)
        near = np.flatnonzero(buffer)
        hit_buffer = _mass_at(values[near], buffer[near], thresholds)
        tp = hit_anomalies + hit_buffer
        balanced = (positives + positives + hit_buffer) / 2.0
        recall = np.minimum(tp / balanced, 1.0)
        if existence:
            spans = segments(ranges, window, n)
            peaks = np.array([values[s:e + 1].max() for s, e in spans])
            found = np.searchsorted(np.sort(peaks), thresholds, side="left")
            recall = recall * (spans.shape[0] - found) / spans.shape[0]
        fpr = (flagged - tp) / (n - balanced)
        precision = tp / flagged
        tpr_curve = np.r_[0.0, recall, 1.0]
        fpr_curve = np.r_[0.0, fpr, 1.0]
        roc_areas.append(float(np.sum(np.diff(fpr_curve) * (tpr_curve[1:] + tpr_curve[:-1]) / 2.0)))
        pr_areas.append(float(np.sum(np.diff(tpr_curve[:-1]) * precision)))
    return VUS(float(np.mean(roc_areas)), float(np.mean(pr_areas)), tuple(roc_areas), tuple(pr_areas))


def vus_roc(y_true: Any, scores: Any, max_buffer: int = 100, **options: Any) -> float:
    """VUS-ROC (see :func:`vus`)."""
    return vus(y_true, scores, max_buffer, **options).roc


def vus_pr(y_true: Any, scores: Any, max_buffer: int = 100, **options: Any) -> float:
    """VUS-PR (see :func:`vus`)."""
    return vus(y_true, scores, max_buffer, **options).pr
