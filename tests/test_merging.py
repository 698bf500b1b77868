"""Training on partitions (pynomaly_core.merging): merged states against a fit on all rows at once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynomaly_core import create_detector
from pynomaly_core.errors import InputError
from pynomaly_core.merging import cdf_bound, fit_merged, is_mergeable, local_map, merge_sketches, sketch
from pynomaly_core.registry import get_registry


def split(X: np.ndarray, cuts: list[int]) -> list[np.ndarray]:
    return np.split(X, sorted({c % (len(X) + 1) for c in cuts}))


partitionings = st.lists(st.integers(0, 10_000), max_size=6)


def data(seed: int, n: int = 400, d: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.1, 100, size=d) + rng.uniform(-50, 50, size=d)
    X[: n // 50] += 8 * X.std(axis=0)
    return X


def test_builtins_declare_the_capability():
    mergeable = {s.name for s in get_registry().detectors() if "mergeable" in s.capabilities}
    assert {"mahalanobis", "hbos", "ecod"} <= mergeable
    for name in mergeable:
        assert is_mergeable(create_detector(name))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=partitionings)
def test_merged_mahalanobis_equals_fit_at_once(seed, cuts):
    X = data(seed)
    whole = create_detector("mahalanobis").fit(X)
    merged = fit_merged(create_detector("mahalanobis"), local_map(split(X, cuts)))
    np.testing.assert_allclose(merged.mean_, whole.mean_, rtol=1e-12, atol=1e-12 * np.abs(whole.mean_).max())
    np.testing.assert_allclose(merged.decision_function(X), whole.decision_function(X), rtol=1e-12, atol=1e-12)
    assert merged.threshold_ == whole.threshold_ or np.isclose(merged.threshold_, whole.threshold_, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=partitionings, n_bins=st.integers(2, 30),
       constant=st.booleans())
def test_merged_hbos_is_bit_identical(seed, cuts, n_bins, constant):
    X = data(seed)
    if constant:
        X[:, 1] = 3.25
    whole = create_detector("hbos", n_bins=n_bins).fit(X)
    merged = fit_merged(create_detector("hbos", n_bins=n_bins), local_map(split(X, cuts)))
    assert np.array_equal(merged.hist_, whole.hist_) and np.array_equal(merged.bin_edges_, whole.bin_edges_)
    probe = np.vstack([X, data(seed + 1, 50)])
    assert np.array_equal(merged.decision_function(probe), whole.decision_function(probe))
    assert merged.threshold_ == whole.threshold_ and merged.threshold_exact_


def test_merged_hbos_handles_extreme_ranges():
    wide = np.random.default_rng(0).uniform(-1, 1, 300) * 1.5e308
    X = np.column_stack([wide, 1.0 + np.arange(300) * 1e-16, np.ones(300)])
    whole = create_detector("hbos").fit(X)
    merged = fit_merged(create_detector("hbos"), local_map(np.array_split(X, 4)))
    assert np.array_equal(merged.hist_, whole.hist_) and np.array_equal(merged.bin_edges_, whole.bin_edges_)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=partitionings)
def test_merged_ecod_is_exact_below_the_sketch_size(seed, cuts):
    X = data(seed)
    whole = create_detector("ecod").fit(X)
    merged = fit_merged(create_detector("ecod"), local_map(split(X, cuts)))
    assert merged.merge_bound_ == 0.0
    assert np.array_equal(merged.sorted_, whole.sorted_)
    np.testing.assert_allclose(merged.decision_function(X), whole.decision_function(X), rtol=0, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), cuts=partitionings, size=st.sampled_from([16, 64, 256]))
def test_merged_ecod_tail_probabilities_within_the_stated_bound(seed, cuts, size):
    X = data(seed, n=3000, d=2)
    whole = create_detector("ecod").fit(X)
    merged = fit_merged(create_detector("ecod"), local_map(split(X, cuts)), sketch_size=size)
    assert 0 < merged.merge_bound_ < 1
    probe = np.vstack([X[::7], data(seed + 1, 100, 2)])
    for j in range(X.shape[1]):
        column = np.ascontiguousarray(probe[:, j])
        for a, b in zip(merged._feature_terms(column, j), whole._feature_terms(column, j), strict=True):
            assert np.max(np.abs(np.exp(-a) - np.exp(-b))) <= merged.merge_bound_


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300), cuts=partitionings,
       size=st.integers(2, 40))
def test_sketch_counts_fall_short_by_at_most_the_error(values, cuts, size):
    values = np.asarray(values)
    merged = merge_sketches([sketch(part, size) for part in split(values, cuts) if part.size], size)
    assert merged["weights"].sum() == values.size
    for x in values:
        true = np.count_nonzero(values <= x)
        estimate = merged["weights"][merged["values"] <= x].sum()
        assert 0 <= true - estimate <= merged["error"]
    assert cdf_bound(merged, size) >= 0


def test_detectors_that_do_not_merge_are_refused():
    with pytest.raises(InputError, match="not mergeable"):
        fit_merged(create_detector("robust_zscore"), local_map([np.zeros((3, 2))]))


@pytest.mark.parametrize("name", ["mahalanobis", "hbos", "ecod"])
def test_tasks_combine_results_in_a_tree(name):
    """Engines may merge partition results with ``task.combine`` before the driver's merge (a tree reduction)."""
    X = data(3, n=900)
    parts = np.array_split(X, 9)

    def tree_map(task):
        results = [task(part) for part in parts]
        return [task.combine(results[i:i + 3]) for i in range(0, 9, 3)]

    whole = create_detector(name).fit(X)
    merged = fit_merged(create_detector(name), tree_map)
    np.testing.assert_allclose(merged.decision_function(X), whole.decision_function(X), rtol=1e-12, atol=1e-12)
    assert merged.threshold_ == pytest.approx(whole.threshold_, rel=1e-12)
