"""``jax.mmd`` agrees with the NumPy reference, holds its level under the null and leaves JAX's x64 flag alone
(shared checks: the deep kit)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from pynomaly_jax.mmd import TIE_TOLERANCE, JaxMMDDrift, mmd_permutation_test

from pynomaly_core.builtin import mmd_drift
from pynomaly_core.errors import InputError
from pynomaly_core.testing import deep_checks as kit


def test_statistic_and_p_value_match_the_numpy_reference():
    kit.check_statistic_and_p_value_match_the_numpy_reference(mmd_permutation_test, TIE_TOLERANCE, max_examples=40,
                                                              max_rows=12)


def test_p_values_equal_the_reference_on_continuous_data():
    kit.check_p_values_equal_the_reference_on_continuous_data(JaxMMDDrift)


def test_many_permutations_run_in_chunks_with_the_same_result(monkeypatch):
    from pynomaly_jax import mmd

    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(50, 2)), rng.normal(size=(45, 2)) + 0.2
    whole = mmd_permutation_test(x, y, 300, 3)
    monkeypatch.setattr(mmd, "_CHUNK_ENTRIES", 128 * 16)  # 16 permutations per chunk
    chunked = mmd_permutation_test(x, y, 300, 3)
    assert chunked[1] == whole[1] and chunked[0] == pytest.approx(whole[0], rel=1e-12)
    assert whole[1] == mmd_drift.mmd_permutation_test(x, y, 300, 3)[1]


def test_a_fixed_bandwidth_is_used_as_given():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(20, 2)), rng.normal(size=(25, 2))
    ours = mmd_permutation_test(x, y, 50, 0, bandwidth=0.7)
    reference = mmd_drift.mmd_permutation_test(x, y, 50, 0, bandwidth=0.7)
    assert ours[2] == 0.7 and ours[1] == reference[1]
    assert ours[0] == pytest.approx(reference[0], rel=1e-9)


def test_identical_rows_fall_back_to_unit_bandwidth():
    x = np.ones((5, 2))
    assert mmd_permutation_test(x, x.copy(), 10, 0)[2] == 1.0 == mmd_drift.mmd_permutation_test(x, x, 10, 0)[2]


def test_false_positive_rate_under_the_null_is_near_alpha():
    kit.check_false_positive_rate_under_the_null_is_near_alpha(JaxMMDDrift, rows=30)


def test_a_shift_is_detected_and_reported():
    kit.check_a_shift_is_detected_and_reported(JaxMMDDrift, "jax.mmd")


def test_float64_is_scoped_to_the_test():
    was = jax.config.jax_enable_x64
    rng = np.random.default_rng(1)
    JaxMMDDrift(n_permutations=20).run(rng.normal(size=(10, 2)), rng.normal(size=(10, 2)))
    assert jax.config.jax_enable_x64 == was
    assert jnp.zeros(1).dtype == (jnp.float64 if was else jnp.float32)


def test_bad_device_is_a_one_line_input_error():
    rng = np.random.default_rng(1)
    with pytest.raises(InputError, match=r"^jax\.mmd: device must be") as info:
        JaxMMDDrift(device="tpu9").run(rng.normal(size=(10, 2)), rng.normal(size=(10, 2)))
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="device must be a string"):
        JaxMMDDrift(device=0)


def test_registered_through_the_drift_test_hook():
    spec = kit.check_registered_through_the_drift_test_hook("jax.mmd", JaxMMDDrift, "jax")
    assert spec.params["device"] == "cpu"
