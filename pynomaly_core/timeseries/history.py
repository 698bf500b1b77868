"""Detectors whose score of a record is a function of the last rows of the series (that record included).

A :class:`HistoryDetector` keeps the last ``_memory()`` rows as its whole learned state; a subclass computes, in
``_scores(rows, first)``, the scores of ``rows[first:]`` (each from the rows up to it), vectorised over all of them.
The same function serves one record and a million, so online and batch scores agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from pynomaly_core.timeseries.base import TimeSeriesDetector

#: Rows per block of vectorised work (bounds the temporary arrays).
BLOCK = 2048


class HistoryDetector(TimeSeriesDetector):
    """Base of detectors that score from a bounded history of rows (see the module docstring)."""

    def _memory(self) -> int:
        """How many rows (the current one included) a score may look at."""
        raise TypeError(f"{type(self).__name__} must implement _memory")

    def _scores(self, rows: np.ndarray, first: int, origin: int) -> np.ndarray:
        """Scores of ``rows[first:]``, each from the rows up to and including it (``rows[0]`` is record ``origin``
        of the series, counting from 0)."""
        raise TypeError(f"{type(self).__name__} must implement _scores")

    def _check_params(self) -> None:
        """Raise :class:`InputError` for a bad parameter (called when a series starts or is restored)."""

    def _online_reset(self, n_features: int) -> None:
        self._check_params()
        self.tail_ = np.zeros((0, n_features))
        self.seen_ = 0

    def _score_many(self, X: np.ndarray) -> np.ndarray:
        tail = self.tail_.shape[0]
        return self._scores(np.vstack([self.tail_, X]), tail, self.seen_ - tail)

    def _score_learn_many(self, X: np.ndarray) -> np.ndarray:
        rows = np.vstack([self.tail_, X])
        scores = self._scores(rows, self.tail_.shape[0], self.seen_ - self.tail_.shape[0])
        keep = max(self._memory() - 1, 0)
        self.tail_ = rows[max(rows.shape[0] - keep, 0):].copy() if keep else rows[:0].copy()
        self.seen_ += X.shape[0]
        return scores

    def _online_get_state(self) -> dict[str, Any]:
        return {"tail": self.tail_, "seen": np.int64(self.seen_)}

    def _online_set_state(self, state: dict[str, np.ndarray]) -> None:
        self._check_params()
        self.tail_ = np.array(state["tail"], dtype=np.float64)
        self.seen_ = int(state["seen"])


def blocks(first: int, stop: int, size: int = BLOCK) -> Iterator[tuple[int, int]]:
    """``(start, end)`` ranges covering ``first … stop − 1`` in blocks of ``size``."""
    for start in range(first, stop, size):
        yield start, min(start + size, stop)


def trailing_windows(rows: np.ndarray, start: int, end: int, window: int) -> np.ndarray:
    """``(end − start, window, d)``: for each row ``i`` in ``start … end − 1`` (all ``>= window − 1``) the
    ``window`` rows ending at it."""
    view = np.lib.stride_tricks.sliding_window_view(rows[start - window + 1:end], window, axis=0)
    return view.transpose(0, 2, 1)
