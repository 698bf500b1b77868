"""Streaming robust z-score: the modified z-score of ``builtin.robust_zscore`` over a sliding window."""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.builtin.robust_zscore import MAD_TO_SD, MEANAD_TO_SD
from pynomaly_core.errors import InputError
from pynomaly_core.online import OnlineDetector

_AGGREGATES = {"max": np.max, "mean": np.mean, "sum": np.sum}


class StreamingZScore(OnlineDetector, BaseDetector):
    """|x − median| / (1.4826 · MAD) per feature over the last ``window_size`` records, aggregated over features by
    ``max``, ``mean`` or ``sum``.

    The estimates come from a **sliding window** of the most recent records (a ring buffer of ``window_size`` rows:
    bounded memory, old data forgotten exactly when it leaves the window), not from exponentially weighted
    approximations: the median and MAD are exact over the window, so after learning a stream the scores are those
    of ``builtin.robust_zscore`` fitted on its last ``window_size`` rows (same fall-backs: the mean absolute
    deviation where the MAD is zero, a tiny scale for a constant feature). They are recomputed once per learn call
    (``learn_one``: per record), so scoring only reads them. With nothing learned yet every score is 0.
    """

    qualified_name = "builtin.streaming_zscore"

    def __init__(self, window_size: int = 1000, aggregate: str = "max", contamination: float = 0.1):
        self.window_size = window_size
        self.aggregate = aggregate
        self.contamination = contamination

    def _check_params(self) -> None:
        size = self.window_size
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise InputError(f"{self._name()}: window_size must be an integer >= 1, got {size!r}")
        if self.aggregate not in _AGGREGATES:
            raise InputError(f"{self._name()}: aggregate must be max, mean or sum, got {self.aggregate!r}")

    def _online_reset(self, n_features: int) -> None:
        self._check_params()
        self.window_ = np.zeros((self.window_size, n_features))
        self.position_ = 0  # where the next record goes
        self.filled_ = 0  # how many rows of the window hold records
        self._refresh()

    def _learn_many(self, X: np.ndarray) -> None:
        size = self.window_size
        n = X.shape[0]
        kept = X[-size:]  # only the last window_size rows can still be in the window afterwards
        slots = (self.position_ + (n - kept.shape[0]) + np.arange(kept.shape[0])) % size
        self.window_[slots] = kept
        self.position_ = (self.position_ + n) % size
        self.filled_ = min(size, self.filled_ + n)
        self._refresh()

    def _learn_one(self, x: np.ndarray) -> None:
        self.window_[self.position_] = x
        self.position_ = (self.position_ + 1) % self.window_size
        self.filled_ = min(self.window_size, self.filled_ + 1)
        self._refresh()

    def _refresh(self) -> None:
        """Median and scale of the window (what scoring reads)."""
        n_features = self.window_.shape[1]
        if self.filled_ == 0:
            self.median_, self.scale_ = np.zeros(n_features), np.ones(n_features)
            return
        values = self.window_[:self.filled_]  # the ring fills from row 0, so the first `filled_` rows are records
        median = np.median(values, axis=0)
        deviation = np.abs(values - median)
        scale = np.median(deviation, axis=0) * MAD_TO_SD
        fallback = deviation.mean(axis=0) * MEANAD_TO_SD
        scale = np.where(scale > 0, scale, fallback)
        tiny = np.finfo(np.float64).eps * np.maximum(1.0, np.abs(median))
        self.median_, self.scale_ = median, np.maximum(scale, tiny)

    def _score_many(self, X: np.ndarray) -> np.ndarray:
        if self.filled_ == 0:
            return np.zeros(X.shape[0])
        biggest = np.finfo(np.float64).max
        with np.errstate(over="ignore", invalid="ignore"):  # distances beyond the float maximum are capped
            z = np.minimum(np.abs(X - self.median_) / self.scale_, biggest)
            return np.minimum(_AGGREGATES[self.aggregate](z, axis=1), biggest)

    def _online_get_state(self) -> dict[str, Any]:
        return {"window": self.window_, "position": np.int64(self.position_), "filled": np.int64(self.filled_)}

    def _online_set_state(self, state: dict[str, np.ndarray]) -> None:
        self._check_params()
        window = np.asarray(state["window"], dtype=np.float64)
        if window.shape[0] != self.window_size:
            raise InputError(f"{self._name()}: the saved window has {window.shape[0]} rows, window_size is "
                             f"{self.window_size}")
        self.window_ = window.copy()
        self.position_, self.filled_ = int(state["position"]), int(state["filled"])
        self._refresh()
