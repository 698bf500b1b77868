"""Model-agnostic Kernel SHAP (Lundberg & Lee, 2017) on a pynomaly detector's ``decision_function``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.explain import Explanation, feature_names_for
from pynomaly_core.validation import check_array


@contextlib.contextmanager
def seeded_global_numpy(seed: int | None) -> Iterator[None]:
    """Kernel SHAP samples coalitions from NumPy's global generator: seed it, then restore the caller's state."""
    state = np.random.get_state()
    if seed is not None:
        np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


class KernelShapExplainer:
    """Shapley values of the anomaly score (higher = more anomalous), so attributions are in score units and
    add up, per row, to score − mean background score (``details["expected_value"]``).

    The background (default: the rows being explained) is summarised by ``n_background`` k-means centres
    (``shap.kmeans``, weighted by cluster size); ``n_samples`` coalitions per row (``"auto"``: SHAP's
    ``2 d + 2048``, i.e. every coalition up to d = 11 features).
    """

    name = "shap.kernel"

    def __init__(self, detector: Any, n_background: int = 20, n_samples: int | str = "auto",
                 random_state: int | None = 0):
        if not isinstance(n_background, int) or n_background < 1:
            raise InputError(f"{self.name}: n_background must be a positive integer, got {n_background!r}")
        if n_samples != "auto" and (not isinstance(n_samples, int) or n_samples < 2):
            raise InputError(f"{self.name}: n_samples must be 'auto' or an integer >= 2, got {n_samples!r}")
        self.detector = detector
        self.n_background = n_background
        self.n_samples = n_samples
        self.random_state = random_state

    def explain(self, X: Any, background: Any = None) -> Explanation:
        import shap

        X = check_array(X, n_features=self.detector.n_features_in_)
        reference = X if background is None else check_array(background, n_features=X.shape[1], what="background")
        summary = shap.kmeans(reference, self.n_background) if reference.shape[0] > self.n_background else reference

        def score(rows: np.ndarray) -> np.ndarray:
            return self.detector.decision_function(np.asarray(rows, dtype=np.float64))

        with seeded_global_numpy(self.random_state):
            explainer = shap.KernelExplainer(score, summary, link="identity")
            values = explainer.shap_values(X, nsamples=self.n_samples, silent=True, l1_reg=False)
        values = np.asarray(values, dtype=np.float64).reshape(X.shape)
        return Explanation(values, score(X), feature_names_for(self.detector, X.shape[1]), self.name,
                           details={"expected_value": float(np.ravel(explainer.expected_value)[0]),
                                    "background_rows": int(min(reference.shape[0], self.n_background)),
                                    "units": "anomaly score"})
