"""Labelling a stream with river's anomaly filters (``ThresholdFilter``, ``QuantileFilter``).

A river filter wraps an anomaly detector and classifies each score: ``ThresholdFilter`` flags ``score >=
threshold``; ``QuantileFilter`` flags ``score >=`` the running ``q``-quantile of the scores seen so far (so it needs
no fixed threshold and follows drift in the scores). When ``protect_anomaly_detector`` is true (river's default) the
detector does not learn the records the filter flags, so sporadic anomalies do not become normal.

:func:`filter_labels` runs any pynomaly online detector (``river.*`` or ``builtin.half_space_trees`` and the other
online built-ins) through one of them, record by record in stream order (score, classify, then learn), and returns
the scores and 0/1 labels. :func:`as_river` is the adapter it uses: a pynomaly online detector behind river's
``AnomalyDetector`` interface, usable in any river pipeline or filter.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from river import anomaly, base

from pynomaly_core.errors import InputError
from pynomaly_core.online import is_online


class PynomalyAnomalyDetector(base.AnomalyDetector):
    """A pynomaly online detector as a river ``AnomalyDetector`` (records: dicts keyed as the detector expects,
    or 1-D sequences of the features)."""

    def __init__(self, detector: Any):
        if not is_online(detector):
            raise InputError(f"as_river needs an online pynomaly detector, got {type(detector).__name__}")
        self.detector = detector

    def learn_one(self, x: Any) -> None:
        self.detector.learn_one(x)

    def score_one(self, x: Any) -> float:
        if not self.detector._online_started():  # river asks before the first record: the empty model answers
            self.detector._start_from_record(x)
        return self.detector.score_one(x)


def as_river(detector: Any) -> PynomalyAnomalyDetector:
    """Put a pynomaly online detector behind river's ``AnomalyDetector`` API (``learn_one``/``score_one``)."""
    return PynomalyAnomalyDetector(detector)


def filter_labels(detector: Any, X: Any, *, threshold: float | None = None, q: float | None = None,
                  protect_anomaly_detector: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Scores and 0/1 labels of the rows of ``X`` from river's ``ThresholdFilter(threshold)`` or
    ``QuantileFilter(q)`` (give exactly one) around ``detector``, which learns the stream as it goes.

    For each row in order: the filter scores it, classifies the score (label 1 = anomaly), then learns it (the
    detector learns the row unless ``protect_anomaly_detector`` and it was flagged). The detector keeps what it
    learned.
    """
    if (threshold is None) == (q is None):
        raise InputError("filter_labels: give exactly one of threshold (ThresholdFilter) or q (QuantileFilter)")
    if q is not None and not 0 < q < 1:
        raise InputError(f"filter_labels: q must be in (0, 1), got {q!r}")
    wrapped = as_river(detector)
    array = detector._online_array(X, start=True)
    if threshold is not None:
        river_filter = anomaly.ThresholdFilter(wrapped, threshold=float(threshold),
                                               protect_anomaly_detector=protect_anomaly_detector)
    else:
        river_filter = anomaly.QuantileFilter(wrapped, q=float(q), protect_anomaly_detector=protect_anomaly_detector)
    # river 0.26's AnomalyFilter.learn_one (ThresholdFilter's) learns only when `protect_anomaly_detector and not
    # anomalous`, so without protection it would learn nothing; the documented behaviour is to learn every record.
    learn_all = threshold is not None and not protect_anomaly_detector
    scores = np.empty(array.shape[0])
    labels = np.empty(array.shape[0], dtype=np.int64)
    for i, row in enumerate(array):
        score = river_filter.score_one(row)
        scores[i] = score
        labels[i] = int(river_filter.classify(score))
        if learn_all:
            wrapped.learn_one(row)
        else:
            river_filter.learn_one(row)
    return scores, labels
