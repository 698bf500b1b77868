"""Properties of the built-in online detectors, on random streams (hypothesis): scoring changes nothing,
learn_many is learn_one row by row (in any batching), save → load scores and keeps learning identically, and
permuting a scored batch permutes its scores."""

from __future__ import annotations

import copy
import random
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pynomaly_core.persistence import load
from pynomaly_core.sdk import create_detector

#: Settings small enough that the streams below fill windows, build trees and fix bin edges.
DETECTORS = {
    "builtin.half_space_trees": {"n_trees": 3, "height": 4, "window_size": 8, "random_state": 1},
    "builtin.half_space_trees[unit]": {"n_trees": 2, "height": 3, "window_size": 5, "limits": None,
                                       "random_state": 2},
    "builtin.streaming_zscore": {"window_size": 16},
    "builtin.streaming_zscore[sum]": {"window_size": 5, "aggregate": "sum"},
    "builtin.decayed_hbos": {"init_size": 10, "decay": 0.05, "n_bins": 5},
    "builtin.decayed_hbos[limits]": {"limits": [[-2.0, 2.0]] * 3, "decay": 0.2},
}
#: decayed_hbos applies the decay of a batch in closed form: equal to record-by-record learning up to rounding.
ROUNDING = {"builtin.decayed_hbos": 1e-12}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

values = st.floats(-100.0, 100.0, allow_nan=False, allow_infinity=False, width=64)
# few distinct values as well, so ties, constant features and values on bin edges happen
coarse = st.integers(-3, 3).map(float)
streams = st.one_of(arrays(np.float64, st.tuples(st.integers(1, 60), st.just(3)), elements=values),
                    arrays(np.float64, st.tuples(st.integers(1, 60), st.just(3)), elements=coarse))
probes = arrays(np.float64, st.tuples(st.integers(1, 12), st.just(3)), elements=st.one_of(values, coarse))
names = st.sampled_from(sorted(DETECTORS))


def make(key: str):
    return create_detector(key.split("[")[0], **DETECTORS[key])


def tolerance(key: str) -> float:
    return ROUNDING.get(key.split("[")[0], 0.0)


def assert_same_state(a, b, rtol: float = 0.0) -> None:
    state_a, state_b = a._get_state(), b._get_state()
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        x, y = np.asarray(state_a[key]), np.asarray(state_b[key])
        assert x.shape == y.shape and x.dtype == y.dtype, key
        if rtol and x.dtype.kind == "f":
            np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol, err_msg=key)
        else:
            np.testing.assert_array_equal(x, y, err_msg=key)


def assert_same_scores(actual, expected, rtol: float) -> None:
    if rtol:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol)
    else:
        np.testing.assert_array_equal(actual, expected)


@SETTINGS
@given(key=names, X=streams, probe=probes)
def test_scoring_changes_nothing(key, X, probe):
    detector = make(key).learn_many(X)
    before = copy.deepcopy(vars(detector))  # every attribute, derived lookups included
    first = detector.score_many(probe)
    ones = [detector.score_one(row) for row in probe]
    detector.decision_scores_ = None  # (no fit: BaseDetector's attributes are not in play)
    before["decision_scores_"] = None
    assert_same_attributes(vars(detector), before)
    np.testing.assert_array_equal(detector.score_many(probe), first)
    np.testing.assert_array_equal(np.array(ones), first)
    assert first.dtype == np.float64 and np.isfinite(first).all()


@SETTINGS
@given(key=names, X=streams, probe=probes, cuts=st.lists(st.integers(0, 60), max_size=4))
def test_learn_many_is_learn_one_per_row(key, X, probe, cuts):
    rtol = tolerance(key)
    one_by_one = make(key)
    for row in X:
        one_by_one.learn_one(row)
    whole = make(key).learn_many(X)
    batched = make(key)
    for part in np.split(X, sorted(set(cuts))):
        if part.shape[0]:
            batched.learn_many(part)
    for other in (whole, batched):
        assert_same_state(other, one_by_one, rtol)
        assert_same_scores(other.score_many(probe), one_by_one.score_many(probe), rtol)
    assert one_by_one.n_learned_ == whole.n_learned_ == batched.n_learned_ == X.shape[0]


@SETTINGS
@given(key=names, X=streams, more=streams, probe=probes)
def test_save_load_scores_and_learns_identically(key, X, more, probe):
    detector = make(key).fit(X)
    detector.learn_many(more[:, :3])
    with tempfile.TemporaryDirectory() as tmp:
        restored = load(detector.save(Path(tmp) / "model"))
    assert_same_state(restored, detector)
    np.testing.assert_array_equal(restored.score_many(probe), detector.score_many(probe))
    assert restored.threshold_ == detector.threshold_ and restored.n_learned_ == detector.n_learned_
    for row in probe:  # the restored model goes on learning exactly like the original
        restored.learn_one(row)
        detector.learn_one(row)
    np.testing.assert_array_equal(restored.score_many(X), detector.score_many(X))


@SETTINGS
@given(key=names, X=streams, probe=probes, seed=st.integers(0, 2**32 - 1))
def test_permuting_a_scored_batch_permutes_its_scores(key, X, probe, seed):
    detector = make(key).learn_many(X)
    permutation = np.random.default_rng(seed).permutation(probe.shape[0])
    np.testing.assert_array_equal(detector.score_many(probe[permutation]), detector.score_many(probe)[permutation])


def assert_same_attributes(after: dict, before: dict) -> None:
    assert after.keys() == before.keys(), sorted(set(after) ^ set(before))
    for name, value in before.items():
        now = after[name]
        if isinstance(value, np.ndarray):
            assert isinstance(now, np.ndarray) and now.dtype == value.dtype, name
            np.testing.assert_array_equal(now, value, err_msg=name)
        elif isinstance(value, random.Random):
            assert now.getstate() == value.getstate(), name
        else:
            assert type(now) is type(value) and now == value, name
