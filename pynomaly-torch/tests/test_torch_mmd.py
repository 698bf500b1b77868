"""``torch.mmd`` agrees with the NumPy reference and holds its level under the null (shared checks: the deep kit)."""

from __future__ import annotations

import numpy as np
import pytest
from pynomaly_torch.mmd import TIE_TOLERANCE, TorchMMDDrift, mmd_permutation_test

from pynomaly_core.builtin import mmd_drift
from pynomaly_core.testing import deep_checks as kit


def test_statistic_and_p_value_match_the_numpy_reference():
    kit.check_statistic_and_p_value_match_the_numpy_reference(mmd_permutation_test, TIE_TOLERANCE, max_examples=40,
                                                              max_rows=12)


def test_p_values_equal_the_reference_on_continuous_data():
    kit.check_p_values_equal_the_reference_on_continuous_data(TorchMMDDrift)


def test_false_positive_rate_under_the_null_is_near_alpha():
    kit.check_false_positive_rate_under_the_null_is_near_alpha(TorchMMDDrift, rows=30)


def test_a_shift_is_detected_and_reported():
    kit.check_a_shift_is_detected_and_reported(TorchMMDDrift, "torch.mmd")


def test_registered_through_the_drift_test_hook():
    kit.check_registered_through_the_drift_test_hook("torch.mmd", TorchMMDDrift, "torch")


@pytest.mark.parametrize("x_scale", [0.0, 1.15720647e-110])
def test_rounding_noise_of_tiny_rows_is_zero_distance_in_both(x_scale):
    """Rows equal up to the expansion's rounding (found by Hypothesis): same bandwidth and statistic as NumPy."""
    x = np.full((2, 3), x_scale)
    y = np.full((5, 3), 1.15720647e-110)
    expected = mmd_drift.mmd_permutation_test(x, y, 30, 0)
    statistic, _, bandwidth = mmd_permutation_test(x, y, 30, 0)
    assert bandwidth == pytest.approx(expected[2], rel=1e-9)
    assert statistic == pytest.approx(expected[0], rel=1e-5, abs=1e-12)
