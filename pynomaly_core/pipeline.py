"""The detection pipeline, written once: fit → score → threshold → metrics → top rows.

The SDK (:func:`pynomaly_core.detect`), the CLI (``detect``, ``train``, ``score``), the server and out-of-core
streaming all run detectors through :func:`fit_detector` and :func:`score_detector`, so they report the same
scores, labels, metrics and names.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from pynomaly_core.data import Dataset
from pynomaly_core.metrics import label_metrics
from pynomaly_core.results import DetectionResult
from pynomaly_core.validation import feature_names_of


def qualified_name_of(model: Any) -> str:
    """The registry name of a detector instance (``builtin.ecod``); its class name when it is not registered."""
    name = getattr(model, "qualified_name", None)
    if isinstance(name, str) and name:
        return name
    from pynomaly_core.registry import get_registry

    spec = get_registry().spec_of_class(type(model))
    return type(model).__name__ if spec is None else spec.qualified_name


def model_input(data: Any) -> Any:
    """What a detector fits or scores: a graph dataset itself (its edges are in ``extra``), a tabular dataset's
    features with their column names, anything else as given."""
    if isinstance(data, Dataset):
        return data if data.kind == "graph" else data.features()
    return data


def _labels_and_names(data: Any, y: Any) -> tuple[Any, list[str] | None]:
    if isinstance(data, Dataset):
        return (data.y if y is None else y), data.feature_names
    return y, feature_names_of(data)


def fit_detector(model: Any, data: Any, y: Any = None) -> DetectionResult:
    """Fit ``model`` on ``data`` (a :class:`Dataset` or anything the detector takes) and report its training scores.

    Labels (``y``, or the dataset's) give ROC-AUC and average precision; a detector with the ``supervised``
    capability is fitted with them.
    """
    y, names = _labels_and_names(data, y)
    if y is not None:
        y = np.asarray(y).reshape(-1)
    _check_data_kind(model, data)
    supervised = "supervised" in _capabilities(model)
    start = time.perf_counter()
    model.fit(model_input(data), y if supervised else None)
    fit_s = time.perf_counter() - start
    scores = np.asarray(model.decision_scores_, dtype=np.float64)
    fitted_names = getattr(model, "feature_names_in_", None)
    return DetectionResult(
        scores=scores,
        labels=np.asarray(model.labels_, dtype=np.int64),
        threshold=float(model.threshold_),
        detector=qualified_name_of(model),
        params=model.get_params(),
        timings={"fit_s": fit_s},
        feature_names=names or (None if fitted_names is None else list(fitted_names)),
        metrics=label_metrics(y, scores),
        model=model,
    )


def score_detector(model: Any, data: Any, y: Any = None) -> DetectionResult:
    """Score ``data`` with a fitted ``model``: labels from its ``threshold_``, metrics when labels are given."""
    y, names = _labels_and_names(data, y)
    _check_data_kind(model, data)
    start = time.perf_counter()
    scores = np.asarray(model.decision_function(model_input(data)), dtype=np.float64)
    score_s = time.perf_counter() - start
    threshold = float(model.threshold_)
    return DetectionResult(
        scores=scores,
        labels=(scores > threshold).astype(np.int64),
        threshold=threshold,
        detector=qualified_name_of(model),
        params=model.get_params(),
        timings={"score_s": score_s},
        feature_names=names,
        metrics=label_metrics(y, scores),
        model=model,
    )


def _check_data_kind(model: Any, data: Any) -> None:
    """A dataset of a kind the detector does not take (a graph for a tabular detector) is a one-line error."""
    from pynomaly_core.errors import InputError
    from pynomaly_core.registry import get_registry

    spec = get_registry().spec_of(model)
    if not isinstance(data, Dataset) or spec is None or data.kind in spec.data_kinds:
        return
    source = f"{data.source} is" if data.source else "the data is"
    raise InputError(f"{spec.qualified_name} works on {', '.join(sorted(spec.data_kinds))} data, but {source} "
                     f"{data.kind} data; choose a detector from `pynomaly detectors list --kind {data.kind}` or "
                     "another loader (--loader)")


def _capabilities(model: Any) -> frozenset[str]:
    from pynomaly_core.registry import get_registry

    spec = get_registry().spec_of(model)
    return frozenset() if spec is None else spec.capabilities
