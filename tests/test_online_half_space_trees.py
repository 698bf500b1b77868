"""builtin.half_space_trees against river's HalfSpaceTrees: the same trees draw for draw, hence the same scores bit
for bit, record by record and vectorised; micro-batch prequential runs agree statistically."""

from __future__ import annotations

import numpy as np
import pytest

from pynomaly_core.builtin.half_space_trees import HalfSpaceTrees, leaf_scores
from pynomaly_core.errors import InputError
from pynomaly_core.metrics import roc_auc
from pynomaly_core.online import prequential

from .conftest import EXAMPLES, adbench

river_anomaly = pytest.importorskip("river.anomaly")


def river_prequential(model, X: np.ndarray) -> np.ndarray:
    scores = []
    for row in X.tolist():
        x = dict(enumerate(row))
        scores.append(model.score_one(x))
        model.learn_one(x)
    return np.array(scores, dtype=np.float64)


def river_scores(model, X: np.ndarray) -> np.ndarray:
    return np.array([model.score_one(dict(enumerate(row))) for row in X.tolist()], dtype=np.float64)


def unit_stream(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.beta(2.0, 5.0, size=(n, d))
    X[rng.choice(n, n // 40, replace=False)] = rng.random((n // 40, d))
    return X


PARAMS = [
    {"n_trees": 10, "height": 8, "window_size": 250},  # river's defaults
    {"n_trees": 3, "height": 3, "window_size": 7},
    {"n_trees": 7, "height": 6, "window_size": 100},
    {"n_trees": 1, "height": 1, "window_size": 1},
]


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: "-".join(map(str, p.values())))
@pytest.mark.parametrize("seed", [0, 42])
def test_scores_equal_rivers_record_by_record(params, seed):
    X = unit_stream(1200, 4, seed)
    expected = river_prequential(river_anomaly.HalfSpaceTrees(**params, seed=seed), X)
    ours = HalfSpaceTrees(**params, limits=None, random_state=seed)
    np.testing.assert_array_equal(prequential(ours, X), expected)
    # the vectorised path on the same model state gives the same scores as river after the stream
    river_model = river_anomaly.HalfSpaceTrees(**params, seed=seed)
    for row in X.tolist():
        river_model.learn_one(dict(enumerate(row)))
    probe = unit_stream(300, 4, seed + 1)
    np.testing.assert_array_equal(ours.score_many(probe), river_scores(river_model, probe))
    np.testing.assert_array_equal(HalfSpaceTrees(**params, limits=None, random_state=seed).learn_many(X)
                                  .score_many(probe), river_scores(river_model, probe))


def test_trees_are_rivers():
    X = unit_stream(10, 3, 0)
    ours = HalfSpaceTrees(n_trees=4, height=5, limits=None, random_state=7).learn_many(X)
    theirs = river_anomaly.HalfSpaceTrees(n_trees=4, height=5, seed=7)
    theirs.learn_one(dict(enumerate(X[0].tolist())))
    for t, tree in enumerate(theirs.trees):
        nodes = [(tree, 0)]
        while nodes:
            node, k = nodes.pop()
            if not hasattr(node, "feature"):
                continue
            assert ours.split_feature_[t, k] == node.feature
            assert ours.split_value_[t, k] == node.threshold
            nodes += [(node.children[0], 2 * k + 1), (node.children[1], 2 * k + 2)]


@pytest.mark.parametrize("seed", [1, 2])
def test_first_window_limits_are_rivers_with_those_ranges(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(900, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -3.0]
    window = X[:100]
    limits = {j: (float(window[:, j].min()), float(window[:, j].max())) for j in range(3)}
    expected = river_prequential(river_anomaly.HalfSpaceTrees(window_size=100, limits=limits, seed=seed), X)
    np.testing.assert_array_equal(prequential(HalfSpaceTrees(window_size=100, random_state=seed), X), expected)
    for batch_size in (33, 256):  # learn_many building the trees in the middle of a batch
        detector = HalfSpaceTrees(window_size=100, random_state=seed)
        for start in range(0, X.shape[0], batch_size):
            detector.learn_many(X[start:start + batch_size])
        river_model = river_anomaly.HalfSpaceTrees(window_size=100, limits=limits, seed=seed)
        for row in X.tolist():
            river_model.learn_one(dict(enumerate(row)))
        np.testing.assert_array_equal(detector.score_many(X[:200]), river_scores(river_model, X[:200]))


def test_explicit_limits_list_and_dict_match_river():
    X = unit_stream(600, 3, 3) * 4.0 - 1.0
    limits = [[-1.0, 3.0], [-1.0, 3.0], [0.0, 1.0]]
    expected = river_prequential(river_anomaly.HalfSpaceTrees(
        window_size=50, limits={0: (-1.0, 3.0), 1: (-1.0, 3.0)}, seed=5), X)
    np.testing.assert_array_equal(prequential(HalfSpaceTrees(window_size=50, limits=limits, random_state=5), X),
                                  expected)
    by_dict = HalfSpaceTrees(window_size=50, limits={"0": [-1.0, 3.0], "1": [-1.0, 3.0]}, random_state=5)
    np.testing.assert_array_equal(prequential(by_dict, X), expected)


def test_first_window_scores_zero_and_the_window_swaps_inside_a_batch():
    X = unit_stream(100, 2, 4)
    detector = HalfSpaceTrees(window_size=30, limits=None, random_state=0)
    scores = prequential(detector, X, batch_size=100)
    assert (scores == 0).all()  # one batch: every row scored before any was learned
    assert detector.window_count_ == 10 and not detector.first_window_
    assert detector.mass_reference_.sum() == 30 * detector.n_trees
    assert detector.mass_latest_.sum() == 10 * detector.n_trees
    reference = detector.mass_latest_.copy()
    detector.learn_many(X[:40])  # 10 + 40: a swap after 20 rows, 20 counted since
    assert detector.window_count_ == 20 and detector.mass_latest_.sum() == 20 * detector.n_trees
    leaves = detector._leaves(X[:20])
    np.testing.assert_array_equal(  # the new reference: the 10 rows counted before, then the batch's first 20
        detector.mass_reference_.reshape(-1), reference.reshape(-1) + np.bincount(leaves.reshape(-1),
                                                                                  minlength=reference.size))
    scores = detector.score_many(X)
    assert ((scores >= 0) & (scores <= 1)).all() and scores.dtype == np.float64


def test_constant_first_window_gets_unit_ranges():
    X = np.full((60, 2), 3.0)
    detector = HalfSpaceTrees(window_size=20, random_state=0).learn_many(X)
    np.testing.assert_array_equal(detector.limits_, [[2.5, 3.5], [2.5, 3.5]])
    assert np.isfinite(detector.score_many(X)).all()
    assert detector.score_one([100.0, 100.0]) > detector.score_one([3.0, 3.0])


def test_bad_parameters_are_input_errors():
    X = unit_stream(10, 2, 0)
    for params, match in [({"n_trees": 0}, "n_trees"), ({"height": 0}, "height"), ({"height": 21}, "height"),
                          ({"window_size": 2.5}, "window_size"), ({"limits": "auto"}, "limits"),
                          ({"limits": [[0, 1]]}, "limits"), ({"limits": [[1, 0], [0, 1]]}, "low <= high"),
                          ({"limits": [[0, 0], [1, 1]]}, "zero width"), ({"limits": {"x": [0, 1]}}, "unknown"),
                          ({"random_state": "seed"}, "random_state")]:
        with pytest.raises(InputError, match=match):
            HalfSpaceTrees(**params).fit(X)


def test_leaf_scores_are_rivers_walk():
    """The per-leaf table equals river's _walk_score on trees carrying the same masses."""
    rng = np.random.default_rng(0)
    for height, limit in [(1, 0.5), (4, 3.0), (6, 25.0), (8, 2.5)]:
        masses = rng.multinomial(rng.integers(1, 300), rng.dirichlet(np.ones(1 << height) * 0.5), size=3)
        table = leaf_scores(masses.astype(np.int64), height, limit)
        for t in range(3):
            for leaf in rng.integers(0, 1 << height, size=20):
                expected, stop = 0, False
                for depth in range(height + 1):
                    width = 1 << (height - depth)
                    start = (leaf // width) * width
                    mass = int(masses[t, start:start + width].sum())
                    expected += mass << depth
                    if mass < limit:
                        stop = True
                        break
                assert table[t, leaf] == expected, (height, t, leaf, stop)


def first_window_minmax(X: np.ndarray, window: int) -> np.ndarray:
    low, high = X[:window].min(axis=0), X[:window].max(axis=0)
    return (X - low) / np.where(high > low, high - low, 1.0)


def labelled_streams():
    with np.load(EXAMPLES / "cardio.npz") as data:
        yield "cardio", data["X"].astype(np.float64), data["y"]
    for name in ("38_thyroid.npz", "28_pendigits.npz"):
        try:
            X, y = adbench(name)
        except pytest.skip.Exception:
            continue
        yield name, X, y


@pytest.mark.parametrize("batch_size", [64, 256])
def test_micro_batches_agree_with_rivers_prequential_auc(batch_size):
    """Scoring a micro-batch before learning it (vectorised) ranks anomalies as well as river's record-by-record
    test-then-train: prequential ROC-AUC within 0.02, on shuffled, first-window min-max scaled streams."""
    for name, X, y in labelled_streams():
        order = np.random.default_rng(0).permutation(X.shape[0])
        X, y = first_window_minmax(X[order], 250), y[order]
        theirs = roc_auc(y, river_prequential(river_anomaly.HalfSpaceTrees(seed=0), X))
        ours = roc_auc(y, prequential(HalfSpaceTrees(limits=None, random_state=0), X, batch_size=batch_size))
        assert abs(ours - theirs) <= 0.02, (name, batch_size, ours, theirs)


@pytest.mark.parametrize(("height", "n_features"), [(1, 1), (3, 5), (8, 4), (6, 40)])
def test_trees_grown_level_by_level_are_the_node_by_node_ones(monkeypatch, height, n_features):
    import pynomaly_core.builtin.half_space_trees as hst

    rng = np.random.default_rng(height)
    low = rng.normal(size=n_features)
    ranges = np.column_stack([low, low + rng.choice([0.0, 0.5, 3.0], size=n_features)])
    ranges[0, 1] = ranges[0, 0] + 1.0  # at least one feature can be split
    X = rng.random((3, n_features))

    def grown():
        detector = HalfSpaceTrees(n_trees=4, height=height, limits=ranges.tolist(), random_state=11).learn_many(X)
        return detector.split_feature_.copy(), detector.split_value_.copy(), detector.rng_.getstate()

    by_levels = grown()
    monkeypatch.setattr(hst, "_LEVEL_BUILD_CELLS", 0)
    by_nodes = grown()
    monkeypatch.setattr(hst, "_inline_draws_match", lambda: False)  # random.Random's own choices/uniform
    by_library = grown()
    for other in (by_nodes, by_library):
        np.testing.assert_array_equal(by_levels[0], other[0])
        np.testing.assert_array_equal(by_levels[1], other[1])
        assert by_levels[2] == other[2]
    river_model = river_anomaly.HalfSpaceTrees(n_trees=4, height=height, seed=11,
                                               limits={j: tuple(r) for j, r in enumerate(ranges.tolist())})
    river_model.learn_one(dict(enumerate(X[0].tolist())))
    assert river_model.rng.getstate() == by_levels[2]  # the generator ends where river's does
