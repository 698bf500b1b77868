"""The built-in detectors compute the published algorithms (checked against PyOD and closed forms)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynomaly_core.builtin.ecod import ECOD
from pynomaly_core.builtin.hbos import HBOS
from pynomaly_core.builtin.mahalanobis import Mahalanobis
from pynomaly_core.builtin.rank_index import _SMALL_QUERY, RankIndex
from pynomaly_core.builtin.robust_zscore import RobustZScore
from pynomaly_core.errors import InputError
from pynomaly_core.evaluation import evaluate, stratified_split
from pynomaly_core.metrics import roc_auc

from .conftest import adbench


def test_hbos_equals_pyod_scores_exactly(cardio):
    pyod_hbos = pytest.importorskip("pyod.models.hbos")
    X, y = cardio
    train, test = stratified_split(y)
    ours = HBOS().fit(X[train])
    reference = pyod_hbos.HBOS().fit(X[train])
    np.testing.assert_allclose(ours.decision_function(X[test]), reference.decision_function(X[test]), atol=1e-12)
    np.testing.assert_allclose(ours.decision_scores_, reference.decision_scores_, atol=1e-12)


def test_ecod_is_inductive_and_close_to_pyod(cardio):
    pyod_ecod = pytest.importorskip("pyod.models.ecod")
    X, y = cardio
    train, test = stratified_split(y)
    model = ECOD().fit(X[train])
    scores = model.decision_function(X[test])
    # inductive: scoring a subset gives the same scores (nothing is refitted on the scored rows)
    np.testing.assert_array_equal(model.decision_function(X[test][:10]), scores[:10])
    reference = pyod_ecod.ECOD().fit(X[train]).decision_function(X[test])
    assert abs(roc_auc(y[test], scores) - roc_auc(y[test], reference)) < 0.01
    assert np.corrcoef(scores, reference)[0, 1] > 0.99


def test_ecod_tail_probabilities_by_hand():
    X = np.array([[1.0], [2.0], [2.0], [3.0]])
    model = ECOD().fit(X)
    # x = 2.5: 3 training values ≤ x, 1 ≥ x → left −log(4/5), right −log(2/5); skewness 0 → left + right wins
    expected = max(-np.log(4 / 5), -np.log(2 / 5), -np.log(4 / 5) - np.log(2 / 5))
    assert model.decision_function(np.array([[2.5]]))[0] == pytest.approx(expected)
    # ties: x = 2 → 3 values ≤ 2 and 3 values ≥ 2
    assert model.decision_function(np.array([[2.0]]))[0] == pytest.approx(-2 * np.log(4 / 5))
    assert np.isfinite(model.decision_function(np.array([[1e9], [-1e9]]))).all()


def test_ecod_paper_combination_and_bad_option():
    rng = np.random.default_rng(0)
    X = rng.exponential(size=(300, 3))
    paper = ECOD(combine="paper").fit(X).decision_function(X)
    per_feature = ECOD().fit(X).decision_function(X)
    assert (paper <= per_feature + 1e-12).all()  # max of sums ≤ sum of maxima
    with pytest.raises(InputError, match="combine must be"):
        ECOD(combine="sum").fit(X)


def test_robust_zscore_closed_form():
    X = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [4.0, 10.0], [100.0, 10.0]])
    model = RobustZScore(aggregate="max").fit(X)
    # median 3, MAD 1 → scale 1.4826; constant second column gets a tiny scale
    assert model.decision_function(np.array([[6.0, 10.0]]))[0] == pytest.approx(3 / 1.482602218505602)
    assert model.decision_function(np.array([[3.0, 11.0]]))[0] > 1e10
    assert np.isfinite(model.decision_function(np.array([[3.0, 11.0]]))).all()


def test_mahalanobis_partial_fit_equals_fit():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(900, 5)) @ rng.normal(size=(5, 5))
    whole = Mahalanobis().fit(X)
    batched = Mahalanobis()
    for batch in np.array_split(X, 7):
        batched.partial_fit(batch)
    np.testing.assert_allclose(batched.mean_, whole.mean_, rtol=1e-12)
    np.testing.assert_allclose(batched.decision_function(X), whole.decision_function(X), rtol=1e-9)


@pytest.mark.parametrize("name", ["2_annthyroid.npz", "38_thyroid.npz", "4_breastw.npz"])
def test_protocol_auc_on_shared_sets_matches_pyod(name):
    pyod_ecod = pytest.importorskip("pyod.models.ecod")
    X, y = adbench(name)
    ours = evaluate(ECOD(), X, y, name, "ecod").roc_auc
    reference = evaluate_pyod(pyod_ecod.ECOD(), X, y)
    assert abs(ours - reference) < 0.02


def evaluate_pyod(model, X, y):
    train, test = stratified_split(y)
    return roc_auc(y[test], model.fit(X[train]).decision_function(X[test]))


@settings(max_examples=300, deadline=None)
@given(
    train=st.lists(st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-3, 3).map(float), min_size=1, max_size=200),
    queries=st.lists(st.floats(-1e7, 1e7, allow_nan=False) | st.integers(-4, 4).map(float), min_size=1, max_size=200),
)
def test_rank_index_equals_searchsorted(train, queries):
    ordered = np.sort(np.array(train))
    x = np.array(queries + train)  # include exact hits
    x = np.tile(x, 1 + _SMALL_QUERY // x.size)  # past the small-query shortcut, so the bucket path is what runs
    at_most, below = RankIndex(ordered).counts(x)
    np.testing.assert_array_equal(at_most, np.searchsorted(ordered, x, side="right"))
    np.testing.assert_array_equal(below, np.searchsorted(ordered, x, side="left"))


def test_ecod_scores_do_not_depend_on_threads_or_chunks():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3000, 6))
    X[:, 2] = np.round(X[:, 2])  # ties
    test = rng.normal(size=(70_000, 6))
    single = ECOD(n_jobs=1).fit(X).decision_function(test)
    np.testing.assert_array_equal(ECOD(n_jobs=4).fit(X).decision_function(test), single)
    np.testing.assert_array_equal(ECOD().fit(X).decision_function(test[:100]), single[:100])
    np.testing.assert_array_equal(ECOD().fit(X).decision_function(test[:5]), single[:5])  # binary-search path


@pytest.mark.parametrize("scale", [1e-150, 1e-120, 1e150])
def test_mahalanobis_scores_do_not_depend_on_the_data_scale(scale):
    """Found by Hypothesis: a tiny-variance covariance inverted directly overflowed and every score became NaN."""
    X = np.random.default_rng(3).normal(size=(60, 4))
    expected = Mahalanobis().fit(X).decision_function(X)
    np.testing.assert_allclose(Mahalanobis().fit(X * scale).decision_function(X * scale), expected, rtol=1e-8)


def test_mahalanobis_on_variance_below_double_precision_is_finite():
    X = np.zeros((40, 2))
    X[:3, 0] = 1e-310
    scores = Mahalanobis().fit(X).decision_function(X)
    assert np.isfinite(scores).all()


@pytest.mark.parametrize("column", [[0.0, 5e-324], [1.0, 1.0 + 2 * np.finfo(np.float64).eps]])
def test_hbos_fits_a_range_too_narrow_for_its_bins(column):
    """Found by Hypothesis (through builtin.ensemble): NumPy cannot split a range of a few ulps into 10 bins."""
    X = np.column_stack([np.resize(np.array(column), 40), np.arange(40.0)])
    model = HBOS().fit(X)
    scores = model.decision_function(X)
    assert np.all(np.isfinite(scores))
    # the narrow column puts every row in one bin, so it adds the same term to every score
    difference = scores - HBOS().fit(X[:, 1:]).decision_function(X[:, 1:])
    np.testing.assert_allclose(difference, difference[0])
