"""The built-in explainers (permutation, local surrogate, counterfactual) and the ``explain`` SDK function."""

from __future__ import annotations

import numpy as np
import pytest

from pynomaly_core.base import BaseDetector
from pynomaly_core.builtin.counterfactual import CounterfactualExplainer
from pynomaly_core.builtin.surrogate import LocalSurrogateExplainer
from pynomaly_core.errors import InputError, UnknownNameError
from pynomaly_core.explain import Explanation, explain
from pynomaly_core.sdk import create_detector
from pynomaly_core.testing.explain_data import one_feature_anomalies, top_feature_accuracy

EXPLAINERS = ["permutation", "surrogate", "counterfactual"]


class LinearScore(BaseDetector):
    """score = w · x: attributions are known in closed form."""

    def __init__(self, contamination: float = 0.1):
        self.contamination = contamination

    def _fit(self, X, y):
        self.weights_ = np.arange(1.0, X.shape[1] + 1)
        return None

    def _score(self, X):
        return X @ self.weights_


@pytest.mark.parametrize("detector", ["mahalanobis", "ecod", "robust_zscore"])
@pytest.mark.parametrize("explainer", EXPLAINERS)
def test_top_feature_is_the_anomalous_one(explainer, detector):
    train, anomalies, culprit = one_feature_anomalies()
    model = create_detector(detector).fit(train)
    explanation = explain(model, anomalies, explainer, background=train)
    assert explanation.attributions.shape == (40, 5) and np.isfinite(explanation.attributions).all()
    accuracy = top_feature_accuracy(explanation.attributions, culprit)
    assert accuracy >= 0.9, f"{explainer} on {detector}: {accuracy:.0%}"


def test_surrogate_recovers_a_linear_score_exactly():
    rng = np.random.default_rng(1)
    model = LinearScore().fit(rng.normal(size=(50, 4)))
    background = np.tile([[1.0, -1.0, 0.5, 2.0]], (10, 1))  # one background value per feature
    X = rng.normal(size=(3, 4))
    explanation = LocalSurrogateExplainer(model, ridge=0.0).explain(X, background=background)
    np.testing.assert_allclose(explanation.attributions, (X - background[0]) * model.weights_, atol=1e-9)
    assert all(d["surrogate_r2"] == pytest.approx(1.0) for d in explanation.row_details)
    np.testing.assert_array_equal(explanation.scores, model.decision_function(X))


def test_surrogate_is_deterministic_with_a_seed_and_validates():
    train, anomalies, _ = one_feature_anomalies(n_anomalies=5)
    model = create_detector("mahalanobis").fit(train)
    first = LocalSurrogateExplainer(model, random_state=3).explain(anomalies, background=train)
    second = LocalSurrogateExplainer(model, random_state=3).explain(anomalies, background=train)
    np.testing.assert_array_equal(first.attributions, second.attributions)
    with pytest.raises(InputError, match="n_samples must be an integer >= 10"):
        LocalSurrogateExplainer(model, n_samples=5)
    with pytest.raises(InputError, match="X has 4 features but the detector was fitted on 5"):
        LocalSurrogateExplainer(model).explain(anomalies[:, :4])


def test_counterfactual_is_normal_and_minimal():
    train, anomalies, culprit = one_feature_anomalies(n_anomalies=10)
    model = create_detector("mahalanobis").fit(train)
    explainer = CounterfactualExplainer(model, tolerance=1e-4)
    explanation = explainer.explain(anomalies, background=train)
    median = np.median(train, axis=0)
    for i, details in enumerate(explanation.row_details):
        found = details["counterfactual"]
        assert found["reached_normal"] and [c["feature"] for c in found["changes"]] == [f"x{culprit[i]}"]
        change = found["changes"][0]
        j = culprit[i]
        assert change["from"] == anomalies[i, j] and change["delta"] == pytest.approx(change["to"] - change["from"])
        row = anomalies[i].copy()
        row[j] = change["to"]
        assert model.decision_function(row[None])[0] <= model.threshold_ == explanation.details["threshold"]
        # Moving the feature a little less (2 × tolerance of the way to the median) leaves the row anomalous.
        row[j] -= 2e-4 * (median[j] - anomalies[i, j])
        assert model.decision_function(row[None])[0] > model.threshold_
        single = anomalies[i].copy()
        single[j] = median[j]
        assert explanation.attributions[i, j] == pytest.approx(explanation.scores[i]
                                                               - model.decision_function(single[None])[0])
        assert np.argmax(explanation.attributions[i]) == j


def test_counterfactual_leaves_normal_rows_alone_and_respects_max_features():
    train, _, _ = one_feature_anomalies()
    model = create_detector("mahalanobis").fit(train)
    normal = np.zeros((1, 5))
    two = np.array([[5.0, 5.0, 0.0, 0.0, 0.0]])
    result = CounterfactualExplainer(model).explain(normal, background=train)
    assert result.row_details[0]["counterfactual"] == {"reached_normal": True, "score": result.scores[0],
                                                       "changes": []}
    limited = CounterfactualExplainer(model, max_features=1).explain(two, background=train)
    assert not limited.row_details[0]["counterfactual"]["reached_normal"]
    assert len(limited.row_details[0]["counterfactual"]["changes"]) == 1
    full = CounterfactualExplainer(model).explain(two, background=train).row_details[0]["counterfactual"]
    assert full["reached_normal"] and {c["feature"] for c in full["changes"]} == {"x0", "x1"}


def test_explanation_to_dict_uses_row_ids():
    explanation = Explanation(np.array([[0.1, 0.5], [0.3, -0.2]]), np.array([2.0, 1.0]), ["a", "b"], "test",
                              row_details=[{"note": 1}, {"note": 2}])
    as_dict = explanation.to_dict(k=1, row_ids=[7, 3])
    assert as_dict["rows"] == [
        {"row": 7, "score": 2.0, "top_features": [{"feature": "b", "attribution": 0.5}], "note": 1},
        {"row": 3, "score": 1.0, "top_features": [{"feature": "a", "attribution": 0.3}], "note": 2},
    ]


def test_explain_sdk_errors():
    train, anomalies, _ = one_feature_anomalies(n_anomalies=5)
    model = create_detector("mahalanobis").fit(train)
    with pytest.raises(InputError, match=r"builtin.surrogate: unknown parameter\(s\) n_repeats"):
        explain(model, anomalies, "surrogate", n_repeats=3)
    with pytest.raises(UnknownNameError, match="unknown explainer 'shapp'"):
        explain(model, anomalies, "shapp")
    with pytest.raises(InputError, match="the detector is not fitted"):
        explain(create_detector("ecod"), anomalies, "permutation")


def test_package_exports_the_sdk_functions():
    import pynomaly_core as pn
    from pynomaly_core.drift import run_drift_test

    assert pn.explain_anomalies is explain and pn.run_drift_test is run_drift_test
