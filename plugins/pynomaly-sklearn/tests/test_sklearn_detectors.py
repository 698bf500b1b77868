"""The adapters score exactly like scikit-learn called directly, and pass its parameters through."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.covariance import EllipticEnvelope
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import SGDOneClassSVM
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM

from pynomaly_core.errors import InputError
from pynomaly_core.evaluation import stratified_split
from pynomaly_core.sdk import create_detector, list_detectors

#: registry name → (scikit-learn estimator, small test parameters valid for both)
DIRECT = {
    "sklearn.iforest": (IsolationForest, {"n_estimators": 50, "random_state": 3}),
    "sklearn.lof": (LocalOutlierFactor, {"n_neighbors": 15}),
    "sklearn.ocsvm": (OneClassSVM, {"nu": 0.2, "gamma": "scale"}),
    "sklearn.sgd_ocsvm": (SGDOneClassSVM, {"nu": 0.2, "random_state": 3}),
    "sklearn.elliptic_envelope": (EllipticEnvelope, {"random_state": 3}),
}
SETS = ["4_breastw.npz", "29_Pima.npz", "6_cardio.npz"]


def _direct(name: str, X_train: np.ndarray) -> object:
    cls, params = DIRECT[name]
    extra = {"novelty": True} if cls is LocalOutlierFactor else {}
    return cls(**params, **extra).fit(X_train)


def test_registers_the_five_detectors():
    specs = {spec.qualified_name: spec for spec in list_detectors(plugin="sklearn")}
    assert sorted(specs) == sorted(DIRECT)
    iforest = specs["sklearn.iforest"].capabilities
    assert "pickle_save" in iforest and "save" not in iforest
    assert "save" in specs["sklearn.elliptic_envelope"].capabilities
    assert "partial_fit" in specs["sklearn.sgd_ocsvm"].capabilities


# MinCovDet on cardio warns the same in both paths
@pytest.mark.filterwarnings("ignore:Determinant has increased:RuntimeWarning", "ignore:The covariance matrix")
@pytest.mark.parametrize("dataset", SETS)
@pytest.mark.parametrize("name", sorted(DIRECT))
def test_scores_equal_direct_sklearn(name, dataset, adbench):
    X, y = adbench(dataset)
    train, test = stratified_split(y, seed=0)
    detector = create_detector(name, **DIRECT[name][1]).fit(X[train])
    expected = -_direct(name, X[train]).score_samples(X[test])
    np.testing.assert_allclose(detector.decision_function(X[test]), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", sorted(DIRECT))
def test_threshold_is_the_quantile_of_sklearn_training_scores(name, blobs):
    train, _ = blobs
    detector = create_detector(name, **DIRECT[name][1], contamination=0.15).fit(train)
    estimator = _direct(name, train)
    if name == "sklearn.lof":  # each training row scored without itself as a neighbour
        expected = -estimator.negative_outlier_factor_
    elif name == "sklearn.elliptic_envelope":  # robust distances computed by fit
        expected = estimator.dist_
    else:
        expected = -estimator.score_samples(train)
    np.testing.assert_array_equal(detector.decision_scores_, expected)
    assert detector.threshold_ == np.percentile(expected, 85)
    assert detector.labels_.sum() == 30


def test_parameters_reach_sklearn_but_contamination_does_not(blobs):
    train, _ = blobs
    forest = create_detector("sklearn.iforest", n_estimators=7, max_samples=64, contamination=0.2).fit(train)
    assert len(forest.estimator_.estimators_) == 7 and forest.estimator_.max_samples_ == 64
    assert forest.estimator_.contamination == "auto"
    lof = create_detector("sklearn.lof", n_neighbors=5, p=1).fit(train).estimator_
    assert (lof.n_neighbors_, lof.effective_metric_, lof.novelty) == (5, "manhattan", True)
    svm = create_detector("sklearn.ocsvm", kernel="linear", nu=0.3).fit(train).estimator_
    assert (svm.kernel, svm.nu) == ("linear", 0.3)


@pytest.mark.parametrize(("name", "param"), [("sklearn.iforest", {"n_estimators": 0}),
                                              ("sklearn.ocsvm", {"kernel": "cubic"}),
                                              ("sklearn.lof", {"n_neighbors": -3})])
def test_invalid_sklearn_parameter_is_a_one_line_input_error(name, param, blobs):
    with pytest.raises(InputError, match=f"^{name}: The '{next(iter(param))}' parameter") as info:
        create_detector(name, **param).fit(blobs[0])
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("average", [False, True])
def test_sgd_partial_fit_matches_sklearn(average, blobs):
    train, test = blobs
    detector = create_detector("sklearn.sgd_ocsvm", random_state=0, average=average)
    estimator = SGDOneClassSVM(random_state=0, average=average)
    for batch in np.array_split(train, 4):
        assert detector.partial_fit(batch) is detector
        estimator.partial_fit(batch)
    np.testing.assert_array_equal(detector.decision_function(test), -estimator.score_samples(test))
    assert detector.threshold_ == np.percentile(-estimator.score_samples(np.array_split(train, 4)[-1]), 90)


def test_warm_start_grows_the_same_forest(blobs):
    train, test = blobs
    detector = create_detector("sklearn.iforest", n_estimators=10, warm_start=True, random_state=0).fit(train)
    first_trees = list(detector.estimator_.estimators_)
    detector.set_params(n_estimators=25).fit(train)
    assert detector.estimator_.estimators_[:10] == first_trees and len(detector.estimator_.estimators_) == 25
    direct = IsolationForest(n_estimators=10, warm_start=True, random_state=0).fit(train)
    direct.set_params(n_estimators=25).fit(train)
    np.testing.assert_array_equal(detector.decision_function(test), -direct.score_samples(test))
    cold = create_detector("sklearn.iforest", n_estimators=10, random_state=0).fit(train)
    first = cold.estimator_
    assert cold.fit(train).estimator_ is not first
