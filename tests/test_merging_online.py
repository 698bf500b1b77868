"""Mass merge of the online detectors (Half-Space Trees, DecayedHBOS): a model merged from partitions is bit for bit
its ``local_equivalent`` fitted on all rows at once, keeps learning online, and saves and loads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynomaly_core import create_detector, load
from pynomaly_core.merging import fit_merged, is_mergeable, local_map
from pynomaly_core.registry import get_registry
from pynomaly_core.state_codec import decode_state, encode_state

partitionings = st.lists(st.integers(0, 10_000), max_size=6)


def split(X: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    return np.split(X, sorted({c % (len(X) + 1) for c in cuts}))


def data(seed: int, n: int = 300, d: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10, size=d) + rng.uniform(-5, 5, size=d)
    X[: n // 50] += 6 * X.std(axis=0)
    return X


def codec_map(parts: list[np.ndarray]):
    """``local_map`` whose results travel through the state codec, as Spark ships them (no pickle)."""
    return lambda task: [decode_state(encode_state(task(X))) for X in parts]


def assert_same_hst(merged, whole, probe: np.ndarray) -> None:
    for name in ("split_feature_", "split_value_", "mass_reference_", "mass_latest_", "limits_"):
        assert np.array_equal(getattr(merged, name), getattr(whole, name)), name
    assert merged.reference_size_ == whole.reference_size_
    assert np.array_equal(merged.decision_function(probe), whole.decision_function(probe))
    assert merged.threshold_ == whole.threshold_


def test_online_detectors_declare_the_capability():
    mergeable = {s.name for s in get_registry().detectors() if "mergeable" in s.capabilities}
    assert {"half_space_trees", "decayed_hbos"} <= mergeable
    assert "streaming_zscore" not in mergeable  # a window of the latest rows: no exact merge (docs/scaling.md)
    assert is_mergeable(create_detector("half_space_trees")) and is_mergeable(create_detector("decayed_hbos"))


hst_params = st.fixed_dictionaries({
    "n_trees": st.integers(1, 5), "height": st.integers(1, 6), "window_size": st.integers(1, 80),
    "limits": st.sampled_from(["first_window", None, "box"]), "random_state": st.none() | st.integers(0, 2**31),
})


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=partitionings, params=hst_params, constant=st.booleans())
def test_merged_half_space_trees_equal_the_local_equivalent(seed, cuts, params, constant):
    X = data(seed)
    if constant:
        X[:, 1] = 2.5
    if params["limits"] == "box":
        params = {**params, "limits": [[-20.0, 20.0], [0.0, 3.0], [-30.0, 30.0]]}
    merged = fit_merged(create_detector("half_space_trees", **params), codec_map(split(X, cuts)))
    assert merged.merge_passes == (1 if params["limits"] != "first_window" and params["random_state"] is not None
                                   else 2)
    whole = merged.local_equivalent(len(X)).fit(X)
    assert merged.reference_size_ == len(X) and merged.n_learned_ == len(X)
    assert int(merged.mass_reference_.sum()) == len(X) * params["n_trees"]
    assert_same_hst(merged, whole, np.vstack([X, data(seed + 1, 60)]))


def test_merged_half_space_trees_do_not_depend_on_the_partitioning():
    X = data(7, n=500)
    models = [fit_merged(create_detector("half_space_trees", random_state=4), local_map(np.array_split(X, k)))
              for k in (1, 3, 11)]
    for model in models[1:]:
        assert_same_hst(model, models[0], X)


@pytest.mark.parametrize("random_state", [5, None])
def test_merged_half_space_trees_keep_learning_online_and_save(tmp_path, random_state):
    X, stream = data(1, n=400), data(2, n=170)
    merged = fit_merged(create_detector("half_space_trees", window_size=50, random_state=random_state),
                        local_map(np.array_split(X, 4)))
    whole = merged.local_equivalent(len(X)).fit(X).set_params(window_size=50)
    merged.save(tmp_path / "hst")
    loaded = load(tmp_path / "hst")
    assert np.array_equal(loaded.decision_function(X), merged.decision_function(X))
    assert loaded.threshold_ == merged.threshold_ and loaded.merge_seed_ == merged.merge_seed_
    # 170 records: three window swaps (the first replaces the merged reference), then a partial window
    runs = []
    for model in (merged, whole, loaded):
        batch = model.learn_many(stream[:120]).score_many(stream)
        one_by_one = []
        for row in stream[120:]:  # test then train, record by record
            one_by_one.append(model.score_one(row))
            model.learn_one(row)
        runs.append((batch, np.asarray(one_by_one), model.score_many(X), model.mass_latest_))
    for run in runs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(runs[0], run, strict=True))
    assert merged.reference_size_ == 50 and merged.window_count_ == 20


def test_half_space_trees_limits_by_feature_name_reach_the_partitions():
    X = data(3)
    limits = {"b": [-50.0, 50.0], "a": [-20.0, 20.0]}
    merged = fit_merged(create_detector("half_space_trees", limits=limits, random_state=1),
                        local_map(np.array_split(X, 3)), feature_names=["a", "b", "c"])
    assert merged.limits_.tolist() == [[-20.0, 20.0], [-50.0, 50.0], [0.0, 1.0]]
    import pandas as pd

    whole = merged.local_equivalent(len(X)).fit(pd.DataFrame(X, columns=["a", "b", "c"]))
    assert_same_hst(merged, whole, X)


dhbos_params = st.fixed_dictionaries({
    "n_bins": st.integers(2, 20), "decay": st.sampled_from([0.0, 0.001, 0.05]),
    "limits": st.sampled_from([None, "box"]), "init_size": st.integers(1, 400),
})


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=partitionings, params=dhbos_params, constant=st.booleans())
def test_merged_decayed_hbos_equals_the_local_equivalent(seed, cuts, params, constant):
    X = data(seed)
    if constant:
        X[:, 1] = 2.5
    if params["limits"] == "box":
        params = {**params, "limits": [[-20.0, 20.0], [0.0, 3.0], [-30.0, 30.0]]}
    merged = fit_merged(create_detector("decayed_hbos", **params), codec_map(split(X, cuts)))
    whole = merged.local_equivalent(len(X)).fit(X)
    assert np.array_equal(merged.edges_, whole.edges_) and np.array_equal(merged.counts_, whole.counts_)
    assert merged.total_ == whole.total_ == len(X)
    probe = np.vstack([X, data(seed + 1, 60) * 3])
    assert np.array_equal(merged.decision_function(probe), whole.decision_function(probe))
    assert merged.threshold_ == whole.threshold_
    # what it learns next decays at its own rate: the equivalent, given that rate back, learns on identically
    stream = data(seed + 2, 40)
    whole.set_params(decay=params["decay"], init_size=params["init_size"])
    assert np.array_equal(merged.learn_many(stream).score_many(probe), whole.learn_many(stream).score_many(probe))


def test_merged_decayed_hbos_saves_and_loads(tmp_path):
    X = data(4)
    merged = fit_merged(create_detector("decayed_hbos", decay=0.01), local_map(np.array_split(X, 3)))
    merged.save(tmp_path / "dh")
    loaded = load(tmp_path / "dh")
    assert np.array_equal(loaded.decision_function(X), merged.decision_function(X))
    row = X[0] * 2
    assert loaded.learn_one(row).score_one(row) == merged.learn_one(row).score_one(row)


@pytest.mark.parametrize("name", ["half_space_trees", "decayed_hbos"])
def test_online_tasks_combine_results_in_a_tree(name):
    X = data(5, n=900)
    parts = np.array_split(X, 9)

    def tree_map(task):
        results = [task(part) for part in parts]
        return [task.combine(results[i:i + 3]) for i in range(0, 9, 3)]

    merged = fit_merged(create_detector(name, random_state=2) if name == "half_space_trees"
                        else create_detector(name), tree_map)
    whole = merged.local_equivalent(len(X)).fit(X)
    assert np.array_equal(merged.decision_function(X), whole.decision_function(X))
