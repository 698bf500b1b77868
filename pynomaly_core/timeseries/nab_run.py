"""Run a pynomaly detector over a NAB corpus as NAB requires, producing the scores ``nab score`` reads.

Each series is walked once, in time order, by a fresh online detector that scores every record before it learns
it (test-then-train, :func:`pynomaly_core.online.prequential`); no labels are read. Scores are mapped into [0, 1]
causally (each by its rank among the scores before it, :func:`causal_rank`) unless the detector's scores already
lie there.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError


def causal_rank(scores: np.ndarray) -> np.ndarray:
    """Each score as its rank among the scores before it, in [0, 1]: ``(#lower + #equal / 2) / #before`` (the
    first scores 0). Robust to the scale of a detector's scores and to early outliers, and causal."""
    ordered: list[float] = []
    out = np.zeros(len(scores))
    for t, value in enumerate(np.asarray(scores, dtype=np.float64).tolist()):
        if t:
            low, high = bisect.bisect_left(ordered, value), bisect.bisect_right(ordered, value)
            out[t] = (low + (high - low) / 2) / t
        bisect.insort(ordered, value)
    return out


def make_online_detector(name: str, params: Mapping[str, Any]) -> Callable[[], Any]:
    """A factory of fresh detectors ``name`` (checked once: it must follow the online contract)."""
    from pynomaly_core.online import is_online
    from pynomaly_core.sdk import create_detector

    probe = create_detector(name, **params)
    if not is_online(probe):
        raise InputError(f"{name}: NAB needs an online detector (learn_one/score_one); see "
                         "`pynomaly detectors list --kind timeseries`")
    return lambda: create_detector(name, **params)


def run_series(make: Callable[[], Any], values: np.ndarray) -> np.ndarray:
    """Prequential scores of one series (rows of ``values`` in time order), in [0, 1]."""
    from pynomaly_core.online import prequential
    from pynomaly_core.timeseries.base import TimeSeriesDetector

    detector = make()
    X = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    # a time-series detector walks a batch record by record, so one batch gives the record-by-record scores
    batch = X.shape[0] if isinstance(detector, TimeSeriesDetector) else 1
    scores = prequential(detector, X, batch_size=max(batch, 1))
    if getattr(detector, "unit_scores", False):
        return np.clip(scores, 0.0, 1.0)
    return causal_rank(scores)


def run_corpus(corpus: Any, name: str, params: Mapping[str, Any] | None = None,
               files: Sequence[str] | None = None) -> tuple[dict[str, np.ndarray], float]:
    """``({relative csv path: scores}, seconds)`` of detector ``name`` over the series of a :class:`NabCorpus`."""
    make = make_online_detector(name, dict(params or {}))
    start = time.perf_counter()
    scores = {relative: run_series(make, corpus.series(relative)[1]) for relative in
              (corpus.files if files is None else files)}
    return scores, time.perf_counter() - start
