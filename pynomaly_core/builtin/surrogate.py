"""A LIME-style local surrogate explainer in NumPy (Ribeiro et al., 2016, tabular variant with masks)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.explain import Explanation, feature_names_for
from pynomaly_core.validation import check_array

#: Perturbed rows scored per ``decision_function`` call (bounds memory for many rows).
_BATCH_ROWS = 200_000


class LocalSurrogateExplainer:
    """Around each row ``x``, ``n_samples`` perturbations keep a random half of its features and take the rest
    from a random background row; a kernel-weighted ridge regression of the detector's score on the 0/1 "kept"
    masks gives the attributions: coefficient ``j`` is how much keeping ``x_j`` (rather than a typical value)
    raises the score. Weights ``exp(−r / w²)`` for ``r`` replaced features, ``w = kernel_width`` (default
    ``0.75 √d``, LIME's). The surrogate's weighted R² per row is in ``row_details``.
    """

    name = "builtin.surrogate"

    def __init__(self, detector: Any, n_samples: int = 500, kernel_width: float | None = None, ridge: float = 1e-3,
                 random_state: int | None = 0):
        if not isinstance(n_samples, int) or n_samples < 10:
            raise InputError(f"{self.name}: n_samples must be an integer >= 10, got {n_samples!r}")
        if kernel_width is not None and kernel_width <= 0:
            raise InputError(f"{self.name}: kernel_width must be positive, got {kernel_width!r}")
        if ridge < 0:
            raise InputError(f"{self.name}: ridge must be >= 0, got {ridge!r}")
        self.detector = detector
        self.n_samples = n_samples
        self.kernel_width = kernel_width
        self.ridge = ridge
        self.random_state = random_state

    def explain(self, X: Any, background: Any = None) -> Explanation:
        X = check_array(X, n_features=self.detector.n_features_in_)
        reference = X if background is None else check_array(background, n_features=X.shape[1], what="background")
        n, d = X.shape
        rng = np.random.default_rng(self.random_state)
        width = self.kernel_width or 0.75 * math.sqrt(d)
        masks = rng.random((n, self.n_samples, d)) < 0.5
        masks[:, 0, :] = True  # the row itself anchors the fit
        donors = reference[rng.integers(0, reference.shape[0], size=(n, self.n_samples))]
        perturbed = np.where(masks, X[:, None, :], donors)
        flat = perturbed.reshape(-1, d)
        step = max(_BATCH_ROWS // max(d, 1), 1)
        scores = np.concatenate([self.detector.decision_function(flat[i:i + step])
                                 for i in range(0, flat.shape[0], step)]).reshape(n, self.n_samples)
        weights = np.exp(-(d - masks.sum(axis=2)) / width**2)
        design = np.concatenate([np.ones((n, self.n_samples, 1)), masks.astype(np.float64)], axis=2)
        gram = np.einsum("ns,nsi,nsj->nij", weights, design, design)
        penalty = self.ridge * weights.sum(axis=1)[:, None, None] * np.eye(d + 1)
        penalty[:, 0, 0] = 0.0  # the intercept is not shrunk
        rhs = np.einsum("ns,nsi,ns->ni", weights, design, scores)
        coef = np.linalg.solve(gram + penalty, rhs[..., None])[..., 0]
        fitted = np.einsum("nsi,ni->ns", design, coef)
        mean = (weights * scores).sum(axis=1, keepdims=True) / weights.sum(axis=1, keepdims=True)
        total = (weights * (scores - mean) ** 2).sum(axis=1)
        residual = (weights * (scores - fitted) ** 2).sum(axis=1)
        r2 = np.where(total > 0, 1.0 - residual / np.where(total > 0, total, 1.0), 1.0)
        return Explanation(coef[:, 1:], scores[:, 0], feature_names_for(self.detector, d), self.name,
                           row_details=[{"surrogate_r2": float(v)} for v in r2],
                           details={"n_samples": self.n_samples, "kernel_width": width,
                                    "background_rows": int(reference.shape[0])})
