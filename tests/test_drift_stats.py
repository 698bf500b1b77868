"""Chi-squared, PSI and Cramér–von Mises drift tests: statistics and p-values against SciPy, false-positive
rates under the null, power, categorical columns and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynomaly_core.builtin.chi2_drift import ChiSquaredDrift, chi2_homogeneity
from pynomaly_core.builtin.cvm_drift import CramerVonMisesDrift, cvm_p_value, cvm_statistic, cvm_u_statistics
from pynomaly_core.builtin.psi_drift import PSIDrift, psi, psi_band
from pynomaly_core.builtin.special import chi2_sf, cvm_limit_cdf, gamma_q, rank_average, scaled_bessel_k
from pynomaly_core.drift import run_drift_test
from pynomaly_core.errors import InputError, UnknownNameError

stats = pytest.importorskip("scipy.stats")
special = pytest.importorskip("scipy.special")


# -- special functions ---------------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.floats(0.05, 300), st.floats(0, 800))
def test_gamma_q_equals_scipy(a, x):
    assert gamma_q(a, x) == pytest.approx(special.gammaincc(a, x), rel=1e-10, abs=1e-14)


def test_chi2_sf_and_bessel_equal_scipy():
    for dof in (1, 2, 3, 9, 49):
        for x in (0.0, 0.3, 1.0, 5.0, 20.0, 100.0):
            assert chi2_sf(x, dof) == pytest.approx(stats.chi2.sf(x, dof), rel=1e-10, abs=1e-15)
    q = np.array([1e-3, 0.02, 0.5, 3.0, 40.0, 650.0])
    np.testing.assert_allclose(scaled_bessel_k(0.25, q), special.kve(0.25, q), rtol=1e-12)


def test_cvm_limit_cdf_matches_known_quantiles():
    # Anderson & Darling (1952): the 0.90, 0.95 and 0.99 quantiles of the limiting W² distribution.
    for x, p in ((0.34730, 0.90), (0.46136, 0.95), (0.74346, 0.99)):
        assert cvm_limit_cdf(x) == pytest.approx(p, abs=2e-5)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=2, max_size=30))
def test_rank_average_equals_scipy(values):
    np.testing.assert_array_equal(rank_average(np.array(values, float)), stats.rankdata(values))


# -- chi-squared -----------------------------------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=2, max_size=12))
def test_chi2_homogeneity_equals_scipy(cells):
    table = np.array(cells).T
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return
    statistic, p_value, dof = chi2_homogeneity(table[0], table[1])
    expected = stats.chi2_contingency(table, correction=False)
    assert statistic == pytest.approx(expected.statistic, rel=1e-10, abs=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-15)
    assert dof == expected.dof


def test_chi2_on_string_and_integer_categories():
    rng = np.random.default_rng(0)
    colours = np.array(["red", "green", "blue"], dtype=object)
    reference = np.column_stack([colours[rng.integers(0, 3, 400)], rng.integers(0, 5, 400)]).astype(object)
    current = np.column_stack([colours[rng.choice(3, 300, p=[0.6, 0.2, 0.2])], rng.integers(0, 5, 300)])
    report = ChiSquaredDrift().run(reference, current.astype(object), feature_names=["colour", "code"])
    assert report.drifted_features == ["colour"]
    assert report.details["columns"] == {"colour": "categorical", "code": "categorical"}
    assert report.details["dof"] == {"colour": 2, "code": 4}
    ref_counts = [int((reference[:, 0] == c).sum()) for c in sorted(colours)]
    cur_counts = [int((current[:, 0] == c).sum()) for c in sorted(colours)]
    expected = stats.chi2_contingency([ref_counts, cur_counts], correction=False)
    colour = report.features[0]
    assert colour.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert colour.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert colour.effect_size == pytest.approx(np.sqrt(expected.statistic / 700), rel=1e-12)  # Cramér's V


def test_chi2_with_a_dataframe_and_named_categorical_columns():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"city": rng.choice(["a", "b"], 200), "x": rng.normal(size=200)})
    current = pd.DataFrame({"city": rng.choice(["a", "b"], 200), "x": rng.normal(size=200) + 2})
    report = ChiSquaredDrift(categorical=["city"]).run(reference, current)
    assert [f.feature for f in report.features] == ["city", "x"]
    assert report.drifted_features == ["x"]
    assert report.details["columns"] == {"city": "categorical", "x": "binned"} and report.details["dof"]["x"] == 9


def test_binned_errors_name_row_and_column():
    good = np.zeros((5, 2))
    bad = good.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InputError, match=r"current: row 3, column 'x1': value nan is not finite"):
        ChiSquaredDrift(categorical=[]).run(good, bad)
    with pytest.raises(InputError, match="categorical column 'nope' not found; columns are x0, x1"):
        PSIDrift(categorical=["nope"]).run(good, good)
    with pytest.raises(InputError, match="reference has 2 features but current has 1"):
        PSIDrift().run(good, good[:, :1])
    with pytest.raises(InputError, match=r"builtin\.chi2: n_bins must be an integer >= 2"):
        ChiSquaredDrift(n_bins=1)
    with pytest.raises(InputError, match=r"builtin\.psi: alpha must be in"):
        PSIDrift(alpha=1.5)


# -- PSI -------------------------------------------------------------------------------------------------------
def test_psi_value_bands_and_p_value():
    ref_counts, cur_counts = np.array([50, 30, 20]), np.array([30, 30, 40])
    r, c = ref_counts / 100, cur_counts / 100
    assert psi(ref_counts, cur_counts) == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-12)
    assert [psi_band(v) for v in (0.0, 0.099, 0.1, 0.2499, 0.25, 3.0)] == [
        "none", "none", "moderate", "moderate", "major", "major"]
    rng = np.random.default_rng(2)
    reference, current = rng.normal(size=(1000, 1)), rng.normal(size=(1000, 1)) + 0.5
    feature = PSIDrift().run(reference, current).features[0]
    edges = np.quantile(reference[:, 0], np.arange(1, 10) / 10)
    counts_r = np.bincount(np.searchsorted(edges, reference[:, 0], side="right"), minlength=10)
    counts_c = np.bincount(np.searchsorted(edges, current[:, 0], side="right"), minlength=10)
    assert feature.statistic == pytest.approx(psi(counts_r, counts_c), rel=1e-12)
    assert feature.p_value == pytest.approx(stats.chi2_contingency([counts_r, counts_c], correction=False).pvalue,
                                            rel=1e-9)
    assert feature.effect == "moderate" and feature.drift  # 0.5 sd: PSI ≈ 0.23


# -- Cramér–von Mises ----------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 20), st.integers(2, 20), st.floats(0, 1.5), st.booleans())
def test_cvm_exact_equals_scipy(seed, n, m, shift, ties):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=m) + shift
    if ties:
        a, b = np.round(a), np.round(b)
    expected = stats.cramervonmises_2samp(a, b, method="exact")
    u = cvm_u_statistics(a[:, None], b[:, None])[0]
    assert cvm_statistic(a, b) == pytest.approx(expected.statistic, rel=1e-12, abs=1e-14)
    assert cvm_p_value(u, n, m) == pytest.approx(expected.pvalue, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(21, 400), st.integers(21, 400), st.floats(0, 0.6))
def test_cvm_asymptotic_equals_scipy(seed, n, m, shift):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=m) + shift
    expected = stats.cramervonmises_2samp(a, b, method="asymptotic")
    u = cvm_u_statistics(a[:, None], b[:, None])[0]
    assert cvm_statistic(a, b) == pytest.approx(expected.statistic, rel=1e-12)
    assert cvm_p_value(u, n, m) == pytest.approx(expected.pvalue, abs=1e-7)  # SciPy stops its series at 1e-7


def test_cvm_report_effect_size_and_method():
    rng = np.random.default_rng(4)
    reference, current = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    current[:, 0] *= 2.0  # a scale change with the same mean and median
    report = CramerVonMisesDrift().run(reference, current, feature_names=["wide", "same"])
    assert report.drifted_features == ["wide"] and report.details["method"] == "asymptotic"
    wide = report.features[0]
    assert wide.effect_size == pytest.approx(wide.statistic * 600 / 300**2, rel=1e-12)
    assert CramerVonMisesDrift().run(reference[:15], current[:12]).details["method"] == "exact"
    with pytest.raises(InputError, match="at least 2 rows"):
        CramerVonMisesDrift().run(reference[:1], current)


# -- null false-positive rates and power ----------------------------------------------------------------------
NULL_CASES = {
    "chi2-binned": (lambda: ChiSquaredDrift(correction="none"), lambda rng: rng.normal(size=(200, 1))),
    "chi2-categorical": (lambda: ChiSquaredDrift(correction="none"),
                         lambda rng: rng.choice(4, size=(200, 1), p=[0.4, 0.3, 0.2, 0.1])),
    "psi": (lambda: PSIDrift(correction="none"), lambda rng: rng.normal(size=(200, 1))),
    "cvm-asymptotic": (lambda: CramerVonMisesDrift(correction="none"), lambda rng: rng.normal(size=(100, 1))),
    "cvm-holm-4-features": (lambda: CramerVonMisesDrift(), lambda rng: rng.normal(size=(100, 4))),
    "chi2-holm-4-features": (lambda: ChiSquaredDrift(), lambda rng: rng.normal(size=(200, 4))),
    "psi-holm-4-features": (lambda: PSIDrift(), lambda rng: rng.normal(size=(200, 4))),
}


@pytest.mark.parametrize("case", sorted(NULL_CASES))
def test_false_positive_rate_under_the_null(case):
    make_test, sample = NULL_CASES[case]
    test = make_test()
    rng = np.random.default_rng(2024)
    rate = float(np.mean([test.run(sample(rng), sample(rng)).drift for _ in range(500)]))
    assert 0.03 <= rate <= 0.07, f"{case}: false-positive rate {rate}"


def test_cvm_exact_false_positive_rate_is_at_most_alpha():
    rng = np.random.default_rng(5)
    test = CramerVonMisesDrift(correction="none")
    rate = float(np.mean([test.run(rng.normal(size=(15, 1)), rng.normal(size=(15, 1))).drift for _ in range(500)]))
    assert 0.03 <= rate <= 0.07, rate


@pytest.mark.parametrize("name", ["chi2", "psi", "cvm"])
def test_power_against_a_half_sd_shift(name):
    rng = np.random.default_rng(11)
    detected = [run_drift_test(rng.normal(size=(200, 1)), rng.normal(size=(200, 1)) + 0.5, name).drift
                for _ in range(50)]
    assert np.mean(detected) >= 0.8, (name, np.mean(detected))


def test_run_drift_test_resolves_names_and_rejects_unknown_params():
    rng = np.random.default_rng(0)
    report = run_drift_test(rng.normal(size=(50, 2)), rng.normal(size=(50, 2)), "builtin.cvm", alpha=0.01)
    assert report.test == "builtin.cvm" and report.alpha == 0.01
    assert report.p_value == min(f.adjusted_p_value for f in report.features)
    with pytest.raises(InputError, match=r"builtin.cvm: unknown parameter\(s\) n_bins"):
        run_drift_test(rng.normal(size=(50, 2)), rng.normal(size=(50, 2)), "cvm", n_bins=3)
    with pytest.raises(UnknownNameError, match="unknown drift test 'kss'"):
        run_drift_test(rng.normal(size=(50, 2)), rng.normal(size=(50, 2)), "kss")
