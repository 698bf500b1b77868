"""The domain-classifier drift test (``sklearn.classifier``): Mann–Whitney numbers against SciPy / scikit-learn,
false-positive rate under the null, power, feature importances and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pynomaly_sklearn.classifier_drift import ClassifierDrift, mann_whitney, stratified_holdout

from pynomaly_core.drift import run_drift_test
from pynomaly_core.errors import InputError

stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("ties", [False, True])
def test_mann_whitney_equals_scipy(ties):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=90)
    if ties:
        scores = np.round(scores, 1)
    labels = (rng.random(90) < 0.4).astype(int)
    u, mean, variance = mann_whitney(scores, labels)
    expected = stats.mannwhitneyu(scores[labels == 1], scores[labels == 0], alternative="greater",
                                  use_continuity=False, method="asymptotic")
    assert u == pytest.approx(expected.statistic, rel=1e-12)
    assert stats.norm.sf((u - mean) / np.sqrt(variance)) == pytest.approx(expected.pvalue, rel=1e-9)
    assert mean == labels.sum() * (90 - labels.sum()) / 2


def test_stratified_holdout_keeps_class_proportions():
    y = np.r_[np.zeros(100, int), np.ones(60, int)]
    test = stratified_holdout(y, 0.25, np.random.default_rng(0))
    assert int(test[y == 0].sum()) == 25 and int(test[y == 1].sum()) == 15


def test_report_auc_p_value_and_importances():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    reference, current = rng.normal(size=(300, 3)), rng.normal(size=(300, 3))
    current[:, 1] += 0.7
    report = ClassifierDrift(classifier="logistic").run(reference, current, feature_names=["a", "b", "c"])
    (verdict,) = report.features
    assert report.drift and verdict.feature == "all" and verdict.p_value < 1e-6 and report.p_value == verdict.p_value
    assert verdict.effect_size == report.details["auc"] == verdict.statistic
    importances = report.details["feature_importances"]
    assert max(importances, key=importances.get) == "b" and importances["b"] > 0.1
    # The AUC is scikit-learn's ROC-AUC of the held-out part.
    X, y = np.concatenate([reference, current]), np.r_[np.zeros(300), np.ones(300)]
    test = stratified_holdout(y.astype(int), 0.5, np.random.default_rng(0))
    from pynomaly_sklearn.classifier_drift import make_classifier

    model = make_classifier("logistic", 50, 0).fit(X[~test], y[~test])
    assert report.details["auc"] == pytest.approx(roc_auc_score(y[test], model.predict_proba(X[test])[:, 1]),
                                                  rel=1e-12)
    assert report.details["n_test"] == 300


def test_false_positive_rate_under_the_null():
    rng = np.random.default_rng(2024)
    test = ClassifierDrift(classifier="naive_bayes", importance=False)
    rate = float(np.mean([test.run(rng.normal(size=(100, 3)), rng.normal(size=(100, 3))).drift
                          for _ in range(500)]))
    assert 0.03 <= rate <= 0.07, rate


def test_random_forest_false_positive_rate_and_power():
    # The null distribution does not depend on the classifier (exact held-out Mann–Whitney); fewer trials here
    # because a forest costs ~50x a naive Bayes fit: the band is the 99.9 % binomial range for 100 trials.
    rng = np.random.default_rng(7)
    test = ClassifierDrift(n_estimators=10, importance=False)
    rate = np.mean([test.run(rng.normal(size=(80, 2)), rng.normal(size=(80, 2))).drift for _ in range(100)])
    assert 0.0 <= rate <= 0.13, rate
    # A pure scale change (same mean): the forest finds it, a linear classifier cannot.
    reference, current = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    current[:, 0] *= 2.5
    assert ClassifierDrift().run(reference, current).drift
    assert ClassifierDrift(classifier="logistic").run(reference, current).details["auc"] < 0.6


def test_sdk_name_and_errors():
    rng = np.random.default_rng(3)
    report = run_drift_test(rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 2, "classifier",
                            classifier="naive_bayes")
    assert report.test == "sklearn.classifier" and report.drift
    with pytest.raises(InputError, match="classifier must be one of random_forest"):
        ClassifierDrift(classifier="svm")
    with pytest.raises(InputError, match=r"test_size must be in \[0.1, 0.9\]"):
        ClassifierDrift(test_size=0.95)
    with pytest.raises(InputError, match="at least 4 rows"):
        ClassifierDrift().run(rng.normal(size=(3, 2)), rng.normal(size=(50, 2)))


def test_cli_exit_codes_and_json(tmp_path, capsys):
    from pynomaly_core.cli.app import main

    rng = np.random.default_rng(4)
    paths = {}
    for name, shift in (("ref", 0.0), ("same", 0.0), ("moved", 1.0)):
        X = rng.normal(size=(200, 2))
        X[:, 0] += shift
        np.savetxt(tmp_path / f"{name}.csv", X, delimiter=",", header="u,v", comments="")
        paths[name] = str(tmp_path / f"{name}.csv")

    def run(*args):
        with pytest.raises(SystemExit) as info:
            main(["drift", *args])
        return info.value.code or 0, capsys.readouterr()

    code, out = run(paths["ref"], paths["moved"], "-t", "sklearn.classifier", "--json")
    assert code == 3, out.err
    (report,) = json.loads(out.out)["tests"]
    importances = report["details"]["feature_importances"]
    assert report["test"] == "sklearn.classifier" and importances["u"] > importances["v"]
    code, out = run(paths["ref"], paths["same"], "-t", "sklearn.classifier", "-p", "classifier=logistic")
    assert code == 0, out.err
    assert "sklearn.classifier: no drift" in out.out and "feature importances" in out.out
