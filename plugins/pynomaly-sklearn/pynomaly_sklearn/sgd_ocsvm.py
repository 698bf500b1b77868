"""SGDOneClassSVM: a linear one-class SVM trained by stochastic gradient descent, through scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import SGDOneClassSVM

from pynomaly_sklearn.adapter import SklearnAdapter, user_errors
from pynomaly_sklearn.persistence import ArrayState


class SGDOneClassSVMDetector(ArrayState, SklearnAdapter):
    """``sklearn.linear_model.SGDOneClassSVM``; score = ``-score_samples`` (minus ``X @ coef_``).

    Linear: pair it with a kernel approximation (e.g. Nystroem in a pipeline) for non-linear data.
    ``partial_fit`` runs one SGD epoch per batch, as scikit-learn's does. Saved safely: the coefficients,
    offset and SGD counters (and the averaging buffers when ``average``) are plain arrays.
    """

    qualified_name = "sklearn.sgd_ocsvm"
    estimator_class = SGDOneClassSVM
    state_attributes = ("coef_", "offset_", "t_", "n_iter_", "n_features_in_", "_standard_coef",
                        "_standard_intercept", "_average_coef", "_average_intercept")

    def __init__(
        self,
        nu: float = 0.5,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float | None = 0.001,
        shuffle: bool = True,
        verbose: int = 0,
        random_state: int | None = None,
        learning_rate: str = "optimal",
        eta0: float = 0.01,
        power_t: float = 0.5,
        warm_start: bool = False,
        average: bool | int = False,
        contamination: float = 0.1,
    ):
        self.nu = nu
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.warm_start = warm_start
        self.average = average
        self.contamination = contamination

    def _partial_fit(self, X: np.ndarray) -> None:
        if getattr(self, "estimator_", None) is None:
            self.estimator_ = self.estimator_class(**self.estimator_params())
        else:
            self.estimator_.set_params(**self.estimator_params())
        with user_errors(self._name()):
            self.estimator_.partial_fit(X)
