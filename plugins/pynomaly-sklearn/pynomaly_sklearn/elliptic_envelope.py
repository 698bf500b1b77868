"""EllipticEnvelope: Mahalanobis distance under a robust (minimum covariance determinant) fit, via scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn.covariance import EllipticEnvelope

from pynomaly_sklearn.adapter import SklearnAdapter
from pynomaly_sklearn.persistence import ArrayState


class EllipticEnvelopeDetector(ArrayState, SklearnAdapter):
    """``sklearn.covariance.EllipticEnvelope``; score = ``-score_samples`` (squared robust Mahalanobis distance).

    Training scores are the estimator's ``dist_`` (the same distances, computed during ``fit``; scikit-learn
    sets its ``offset_`` from them). Saved safely: location, covariance and precision are plain arrays.
    """

    qualified_name = "sklearn.elliptic_envelope"
    estimator_class = EllipticEnvelope
    state_attributes = ("location_", "covariance_", "precision_", "support_", "dist_", "raw_location_",
                        "raw_covariance_", "raw_support_", "offset_", "n_features_in_")

    def __init__(
        self,
        store_precision: bool = True,
        assume_centered: bool = False,
        support_fraction: float | None = None,
        random_state: int | None = None,
        contamination: float = 0.1,
    ):
        self.store_precision = store_precision
        self.assume_centered = assume_centered
        self.support_fraction = support_fraction
        self.random_state = random_state
        self.contamination = contamination

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        super()._fit(X, y)
        return np.asarray(self.estimator_.dist_, dtype=np.float64)
