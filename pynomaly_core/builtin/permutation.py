"""Occlusion / permutation attribution for any fitted detector."""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.explain import Explanation
from pynomaly_core.validation import check_array


class PermutationExplainer:
    """Attribution of feature ``j`` for row ``x``: score(x) − mean score(x with ``x_j`` replaced by background values).

    The background is a sample of reference rows (by default the rows being explained); ``n_repeats``
    replacement values are drawn per feature with ``random_state``. Works with any detector: it only calls
    ``decision_function``.
    """

    name = "builtin.permutation"

    def __init__(self, detector: Any, n_repeats: int = 10, random_state: int | None = 0):
        if n_repeats < 1:
            raise InputError(f"builtin.permutation: n_repeats must be >= 1, got {n_repeats!r}")
        self.detector = detector
        self.n_repeats = n_repeats
        self.random_state = random_state

    def explain(self, X: Any, background: Any = None) -> Explanation:
        fitted_names = getattr(self.detector, "feature_names_in_", None)
        X = check_array(X, n_features=self.detector.n_features_in_)
        reference = X if background is None else check_array(background, n_features=X.shape[1], what="background")
        rng = np.random.default_rng(self.random_state)
        base = self.detector.decision_function(X)
        n, d = X.shape
        attributions = np.empty((n, d))
        for j in range(d):
            replacements = reference[rng.integers(0, reference.shape[0], size=(self.n_repeats, n)), j]
            stacked = np.repeat(X[np.newaxis], self.n_repeats, axis=0)
            stacked[:, :, j] = replacements
            perturbed = self.detector.decision_function(stacked.reshape(-1, d)).reshape(self.n_repeats, n)
            attributions[:, j] = base - perturbed.mean(axis=0)
        names = [str(v) for v in fitted_names] if fitted_names is not None else [f"x{j}" for j in range(d)]
        return Explanation(attributions, base, names, self.name)
