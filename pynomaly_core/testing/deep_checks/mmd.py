"""MMD drift test: agreement with the NumPy reference (:mod:`pynomaly_core.builtin.mmd_drift`), level, power,
registration."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from pynomaly_core.builtin import mmd_drift

if TYPE_CHECKING:
    from pynomaly_core.specs import DriftTestSpec

#: ``permutation_test(x, y, n_permutations, seed) -> (statistic, p_value, bandwidth)``, as in the NumPy reference.
PermutationTest = Callable[..., tuple[float, float, float]]


def _reference_counts(x: np.ndarray, y: np.ndarray, n_permutations: int, seed: int,
                      tie_tolerance: float) -> tuple[int, int]:
    """Permutations of the NumPy reference strictly above, and tied with, its statistic."""
    pooled = np.concatenate([x, y])
    kernel = mmd_drift.rbf_kernel(pooled, pooled, mmd_drift.median_bandwidth(pooled))
    statistic = mmd_drift.mmd2_from_kernel(kernel, x.shape[0])
    permuted = np.array([mmd_drift.mmd2_from_kernel(kernel[np.ix_(p, p)], x.shape[0])
                         for p in mmd_drift.permutation_indices(pooled.shape[0], n_permutations, seed)])
    return int((permuted > statistic + tie_tolerance).sum()), int((abs(permuted - statistic) <= tie_tolerance).sum())


def check_statistic_and_p_value_match_the_numpy_reference(
    permutation_test: PermutationTest, tie_tolerance: float, *, max_examples: int, max_rows: int
) -> None:
    """Hypothesis property: on samples of 2 to ``max_rows`` rows, the statistic and bandwidth of
    ``permutation_test`` match the NumPy reference and its p-value counts exact ties as "at least as large"."""
    import pytest
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    def samples(d: int) -> Any:
        values = st.floats(-5, 5, allow_nan=False, width=64)
        return st.integers(2, max_rows).flatmap(lambda n: arrays(np.float64, (n, d), elements=values))

    @settings(max_examples=max_examples, deadline=None)
    @given(data=st.data(), d=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
    def matches_the_reference(data: Any, d: int, seed: int) -> None:
        x, y = data.draw(samples(d)), data.draw(samples(d))
        n_permutations = 30
        expected = mmd_drift.mmd_permutation_test(x, y, n_permutations, seed)
        statistic, p_value, bandwidth = permutation_test(x, y, n_permutations, seed)
        assert bandwidth == pytest.approx(expected[2], rel=1e-9)
        assert abs(statistic - expected[0]) <= 1e-5 * abs(expected[0]) + 1e-12
        above, ties = _reference_counts(x, y, n_permutations, seed, tie_tolerance)
        # Exact ties (e.g. a permutation that keeps the groups) count as "at least as large"; the reference breaks
        # them by rounding, so it may count fewer of them.
        assert p_value == (above + ties + 1) / (n_permutations + 1)
        assert (above + 1) / (n_permutations + 1) <= expected[1] <= p_value

    matches_the_reference()


def check_p_values_equal_the_reference_on_continuous_data(drift_cls: type) -> None:
    """Same p-value, statistic (rel 1e-5) and bandwidth (rel 1e-9) as ``MMDDrift`` for three shifts."""
    import pytest

    rng = np.random.default_rng(4)
    for shift in (0.0, 0.3, 1.0):
        x, y = rng.normal(size=(40, 3)), rng.normal(size=(35, 3)) + shift
        ours = drift_cls(n_permutations=100, random_state=1).run(x, y)
        reference = mmd_drift.MMDDrift(n_permutations=100, random_state=1).run(x, y)
        assert ours.features[0].p_value == reference.features[0].p_value
        assert ours.features[0].statistic == pytest.approx(reference.features[0].statistic, rel=1e-5)
        assert ours.details["bandwidth"] == pytest.approx(reference.details["bandwidth"], rel=1e-9)


def check_false_positive_rate_under_the_null_is_near_alpha(drift_cls: type, rows: int) -> None:
    """200 null pairs of ``rows`` × 2 normal samples at alpha = 0.05: between 2 % and 8 % alarms."""
    rng = np.random.default_rng(2024)
    test = drift_cls(alpha=0.05, n_permutations=99)  # p-values are multiples of 1/100: P(p < 0.05) = 0.05
    alarms = 0
    for trial in range(200):
        test.random_state = trial
        alarms += test.run(rng.normal(size=(rows, 2)), rng.normal(size=(rows, 2))).drift
    assert 0.02 <= alarms / 200 <= 0.08


def check_a_shift_is_detected_and_reported(drift_cls: type, name: str) -> None:
    """A 1.5-standard-deviation shift gets the smallest p-value and a report naming the test ``name``."""
    rng = np.random.default_rng(0)
    report = drift_cls(n_permutations=50).run(rng.normal(size=(60, 2)), rng.normal(size=(60, 2)) + 1.5)
    assert report.drift and report.test == name and report.features[0].p_value == 1 / 51
    assert report.details["n_permutations"] == 50


def check_registered_through_the_drift_test_hook(name: str, drift_cls: type, plugin: str) -> DriftTestSpec:
    """``name`` resolves to ``drift_cls`` of ``plugin`` with the ``gpu`` capability; returns the spec."""
    from pynomaly_core.registry import get_registry

    spec = get_registry().resolve("drift_test", name)
    assert spec.load() is drift_cls and spec.plugin == plugin
    assert "gpu" in spec.capabilities
    return spec
