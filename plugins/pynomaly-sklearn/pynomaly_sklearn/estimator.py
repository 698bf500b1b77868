"""``as_sklearn``: any pynomaly tabular detector in scikit-learn's outlier-detector convention.

scikit-learn's outlier detectors score the other way round: ``score_samples`` is higher for normal rows,
``decision_function = score_samples - offset_`` is negative for outliers and ``predict`` returns +1 (inlier) or
-1 (outlier). Here ``score_samples = -detector.decision_function``, ``offset_ = -detector.threshold_``, so
``decision_function = threshold_ - score`` and ``predict`` flags exactly the rows the pynomaly detector's ``predict``
labels 1. ``fit_predict(X)`` is ``fit(X).predict(X)``, as scikit-learn requires: it re-scores the training rows.
For most detectors that gives the training labels (``detector_.labels_``, a ``contamination`` share of the rows);
detectors whose training scores leave each row out of its own neighbourhood (k-NN, LOF, ABOD) score a row lower
when it is scored again with itself among the training rows, so ``fit_predict`` can flag fewer rows than
``detector_.labels_`` (on cardio, ``pyod.knn`` flags 7.65 % against 9.99 %). Use ``detector_.labels_`` for the
training labels.

Column labels are checked for every input with labels: all-string ones by scikit-learn's own validation, any
others by value and type (``1`` and ``"1"`` differ), which scikit-learn does not check.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils.validation import check_is_fitted

from pynomaly_core.errors import InputError
from pynomaly_core.validation import column_labels, same_labels

try:
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # scikit-learn < 1.6
    _validate_data = None


class PynomalyOutlierDetector(OutlierMixin, BaseEstimator):
    """A scikit-learn outlier detector around the pynomaly detector ``detector`` (cloned on ``fit``).

    Fitted attributes: ``detector_`` (the fitted clone), ``offset_``, ``n_features_in_`` (and
    ``feature_names_in_`` for DataFrames). Parameters of the wrapped detector are reachable as
    ``detector__<name>`` (``set_params``, grid search, pipelines).
    """

    def __init__(self, detector: Any):
        self.detector = detector

    def fit(self, X: Any, y: Any = None) -> PynomalyOutlierDetector:
        """Fit a clone of ``detector`` on ``X`` (``y`` is ignored)."""
        detector = _check_detector(self.detector)
        X = self._validate(X, reset=True)
        self.detector_ = clone(detector).fit(X)
        self.offset_ = -float(self.detector_.threshold_)
        return self

    def score_samples(self, X: Any) -> np.ndarray:
        """Normality of each row: minus the pynomaly anomaly score (lower = more abnormal)."""
        check_is_fitted(self)
        return -self.detector_.decision_function(self._validate(X, reset=False))

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for outliers, zero on the threshold."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """+1 for inliers, -1 for outliers."""
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = _allows_nan(self.detector)
        return tags

    def _more_tags(self) -> dict[str, Any]:  # scikit-learn < 1.6
        return {"allow_nan": _allows_nan(self.detector)}

    def _validate(self, X: Any, reset: bool) -> np.ndarray:
        finite: bool | str = "allow-nan" if _allows_nan(self.detector) else True
        labels = column_labels(X)
        if reset:
            self.column_labels_ = labels
        elif labels is not None and self.column_labels_ is not None and not (
                _all_strings(labels) and _all_strings(self.column_labels_)) \
                and not same_labels(labels, self.column_labels_):  # scikit-learn compares string labels itself
            raise InputError(f"as_sklearn: columns {labels!r} differ from the fitted columns {self.column_labels_!r}")
        if labels is not None and not _all_strings(labels):
            X = np.asarray(X)  # scikit-learn refuses labels that are not all strings; they were checked above
        if _validate_data is None:
            return self._validate_data(X, reset=reset, dtype=np.float64, force_all_finite=finite)
        return _validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=finite)


def as_sklearn(detector: Any, **params: Any) -> PynomalyOutlierDetector:
    """Wrap a pynomaly tabular detector (an instance, or a registry name plus its parameters) for scikit-learn.

    >>> model = as_sklearn("builtin.hbos", n_bins=20)
    >>> model.detector
    HBOS(n_bins=20)
    """
    if isinstance(detector, str):
        from pynomaly_core.sdk import create_detector

        _require_tabular(detector)
        detector = create_detector(detector, **params)
    elif params:
        raise InputError("as_sklearn: parameters are only accepted with a detector name; set them on the detector")
    return PynomalyOutlierDetector(_check_detector(detector))


def _check_detector(detector: Any) -> Any:
    for method in ("fit", "decision_function", "get_params"):
        if not callable(getattr(detector, method, None)):
            raise InputError(f"as_sklearn: {detector!r} is not a pynomaly detector (no {method} method)")
    from pynomaly_core.pipeline import qualified_name_of

    name = qualified_name_of(detector)
    if "." in name:
        _require_tabular(name, registered_only=True)
    return detector


def _require_tabular(name: str, registered_only: bool = False) -> None:
    """Refuse a registered detector that does not take tables (an unregistered class cannot be checked)."""
    from pynomaly_core.errors import UnknownNameError
    from pynomaly_core.registry import get_registry

    try:
        spec = get_registry().detector(name)
    except UnknownNameError:
        if registered_only:
            return
        raise
    if "tabular" not in spec.data_kinds:
        raise InputError(f"as_sklearn: {spec.qualified_name} works on {', '.join(sorted(spec.data_kinds))} data, "
                         "not on tables")


def _all_strings(labels: list[Any]) -> bool:
    return all(isinstance(label, str) for label in labels)


def _allows_nan(detector: Any) -> bool:
    return bool(getattr(detector, "allow_nan", False))
