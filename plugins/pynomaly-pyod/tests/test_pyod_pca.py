"""PyOD 3.6's PCA returns inf when a component has zero variance; pyod.pca returns finite scores instead.

The repair (pynomaly_pyod.fixes) raises zero explained-variance ratios to the model's smallest positive ratio
and changes nothing when there is none, so scores equal PyOD's wherever PyOD's are finite.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.decomposition import PCA as SklearnPCA
from sklearn.preprocessing import StandardScaler

from pynomaly_core import create_detector
from pynomaly_core.errors import ScoreError


def pyod_pca_scores(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyod.models.pca import PCA

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        model = PCA(random_state=0).fit(X_train)
        return model.decision_scores_, model.decision_function(X_test)


def floored_reference(X_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    """PyOD's PCA score written out, with zero ratios raised to the smallest positive one."""
    scaler = StandardScaler().fit(X_train)
    pca = SklearnPCA(random_state=0).fit(scaler.transform(X_train))
    ratios = pca.explained_variance_ratio_
    weights = np.where(ratios > 0, ratios, ratios[ratios > 0].min())
    return np.sum(cdist(scaler.transform(X_test), pca.components_) / weights, axis=1)


@pytest.mark.parametrize("dataset", ["6_cardio.npz", "24_mnist.npz", "26_optdigits.npz"])
def test_pyod_pca_is_infinite_on_adbench_and_pynomaly_is_finite(dataset: str, adbench) -> None:
    X_train, X_test, _, _ = adbench(dataset)
    train, test = pyod_pca_scores(X_train, X_test)
    assert np.isinf(train).all() and np.isinf(test).all(), "PyOD's PCA no longer returns inf here: revisit the fix"
    model = create_detector("pyod.pca", random_state=0).fit(X_train)
    scores = model.decision_function(X_test)
    assert np.isfinite(model.decision_scores_).all() and np.isfinite(scores).all()
    np.testing.assert_allclose(scores, floored_reference(X_train, X_test), rtol=1e-12)
    assert abs(model.labels_.mean() - 0.1) < 0.01


def test_nonzero_weights_are_untouched(adbench) -> None:
    X_train, _, _, _ = adbench("6_cardio.npz")
    from pyod.models.pca import PCA

    with np.errstate(divide="ignore"):
        direct = PCA(random_state=0).fit(X_train)
    weights = create_detector("pyod.pca", random_state=0).fit(X_train).estimator_.w_components_
    positive = direct.w_components_ > 0
    assert not positive.all()
    np.testing.assert_array_equal(weights[positive], direct.w_components_[positive])
    assert (weights[~positive] == direct.w_components_[positive].min()).all()


def test_constant_feature_reproduces_and_is_repaired() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    X[:, 2] = 5.0  # zero variance: one explained-variance ratio is exactly 0
    test = rng.normal(size=(30, 4))
    test[:, 2] = 5.0
    test[0, :2] = 9.0
    train_scores, test_scores = pyod_pca_scores(X, test)
    assert not np.isfinite(train_scores).any() and not np.isfinite(test_scores).any()
    scores = create_detector("pyod.pca", random_state=0).fit(X).decision_function(test)
    np.testing.assert_allclose(scores, floored_reference(X, test), rtol=1e-12)
    assert int(np.argmax(scores)) == 0


def test_constant_data_gets_equal_finite_scores() -> None:
    X = np.ones((50, 3))
    _, pyod_test = pyod_pca_scores(X, X[:5])
    assert not np.isfinite(pyod_test).any()
    scores = create_detector("pyod.pca").fit(X).decision_function(X[:5])
    assert np.isfinite(scores).all() and np.ptp(scores) == 0


def test_other_non_finite_scores_are_a_score_error() -> None:
    """ABOD on heavily duplicated rows returns NaN in PyOD; the core refuses it with one line."""
    rng = np.random.default_rng(0)
    X = np.repeat(rng.normal(size=(30, 4)), 10, axis=0)
    with pytest.raises(ScoreError, match=r"pyod\.abod.*non-finite") as info:
        create_detector("pyod.abod").fit(X)
    assert "\n" not in str(info.value)
