"""Equal-width histograms, including ranges of a few ulps that NumPy refuses to split."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pynomaly_core.histogram import equal_width_histogram


@given(arrays(np.float64, st.integers(1, 50), elements=st.floats(-1e300, 1e300)), st.integers(1, 20))
def test_every_value_is_counted_once(values, bins):
    counts, edges = equal_width_histogram(values, bins)
    assert counts.sum() == values.size and edges.size == bins + 1
    assert np.all(np.diff(edges) > 0) and edges[0] <= values.min() and values.max() <= edges[-1]


@pytest.mark.parametrize("values", [[0.0, 5e-324], [1.0, 1.0 + 2 * np.finfo(np.float64).eps]])
def test_a_range_of_a_few_ulps_lands_in_the_middle_bin(values):
    with pytest.raises(ValueError, match="Too many bins"):
        np.histogram(values, bins=10)
    counts, _ = equal_width_histogram(np.array(values), 10)
    assert counts.tolist() == [0] * 5 + [2] + [0] * 4


def test_matches_numpy_where_numpy_works():
    values = np.random.default_rng(0).normal(size=100)
    for density in (False, True):
        for ours, numpy in zip(equal_width_histogram(values, 7, density=density),
                               np.histogram(values, bins=7, density=density), strict=True):
            np.testing.assert_array_equal(ours, numpy)


def test_non_finite_values_are_still_an_error():
    with pytest.raises(ValueError):
        equal_width_histogram(np.array([0.0, np.inf]), 10)
