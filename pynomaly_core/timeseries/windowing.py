"""The windowing adapter: any tabular detector as a time-series detector.

A series (rows in time order, one or more columns) becomes the matrix of its sliding windows (``window`` rows each,
flattened; every ``stride``-th window; optionally over the ``difference``-th differences), the tabular detector
scores the windows, and each point gets the mean (or max) of the scores of the windows that cover it.

* ``fit(X)`` is the batch use: the inner detector is fitted on the windows of ``X`` (the last ``memory`` of them)
  and ``decision_scores_`` are the window scores mapped back to the points of ``X``;
* online (``learn_one``/``score_one``, ``score_many``): a record's score is the score of the window that ends at it,
  under the inner model as last fitted; learning appends the window to a buffer of the last ``memory`` windows and
  refits the inner detector on it after 32, 64, 128, … windows, then every ``refit`` windows.

Saved state is NumPy arrays only: the windows the inner model was fitted on (it is refitted from them on load, so a
deterministic inner detector gives identical scores), the window buffer and the last rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.timeseries.base import TimeSeriesDetector, check_int

_MIN_FIT = 32


def sliding_windows(X: np.ndarray, window: int, stride: int = 1, difference: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(windows, ends)``: the flattened windows of ``X`` (rows in time order) over its ``difference``-th
    differences, every ``stride``-th one and always the last, and for each the index of the last row it covers."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    values = np.diff(X, n=difference, axis=0) if difference else X
    count = values.shape[0] - window + 1
    if count < 1:
        return np.empty((0, window * X.shape[1])), np.empty(0, dtype=np.int64)
    starts = np.arange(0, count, stride)
    if starts[-1] != count - 1:
        starts = np.append(starts, count - 1)
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)  # (count, d, window)
    windows = view[starts].transpose(0, 2, 1).reshape(starts.size, -1)
    return windows, starts + window - 1 + difference


def points_from_windows(scores: np.ndarray, ends: np.ndarray, n: int, span: int, reduce: str = "mean") -> np.ndarray:
    """Per-point scores from window scores: the window ending at row ``ends[k]`` covers rows
    ``ends[k] − span + 1 … ends[k]``; a point gets the mean (or max) over the windows covering it, and a point no
    window covers gets the score of the nearest window after it (the first window's, for the first rows)."""
    scores = np.asarray(scores, dtype=np.float64)
    ends = np.asarray(ends, dtype=np.int64)
    if scores.size == 0:
        return np.zeros(n)
    starts = np.maximum(ends - span + 1, 0)
    if reduce == "mean":
        total, count = np.zeros(n + 1), np.zeros(n + 1)
        np.add.at(total, starts, scores)
        np.add.at(total, ends + 1, -scores)
        np.add.at(count, starts, 1.0)
        np.add.at(count, ends + 1, -1.0)
        total, count = np.cumsum(total)[:n], np.cumsum(count)[:n]
        covered = count > 0.5
        out = np.where(covered, total / np.where(covered, count, 1.0), np.nan)
    elif reduce == "max":
        out = np.full(n, -np.inf)
        for start, end, score in zip(starts.tolist(), ends.tolist(), scores.tolist(), strict=True):
            np.maximum(out[start:end + 1], score, out=out[start:end + 1])
        out[np.isneginf(out)] = np.nan
    else:
        raise InputError(f"reduce must be 'mean' or 'max', got {reduce!r}")
    missing = np.isnan(out)
    if missing.any():  # rows no window covers (only with stride > span): the next window's score
        nearest = np.searchsorted(ends, np.flatnonzero(missing))
        out[missing] = scores[np.minimum(nearest, scores.size - 1)]
    return out


class WindowedDetector(TimeSeriesDetector):
    """A tabular detector over sliding windows (see the module docstring)."""

    qualified_name = "builtin.windowed"

    def __init__(self, detector: str = "ecod", params: dict | None = None, window: int = 16, stride: int = 1,
                 difference: int = 0, reduce: str = "mean", memory: int = 2048, refit: int = 256,
                 contamination: float = 0.1):
        self.detector = detector
        self.params = params
        self.window = window
        self.stride = stride
        self.difference = difference
        self.reduce = reduce
        self.memory = memory
        self.refit = refit
        self.contamination = contamination

    # -- parameters and the inner detector ----------------------------------------------------------------------
    def _check_params(self) -> None:
        check_int(self, "window", self.window, 1)
        check_int(self, "stride", self.stride, 1)
        check_int(self, "difference", self.difference, 0)
        check_int(self, "memory", self.memory, 2)
        check_int(self, "refit", self.refit, 1)
        if self.reduce not in ("mean", "max"):
            raise InputError(f"{self._name()}: reduce must be 'mean' or 'max', got {self.reduce!r}")
        if self.params is not None and not isinstance(self.params, dict):
            raise InputError(f"{self._name()}: params must be a dict of the inner detector's parameters")

    @property
    def span(self) -> int:
        """How many rows one window covers (``window`` plus the rows differencing consumes)."""
        return self.window + self.difference

    def _fit_inner(self, windows: np.ndarray) -> None:
        from pynomaly_core.sdk import create_detector

        self.fit_windows_ = np.array(windows, copy=True)
        if windows.shape[0] < 2:
            self.model_ = None
            return
        self.model_ = create_detector(self.detector, **(self.params or {})).fit(windows)

    def _inner_scores(self, windows: np.ndarray) -> np.ndarray:
        if self.model_ is None or windows.shape[0] == 0:
            return np.zeros(windows.shape[0])
        return np.asarray(self.model_.decision_function(windows), dtype=np.float64)

    # -- batch ---------------------------------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        self._start(X.shape[1], self.__dict__.get("_fit_names"))
        windows, ends = sliding_windows(X, self.window, self.stride, self.difference)
        if windows.shape[0] < 2:
            raise InputError(f"{self._name()}: {X.shape[0]} rows make {windows.shape[0]} window(s) of {self.span} "
                             "rows; give a longer series or a smaller window")
        extra = (ends[-1] - ends[0]) % self.stride != 0  # the last window, added off-stride: scored, not learned
        kept = (windows[:-1] if extra else windows)[-self.memory:]
        self._fit_inner(kept)
        self.buffer_[:kept.shape[0]] = kept
        self.bfill_, self.bpos_ = kept.shape[0], kept.shape[0] % self.memory
        self.since_fit_ = 0
        self.tail_ = X[-(self.span - 1):] if self.span > 1 else X[:0]
        self.seen_ = X.shape[0]
        self.n_learned_ = X.shape[0]
        return points_from_windows(self._inner_scores(windows), ends, X.shape[0], self.span, self.reduce)

    # -- online --------------------------------------------------------------------------------------------------
    def _online_reset(self, n_features: int) -> None:
        self._check_params()
        self.buffer_ = np.zeros((self.memory, self.window * n_features))
        self.bfill_ = self.bpos_ = self.since_fit_ = self.seen_ = 0
        self.tail_ = np.zeros((0, n_features))
        self.model_ = None
        self.fit_windows_ = np.zeros((0, self.window * n_features))

    def _new_windows(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The windows ending at the rows of ``X`` (continuing the series) and their positions in ``X``."""
        rows = np.vstack([self.tail_, X])
        windows, ends = sliding_windows(rows, self.window, 1, self.difference)
        new = ends >= self.tail_.shape[0]
        return windows[new], ends[new] - self.tail_.shape[0]

    def _score_many(self, X: np.ndarray) -> np.ndarray:
        windows, at = self._new_windows(X)
        scores = np.zeros(X.shape[0])
        scores[at] = self._inner_scores(windows)
        return scores

    def _due(self) -> int:
        """How many more windows to learn before the next refit."""
        if self.model_ is None:
            return max(_MIN_FIT - self.bfill_, 1)
        return max(min(self.refit, self.fit_windows_.shape[0]) - self.since_fit_, 1)

    def _score_learn_many(self, X: np.ndarray) -> np.ndarray:
        windows, at = self._new_windows(X)
        learned = (self.seen_ + at - (self.span - 1)) % self.stride == 0  # windows on the stride are learned
        scores = np.zeros(X.shape[0])
        j = 0
        while j < windows.shape[0]:
            counts = np.cumsum(learned[j:])
            need = self._due()
            stop = j + int(np.searchsorted(counts, need)) + 1 if counts.size and counts[-1] >= need \
                else windows.shape[0]
            scores[at[j:stop]] = self._inner_scores(windows[j:stop])
            added = windows[j:stop][learned[j:stop]]
            for row in added:
                self.buffer_[self.bpos_] = row
                self.bpos_ = (self.bpos_ + 1) % self.memory
                self.bfill_ = min(self.bfill_ + 1, self.memory)
                self.since_fit_ += 1
            if added.shape[0] >= need:
                order = (np.arange(self.bfill_) + (self.bpos_ if self.bfill_ == self.memory else 0)) % self.memory
                self._fit_inner(self.buffer_[order])
                self.since_fit_ = 0
            j = stop
        rows = np.vstack([self.tail_, X])
        self.tail_ = rows[max(rows.shape[0] - (self.span - 1), 0):] if self.span > 1 else rows[:0]
        self.seen_ += X.shape[0]
        return scores

    def _online_get_state(self) -> dict[str, Any]:
        return {"buffer": self.buffer_, "tail": self.tail_, "fit_windows": self.fit_windows_,
                "counters": np.array([self.bfill_, self.bpos_, self.since_fit_, self.seen_], dtype=np.int64)}

    def _online_set_state(self, state: dict[str, np.ndarray]) -> None:
        self._check_params()
        self.buffer_ = np.array(state["buffer"], dtype=np.float64)
        self.tail_ = np.array(state["tail"], dtype=np.float64)
        self.bfill_, self.bpos_, self.since_fit_, self.seen_ = (int(v) for v in state["counters"])
        fit_windows = np.asarray(state["fit_windows"], dtype=np.float64)
        if fit_windows.shape[0] and (getattr(self, "fit_windows_", None) is None
                                     or not np.array_equal(fit_windows, self.fit_windows_)):
            self._fit_inner(fit_windows)  # a restored snapshot of this same model keeps the fitted inner model
        elif not fit_windows.shape[0]:
            self.model_, self.fit_windows_ = None, fit_windows
