"""OneClassSVM (Schölkopf et al., 2001) through scikit-learn's libsvm."""

from __future__ import annotations

from sklearn.svm import OneClassSVM

from pynomaly_sklearn.adapter import SklearnAdapter
from pynomaly_sklearn.persistence import PickledState


class OneClassSVMDetector(PickledState, SklearnAdapter):
    """``sklearn.svm.OneClassSVM``; score = ``-score_samples`` (minus the unshifted kernel decision value).

    Saved with joblib: libsvm scores through private attributes (``_dual_coef_``, ``_n_support``, ``_gamma``,
    ...), so a pickle-free restore would depend on scikit-learn internals.
    """

    qualified_name = "sklearn.ocsvm"
    estimator_class = OneClassSVM

    def __init__(
        self,
        kernel: str = "rbf",
        degree: int = 3,
        gamma: str | float = "scale",
        coef0: float = 0.0,
        tol: float = 0.001,
        nu: float = 0.5,
        shrinking: bool = True,
        cache_size: float = 200,
        verbose: bool = False,
        max_iter: int = -1,
        contamination: float = 0.1,
    ):
        self.kernel = kernel
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.tol = tol
        self.nu = nu
        self.shrinking = shrinking
        self.cache_size = cache_size
        self.verbose = verbose
        self.max_iter = max_iter
        self.contamination = contamination
