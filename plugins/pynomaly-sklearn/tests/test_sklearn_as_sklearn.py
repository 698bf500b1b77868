"""``as_sklearn``: signs, ±1 labels, pipelines, cloning and parameters in scikit-learn's convention."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pynomaly_sklearn import PynomalyOutlierDetector, as_sklearn
from sklearn.base import clone, is_outlier_detector
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from pynomaly_core.errors import InputError
from pynomaly_core.sdk import create_detector


@pytest.mark.parametrize("name", ["builtin.ecod", "sklearn.iforest", "sklearn.lof"])
def test_signs_and_labels(name, blobs):
    train, test = blobs
    params = {"random_state": 0} if name == "sklearn.iforest" else {}
    model = as_sklearn(name, **params).fit(train)
    reference = create_detector(name, **params).fit(train)
    anomaly = reference.decision_function(test)
    np.testing.assert_array_equal(model.score_samples(test), -anomaly)
    assert model.offset_ == -reference.threshold_
    np.testing.assert_array_equal(model.decision_function(test), reference.threshold_ - anomaly)
    labels = model.predict(test)
    assert labels.dtype.kind == "i" and set(np.unique(labels)) == {-1, 1}
    np.testing.assert_array_equal(labels, np.where(reference.predict(test) == 1, -1, 1))
    assert labels[0] == -1 and model.decision_function(test)[0] < 0
    np.testing.assert_array_equal(model.fit_predict(train), model.predict(train))
    assert model.detector_.labels_.mean() == 0.1
    if name != "sklearn.lof":  # LOF's threshold comes from leave-one-out training scores (see LOFDetector)
        assert (model.predict(train) == -1).mean() == 0.1


def test_is_an_outlier_detector_for_sklearn():
    model = as_sklearn("builtin.hbos")
    assert is_outlier_detector(model)
    assert get_tags(model).estimator_type == "outlier_detector"
    assert get_tags(model).input_tags.allow_nan is False


def test_pipeline_and_nested_parameters(blobs):
    train, test = blobs
    scale = 1000.0 * np.arange(1, 4)
    pipe = make_pipeline(StandardScaler(), as_sklearn("sklearn.lof", n_neighbors=10))
    pipe.set_params(pynomalyoutlierdetector__detector__contamination=0.2).fit(train * scale)
    alone = as_sklearn(create_detector("sklearn.lof", n_neighbors=10, contamination=0.2))
    expected = alone.fit(StandardScaler().fit_transform(train * scale)).predict(
        StandardScaler().fit(train * scale).transform(test * scale))
    np.testing.assert_array_equal(pipe.predict(test * scale), expected)
    assert (pipe.predict(train * scale) == -1).sum() > 0
    assert pipe.get_params()["pynomalyoutlierdetector__detector__n_neighbors"] == 10


def test_clone_gives_an_unfitted_independent_copy(blobs):
    detector = create_detector("builtin.hbos", n_bins=7)
    model = as_sklearn(detector).fit(blobs[0])
    assert not hasattr(detector, "threshold_"), "fit must not fit the detector it was given"
    copy = clone(model)
    assert not hasattr(copy, "detector_") and copy.detector is not detector
    assert copy.get_params(deep=True)["detector__n_bins"] == 7
    copy.set_params(detector__n_bins=3)
    assert detector.n_bins == 7 and copy.detector.n_bins == 3


def test_grid_search_over_detector_parameters(blobs):
    train, _ = blobs
    labels = np.zeros(train.shape[0], dtype=int)
    labels[np.argsort(-np.abs(train).max(axis=1))[:20]] = 1

    def scorer(model, X, y):
        return float(np.mean((model.predict(X) == -1) == (y == 1)))

    search = GridSearchCV(as_sklearn("builtin.hbos"), {"detector__n_bins": [5, 10]}, scoring=scorer, cv=2)
    search.fit(train, labels)
    assert search.best_params_["detector__n_bins"] in (5, 10)
    assert isinstance(search.best_estimator_, PynomalyOutlierDetector)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names:UserWarning")
def test_dataframes_keep_sklearn_feature_name_rules(blobs):
    train, test = blobs
    columns = ["a", "b", "c"]
    model = as_sklearn("builtin.robust_zscore").fit(pd.DataFrame(train, columns=columns))
    assert list(model.feature_names_in_) == columns
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(model.predict(pd.DataFrame(test, columns=columns)), model.predict(test))
    with pytest.raises(ValueError, match="feature names"):
        model.predict(pd.DataFrame(test, columns=["c", "b", "a"]))
    with pytest.raises(ValueError, match="3 features"):
        model.predict(test[:, :2])


def test_rejects_non_tabular_detectors(pynomaly_registry):
    from pynomaly_core import hookimpl
    from pynomaly_core.specs import DetectorSpec

    class GraphOnly:
        @hookimpl
        def register_detectors(self, register):
            register(DetectorSpec(name="graph_hbos", summary="A graph detector.", data_kinds={"graph"},
                                  target="pynomaly_core.builtin.hbos:HBOS", params={}))

    pynomaly_registry.add_plugin(GraphOnly(), name="graphs")
    with pytest.raises(InputError, match=r"graphs\.graph_hbos works on graph data"):
        as_sklearn("graphs.graph_hbos")


def test_rejects_what_is_not_a_detector():
    with pytest.raises(InputError, match="not a pynomaly detector"):
        as_sklearn(StandardScaler())
    with pytest.raises(InputError, match="only accepted with a detector name"):
        as_sklearn(create_detector("builtin.ecod"), contamination=0.2)
    with pytest.raises(InputError, match="unknown parameter"):
        as_sklearn("builtin.ecod", n_bins=3)


def test_fit_predict_rescores_the_training_rows_as_its_docstring_says():
    """``fit_predict`` is ``fit().predict()`` (scikit-learn's rule); for a k-NN detector, whose training scores leave
    each row out, it flags fewer rows than the detector's own training labels, and the docstring says so."""
    from pathlib import Path

    from pynomaly_core.builtin.loaders import load_npz

    X = load_npz(str(Path(__file__).resolve().parents[3] / "examples" / "data" / "cardio.npz")).X
    model = as_sklearn("pyod.knn")
    flagged = model.fit_predict(X) == -1
    np.testing.assert_array_equal(flagged, model.predict(X) == -1)
    assert round(100 * flagged.mean(), 2) == 7.65 and round(100 * model.detector_.labels_.mean(), 2) == 9.99
    import pynomaly_sklearn.estimator as estimator

    assert "7.65 % against 9.99 %" in estimator.__doc__


def test_labels_that_are_not_all_strings_are_checked_by_value_and_type():
    X = np.random.default_rng(0).normal(size=(60, 3))
    model = as_sklearn("builtin.hbos").fit(pd.DataFrame(X, columns=[1, "1", "x"]))
    np.testing.assert_array_equal(model.predict(pd.DataFrame(X, columns=[1, "1", "x"])), model.predict(X))
    for swapped in (["1", 1, "x"], ["1", "1", "x"]):
        with pytest.raises(InputError, match=r"as_sklearn: columns .* differ from the fitted columns \[1, '1', 'x'\]"):
            model.predict(pd.DataFrame(X, columns=swapped))
