"""The detector contract and a base class that implements everything but the algorithm.

Contract (what ``pynomaly_core.testing.check_detector`` verifies):

* ``fit(X, y=None) -> self``; ``decision_function(X)`` → float64 scores, **higher = more anomalous**;
  ``predict(X)`` → 0/1 using ``threshold_``, the ``1 - contamination`` quantile of the training scores;
* ``get_params`` / ``set_params`` in scikit-learn's convention, so ``sklearn.base.clone`` and pipelines work;
* optional ``partial_fit(X)`` (declare the ``partial_fit`` capability);
* input is validated (2-D numeric, no NaN/inf, feature count checked) and scores must be finite.

A subclass lists its parameters in ``__init__`` (stored unchanged, as in scikit-learn) and implements
``_fit(X, y)`` and ``_score(X)`` on validated float64 arrays. For safe persistence it returns its fitted state
as NumPy arrays from ``_get_state`` and restores it in ``_set_state``.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pynomaly_core.errors import InputError, NotFittedError, ScoreError
from pynomaly_core.validation import check_array, check_scores, column_labels, same_labels


class _RegisteredName:
    """``qualified_name`` of a detector class that does not set one: the name its registry spec gives it."""

    def __get__(self, instance: Any, owner: type) -> str:
        from pynomaly_core.registry import get_registry

        spec = get_registry().spec_of_class(owner)
        return "" if spec is None else spec.qualified_name


class BaseDetector:
    """Base class of pynomaly detectors (see the module docstring for the contract)."""

    #: Qualified registry name (``builtin.ecod``), used in manifests and messages. A class may set it; otherwise
    #: it is looked up in the registry by the class's ``module:QualName`` (``""`` when not registered).
    qualified_name: ClassVar[str] = _RegisteredName()  # type: ignore[assignment]
    #: Whether the algorithm itself accepts NaN (then validation lets NaN through).
    allow_nan: ClassVar[bool] = False

    # -- scikit-learn parameter protocol ---------------------------------------------------------------------
    @classmethod
    def _get_param_names(cls) -> list[str]:
        names = cls.__dict__.get("_param_names_")
        if names is None:  # read from the signature once per class (scoring calls get_params on every request)
            signature = inspect.signature(cls.__init__)
            names = sorted(
                name for name, p in signature.parameters.items()
                if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            )
            cls._param_names_ = names
        return list(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> BaseDetector:
        valid = self._get_param_names()
        for key, value in params.items():
            if key not in valid:
                raise InputError(f"{self._name()}: unknown parameter {key!r}; valid: {', '.join(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        defaults = {
            name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        shown = [f"{k}={v!r}" for k, v in self.get_params().items() if not _same(defaults.get(k), v)]
        return f"{type(self).__name__}({', '.join(shown)})"

    # -- the contract ----------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> BaseDetector:
        """Fit on ``X`` (``y`` is ignored by unsupervised detectors) and set ``threshold_``."""
        self._check_contamination()
        names = column_labels(X)
        array = check_array(X, allow_nan=self.allow_nan)
        start = time.perf_counter()
        train_scores = self._fit(array, None if y is None else np.asarray(y))
        if train_scores is None:
            train_scores = self._score(array)
        try:
            self.decision_scores_ = check_scores(train_scores, array.shape[0], self._name())
        except ScoreError:
            if array.shape[0] == 1:  # a single row is bad input for this detector, not a broken detector
                raise InputError(f"{self._name()}: cannot fit 1 sample (its training score is not finite)") from None
            raise
        self.fit_time_s_ = time.perf_counter() - start
        self.n_features_in_ = array.shape[1]
        self.feature_names_in_ = np.asarray(names, dtype=object) if names is not None else None
        self._set_threshold(self.decision_scores_)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores of ``X``: float64, one per row, higher = more anomalous."""
        self._check_fitted()
        array = self._validate_for_scoring(X)
        return check_scores(self._score(array), array.shape[0], self._name())

    def score_samples(self, X: Any) -> np.ndarray:
        """Alias of :meth:`decision_function` (higher = more anomalous)."""
        return self.decision_function(X)

    def predict(self, X: Any) -> np.ndarray:
        """0/1 labels (1 = anomaly): scores above ``threshold_``."""
        return (self.decision_function(X) > self.threshold_).astype(np.int64)

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        return self.fit(X, y).labels_

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "threshold_")

    def __sklearn_tags__(self) -> Any:
        """Tags for scikit-learn ≥ 1.6 (imported only when scikit-learn asks). Labels are 0/1, not ±1, so the
        estimator type is left unset; ``pynomaly_sklearn.as_sklearn`` gives the strict outlier-detector API."""
        from sklearn.utils import InputTags, Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    input_tags=InputTags(allow_nan=self.allow_nan))

    # -- incremental learning (only for subclasses that implement _partial_fit) ------------------------------
    def partial_fit(self, X: Any, y: Any = None) -> BaseDetector:
        """Update the model with a batch; ``threshold_`` comes from the latest batch's scores."""
        if not hasattr(self, "_partial_fit"):
            raise AttributeError(f"{self._name()} does not support partial_fit")
        self._check_contamination()
        first = not hasattr(self, "threshold_")
        array = check_array(X, allow_nan=self.allow_nan, n_features=None if first else self.n_features_in_)
        if first:
            self.n_features_in_ = array.shape[1]
            names = column_labels(X)
            self.feature_names_in_ = np.asarray(names, dtype=object) if names is not None else None
        self._partial_fit(array)
        self.decision_scores_ = check_scores(self._score(array), array.shape[0], self._name())
        self._set_threshold(self.decision_scores_)
        return self

    # -- persistence -----------------------------------------------------------------------------------------
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save the fitted detector to a directory (JSON manifest + safe artefacts); see :mod:`persistence`."""
        from pynomaly_core.persistence import save

        return save(self, path, overwrite=overwrite)

    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        """Write the fitted state into ``directory``; return ``{file name: format}``. Default: one npz."""
        state = {f"state__{k}": np.asarray(v) for k, v in self._get_state().items()}
        state["base__decision_scores"] = self.decision_scores_
        state["base__threshold"] = np.asarray(self.threshold_)
        with open(directory / "state.npz", "wb") as handle:
            np.savez(handle, **state)
        return {"state.npz": "npz"}

    def _load_artefacts(self, directory: Path, artefacts: dict[str, str], trust: bool) -> None:
        """Restore what :meth:`_save_artefacts` wrote (hashes were already checked by the core)."""
        with np.load(directory / "state.npz", allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        self._set_state({k[len("state__"):]: v for k, v in arrays.items() if k.startswith("state__")})
        self.decision_scores_ = arrays["base__decision_scores"]
        self._set_threshold(self.decision_scores_, threshold=float(arrays["base__threshold"]))

    def _get_state(self) -> dict[str, np.ndarray]:
        raise TypeError(f"{self._name()} does not implement safe persistence (_get_state/_set_state)")

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        raise TypeError(f"{self._name()} does not implement safe persistence (_get_state/_set_state)")

    # -- to implement ----------------------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray | None:
        """Learn from validated ``X``; may return the training scores to save a second pass."""
        raise TypeError(f"{type(self).__name__} must implement _fit")

    def _score(self, X: np.ndarray) -> np.ndarray:
        """Scores of validated ``X`` (higher = more anomalous)."""
        raise TypeError(f"{type(self).__name__} must implement _score")

    # -- helpers ---------------------------------------------------------------------------------------------
    def _name(self) -> str:
        return self.qualified_name or type(self).__name__

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(f"{self._name()} is not fitted yet: call fit(X) first")

    def _check_contamination(self) -> None:
        contamination = getattr(self, "contamination", 0.1)
        if not isinstance(contamination, int | float) or not 0 < contamination <= 0.5:
            raise InputError(f"{self._name()}: contamination must be in (0, 0.5], got {contamination!r}")

    def _validate_for_scoring(self, X: Any) -> np.ndarray:
        names = column_labels(X)
        fitted_names = None if self.feature_names_in_ is None else list(self.feature_names_in_)
        if names is not None and fitted_names is not None and not same_labels(names, fitted_names):
            raise InputError(
                f"{self._name()}: columns {names!r} differ from the fitted columns {fitted_names!r}"
            )
        return check_array(X, allow_nan=self.allow_nan, n_features=self.n_features_in_,
                           feature_names=None if fitted_names is None else [str(n) for n in fitted_names])

    def _set_threshold(self, scores: np.ndarray, threshold: float | None = None) -> None:
        contamination = getattr(self, "contamination", 0.1)
        self.threshold_ = (
            float(np.percentile(scores, 100 * (1 - contamination))) if threshold is None else threshold
        )
        self.labels_ = (scores > self.threshold_).astype(np.int64)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return a is b
