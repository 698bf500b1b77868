"""Through pynomaly, the classical PyOD detectors give PyOD's own scores (same seed, ADBench protocol split).

The full sweep over every ADBench set is ``benchmarks/bench_pyod_equality.py``; here a few small sets.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from pynomaly_core import create_detector

#: pynomaly name → (PyOD class, seed parameters shared by both calls)
DETECTORS = {
    "pyod.iforest": ("pyod.models.iforest:IForest", {"random_state": 0}),
    "pyod.ecod": ("pyod.models.ecod:ECOD", {}),
    "pyod.copod": ("pyod.models.copod:COPOD", {}),
    "pyod.hbos": ("pyod.models.hbos:HBOS", {}),
    "pyod.pca": ("pyod.models.pca:PCA", {"random_state": 0}),
    "pyod.knn": ("pyod.models.knn:KNN", {}),
    "pyod.lof": ("pyod.models.lof:LOF", {}),
}
DATASETS = ["14_glass.npz", "29_Pima.npz", "40_vowels.npz", "6_cardio.npz"]


def pyod_estimator(target: str, params: dict) -> object:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(**params)


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_scores_equal_pyod(name: str, dataset: str, adbench) -> None:
    X_train, X_test, _, _ = adbench(dataset)
    target, params = DETECTORS[name]
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = pyod_estimator(target, params).fit(X_train)
        expected_train, expected_test = direct.decision_scores_, direct.decision_function(X_test)
    model = create_detector(name, **params).fit(X_train)
    for ours, theirs in ((model.decision_scores_, expected_train), (model.decision_function(X_test), expected_test)):
        finite = np.isfinite(theirs)
        assert np.isfinite(ours).all()
        np.testing.assert_allclose(ours[finite], theirs[finite], rtol=0, atol=1e-9)
        if name != "pyod.pca":
            assert finite.all(), f"PyOD's {target} returned non-finite scores on {dataset}"
    # The threshold (reused from PyOD where it is the same computation) is the core's percentile.
    assert model.threshold_ == float(np.percentile(model.decision_scores_, 90.0))
