"""Exact Tree SHAP (Lundberg et al., 2020) for isolation forests behind pynomaly detectors."""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.explain import Explanation, feature_names_for
from pynomaly_core.validation import check_array

#: The estimators (as ``module.Class``) whose trees SHAP's TreeExplainer reads, and the detectors holding them.
SUPPORTED = {
    "sklearn.ensemble._iforest.IsolationForest": "sklearn.iforest",
    "pyod.models.iforest.IForest": "pyod.iforest",
}


def tree_model(detector: Any) -> Any:
    """The fitted tree ensemble inside ``detector`` (``estimator_``), or an :class:`InputError` saying why not."""
    estimator = getattr(detector, "estimator_", None)
    kind = f"{type(estimator).__module__}.{type(estimator).__name__}"
    if estimator is None or kind not in SUPPORTED:
        from pynomaly_core.pipeline import qualified_name_of

        name = qualified_name_of(detector)
        raise InputError(f"shap.tree: {name} is not a tree-based detector SHAP can read (supported: "
                         f"{', '.join(sorted(SUPPORTED.values()))}); use shap.kernel for any detector")
    return estimator


class TreeShapExplainer:
    """Shapley values of the isolation depth, sign flipped: the score is 2^(−E[h(x)] / c(ψ)), decreasing in the
    mean path length E[h], so a feature that shortens the path (positive attribution) raises the score.

    Attributions are in path-length units and add up, per row, to ``details["expected_value"]`` − E[h(x)]
    (the path-length shortening relative to the training average). Path-dependent Tree SHAP needs no
    background; ``background`` is accepted and ignored.
    """

    name = "shap.tree"

    def __init__(self, detector: Any):
        self.detector = detector
        self.model = tree_model(detector)

    def explain(self, X: Any, background: Any = None) -> Explanation:
        import shap

        X = check_array(X, n_features=self.detector.n_features_in_)
        explainer = shap.TreeExplainer(self.model)
        depth_values = np.asarray(explainer.shap_values(X), dtype=np.float64).reshape(X.shape)
        return Explanation(-depth_values, self.detector.decision_function(X),
                           feature_names_for(self.detector, X.shape[1]), self.name,
                           details={"expected_value": float(np.ravel(explainer.expected_value)[0]),
                                    "units": "isolation path length (positive: shortens the path)"})
