"""NAB's windowed Gaussian baseline (Lavin & Ahmad, 2015): a value's Gaussian probability under the mean and
standard deviation of the ``window_size`` values before it."""

from __future__ import annotations

import math

import numpy as np

from pynomaly_core.timeseries.base import check_int
from pynomaly_core.timeseries.history import BLOCK, HistoryDetector, blocks

_SQRT2 = math.sqrt(2.0)


def _erfc(values: np.ndarray) -> np.ndarray:
    return np.frompyfunc(math.erfc, 1, 1)(values).astype(np.float64) if values.size else values


class WindowedGaussian(HistoryDetector):
    """Score ``1 − Q(|x − mean| / std)`` (Q: the Gaussian tail; 0.5 at the mean, toward 1 far from it), per feature,
    maximum over features; the first record scores 0 and a zero std counts as 1e-6.

    The mean and std are those of the values before the record while fewer than ``window_size`` have been seen;
    then the window slides by ``step_size`` values at a time (its statistics change every ``step_size`` records).
    With the defaults this is the windowedGaussian detector of NAB's scoreboard: its published per-record scores
    (``reference/windowedGaussian``) to 5e-13.
    """

    qualified_name = "builtin.windowed_gaussian"
    unit_scores = True

    def __init__(self, window_size: int = 6400, step_size: int = 100, contamination: float = 0.1):
        self.window_size = window_size
        self.step_size = step_size
        self.contamination = contamination

    def _check_params(self) -> None:
        check_int(self, "window_size", self.window_size, 1)
        check_int(self, "step_size", self.step_size, 1)

    def _memory(self) -> int:
        return self.window_size + self.step_size

    def _scores(self, rows: np.ndarray, first: int, origin: int) -> np.ndarray:
        w, step = self.window_size, self.step_size
        n = rows.shape[0] - first
        mean, std = np.zeros((n, rows.shape[1])), np.ones((n, rows.shape[1]))
        index = origin + np.arange(first, rows.shape[0])  # record number of each scored row
        filling = np.flatnonzero((index > 0) & (index <= w))
        for k in filling.tolist():  # the values before it: all of them, fewer than window_size
            i = first + k
            before = np.ascontiguousarray(rows[max(i - int(index[k]), 0):i].T)  # 1-D sums, as NAB's np.mean(list)
            mean[k], std[k] = before.mean(axis=1), before.std(axis=1)
        full = np.flatnonzero(index > w)
        if full.size:
            view = np.lib.stride_tricks.sliding_window_view(rows, w, axis=0)  # view[j]: rows j … j + w − 1
        last = w - 1 + step * ((index[full] - w) // step)  # the record that ended the window in use
        ends, which = np.unique(last, return_inverse=True)  # one window per step, shared by its records
        window_mean, window_std = np.empty((ends.size, rows.shape[1])), np.empty((ends.size, rows.shape[1]))
        for start, end in blocks(0, ends.size, max(1, BLOCK * 64 // w)):
            windows = view[ends[start:end] - origin - w + 1]  # (windows, d, w)
            window_mean[start:end], window_std[start:end] = windows.mean(axis=2), windows.std(axis=2)
        if full.size:
            mean[full], std[full] = window_mean[which], window_std[which]
        std = np.where(std == 0.0, 1e-6, std)
        z = np.abs(rows[first:] - mean) / std
        scores = (1.0 - 0.5 * _erfc(z / _SQRT2)).max(axis=1)
        return np.where(index > 0, scores, 0.0)
