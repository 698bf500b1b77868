"""LocalOutlierFactor (Breunig et al., 2000) in novelty mode through scikit-learn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.neighbors import LocalOutlierFactor

from pynomaly_core.errors import IntegrityError
from pynomaly_sklearn.adapter import SklearnAdapter


class LOFDetector(SklearnAdapter):
    """``sklearn.neighbors.LocalOutlierFactor(novelty=True)``; score = ``-score_samples`` (the LOF).

    The training scores that set ``threshold_`` are ``-negative_outlier_factor_``: each training row's LOF
    without counting the row as its own neighbour, which is what a new row from the same distribution gets
    (scikit-learn sets its ``offset_`` from the same values). So ``labels_`` may differ from
    ``predict(X_train)``, where every row finds itself at distance 0.

    Saved safely: LOF is deterministic and its model is the training rows, so the npz holds them and loading
    refits; the refit's training scores must equal the saved ones or loading fails.
    """

    qualified_name = "sklearn.lof"
    estimator_class = LocalOutlierFactor
    fixed_params = {"novelty": True}

    def __init__(
        self,
        n_neighbors: int = 20,
        algorithm: str = "auto",
        leaf_size: int = 30,
        metric: str = "minkowski",
        p: float = 2,
        metric_params: dict[str, Any] | None = None,
        n_jobs: int | None = None,
        contamination: float = 0.1,
    ):
        self.n_neighbors = n_neighbors
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.metric = metric
        self.p = p
        self.metric_params = metric_params
        self.n_jobs = n_jobs
        self.contamination = contamination

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        super()._fit(X, y)
        self.fit_rows_ = X
        return -self.estimator_.negative_outlier_factor_

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"fit_rows": self.fit_rows_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.fit_rows_ = np.ascontiguousarray(state["fit_rows"], dtype=np.float64)
        self.estimator_ = self.estimator_class(**self.estimator_params()).fit(self.fit_rows_)

    def _load_artefacts(self, directory: Path, artefacts: dict[str, str], trust: bool) -> None:
        super()._load_artefacts(directory, artefacts, trust)
        refit = -self.estimator_.negative_outlier_factor_
        if refit.shape != self.decision_scores_.shape or not np.array_equal(refit, self.decision_scores_):
            raise IntegrityError(f"{directory}: refitting {self.qualified_name} on the saved rows does not reproduce "
                                 "the saved training scores (another scikit-learn version or platform?)")
