"""IsolationForest (Liu et al., 2008) through scikit-learn."""

from __future__ import annotations

from sklearn.ensemble import IsolationForest

from pynomaly_sklearn.adapter import SklearnAdapter
from pynomaly_sklearn.persistence import PickledState


class IsolationForestDetector(PickledState, SklearnAdapter):
    """``sklearn.ensemble.IsolationForest``; score = ``-score_samples`` (mean path length, normalised).

    Saved with joblib: the trees are Cython objects, restorable without pickle only through scikit-learn's
    private internals (per-tree path-length caches), which change between releases.
    """

    qualified_name = "sklearn.iforest"
    estimator_class = IsolationForest

    def __init__(
        self,
        n_estimators: int = 100,
        max_samples: str | int | float = "auto",
        max_features: int | float = 1.0,
        bootstrap: bool = False,
        n_jobs: int | None = None,
        random_state: int | None = None,
        verbose: int = 0,
        warm_start: bool = False,
        contamination: float = 0.1,
    ):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.max_features = max_features
        self.bootstrap = bootstrap
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.contamination = contamination
