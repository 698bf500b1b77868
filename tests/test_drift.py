"""Drift tests: statistics against SciPy, corrections, false-positive rate under the null."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynomaly_core.builtin.ks_drift import KSDrift, ks_p_value, ks_statistic
from pynomaly_core.builtin.mmd_drift import MMDDrift, mmd_permutation_test, permutation_indices
from pynomaly_core.drift import adjust_p_values
from pynomaly_core.errors import InputError

stats = pytest.importorskip("scipy.stats")


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 120), st.integers(2, 120), st.floats(0, 1))
def test_ks_statistic_and_exact_p_value_equal_scipy(seed, n, m, shift):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=m) + shift
    reference = stats.ks_2samp(a, b, method="exact")
    assert ks_statistic(a, b) == pytest.approx(reference.statistic, abs=1e-12)
    assert ks_p_value(ks_statistic(a, b), n, m) == pytest.approx(reference.pvalue, abs=1e-9)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.integers(3200, 6000), st.floats(0, 0.1))
def test_ks_asymptotic_p_value_for_large_samples(seed, n, shift):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n + 7) + shift
    reference = stats.ks_2samp(a, b, method="exact")
    assert a.size * b.size > 10_000_000  # the asymptotic branch
    assert ks_p_value(ks_statistic(a, b), a.size, b.size) == pytest.approx(reference.pvalue, abs=0.01)


def test_corrections_match_their_definitions():
    p = np.array([0.01, 0.04, 0.03, 0.2])
    np.testing.assert_allclose(adjust_p_values(p, "bonferroni"), [0.04, 0.16, 0.12, 0.8])
    np.testing.assert_allclose(adjust_p_values(p, "holm"), [0.04, 0.09, 0.09, 0.2])
    np.testing.assert_allclose(adjust_p_values(p, "fdr_bh"), [0.04, 0.0533333333, 0.0533333333, 0.2])
    np.testing.assert_array_equal(adjust_p_values(p, "none"), p)
    with pytest.raises(InputError, match="unknown correction"):
        adjust_p_values(p, "sidak")


def test_ks_report_names_the_drifted_feature():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(500, 3))
    current = rng.normal(size=(500, 3))
    current[:, 2] += 0.5
    report = KSDrift().run(reference, current, feature_names=["a", "b", "c"])
    assert report.drift and [f.feature for f in report.features if f.drift] == ["c"]
    assert report.to_dict()["features"][2]["adjusted_p_value"] < 0.05


@pytest.mark.parametrize("correction", ["holm", "bonferroni"])
def test_ks_false_positive_rate_under_the_null(correction):
    rng = np.random.default_rng(42)
    test = KSDrift(alpha=0.05, correction=correction)
    alarms = [test.run(rng.normal(size=(100, 4)), rng.normal(size=(100, 4))).drift for _ in range(500)]
    rate = float(np.mean(alarms))
    assert 0.015 <= rate <= 0.07, rate  # family-wise rate at most alpha (Holm/Bonferroni are conservative)


def test_ks_per_feature_false_positive_rate_is_alpha():
    rng = np.random.default_rng(7)
    test = KSDrift(alpha=0.05, correction="none")
    rate = np.mean([test.run(rng.normal(size=(200, 1)), rng.normal(size=(200, 1))).drift for _ in range(500)])
    assert 0.03 <= rate <= 0.07, rate


def test_mmd_false_positive_rate_and_power():
    rng = np.random.default_rng(3)
    alarms = [MMDDrift(n_permutations=50, random_state=t).run(rng.normal(size=(30, 2)),
                                                               rng.normal(size=(30, 2))).drift
              for t in range(200)]
    assert 0.02 <= np.mean(alarms) <= 0.08, np.mean(alarms)
    detected = MMDDrift().run(rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + 0.8)
    assert detected.drift and detected.features[0].p_value < 0.01


def test_mmd_permutations_are_shared_and_statistic_is_symmetric():
    np.testing.assert_array_equal(permutation_indices(10, 3, 5), permutation_indices(10, 3, 5))
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(20, 3)), rng.normal(size=(25, 3)) + 0.3
    stat_ab, _, sigma = mmd_permutation_test(a, b, 10, 0)
    stat_ba, _, _ = mmd_permutation_test(b, a, 10, 0, bandwidth=sigma)
    assert stat_ab == pytest.approx(stat_ba, rel=1e-12)
    with pytest.raises(InputError, match="reference has 3 features but current has 2"):
        MMDDrift().run(a, b[:, :2])
