"""``tf.mmd`` agrees with the NumPy reference and holds its level under the null (shared checks: the deep kit)."""

from __future__ import annotations

import numpy as np
import pytest
from pynomaly_tf.mmd import TIE_TOLERANCE, TFMMDDrift, mmd_permutation_test

from pynomaly_core.builtin import mmd_drift
from pynomaly_core.errors import InputError
from pynomaly_core.testing import deep_checks as kit


def test_statistic_and_p_value_match_the_numpy_reference():
    kit.check_statistic_and_p_value_match_the_numpy_reference(mmd_permutation_test, TIE_TOLERANCE, max_examples=25,
                                                              max_rows=10)


def test_p_values_equal_the_reference_on_continuous_data():
    kit.check_p_values_equal_the_reference_on_continuous_data(TFMMDDrift)


def test_duplicate_rows_give_the_reference_result():
    # Most pairwise distances are duplicates: the reference's ±1e-15 cancellation residues decide its bandwidth.
    x, y = np.zeros((2, 3)), np.full((6, 3), 3.84787349)
    assert mmd_permutation_test(x, y, 20, 0) == pytest.approx(mmd_drift.mmd_permutation_test(x, y, 20, 0), rel=1e-9)


def test_permutations_are_evaluated_in_chunks(monkeypatch):
    from pynomaly_tf import mmd

    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(20, 2)), rng.normal(size=(25, 2)) + 0.4
    whole = mmd_permutation_test(x, y, 60, 3)
    monkeypatch.setattr(mmd, "_CHUNK_ENTRIES", 45 * 7)  # 7 permutations per chunk: 9 chunks, the last partial
    assert mmd_permutation_test(x, y, 60, 3) == whole
    assert whole[1] == mmd_drift.mmd_permutation_test(x, y, 60, 3)[1]


def test_false_positive_rate_under_the_null_is_near_alpha():
    kit.check_false_positive_rate_under_the_null_is_near_alpha(TFMMDDrift, rows=20)


def test_a_shift_is_detected_and_reported():
    kit.check_a_shift_is_detected_and_reported(TFMMDDrift, "tf.mmd")


def test_fixed_bandwidth_is_used_as_given():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(15, 2)), rng.normal(size=(12, 2))
    statistic, _, sigma = mmd_permutation_test(x, y, 10, 0, bandwidth=0.7)
    assert sigma == 0.7
    assert statistic == pytest.approx(mmd_drift.mmd_permutation_test(x, y, 10, 0, bandwidth=0.7)[0], rel=1e-9)


def test_bad_device_is_an_input_error():
    with pytest.raises(InputError, match=r"tf\.mmd: device must be"):
        TFMMDDrift(device="tpu")


def test_registered_through_the_drift_test_hook():
    kit.check_registered_through_the_drift_test_hook("tf.mmd", TFMMDDrift, "tf")
