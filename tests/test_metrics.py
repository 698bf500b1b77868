"""NumPy metrics equal scikit-learn's, ties included (property tests)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynomaly_core.errors import InputError
from pynomaly_core.metrics import average_precision, f1_at_threshold, precision_at_n, rankdata, roc_auc

sklearn_metrics = pytest.importorskip("sklearn.metrics")
stats = pytest.importorskip("scipy.stats")


@st.composite
def labelled_scores(draw):
    n = draw(st.integers(2, 60))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    if y.min() == y.max():
        y[0] = 1 - y[0]
    scores = np.array(draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)), dtype=float)  # many ties
    return y, scores


@settings(max_examples=200, deadline=None)
@given(labelled_scores())
def test_metrics_equal_sklearn(data):
    y, scores = data
    assert roc_auc(y, scores) == pytest.approx(sklearn_metrics.roc_auc_score(y, scores), abs=1e-12)
    assert average_precision(y, scores) == pytest.approx(
        sklearn_metrics.average_precision_score(y, scores), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=40))
def test_rankdata_equals_scipy(values):
    np.testing.assert_array_equal(rankdata(np.array(values)), stats.rankdata(values))


def test_precision_at_n_and_errors():
    y = np.array([0, 1, 0, 1])
    assert precision_at_n(y, np.array([0.1, 0.9, 0.2, 0.8])) == 1.0
    assert precision_at_n(y, np.array([0.9, 0.1, 0.8, 0.2]), n=2) == 0.0
    with pytest.raises(InputError, match="only one class"):
        roc_auc(np.zeros(3), np.arange(3.0))
    with pytest.raises(InputError, match="labels must be 0/1"):
        roc_auc(np.array([0, 2]), np.arange(2.0))


@settings(max_examples=100, deadline=None)
@given(labelled_scores(), st.integers(-6, 6))
def test_f1_at_threshold_equals_sklearn(data, threshold):
    y, scores = data
    expected = sklearn_metrics.f1_score(y, (scores > threshold).astype(int), zero_division=0.0)
    assert f1_at_threshold(y, scores, threshold) == pytest.approx(expected, abs=1e-12)
