"""Entry point of the sklearn plugin: specs only, so registering it imports no scikit-learn."""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl
from pynomaly_core.specs import DetectorSpec, DriftTestSpec

_SEEDED = "deterministic_with_seed"


@hookimpl
def register_detectors(register):
    register(DetectorSpec(
        name="iforest",
        summary="scikit-learn IsolationForest: mean isolation path length over random trees (Liu et al., 2008).",
        target="pynomaly_sklearn.iforest:IsolationForestDetector",
        params={"n_estimators": 100, "max_samples": "auto", "max_features": 1.0, "bootstrap": False, "n_jobs": None,
                "random_state": None, "verbose": 0, "warm_start": False, "contamination": 0.1},
        capabilities={"pickle_save", _SEEDED},
    ))
    register(DetectorSpec(
        name="lof",
        summary="scikit-learn LocalOutlierFactor in novelty mode: local density vs the k nearest training rows.",
        target="pynomaly_sklearn.lof:LOFDetector",
        params={"n_neighbors": 20, "algorithm": "auto", "leaf_size": 30, "metric": "minkowski", "p": 2,
                "metric_params": None, "n_jobs": None, "contamination": 0.1},
        capabilities={"save", _SEEDED},
        # chosen for the core's default ensemble by cross-validation over datasets (benchmarks/bench_defaults.py)
        presets={"default_ensemble": {}},
    ))
    register(DetectorSpec(
        name="ocsvm",
        summary="scikit-learn OneClassSVM (libsvm): kernel boundary around the training data.",
        target="pynomaly_sklearn.ocsvm:OneClassSVMDetector",
        params={"kernel": "rbf", "degree": 3, "gamma": "scale", "coef0": 0.0, "tol": 0.001, "nu": 0.5,
                "shrinking": True, "cache_size": 200, "verbose": False, "max_iter": -1, "contamination": 0.1},
        capabilities={"pickle_save", _SEEDED},
    ))
    register(DetectorSpec(
        name="sgd_ocsvm",
        summary="scikit-learn SGDOneClassSVM: linear one-class SVM by SGD, incremental with partial_fit.",
        target="pynomaly_sklearn.sgd_ocsvm:SGDOneClassSVMDetector",
        params={"nu": 0.5, "fit_intercept": True, "max_iter": 1000, "tol": 0.001, "shuffle": True, "verbose": 0,
                "random_state": None, "learning_rate": "optimal", "eta0": 0.01, "power_t": 0.5,
                "warm_start": False, "average": False, "contamination": 0.1},
        capabilities={"save", "partial_fit", _SEEDED},
        search_space={"nu": [0.1, 0.9]},
    ))
    register(DetectorSpec(
        name="elliptic_envelope",
        summary="scikit-learn EllipticEnvelope: Mahalanobis distance under a robust MCD covariance.",
        target="pynomaly_sklearn.elliptic_envelope:EllipticEnvelopeDetector",
        params={"store_precision": True, "assume_centered": False, "support_fraction": None, "random_state": None,
                "contamination": 0.1},
        capabilities={"save", _SEEDED},
    ))


@hookimpl
def register_drift_tests(register):
    register(DriftTestSpec(
        name="classifier",
        summary="Domain-classifier drift test: held-out ROC-AUC of reference vs current; permutation importances.",
        target="pynomaly_sklearn.classifier_drift:ClassifierDrift",
        params={"alpha": 0.05, "classifier": "random_forest", "test_size": 0.5, "n_estimators": 50, "importance": True,
                "random_state": 0},
        capabilities={_SEEDED},
    ))
