"""The online-detector contract: detectors that learn one record at a time, and prequential evaluation.

An online detector has

* ``learn_one(x)`` / ``score_one(x) -> float`` for a single record: a 1-D sequence or array of the features in
  column order, or a dict keyed by the fitted feature names (by the column indices ``0 … d−1`` when it was fitted
  on an array without names);
* vectorised ``learn_many(X)`` / ``score_many(X) -> ndarray`` for a micro-batch of rows (validated like every
  other input, :func:`pynomaly_core.validation.check_array`); ``learn_many(X)`` is the same as ``learn_one`` on
  each row in order;
* **scoring changes nothing**: the learned state is identical before and after ``score_one``/``score_many``;
* memory bounded by a window or a fixed structure, however long the stream.

Scores follow pynomaly's convention: float64, higher = more anomalous.

:class:`OnlineDetector` is a mixin for a :class:`~pynomaly_core.base.BaseDetector` subclass (``class
MyDetector(OnlineDetector, BaseDetector)``), so every online detector is also a normal pynomaly detector:
``fit(X)`` starts from scratch, learns every row in order and sets ``threshold_`` from the training scores (the
scores of the final model); ``decision_function`` is ``score_many``; ``partial_fit`` is ``learn_many`` (plus the
threshold from the batch's scores). Such a detector declares the ``online`` and ``partial_fit`` capabilities.
``learn_one``/``learn_many`` on a fresh detector start it (feature count and names from the first record) but set
no ``threshold_``: ``predict`` needs ``fit`` or ``partial_fit``.

A subclass implements, on validated float64 input:

* ``_online_reset(n_features)``: forget everything (called by ``fit`` and on the first record learned);
* ``_learn_many(X)`` and ``_score_many(X)`` (which must not change the state);
* ``_online_get_state()`` / ``_online_set_state(state)``: the learned state as NumPy arrays (safe persistence);
* optionally faster ``_learn_one(x)`` / ``_score_one(x)`` for a 1-D row and ``_score_learn_many(X)`` (score the
  rows with the state before the batch, then learn them; e.g. to walk a tree once for both).

:func:`prequential` runs the order stream evaluation needs (NAB, river's ``progressive_val_score``): each record, or
micro-batch, is scored before it is learned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError, NotFittedError
from pynomaly_core.validation import check_array, check_scores, column_labels


class OnlineDetector:
    """Mixin that gives a ``BaseDetector`` subclass the online contract (see the module docstring)."""

    # -- the online API --------------------------------------------------------------------------------------
    def learn_one(self, x: Any) -> OnlineDetector:
        """Learn one record (1-D sequence/array, or dict keyed by feature name); returns ``self``."""
        if not self._online_started():
            self._start_from_record(x)
        row = self._as_row(x)
        self._learn_one(row)
        self.n_learned_ += 1
        return self

    def score_one(self, x: Any) -> float:
        """Anomaly score of one record (higher = more anomalous); changes nothing."""
        self._check_started()
        score = float(self._score_one(self._as_row(x)))
        if not math.isfinite(score):
            check_scores(np.array([score]), 1, self._name())  # raises the contract's ScoreError
        return score

    def learn_many(self, X: Any) -> OnlineDetector:
        """Learn the rows of ``X`` in order (the same as ``learn_one`` on each); returns ``self``."""
        array = self._online_array(X, start=True)
        self._learn_many(array)
        self.n_learned_ += array.shape[0]
        return self

    def score_many(self, X: Any) -> np.ndarray:
        """Anomaly scores of the rows of ``X`` (float64, higher = more anomalous); changes nothing."""
        self._check_started()
        array = self._online_array(X, start=False)
        return check_scores(self._score_many(array), array.shape[0], self._name())

    # -- BaseDetector hooks ----------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> OnlineDetector:
        """Forget everything, learn every row of ``X`` in order, and set ``threshold_`` from their scores."""
        self._fit_names = column_labels(X)  # what BaseDetector.fit sets after _fit; known to _online_reset here
        try:
            return super().fit(X, y)
        finally:
            del self._fit_names

    def partial_fit(self, X: Any, y: Any = None) -> OnlineDetector:
        """``learn_many(X)``, then ``threshold_`` from the batch's scores (as ``BaseDetector.partial_fit``)."""
        if not self._online_started():
            return super().partial_fit(X, y)
        self._check_contamination()
        array = self._validate_for_scoring(X)  # what was learned fixes the features, whatever call learned it
        self._partial_fit(array)
        self.decision_scores_ = check_scores(self._score(array), array.shape[0], self._name())
        self._set_threshold(self.decision_scores_)
        return self

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        self._start(X.shape[1], self.__dict__.get("_fit_names"))
        self._learn_many(X)
        self.n_learned_ = X.shape[0]

    def _partial_fit(self, X: np.ndarray) -> None:
        if not self._online_started():
            self._start(X.shape[1], None if self.feature_names_in_ is None else list(self.feature_names_in_))
        elif X.shape[1] != self.n_features_online_:
            raise InputError(f"{self._name()}: X has {X.shape[1]} features but the detector learned "
                             f"{self.n_features_online_}")
        self._learn_many(X)
        self.n_learned_ += X.shape[0]

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._score_many(X)

    def _get_state(self) -> dict[str, np.ndarray]:
        state = {f"model__{key}": np.asarray(value) for key, value in self._online_get_state().items()}
        state["online__n_learned"] = np.asarray(self.n_learned_, dtype=np.int64)
        state["online__n_features"] = np.asarray(self.n_features_online_, dtype=np.int64)
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.n_learned_ = int(state["online__n_learned"])
        self.n_features_online_ = int(state["online__n_features"])
        self._online_set_state({key[len("model__"):]: value for key, value in state.items()
                                if key.startswith("model__")})

    # -- defaults a subclass may override --------------------------------------------------------------------
    def _learn_one(self, x: np.ndarray) -> None:
        self._learn_many(x[None, :])

    def _score_one(self, x: np.ndarray) -> float:
        return float(self._score_many(x[None, :])[0])

    def _score_learn_many(self, X: np.ndarray) -> np.ndarray:
        scores = self._score_many(X)
        self._learn_many(X)
        return scores

    def _score_learn_one(self, x: np.ndarray) -> float:
        score = self._score_one(x)
        self._learn_one(x)
        return score

    # -- to implement ----------------------------------------------------------------------------------------
    def _online_reset(self, n_features: int) -> None:
        raise TypeError(f"{type(self).__name__} must implement _online_reset")

    def _learn_many(self, X: np.ndarray) -> None:
        raise TypeError(f"{type(self).__name__} must implement _learn_many")

    def _score_many(self, X: np.ndarray) -> np.ndarray:
        raise TypeError(f"{type(self).__name__} must implement _score_many")

    def _online_get_state(self) -> dict[str, Any]:
        raise TypeError(f"{self._name()} does not implement safe persistence (_online_get_state)")

    def _online_set_state(self, state: dict[str, np.ndarray]) -> None:
        raise TypeError(f"{self._name()} does not implement safe persistence (_online_set_state)")

    # -- helpers ---------------------------------------------------------------------------------------------
    def _online_started(self) -> bool:
        return hasattr(self, "n_learned_")

    def _check_started(self) -> None:
        if not self._online_started():
            raise NotFittedError(f"{self._name()} has learned nothing yet: call learn_one, learn_many or fit first")

    def _start(self, n_features: int, names: list[Any] | None) -> None:
        """Forget everything and expect records of ``n_features`` features (named ``names``)."""
        self.n_features_online_ = n_features
        self.n_features_in_ = n_features
        self.feature_names_in_ = None if names is None else np.asarray(names, dtype=object)
        self._record_keys = None
        self._online_reset(n_features)
        self.n_learned_ = 0

    def _start_from_record(self, x: Any) -> None:
        if isinstance(x, Mapping):
            self._start(len(x), list(x))
            return
        try:
            width = len(x)
        except TypeError:
            raise InputError(f"{self._name()}: a record must be a 1-D sequence or a dict of features, "
                             f"got {type(x).__name__}") from None
        self._start(width, None)

    def _online_array(self, X: Any, *, start: bool) -> np.ndarray:
        if self._online_started():
            return self._validate_for_scoring(X)
        if not start:
            self._check_started()
        names = column_labels(X)
        array = check_array(X, allow_nan=getattr(self, "allow_nan", False))
        self._start(array.shape[1], names)
        return array

    def _keys(self) -> list[Any]:
        keys = self.__dict__.get("_record_keys")
        if keys is None:
            names = self.feature_names_in_
            keys = list(range(self.n_features_online_)) if names is None else list(names)
            self._record_keys = keys
        return keys

    def _as_row(self, x: Any) -> np.ndarray:
        """One record as a validated 1-D float64 array (kept cheap: this runs once per record)."""
        if isinstance(x, Mapping):
            keys = self._keys()
            try:
                values = [x[key] for key in keys]
            except KeyError as exc:
                raise InputError(f"{self._name()}: the record has no feature {exc.args[0]!r} "
                                 f"(expected {keys!r})") from None
            if len(x) != len(keys):
                extra = [key for key in x if key not in set(keys)]
                raise InputError(f"{self._name()}: the record has unknown features {extra!r} (expected {keys!r})")
            x = values
        try:
            row = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{self._name()}: the record is not numeric: {x!r}") from None
        if row.ndim != 1:
            raise InputError(f"{self._name()}: a record must be 1-D, got shape {row.shape} "
                             "(use learn_many/score_many for several rows)")
        if row.shape[0] != self.n_features_online_:
            raise InputError(f"{self._name()}: the record has {row.shape[0]} features but the detector learned "
                             f"{self.n_features_online_}")
        if not getattr(self, "allow_nan", False) and not np.isfinite(row).all():
            j = int(np.flatnonzero(~np.isfinite(row))[0])
            raise InputError(f"{self._name()}: the record contains {row[j]} at column {j}")
        return row


def is_online(detector: Any) -> bool:
    """Whether ``detector`` follows the online contract (an :class:`OnlineDetector`)."""
    return isinstance(detector, OnlineDetector)


def prequential(detector: Any, X: Any, batch_size: int = 1) -> np.ndarray:
    """Test-then-train scores of the rows of ``X``: each record is scored before it is learned.

    With ``batch_size > 1`` the rows of each micro-batch are all scored with the model as it was before the batch,
    then the batch is learned (faster, vectorised; the scores differ from ``batch_size=1`` only by what a record
    would have learned from the earlier records of its own batch). The detector keeps what it learned, so calls
    can continue a stream; a fresh detector starts from the first record (scored by the empty model).
    """
    if not is_online(detector):
        raise InputError(f"prequential needs an online detector (learn_one/score_one), got {type(detector).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise InputError(f"prequential: batch_size must be an integer >= 1, got {batch_size!r}")
    array = detector._online_array(X, start=True)
    n = array.shape[0]
    scores = np.empty(n)
    if batch_size == 1:
        for i in range(n):
            scores[i] = detector._score_learn_one(array[i])
            detector.n_learned_ += 1
    else:
        for start in range(0, n, batch_size):
            batch = array[start:start + batch_size]
            scores[start:start + batch.shape[0]] = detector._score_learn_many(batch)
            detector.n_learned_ += batch.shape[0]
    return check_scores(scores, n, detector._name())
