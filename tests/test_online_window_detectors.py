"""builtin.streaming_zscore (sliding-window robust z-score) and builtin.decayed_hbos (HBOS over decayed
histograms): what they compute, how they forget, and their parameters."""

from __future__ import annotations

import numpy as np
import pytest

from pynomaly_core.builtin.decayed_hbos import DecayedHBOS
from pynomaly_core.builtin.hbos import HBOS
from pynomaly_core.builtin.robust_zscore import RobustZScore
from pynomaly_core.builtin.streaming_zscore import StreamingZScore
from pynomaly_core.errors import InputError
from pynomaly_core.online import prequential


@pytest.fixture
def data(rng):
    train = rng.normal(size=(700, 4)) * [1.0, 2.0, 0.5, 1.0]
    train[:, 3] = np.round(train[:, 3])  # a discrete feature: MAD can be 0
    test = rng.normal(size=(100, 4)) * 3
    return train, test


# -- streaming z-score ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("aggregate", ["max", "mean", "sum"])
@pytest.mark.parametrize("window_size", [1, 50, 333, 1000])
def test_zscore_is_robust_zscore_of_the_last_window(data, aggregate, window_size):
    train, test = data
    detector = StreamingZScore(window_size=window_size, aggregate=aggregate)
    for batch in np.array_split(train, 7):  # wraps around the ring several times
        detector.learn_many(batch)
    reference = RobustZScore(aggregate=aggregate).fit(train[-window_size:])
    np.testing.assert_allclose(detector.score_many(test), reference.decision_function(test), rtol=1e-12)
    np.testing.assert_array_equal(np.sort(detector.window_[:detector.filled_], axis=0),
                                  np.sort(train[-window_size:], axis=0))


def test_zscore_forgets_what_left_the_window(rng):
    before = rng.normal(size=(500, 2))
    after = rng.normal(size=(500, 2)) + 10.0
    detector = StreamingZScore(window_size=200).learn_many(before)
    assert detector.score_one([10.0, 10.0]) > 5
    detector.learn_many(after)
    assert detector.score_one([10.0, 10.0]) < 2 and detector.score_one([0.0, 0.0]) > 5


def test_zscore_warm_up_and_parameters(rng):
    detector = StreamingZScore(window_size=10)
    scores = prequential(detector, rng.normal(size=(5, 2)))
    assert scores[0] == 0.0 and np.isfinite(scores).all()
    for params, match in [({"window_size": 0}, "window_size"), ({"window_size": 2.0}, "window_size"),
                          ({"aggregate": "median"}, "aggregate")]:
        with pytest.raises(InputError, match=match):
            StreamingZScore(**params).fit(rng.normal(size=(5, 2)))


def test_zscore_extreme_values_stay_finite():
    detector = StreamingZScore(window_size=5, aggregate="sum").learn_many(np.zeros((5, 3)))
    scores = detector.score_many(np.full((2, 3), 1e308) * [[1], [-1]])
    assert np.isfinite(scores).all() and (scores > 1e300).all()


# -- decayed HBOS --------------------------------------------------------------------------------------------
def test_decayed_hbos_without_decay_is_hbos(data):
    train, test = data
    for n_bins, tol in [(10, 0.5), (5, 0.1), (30, 0.9)]:
        ours = DecayedHBOS(n_bins=n_bins, tol=tol, decay=0.0, init_size=len(train)).fit(train)
        theirs = HBOS(n_bins=n_bins, tol=tol).fit(train)
        np.testing.assert_allclose(ours.decision_function(test), theirs.decision_function(test), rtol=1e-12)
        np.testing.assert_allclose(ours.decision_scores_, theirs.decision_scores_, rtol=1e-12)


def test_decayed_hbos_edges_come_from_the_first_init_size_records(data):
    train, _ = data
    detector = DecayedHBOS(init_size=100)
    detector.learn_many(train[:60])
    assert detector.edges_ is None and (detector.score_many(train) == 0).all()
    for row in train[60:150]:
        detector.learn_one(row)
    expected = HBOS().fit(train[:100]).bin_edges_
    np.testing.assert_array_equal(detector.edges_, expected)
    # fit on fewer rows than init_size takes the edges from all of them
    small = DecayedHBOS(init_size=100).fit(train[:40])
    np.testing.assert_array_equal(small.edges_, HBOS().fit(train[:40]).bin_edges_)


def test_decayed_hbos_counts_decay_per_record():
    detector = DecayedHBOS(n_bins=2, decay=0.5, limits=[[0.0, 2.0]])
    detector.learn_one([0.5])  # bin 0
    detector.learn_one([1.5])  # bin 1
    detector.learn_one([1.5])
    np.testing.assert_allclose(detector.counts_[:, 0], [0.25, 1.5])
    assert detector.total_ == pytest.approx(1.75)
    detector.learn_one([100.0])  # far outside: only the total grows (it dilutes every bin)
    np.testing.assert_allclose(detector.counts_[:, 0], [0.125, 0.75])
    assert detector.total_ == pytest.approx(1.875)
    detector.learn_one([2.4])  # within tol (0.5) bin widths of the edge: the edge bin
    np.testing.assert_allclose(detector.counts_[:, 0], [0.0625, 1.375])


def test_decayed_hbos_forgets_an_old_regime(rng):
    old = rng.normal(-1.5, 0.3, size=(2000, 1))
    new = rng.normal(1.5, 0.3, size=(2000, 1))
    limits = [[-3.0, 3.0]]
    forgetting = DecayedHBOS(decay=0.01, limits=limits).learn_many(old).learn_many(new)
    remembering = DecayedHBOS(decay=0.0, limits=limits).learn_many(old).learn_many(new)
    # without decay both regimes are equally normal; with it the old one has become anomalous
    assert abs(remembering.score_one([-1.5]) - remembering.score_one([1.5])) < 0.5
    assert forgetting.score_one([-1.5]) > forgetting.score_one([1.5]) + 2


def test_decayed_hbos_parameters(rng):
    X = rng.normal(size=(20, 2))
    for params, match in [({"n_bins": 1}, "n_bins"), ({"alpha": 0}, "alpha"), ({"tol": 1.5}, "tol"),
                          ({"decay": 1.0}, "decay"), ({"decay": -0.1}, "decay"), ({"init_size": 0}, "init_size"),
                          ({"limits": [[0, 1]]}, "limits"), ({"limits": [[0, 1], [1, 1]]}, "low < high"),
                          ({"limits": [[0, 1], "ab"]}, "limits")]:
        with pytest.raises(InputError, match=match):
            DecayedHBOS(**params).fit(X)
