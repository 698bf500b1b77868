"""A/B comparison: DeLong against the pairwise definition, bootstrap against DeLong, agreement against sklearn."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pynomaly_core as pn
from pynomaly_core.compare import bootstrap_test, compare, delong_test, flag_agreement
from pynomaly_core.errors import InputError

from .eval_support import run_cli

sklearn_metrics = pytest.importorskip("sklearn.metrics")


def delong_by_definition(y, a, b):
    """DeLong et al. (1988) written out with the O(m·n) kernel psi(x, y) = 1 if x > y, 1/2 if equal."""
    y = np.asarray(y, bool)
    variance_parts = []
    aucs = []
    components = []
    for s in (a, b):
        pos, neg = s[y], s[~y]
        psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        aucs.append(psi.mean())
        components.append((psi.mean(axis=1), psi.mean(axis=0)))
    (v10a, v01a), (v10b, v01b) = components
    m, n = v10a.size, v01a.size
    s10 = np.cov(v10a, v10b)
    s01 = np.cov(v01a, v01b)
    variance_parts = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    return aucs[0] - aucs[1], np.sqrt(variance_parts)


def _two_models(rng, n=600, shift_a=1.5, shift_b=0.7):
    y = (rng.random(n) < 0.2).astype(int)
    latent = rng.normal(size=n)
    a = latent * 0.3 + rng.normal(size=n) + shift_a * y
    b = latent * 0.3 + rng.normal(size=n) + shift_b * y
    return y, a, b


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10_000), st.integers(8, 80), st.booleans())
def test_delong_equals_the_pairwise_definition(seed, n, ties):
    rng = np.random.default_rng(seed)
    y = np.r_[[0, 0, 1, 1], (rng.random(n) < 0.4).astype(int)]
    a, b = rng.normal(size=y.size) + y, rng.normal(size=y.size) + 0.5 * y
    if ties:
        a, b = np.round(a), np.round(b)
    result = delong_test(y, a, b)
    difference, se = delong_by_definition(y, a, b)
    assert result.difference == pytest.approx(difference, abs=1e-12)
    assert result.std_error == pytest.approx(se, rel=1e-9, abs=1e-12)
    assert result.ci_low == pytest.approx(difference - 1.959963984540054 * se, abs=1e-9)
    swapped = delong_test(y, b, a)
    assert swapped.difference == pytest.approx(-result.difference) and swapped.p_value == pytest.approx(
        result.p_value)


def test_delong_known_value():
    # worked by hand: AUC(a) = 1, AUC(b) = 0.5; V10 differences [0.5, 0.5] (variance 0), V01 differences [0, 1]
    # (variance 0.5): Var = 0/2 + 0.5/2 = 0.25, SE = 0.5, z = 1, p = 2 * (1 - Phi(1)) = 0.31731050786291415
    y = np.array([0, 0, 1, 1])
    a = np.array([0.1, 0.2, 0.8, 0.9])
    b = np.array([0.1, 0.9, 0.2, 0.8])
    result = delong_test(y, a, b)
    assert result.difference == 0.5 and result.std_error == pytest.approx(0.5, abs=1e-15)
    assert result.p_value == pytest.approx(0.31731050786291415, abs=1e-12)
    assert (result.ci_low, result.ci_high) == pytest.approx((0.5 - 0.979981992270027, 0.5 + 0.979981992270027),
                                                           abs=1e-9)


def test_identical_models_give_zero_difference_and_p_one(rng):
    y, a, _ = _two_models(rng)
    for test in (delong_test(y, a, a), bootstrap_test(y, a, a, n_bootstrap=200)):
        assert test.difference == 0.0 and test.p_value == 1.0 and test.ci_low == test.ci_high == 0.0


def test_bootstrap_agrees_with_delong(rng):
    y, a, b = _two_models(rng, n=1000)
    delong = delong_test(y, a, b)
    boot = bootstrap_test(y, a, b, n_bootstrap=600, seed=1)
    assert boot.difference == delong.difference
    assert boot.std_error == pytest.approx(delong.std_error, rel=0.15)
    assert boot.ci_low == pytest.approx(delong.ci_low, abs=0.02) and boot.ci_high == pytest.approx(delong.ci_high,
                                                                                                  abs=0.02)
    assert delong.p_value < 1e-4 and boot.p_value < 0.01 and boot.ci_low > 0
    again = bootstrap_test(y, a, b, n_bootstrap=600, seed=1)
    assert again == boot


def test_delong_is_calibrated_under_the_null():
    rng = np.random.default_rng(7)
    p_values = []
    for _ in range(300):
        y, a, b = _two_models(rng, n=200, shift_a=1.0, shift_b=1.0)
        p_values.append(delong_test(y, a, b).p_value)
    rejection = np.mean(np.array(p_values) < 0.05)
    assert 0.01 <= rejection <= 0.10


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=2, max_size=60), st.integers(0, 1000))
def test_agreement_equals_sklearn(first, seed):
    a = np.array(first, int)
    b = np.where(np.random.default_rng(seed).random(a.size) < 0.3, 1 - a, a)
    result = flag_agreement(a, b)
    if len(set(a.tolist()) | set(b.tolist())) == 2:
        assert result.cohen_kappa == pytest.approx(sklearn_metrics.cohen_kappa_score(a, b), abs=1e-12)
    if (a | b).any():
        assert result.jaccard == pytest.approx(sklearn_metrics.jaccard_score(a, b), abs=1e-12)
    assert result.row_agreement == pytest.approx(np.mean(a == b))
    assert result.flagged_both == int(np.sum(a & b))


def test_compare_models_and_errors(cardio):
    X, y = cardio
    a, b = pn.create_detector("ecod").fit(X), pn.create_detector("robust_zscore").fit(X)
    result = compare(a, b, X, y, n_bootstrap=200)
    assert result.roc_auc_a == pytest.approx(sklearn_metrics.roc_auc_score(y, a.decision_function(X)))
    assert [t.method for t in result.tests] == ["delong", "bootstrap"]
    assert result.agreement.flagged_a == int(a.predict(X).sum())
    with pytest.raises(InputError, match="method must be"):
        compare(a, b, X, y, method="wilcoxon")
    with pytest.raises(InputError, match="both classes"):
        compare(a, b, X, np.zeros_like(y))
    with pytest.raises(InputError, match="n_bootstrap must be at least 100"):
        compare(a, b, X, y, method="bootstrap", n_bootstrap=10)


def _cli(*args):
    return run_cli(*args)


def test_cli_compare(tmp_path, cardio):
    X, y = cardio
    data = tmp_path / "data.csv"
    header = ",".join([f"f{i}" for i in range(X.shape[1])] + ["label"])
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header=header, comments="")
    features = [f"f{i}" for i in range(X.shape[1])]
    from pynomaly_core.data import NamedArray

    a = pn.create_detector("ecod").fit(NamedArray(X, features))
    b = pn.create_detector("hbos").fit(NamedArray(X, features))
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    run = _cli("compare", str(tmp_path / "a"), str(tmp_path / "b"), str(data), "--labels", "label",
               "--n-bootstrap", "200", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    expected = compare(a, b, NamedArray(X, features), y, n_bootstrap=200)
    assert out["roc_auc_a"] == pytest.approx(expected.roc_auc_a, abs=1e-12)
    assert out["tests"][0]["p_value"] == pytest.approx(expected.tests[0].p_value, abs=1e-12)
    assert out["tests"][1]["ci_low"] == pytest.approx(expected.tests[1].ci_low, abs=1e-12)
    assert out["agreement"]["cohen_kappa"] == pytest.approx(expected.agreement.cohen_kappa, abs=1e-12)
    table = _cli("compare", str(tmp_path / "a"), str(tmp_path / "b"), str(data), "--labels", "label",
                 "--method", "delong")
    assert table.returncode == 0 and "delong" in table.stdout and "Cohen's kappa" in table.stdout
    bad = _cli("compare", str(tmp_path / "a"), str(tmp_path / "nope"), str(data), "--labels", "label")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "nope" in bad.stderr
    missing = _cli("compare", str(tmp_path / "a"), str(tmp_path / "b"), str(data), "--labels", "nolabel")
    assert missing.returncode == 2 and "nolabel" in missing.stderr and "Traceback" not in missing.stderr
