"""The base class of time-series detectors: each row of ``X`` is one time step, rows in time order.

A :class:`TimeSeriesDetector` is an online detector (:mod:`pynomaly_core.online`) whose records form a series:

* ``fit(X)`` forgets everything and walks the series once; its training scores (``decision_scores_``) are the
  **prequential** scores: each row scored with what the rows before it taught, then learned (what NAB asks for);
* ``score_many(X)`` / ``decision_function(X)`` score ``X`` as the continuation of the series learned so far, without
  learning it (the state is restored afterwards: scoring changes nothing);
* ``learn_many(X)`` continues the series; ``prequential(detector, X, batch_size=k)`` gives the same scores for every
  ``k``, because a subclass's ``_score_learn_many`` walks its rows one by one.

A subclass implements ``_online_reset(n_features)``, ``_score_learn_many(X) -> scores`` (score each row with the
state before it, then learn it) and ``_online_get_state`` / ``_online_set_state`` (NumPy arrays: safe persistence).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import InputError
from pynomaly_core.online import OnlineDetector


class TimeSeriesDetector(OnlineDetector, BaseDetector):
    """Base of the time-series detectors (see the module docstring)."""

    #: Whether every score lies in [0, 1] (``nab run`` then writes the scores as they are).
    unit_scores: bool = False

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        self._start(X.shape[1], self.__dict__.get("_fit_names"))
        scores = self._score_learn_many(X)
        self.n_learned_ = X.shape[0]
        return scores

    def _learn_many(self, X: np.ndarray) -> None:
        self._score_learn_many(X)

    def _score_many(self, X: np.ndarray) -> np.ndarray:
        saved = {key: np.array(value, copy=True) for key, value in self._online_get_state().items()}
        try:
            return self._score_learn_many(X)
        finally:
            self._online_set_state(saved)

    def _score_learn_one(self, x: np.ndarray) -> float:
        return float(self._score_learn_many(x[None, :])[0])


def check_int(owner: Any, name: str, value: Any, minimum: int) -> int:
    """``value`` as an int >= ``minimum``, else a one-line :class:`InputError` naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputError(f"{owner._name()}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_float(owner: Any, name: str, value: Any, low: float, high: float = float("inf")) -> float:
    """``value`` as a float in ``[low, high]``, else a one-line :class:`InputError` naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating) or not low <= value <= high:
        raise InputError(f"{owner._name()}: {name} must be a number in [{low}, {high}], got {value!r}")
    return float(value)
