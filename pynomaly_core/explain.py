"""Explanations: per-row feature attributions shared by every explainer, and :func:`explain` for the SDK."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError


@dataclass
class Explanation:
    """``attributions[i, j]``: how much feature ``j`` raises row ``i``'s anomaly score (higher = more to blame).

    ``row_details`` (optional, one dict per row) carries what an explainer knows beyond the attributions, e.g.
    the counterfactual's changed features; ``details`` holds explanation-wide facts (units, background size).
    """

    attributions: np.ndarray
    scores: np.ndarray
    feature_names: list[str]
    explainer: str
    row_details: list[dict[str, Any]] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def top_features(self, row: int, k: int = 3) -> list[tuple[str, float]]:
        order = np.argsort(-self.attributions[row], kind="mergesort")[:k]
        return [(self.feature_names[j], float(self.attributions[row, j])) for j in order]

    def to_dict(self, k: int = 3, row_ids: list[int] | None = None) -> dict[str, Any]:
        """JSON-ready: per row its id (``row_ids[i]``, else ``i``), score, top-``k`` features and details."""
        ids = list(range(self.attributions.shape[0])) if row_ids is None else [int(r) for r in row_ids]
        rows = []
        for i, row_id in enumerate(ids):
            entry: dict[str, Any] = {
                "row": row_id, "score": float(self.scores[i]),
                "top_features": [{"feature": f, "attribution": a} for f, a in self.top_features(i, k)],
            }
            if self.row_details is not None:
                entry.update(self.row_details[i])
            rows.append(entry)
        return {"explainer": self.explainer, "details": self.details, "rows": rows}


def feature_names_for(detector: Any, n_features: int) -> list[str]:
    """The detector's fitted column names, else ``x0 … x{d-1}``."""
    fitted = getattr(detector, "feature_names_in_", None)
    return [str(v) for v in fitted] if fitted is not None else [f"x{j}" for j in range(n_features)]


def explain(detector: Any, X: Any, explainer: str = "permutation", *, background: Any = None,
            **params: Any) -> Explanation:
    """Attribute ``detector``'s scores on the rows of ``X`` to their features with the explainer ``explainer``.

    ``background``: reference rows (typically the training data); explainers that need one fall back to ``X``.

    >>> import numpy as np
    >>> from pynomaly_core.sdk import create_detector
    >>> rng = np.random.default_rng(0); train = rng.normal(size=(300, 3))
    >>> model = create_detector("mahalanobis").fit(train)
    >>> explain(model, [[0.0, 7.0, 0.0]], background=train).top_features(0, 1)[0][0]
    'x1'
    """
    from pynomaly_core.registry import get_registry

    spec = get_registry().resolve("explainer", explainer)
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise InputError(f"{spec.qualified_name}: unknown parameter(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(sorted(spec.params)) or '(none)'}")
    if not hasattr(detector, "threshold_"):
        raise InputError(f"{spec.qualified_name}: the detector is not fitted")
    return spec.load()(detector, **params).explain(X, background=background)


#: The name :mod:`pynomaly_core` exports (``pynomaly_core.explain`` is this module).
explain_anomalies = explain
