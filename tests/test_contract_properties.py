"""Laws of the detector contract, checked with hypothesis on every built-in detector."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pynomaly_core import load
from pynomaly_core.registry import get_registry
from pynomaly_core.sdk import create_detector, list_detectors

DETECTORS = [spec.qualified_name for spec in list_detectors(plugin="builtin")]
#: Rows of a time series are ordered: the permutation law holds for the tabular detectors.
TABULAR = [spec.qualified_name for spec in list_detectors(plugin="builtin", kind="tabular")]
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def seeded(name):
    """Parameters fixing the seed of a detector that takes one (the law below holds for a fixed seed)."""
    return {"random_state": 0} if "random_state" in get_registry().detector(name).params else {}


def data(min_rows=20):
    return st.integers(1, 5).flatmap(
        lambda d: arrays(np.float64, st.tuples(st.integers(min_rows, 80), st.just(d)), elements=finite))


@pytest.mark.parametrize("name", TABULAR)
@SETTINGS
@given(X=data(), seed=st.integers(0, 2**16))
def test_row_permutation_permutes_scores(name, X, seed):
    model = create_detector(name).fit(X)
    perm = np.random.default_rng(seed).permutation(X.shape[0])
    np.testing.assert_allclose(model.decision_function(X[perm]), model.decision_function(X)[perm], rtol=1e-9,
                               atol=1e-9)


@pytest.mark.parametrize("name", DETECTORS)
@SETTINGS
@given(X=data(min_rows=40), contamination=st.sampled_from([0.05, 0.1, 0.25]))
def test_training_labels_fraction_matches_contamination(name, X, contamination):
    """Within one row of contamination (the threshold interpolates between two training scores); ties only lower it."""
    model = create_detector(name, contamination=contamination).fit(X)
    fraction = model.labels_.mean()
    step = 1.0 / X.shape[0]
    assert fraction <= contamination + step + 1e-12
    if np.unique(model.decision_scores_).size == X.shape[0]:
        assert fraction >= contamination - step - 1e-12


@pytest.mark.parametrize("name", DETECTORS)
@SETTINGS
@given(X=data())
def test_clone_gives_equal_params_and_equal_scores(name, X):
    clone = pytest.importorskip("sklearn.base").clone
    model = create_detector(name, **seeded(name)).fit(X)
    copy = clone(model).fit(X)
    assert copy.get_params() == model.get_params()
    np.testing.assert_array_equal(copy.decision_function(X), model.decision_function(X))


@pytest.mark.parametrize("name", DETECTORS)
@SETTINGS
@given(X=data())
def test_save_load_gives_identical_scores(name, X, tmp_path_factory):
    model = create_detector(name).fit(X)
    restored = load(model.save(tmp_path_factory.mktemp("model") / "m"))
    np.testing.assert_array_equal(restored.decision_function(X), model.decision_function(X))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_detector_works_in_a_sklearn_pipeline():
    pipeline_module = pytest.importorskip("sklearn.pipeline")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    X[0] = 9
    pipe = pipeline_module.make_pipeline(preprocessing.StandardScaler(), create_detector("ecod", contamination=0.01))
    pipe.fit(X)
    assert pipe.predict(X)[0] == 1 and np.argmax(pipe.decision_function(X)) == 0
