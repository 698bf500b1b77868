"""Kernel and Tree SHAP explainers: the anomalous feature comes first, attributions add up to the scores."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pynomaly_core.errors import InputError
from pynomaly_core.explain import explain
from pynomaly_core.sdk import create_detector
from pynomaly_core.testing.explain_data import one_feature_anomalies


def accuracy(attributions: np.ndarray, culprit: np.ndarray) -> float:
    return float(np.mean(np.argmax(attributions, axis=1) == culprit))


@pytest.fixture(scope="module")
def data():
    return one_feature_anomalies(n_anomalies=30)


@pytest.mark.parametrize("detector", ["mahalanobis", "ecod"])
def test_kernel_shap_blames_the_anomalous_feature_and_adds_up(data, detector):
    train, anomalies, culprit = data
    model = create_detector(detector).fit(train)
    explanation = explain(model, anomalies, "shap.kernel", background=train, n_background=10)
    assert explanation.explainer == "shap.kernel" and explanation.attributions.shape == (30, 5)
    assert accuracy(explanation.attributions, culprit) >= 0.9
    # Efficiency: Shapley values add up to score − expected score over the background summary.
    np.testing.assert_allclose(explanation.attributions.sum(axis=1) + explanation.details["expected_value"],
                               model.decision_function(anomalies), rtol=1e-9, atol=1e-9)
    assert explanation.details["background_rows"] == 10


def test_kernel_shap_is_seeded_and_leaves_the_global_generator_alone(data):
    train, anomalies, _ = data
    model = create_detector("mahalanobis").fit(train)
    np.random.seed(123)
    expected_next = np.random.random()
    np.random.seed(123)
    first = explain(model, anomalies[:3], "shap.kernel", background=train[:8], n_samples=20, random_state=5)
    assert np.random.random() == expected_next
    second = explain(model, anomalies[:3], "shap.kernel", background=train[:8], n_samples=20, random_state=5)
    np.testing.assert_array_equal(first.attributions, second.attributions)
    with pytest.raises(InputError, match="n_background must be a positive integer"):
        explain(model, anomalies, "shap.kernel", n_background=0)


def test_tree_shap_on_isolation_forest(data):
    from sklearn.ensemble._iforest import _average_path_length

    train, anomalies, culprit = data
    model = create_detector("sklearn.iforest", random_state=0).fit(train)
    explanation = explain(model, anomalies, "shap.tree")
    assert accuracy(explanation.attributions, culprit) >= 0.9
    # Attributions are path-length shortenings: expected depth − Σ attributions is the mean path length, and
    # 2^(−E[h] / c(ψ)) is scikit-learn's score.
    depth = explanation.details["expected_value"] - explanation.attributions.sum(axis=1)
    c = _average_path_length([model.estimator_.max_samples_])[0]
    np.testing.assert_allclose(2.0 ** (-depth / c), model.decision_function(anomalies), rtol=1e-6)


def test_tree_shap_refuses_other_detectors(data):
    train, anomalies, _ = data
    model = create_detector("mahalanobis").fit(train)
    with pytest.raises(InputError, match=r"shap.tree: builtin.mahalanobis is not a tree-based detector .*shap.kernel"):
        explain(model, anomalies, "shap.tree")


def test_tree_shap_on_pyod_iforest(data):
    pytest.importorskip("pyod")
    from pynomaly_core.registry import get_registry

    names = [s.qualified_name for s in get_registry().detectors() if s.qualified_name == "pyod.iforest"]
    if not names:
        pytest.skip("pyod.iforest is not registered")
    train, anomalies, culprit = data
    model = create_detector("pyod.iforest", random_state=0).fit(train)
    assert accuracy(explain(model, anomalies, "shap.tree").attributions, culprit) >= 0.9


def test_cli_explain_with_tree_shap(tmp_path, capsys, data):
    from pynomaly_core.cli.app import main

    train, anomalies, culprit = data
    names = ["a", "b", "c", "d", "e"]
    header = ",".join(names)
    np.savetxt(tmp_path / "train.csv", train, delimiter=",", header=header, comments="")
    np.savetxt(tmp_path / "new.csv", anomalies, delimiter=",", header=header, comments="")

    def run(*args):
        with pytest.raises(SystemExit) as info:
            main(list(args))
        return info.value.code or 0, capsys.readouterr()

    code, out = run("train", str(tmp_path / "train.csv"), "-d", "sklearn.iforest", "-p", "random_state=0",
                    "-o", str(tmp_path / "model"))
    assert code == 0, out.err
    code, out = run("explain", str(tmp_path / "model"), str(tmp_path / "new.csv"), "--rows", "0,1,2,3,4",
                    "-e", "shap.tree", "--trust", "--json", "-k", "1")
    assert code == 0, out.err
    rows = json.loads(out.out)["rows"]
    assert [r["row"] for r in rows] == [0, 1, 2, 3, 4]
    assert [r["top_features"][0]["feature"] for r in rows] == [names[j] for j in culprit[:5]]
