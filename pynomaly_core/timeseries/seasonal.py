"""Seasonal robust residual: the period found by autocorrelation, each value compared with the median of the values
one, two, … periods before it, and the residual scored in robust (median / interquartile range) units."""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from pynomaly_core.timeseries.base import TimeSeriesDetector, check_int

IQR_TO_SD = 1.349


def find_period(values: np.ndarray, max_period: int, min_correlation: float = 0.3) -> int:
    """The shortest lag whose local maximum of the autocorrelation of ``values`` (lags ``2 … max_period``, at most a
    third of the length) comes within 90 % of the highest one, if that reaches ``min_correlation``; else 1."""
    x = np.asarray(values, dtype=np.float64) - np.mean(values)
    n = x.size
    top = min(max_period, n // 3)
    if top < 2 or not np.any(x):
        return 1
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:top + 2]
    acf = acf / acf[0] * n / (n - np.arange(acf.size))  # unbiased: each lag over its own count of pairs
    lags = np.arange(2, top + 1)
    peaks = lags[(acf[lags] >= acf[lags - 1]) & (acf[lags] >= acf[lags + 1])]
    if peaks.size == 0:
        return 1
    top_peak = float(acf[peaks].max())
    if top_peak < min_correlation:
        return 1
    return int(peaks[np.argmax(acf[peaks] >= 0.9 * top_peak)])  # the shortest lag near the best: not a multiple


class SeasonalResidual(TimeSeriesDetector):
    """Residual ``x − median(x one, two, … cycles periods back)`` (the last ``cycles`` values when there is no
    season), scored as ``|r − median R| / (IQR R / 1.349)`` over the last ``window`` residuals before it (kept
    sorted incrementally).

    ``period=None`` finds the period from the first ``init`` records (:func:`find_period`, up to ``max_period``);
    until then, and for a period found to be 1, the reference is the last ``cycles`` values. Maximum over
    features; a record scores 0 until ``cycles`` residuals exist.
    """

    qualified_name = "builtin.seasonal_residual"

    def __init__(self, period: int | None = None, max_period: int = 500, init: int = 1000, cycles: int = 3,
                 window: int = 500, contamination: float = 0.1):
        self.period = period
        self.max_period = max_period
        self.init = init
        self.cycles = cycles
        self.window = window
        self.contamination = contamination

    def _check_params(self) -> None:
        if self.period is not None:
            check_int(self, "period", self.period, 1)
        check_int(self, "max_period", self.max_period, 2)
        check_int(self, "init", self.init, 6)
        check_int(self, "cycles", self.cycles, 1)
        check_int(self, "window", self.window, 3)

    def _history(self) -> int:
        return self.cycles * max(self.period or self.max_period, 1) + max(self.init, 1)

    def _online_reset(self, n_features: int) -> None:
        self._check_params()
        self.values_ = np.zeros((self._history(), n_features))  # ring: record t at t % history
        self.residuals_ = np.zeros((self.window, n_features))  # ring of the last residuals
        self.period_ = int(self.period) if self.period is not None else 0  # 0: not found yet
        self.count_ = self.n_residuals_ = 0
        self._sorted = [[] for _ in range(n_features)]

    def _score_learn_many(self, X: np.ndarray) -> np.ndarray:
        out = np.zeros(X.shape[0])
        size, window, cycles = self.values_.shape[0], self.window, self.cycles
        ring = self.values_
        for i, row in enumerate(X.tolist()):
            t = self.count_
            if self.period_ == 0 and t >= self.init:
                recent = ring[(t - self.init + np.arange(self.init)) % size]
                self.period_ = max(find_period(recent[:, j], self.max_period) for j in range(X.shape[1]))
            period = self.period_ or 1
            back = [(t - k * period) % size for k in range(1, cycles + 1) if t - k * period >= 0]
            if back:
                best = 0.0
                slot = self.n_residuals_ % window
                for j, value in enumerate(row):
                    residual = value - _median(sorted(ring[b, j] for b in back))
                    ordered = self._sorted[j]
                    if len(ordered) >= cycles:
                        best = max(best, abs(residual - _median(ordered)) / _spread(ordered))
                    if self.n_residuals_ >= window:
                        del ordered[bisect.bisect_left(ordered, self.residuals_[slot, j])]
                    bisect.insort(ordered, residual)
                    self.residuals_[slot, j] = residual
                self.n_residuals_ += 1
                out[i] = best
            ring[t % size] = row
            self.count_ += 1
        return out

    def _online_get_state(self) -> dict[str, Any]:
        return {"values": self.values_, "residuals": self.residuals_,
                "counts": np.array([self.period_, self.count_, self.n_residuals_], dtype=np.int64)}

    def _online_set_state(self, state: dict[str, np.ndarray]) -> None:
        self._check_params()
        self.values_ = np.array(state["values"], dtype=float)
        self.residuals_ = np.array(state["residuals"], dtype=float)
        self.period_, self.count_, self.n_residuals_ = (int(v) for v in state["counts"])
        filled = min(self.n_residuals_, self.window)
        self._sorted = [sorted(self.residuals_[:filled, j].tolist()) for j in range(self.residuals_.shape[1])]


def _median(ordered: list[float]) -> float:
    n = len(ordered)
    return ordered[n // 2] if n % 2 else 0.5 * (ordered[n // 2 - 1] + ordered[n // 2])


def _spread(ordered: list[float]) -> float:
    """The interquartile range in standard-deviation units (1.349), of a sorted list."""
    n = len(ordered)
    spread = (ordered[(3 * (n - 1)) // 4] - ordered[(n - 1) // 4]) / IQR_TO_SD
    return spread if spread > 0 else (ordered[-1] - ordered[0]) / 2 + 1e-12
