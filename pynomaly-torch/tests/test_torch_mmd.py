"""``torch.mmd`` agrees with the NumPy reference and holds its level under the null."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pynomaly_torch.mmd import TIE_TOLERANCE, TorchMMDDrift, mmd_permutation_test

from pynomaly_core.builtin import mmd_drift
from pynomaly_core.registry import get_registry


def _reference_counts(x, y, n_permutations, seed):
    """Permutations of the NumPy reference strictly above, and tied with, its statistic."""
    pooled = np.concatenate([x, y])
    kernel = mmd_drift.rbf_kernel(pooled, pooled, mmd_drift.median_bandwidth(pooled))
    statistic = mmd_drift.mmd2_from_kernel(kernel, x.shape[0])
    permuted = np.array([mmd_drift.mmd2_from_kernel(kernel[np.ix_(p, p)], x.shape[0])
                         for p in mmd_drift.permutation_indices(pooled.shape[0], n_permutations, seed)])
    return int((permuted > statistic + TIE_TOLERANCE).sum()), int((abs(permuted - statistic) <= TIE_TOLERANCE).sum())


def _samples(d):
    values = st.floats(-5, 5, allow_nan=False, width=64)
    return st.integers(2, 12).flatmap(lambda n: arrays(np.float64, (n, d), elements=values))


@settings(max_examples=40, deadline=None)
@given(data=st.data(), d=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_statistic_and_p_value_match_the_numpy_reference(data, d, seed):
    x, y = data.draw(_samples(d)), data.draw(_samples(d))
    n_permutations = 30
    expected = mmd_drift.mmd_permutation_test(x, y, n_permutations, seed)
    statistic, p_value, bandwidth = mmd_permutation_test(x, y, n_permutations, seed)
    assert bandwidth == pytest.approx(expected[2], rel=1e-9)
    assert abs(statistic - expected[0]) <= 1e-5 * abs(expected[0]) + 1e-12
    above, ties = _reference_counts(x, y, n_permutations, seed)
    # Exact ties (e.g. a permutation that keeps the groups) count as "at least as large"; the reference breaks
    # them by rounding, so it may count fewer of them.
    assert p_value == (above + ties + 1) / (n_permutations + 1)
    assert (above + 1) / (n_permutations + 1) <= expected[1] <= p_value


def test_p_values_equal_the_reference_on_continuous_data():
    rng = np.random.default_rng(4)
    for shift in (0.0, 0.3, 1.0):
        x, y = rng.normal(size=(40, 3)), rng.normal(size=(35, 3)) + shift
        ours = TorchMMDDrift(n_permutations=100, random_state=1).run(x, y)
        reference = mmd_drift.MMDDrift(n_permutations=100, random_state=1).run(x, y)
        assert ours.features[0].p_value == reference.features[0].p_value
        assert ours.features[0].statistic == pytest.approx(reference.features[0].statistic, rel=1e-5)
        assert ours.details["bandwidth"] == pytest.approx(reference.details["bandwidth"], rel=1e-9)


def test_false_positive_rate_under_the_null_is_near_alpha():
    rng = np.random.default_rng(2024)
    test = TorchMMDDrift(alpha=0.05, n_permutations=99)  # p-values are multiples of 1/100: P(p < 0.05) = 0.05
    alarms = 0
    for trial in range(200):
        test.random_state = trial
        alarms += test.run(rng.normal(size=(30, 2)), rng.normal(size=(30, 2))).drift
    assert 0.02 <= alarms / 200 <= 0.08


def test_a_shift_is_detected_and_reported():
    rng = np.random.default_rng(0)
    report = TorchMMDDrift(n_permutations=50).run(rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) + 1.5)
    assert report.drift and report.test == "torch.mmd" and report.features[0].p_value == 1 / 51
    assert report.details["n_permutations"] == 50


def test_registered_through_the_drift_test_hook():
    spec = get_registry().resolve("drift_test", "torch.mmd")
    assert spec.load() is TorchMMDDrift and spec.plugin == "torch"
    assert "gpu" in spec.capabilities


@pytest.mark.parametrize("x_scale", [0.0, 1.15720647e-110])
def test_rounding_noise_of_tiny_rows_is_zero_distance_in_both(x_scale):
    """Rows equal up to the expansion's rounding (found by Hypothesis): same bandwidth and statistic as NumPy."""
    x = np.full((2, 3), x_scale)
    y = np.full((5, 3), 1.15720647e-110)
    expected = mmd_drift.mmd_permutation_test(x, y, 30, 0)
    statistic, _, bandwidth = mmd_permutation_test(x, y, 30, 0)
    assert bandwidth == pytest.approx(expected[2], rel=1e-9)
    assert statistic == pytest.approx(expected[0], rel=1e-5, abs=1e-12)
