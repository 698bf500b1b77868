"""``pynomaly drift``: exit codes 0 / 3 / 2, the table, JSON output and option handling."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .plugin_fixtures import run_cli


def write_csv(path, X, names):
    np.savetxt(path, X, delimiter=",", header=",".join(names), comments="", fmt="%.10g")
    return str(path)


@pytest.fixture
def samples(tmp_path):
    rng = np.random.default_rng(0)
    names = ["a", "b", "code"]
    reference = np.column_stack([rng.normal(size=(300, 2)), rng.integers(0, 4, 300)])
    same = np.column_stack([rng.normal(size=(300, 2)), rng.integers(0, 4, 300)])
    shifted = same.copy()
    shifted[:, 1] += 0.8
    shifted[:120, 2] = 0
    return {
        "reference": write_csv(tmp_path / "reference.csv", reference, names),
        "same": write_csv(tmp_path / "same.csv", same, names),
        "shifted": write_csv(tmp_path / "shifted.csv", shifted, names),
        "narrow": write_csv(tmp_path / "narrow.csv", same[:, :2], names[:2]),
        "arrays": (reference, same, shifted),
    }


def test_no_drift_exits_0(cli, samples):
    code, out, err = cli("drift", samples["reference"], samples["same"])
    assert code == 0, err
    assert "builtin.ks: no drift" in out and "feature  statistic  p-value" in out


def test_drift_exits_3_and_names_the_features(cli, samples):
    code, out, _ = cli("drift", samples["reference"], samples["shifted"], "-t", "ks", "-t", "chi2", "-t", "psi",
                       "-t", "cvm")
    assert code == 3
    for test in ("ks", "chi2", "psi", "cvm"):
        assert f"builtin.{test}: DRIFT in b, code" in out
    assert "(major)" in out  # PSI band


def test_json_report_matches_the_sdk(cli, samples):
    from pynomaly_core.drift import run_drift_test

    code, out, _ = cli("drift", samples["reference"], samples["shifted"], "--test", "cvm", "--json",
                       "--correction", "bonferroni", "--alpha", "0.01")
    assert code == 3
    summary = json.loads(out)
    assert summary["drift"] is True and summary["rows"] == [300, 300]
    (report,) = summary["tests"]
    assert report["test"] == "builtin.cvm" and report["correction"] == "bonferroni" and report["alpha"] == 0.01
    assert report["drifted_features"] == ["b", "code"]
    reference, _, shifted = samples["arrays"]
    expected = run_drift_test(reference, shifted, "cvm", correction="bonferroni", alpha=0.01,
                              feature_names=["a", "b", "code"]).to_dict()
    for got, want in zip(report["features"], expected["features"], strict=True):
        assert got["feature"] == want["feature"]
        assert got["statistic"] == pytest.approx(want["statistic"], rel=1e-9)
        assert got["adjusted_p_value"] == pytest.approx(want["adjusted_p_value"], rel=1e-6, abs=1e-300)
    assert set(report["features"][0]) >= {"p_value", "adjusted_p_value", "effect_size", "drift"}


def test_categorical_option_reaches_chi2(cli, samples):
    code, out, _ = cli("drift", samples["reference"], samples["same"], "-t", "chi2", "--categorical", "code",
                       "--json")
    assert code == 0
    details = json.loads(out)["tests"][0]["details"]
    assert details["columns"] == {"a": "binned", "b": "binned", "code": "categorical"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["drift", "{reference}", "missing.csv"], "missing.csv: no such file"),
        (["drift", "{reference}", "{narrow}"], "columns a, b differ from the reference's a, b, code"),
        (["drift", "{reference}", "{same}", "-t", "kss"], "unknown drift test 'kss'"),
        (["drift", "{reference}", "{same}", "-p", "n_bins=3"], "take no parameter 'n_bins'"),
        (["drift", "{reference}", "{same}", "--alpha", "2"], "builtin.ks: alpha must be in (0, 1)"),
        (["drift", "{reference}", "{same}", "-t", "psi", "--categorical", "zz"], "categorical column 'zz' not found"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, samples, args, message):
    code, _out, err = cli(*[a.format(**samples) if "{" in a else a for a in args])
    assert code == 2, err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_exit_code_3_in_a_real_process(samples):
    out = run_cli(["drift", samples["reference"], samples["shifted"], "--json"])
    assert out.returncode == 3, out.stderr
    assert json.loads(out.stdout)["drift"] is True and out.stderr == ""
