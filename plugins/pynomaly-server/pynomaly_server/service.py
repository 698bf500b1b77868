"""What the routes do, free of HTTP: detection, drift tests and explanations over the live registry."""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.data import NamedArray
from pynomaly_core.errors import InputError
from pynomaly_core.histogram import equal_width_histogram

#: Bins of the score histogram the UI draws.
HISTOGRAM_BINS = 30


def with_names(X: np.ndarray, names: list[str] | None) -> Any:
    return X if names is None else NamedArray(X, names)


def create(detector: str, params: dict[str, Any]) -> Any:
    from pynomaly_core.sdk import create_detector

    return create_detector(detector, **params)


def detect(X: np.ndarray, detector: str, params: dict[str, Any], *, names: list[str] | None = None,
           y: np.ndarray | None = None, top: int = 10) -> tuple[dict[str, Any], Any]:
    """Fit and score ``X`` (the SDK's pipeline): the JSON-ready summary (scores, labels, top rows, metrics) and the
    fitted model."""
    from pynomaly_core.pipeline import fit_detector

    result = fit_detector(create(detector, params), with_names(X, names), y)
    summary = result.summary(top=max(top, 0))
    summary.update(params=jsonable(summary["params"]), features=int(X.shape[1]),
                   feature_names=names or [f"x{j}" for j in range(X.shape[1])], scores=result.scores,
                   labels=result.labels, timings={k: round(v, 6) for k, v in result.timings.items()})
    return summary, result.model


def histogram(scores: np.ndarray, bins: int = HISTOGRAM_BINS) -> dict[str, list[float]]:
    counts, edges = equal_width_histogram(scores, bins)
    return {"counts": counts.tolist(), "edges": edges.tolist()}


def explain(model: Any, X: np.ndarray, rows: np.ndarray, *, explainer: str = "permutation",
            params: dict[str, Any] | None = None, background: np.ndarray | None = None, k: int = 3,
            names: list[str] | None = None) -> dict[str, Any]:
    """Explain ``X[rows]`` for a fitted ``model`` with a registered explainer (background: the given rows)."""
    from pynomaly_core.registry import get_registry

    spec = get_registry().resolve("explainer", explainer)
    params = dict(params or {})
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise InputError(f"{spec.qualified_name}: unknown parameter(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(sorted(spec.params)) or '(none)'}")
    if k < 1:
        raise InputError(f"k must be >= 1, got {k}")
    subset = X[rows]
    explanation = spec.load()(model, **params).explain(with_names(subset, names), background=background)
    feature_names = names or list(explanation.feature_names)
    attributions = np.asarray(explanation.attributions, dtype=np.float64)
    result = []
    for i, row in enumerate(rows):
        order = np.argsort(-attributions[i], kind="mergesort")[:k]
        result.append({
            "row": int(row),
            "score": float(explanation.scores[i]),
            "top_features": [{"feature": feature_names[j], "attribution": float(attributions[i, j]),
                              "value": float(subset[i, j])} for j in order],
        })
    return {"explainer": spec.qualified_name, "rows": result}


def drift(reference: np.ndarray, current: np.ndarray, test: str, params: dict[str, Any],
          names: list[str] | None) -> dict[str, Any]:
    """Run a registered drift test on a reference/current pair."""
    from pynomaly_core.registry import get_registry

    spec = get_registry().resolve("drift_test", test)
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise InputError(f"{spec.qualified_name}: unknown parameter(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(sorted(spec.params)) or '(none)'}")
    if reference.shape[1] != current.shape[1]:
        raise InputError(f"reference has {reference.shape[1]} features but current has {current.shape[1]}")
    report = spec.load()(**params).run(with_names(reference, names), with_names(current, names))
    return jsonable(report.to_dict())


def jsonable(value: Any) -> Any:
    """Plain JSON types for parameters and reports that may hold NumPy scalars or tuples."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is None or isinstance(value, str | int | float | bool):
        if isinstance(value, float) and not np.isfinite(value):
            return None
        return value
    return repr(value)
