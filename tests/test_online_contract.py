"""The online-detector contract (pynomaly_core.online) on the built-in online detectors: one-record and vectorised
learning/scoring, the BaseDetector bridge (fit, decision_function, partial_fit), input checks and prequential."""

from __future__ import annotations

import numpy as np
import pytest

from pynomaly_core.errors import InputError, NotFittedError
from pynomaly_core.online import OnlineDetector, is_online, prequential
from pynomaly_core.registry import get_registry
from pynomaly_core.sdk import create_detector

#: Small settings so that windows turn over (and trees are built) within the tests' few hundred rows.
ONLINE = {
    "builtin.half_space_trees": {"n_trees": 5, "height": 5, "window_size": 40, "random_state": 0},
    "builtin.streaming_zscore": {"window_size": 50},
    "builtin.decayed_hbos": {"init_size": 30, "decay": 0.01},
}


def same(name: str, actual, expected) -> None:
    """Equal scores: bit for bit, except that decayed_hbos applies its decay in closed form per batch, so other
    batchings of the same records agree to rounding."""
    if name == "builtin.decayed_hbos":
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(actual, expected)


def make(name: str, **params):
    return create_detector(name, **{**ONLINE[name], **params})


def stream(n: int = 300, d: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[::37] += 6.0
    return X


@pytest.fixture(params=sorted(ONLINE))
def name(request) -> str:
    return request.param


def test_online_detectors_declare_the_capabilities(name):
    spec = get_registry().detector(name)
    assert {"online", "partial_fit", "save", "deterministic_with_seed"} <= spec.capabilities
    detector = make(name)
    assert isinstance(detector, OnlineDetector) and is_online(detector)
    assert {s.qualified_name for s in get_registry().detectors() if "online" in s.capabilities} >= set(ONLINE)


def test_prequential_one_by_one_is_score_then_learn(name):
    X = stream()
    manual = make(name)
    expected = []
    for i, row in enumerate(X):
        if i == 0:
            manual.learn_one(row)  # a fresh detector cannot be asked before its first record …
            expected.append(None)
            continue
        expected.append(manual.score_one(row))
        manual.learn_one(row)
    scores = prequential(make(name), X)
    assert scores.dtype == np.float64 and scores.shape == (X.shape[0],)
    same(name, scores[1:], np.array(expected[1:]))
    assert scores[0] == 0.0  # … prequential scores it with the empty model: 0 for these detectors


@pytest.mark.parametrize("batch_size", [2, 7, 64, 1000])
def test_prequential_batches_are_scored_before_they_are_learned(name, batch_size):
    X = stream()
    scores = prequential(make(name), X, batch_size=batch_size)
    expected = []
    model = make(name)
    for start in range(0, X.shape[0], batch_size):
        batch = X[start:start + batch_size]
        # the first batch meets the empty model, which scores 0 for these detectors
        expected.append(np.zeros(batch.shape[0]) if start == 0 else model.score_many(batch))
        model.learn_many(batch)
    same(name, scores, np.concatenate(expected))
    assert model.n_learned_ == X.shape[0]


def test_prequential_continues_a_stream(name):
    X = stream()
    whole = prequential(make(name), X, batch_size=16)
    detector = make(name)
    first = prequential(detector, X[:128], batch_size=16)
    rest = prequential(detector, X[128:], batch_size=16)
    same(name, np.concatenate([first, rest]), whole)


def test_fit_is_learning_every_row_then_scoring_them(name):
    X = stream()
    fitted = make(name).fit(X)
    learned = make(name).learn_many(X)
    np.testing.assert_array_equal(fitted.decision_scores_, learned.score_many(X))
    test = stream(50, seed=1)
    np.testing.assert_array_equal(fitted.decision_function(test), fitted.score_many(test))
    np.testing.assert_array_equal(fitted.decision_function(test), learned.score_many(test))
    assert fitted.n_learned_ == X.shape[0]
    # fit starts from scratch
    again = fitted.fit(X)
    np.testing.assert_array_equal(again.decision_function(test), learned.score_many(test))


def test_partial_fit_is_learn_many(name):
    X = stream()
    partial = make(name)
    for batch in np.array_split(X, 4):
        partial.partial_fit(batch)
    learned = make(name).learn_many(X)
    test = stream(50, seed=2)
    same(name, partial.decision_function(test), learned.score_many(test))
    assert partial.n_learned_ == X.shape[0]
    # the threshold comes from the last batch's scores, as for any partial_fit detector
    assert partial.threshold_ == pytest.approx(np.percentile(partial.decision_scores_, 90))


def test_learning_online_then_partial_fit_continues(name):
    X = stream()
    detector = make(name)
    for row in X[:100]:
        detector.learn_one(row)
    detector.partial_fit(X[100:])
    same(name, detector.score_many(X), make(name).learn_many(X).score_many(X))
    with pytest.raises(InputError, match="features"):
        detector.partial_fit(X[:, :2])
    assert detector.n_features_in_ == 3  # the refused batch changed nothing
    named = make(name)
    named.learn_one({"a": 0.0, "b": 1.0, "c": 2.0})
    named.partial_fit(X)  # an array after named records: the names stay
    assert list(named.feature_names_in_) == ["a", "b", "c"] and named.n_learned_ == X.shape[0] + 1


def test_records_as_sequences_arrays_and_dicts(name):
    X = stream(120)
    reference = make(name).learn_many(X)
    by_list, by_dict = make(name), make(name)
    for row in X:
        by_list.learn_one(row.tolist())
        by_dict.learn_one({f"f{j}": value for j, value in enumerate(row)})
    probe = X[-1]
    expected = reference.score_one(probe)
    same(name, by_list.score_one(tuple(probe)), expected)
    same(name, by_dict.score_one({"f2": probe[2], "f0": probe[0], "f1": probe[1]}), expected)  # keys in any order
    assert list(by_dict.feature_names_in_) == ["f0", "f1", "f2"]
    assert reference.score_one({0: probe[0], 1: probe[1], 2: probe[2]}) == expected  # no names: column indices


def test_dataframe_names_are_the_record_keys(name):
    pd = pytest.importorskip("pandas")
    X = stream(120)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    detector = make(name).learn_many(frame)
    assert list(detector.feature_names_in_) == ["a", "b", "c"]
    assert detector.score_one({"a": 1.0, "b": 2.0, "c": 3.0}) == detector.score_many(np.array([[1.0, 2.0, 3.0]]))[0]
    fitted = make(name).fit(frame)
    assert fitted.score_one({"a": 1.0, "b": 2.0, "c": 3.0}) == detector.score_one([1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="differ"):
        detector.score_many(pd.DataFrame(X, columns=["a", "b", "z"]))


def test_bad_records_are_input_errors(name):
    detector = make(name).learn_many(stream(60))
    with pytest.raises(InputError, match="2 features but the detector learned 3"):
        detector.learn_one([1.0, 2.0])
    with pytest.raises(InputError, match="column 1"):
        detector.score_one([0.0, np.nan, 0.0])
    with pytest.raises(InputError, match="column 2"):
        detector.learn_one([0.0, 0.0, np.inf])
    with pytest.raises(InputError, match="not numeric"):
        detector.score_one(["a", "b", "c"])
    with pytest.raises(InputError, match="1-D"):
        detector.score_one([[0.0, 0.0, 0.0]])
    with pytest.raises(InputError, match="no feature 2"):
        detector.score_one({0: 1.0, 1: 1.0})
    with pytest.raises(InputError, match="unknown features"):
        detector.score_one({0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0})
    with pytest.raises(InputError, match="features"):
        detector.learn_many(stream(10, d=4))
    with pytest.raises(InputError, match="row 3"):
        bad = stream(10)
        bad[3, 0] = np.nan
        detector.score_many(bad)
    with pytest.raises(InputError, match="1-D sequence"):
        make(name).learn_one(3.0)


def test_scoring_before_learning_is_not_fitted(name):
    detector = make(name)
    with pytest.raises(NotFittedError):
        detector.score_one([0.0, 0.0, 0.0])
    with pytest.raises(NotFittedError):
        detector.score_many(stream(5))
    with pytest.raises(NotFittedError):
        detector.decision_function(stream(5))
    detector.learn_one([0.0, 0.0, 0.0])
    assert np.isfinite(detector.score_one([0.0, 0.0, 0.0]))
    with pytest.raises(NotFittedError):  # learn_* sets no threshold: predict needs fit or partial_fit
        detector.predict(stream(5))


def test_prequential_checks_its_arguments(name):
    with pytest.raises(InputError, match="batch_size"):
        prequential(make(name), stream(10), batch_size=0)
    with pytest.raises(InputError, match="batch_size"):
        prequential(make(name), stream(10), batch_size=True)
    with pytest.raises(InputError, match="online detector"):
        prequential(create_detector("builtin.hbos"), stream(10))
    with pytest.raises(InputError, match="row 2"):
        bad = stream(10)
        bad[2, 1] = np.nan
        prequential(make(name), bad)


def test_memory_is_bounded(name):
    """The learned state does not grow with the stream."""
    detector = make(name).learn_many(stream(200))
    size = sum(np.asarray(v).nbytes for v in detector._get_state().values())
    detector.learn_many(stream(3000, seed=5))
    for row in stream(100, seed=6):
        detector.learn_one(row)
    assert sum(np.asarray(v).nbytes for v in detector._get_state().values()) <= size
