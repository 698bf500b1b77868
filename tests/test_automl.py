"""AutoML: stratified folds, the cross-validated search and its budget, consensus selection, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pynomaly_core as pn
from pynomaly_core.automl import consensus_scores
from pynomaly_core.automl.cv import stratified_kfold
from pynomaly_core.errors import InputError
from pynomaly_core.metrics import rankdata, roc_auc

from .eval_support import run_cli

CORE = ["ecod", "hbos", "mahalanobis"]


@settings(max_examples=60, deadline=None)
@given(st.integers(20, 200), st.integers(5, 15), st.integers(2, 5), st.integers(0, 100))
def test_stratified_kfold_partitions_each_class_evenly(n, n_pos, k, seed):
    y = np.zeros(n, int)
    y[:n_pos] = 1
    folds = stratified_kfold(y, k, seed)
    validation = np.concatenate([v for _, v in folds])
    assert sorted(validation.tolist()) == list(range(n))
    for train, valid in folds:
        assert np.intersect1d(train, valid).size == 0 and train.size + valid.size == n
        assert abs(int(y[valid].sum()) - n_pos / k) < 1
    assert [v.tolist() for _, v in stratified_kfold(y, k, seed)] == [v.tolist() for _, v in folds]


def test_stratified_kfold_needs_enough_of_each_class():
    with pytest.raises(InputError, match="5-fold cross-validation needs at least 5 rows of each class; the smallest"
                                         " class has 2"):
        stratified_kfold(np.r_[np.zeros(20), np.ones(2)], 5)


@pytest.fixture
def correlated():
    """Anomalies break the correlation of two features while their marginals look normal: only a
    covariance-aware detector finds them."""
    rng = np.random.default_rng(0)
    z = rng.normal(size=600)
    X = np.column_stack([z, z + 0.1 * rng.normal(size=600), rng.normal(size=600)])
    y = np.zeros(600, int)
    y[:30] = 1
    X[:30, 0] = rng.choice([-1.0, 1.0], size=30) * rng.uniform(1.2, 2.2, size=30)
    X[:30, 1] = -X[:30, 0]
    return X, y


def test_supervised_search_numbers_and_winner(correlated):
    X, y = correlated
    result = pn.automl(X, y, budget_s=120, candidates=CORE, n_splits=3)
    assert result.mode == "supervised" and result.best_name == "builtin.mahalanobis"
    assert [r["rank"] for r in result.leaderboard] == [1, 2, 3]
    by_name = {r["detector"]: r for r in result.leaderboard}
    expected = [roc_auc(y[v], pn.create_detector("hbos").fit(X[t]).decision_function(X[v]))
                for t, v in stratified_kfold(y, 3, 0)]
    assert by_name["builtin.hbos"]["roc_auc"] == pytest.approx(np.mean(expected), abs=1e-12)
    assert by_name["builtin.mahalanobis"]["roc_auc"] > 0.95 > by_name["builtin.ecod"]["roc_auc"]
    assert result.best_model.decision_scores_.shape == (600,)  # refitted on every row


def test_budget_stops_the_search_after_the_first_candidate(correlated):
    X, y = correlated
    result = pn.automl(X, y, budget_s=1e-9, candidates=CORE)
    assert [r["detector"] for r in result.leaderboard] == ["builtin.ecod"]
    assert result.skipped == ["builtin.hbos", "builtin.mahalanobis"]


def test_consensus_is_leave_one_out_spearman(rng):
    base = rng.normal(size=200)
    scores = [base + 0.1 * rng.normal(size=200), base + 0.2 * rng.normal(size=200), rng.normal(size=200),
              base + 0.5 * rng.normal(size=200)]
    agreement = consensus_scores(scores)
    ranks = [rankdata(s) for s in scores]
    for j in range(4):
        others = np.mean([r for i, r in enumerate(ranks) if i != j], axis=0)
        assert agreement[j] == pytest.approx(np.corrcoef(ranks[j], others)[0, 1], abs=1e-12)
    assert int(np.argmin(agreement)) == 2 and int(np.argmax(agreement)) == 0


def test_unsupervised_selection_combines_the_consensus_leaders(correlated):
    X, _ = correlated
    candidates = ["ecod", "hbos", "mahalanobis", "robust_zscore"]
    result = pn.automl(X, budget_s=60, candidates=candidates, top_k=2)
    consensus = [r["consensus"] for r in result.leaderboard]
    assert result.mode == "unsupervised" and consensus == sorted(consensus, reverse=True)
    assert result.best_name == "builtin.ensemble"
    leaders = [r["detector"] for r in result.leaderboard[:2]]
    assert result.best_model.member_names_ == leaders
    manual = pn.create_detector("ensemble", detectors=leaders, normalization="zscore", random_state=0).fit(X)
    np.testing.assert_array_equal(result.best_model.decision_function(X), manual.decision_function(X))
    single = pn.automl(X, budget_s=60, candidates=candidates, top_k=1)
    assert single.best_name == single.leaderboard[0]["detector"]


def test_automl_input_errors(correlated):
    X, y = correlated
    with pytest.raises(InputError, match="budget must be positive"):
        pn.automl(X, budget_s=0)
    with pytest.raises(InputError, match="labels must be 0/1"):
        pn.automl(X, y * 2, candidates=CORE)
    with pytest.raises(InputError, match="labels have 5 rows but the data has 600"):
        pn.automl(X, y[:5])


def _cli(*args):
    return run_cli(*args)


def test_cli_automl_saves_the_best_model(correlated, tmp_path):
    X, y = correlated
    data = tmp_path / "data.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header="a,b,c,label", comments="")
    model = tmp_path / "best"
    run = _cli("automl", str(data), "--labels", "label", "--budget", "60", "--candidates", ",".join(CORE),
               "--output", str(model))
    assert run.returncode == 0, run.stderr
    assert "automl leaderboard (supervised, roc_auc)" in run.stdout and "best: builtin.mahalanobis" in run.stdout
    restored = pn.load(model)
    expected = pn.create_detector("mahalanobis").fit(X)
    np.testing.assert_allclose(restored.decision_function(X), expected.decision_function(X), rtol=1e-12)
    again = _cli("automl", str(data), "--labels", "label", "--output", str(model))
    assert again.returncode == 2 and "already exists" in again.stderr
    unsupervised = _cli("automl", str(data), "--columns", "a,b,c", "--candidates", "ecod,hbos,mahalanobis",
                        "--json")
    assert unsupervised.returncode == 0, unsupervised.stderr
    out = json.loads(unsupervised.stdout)
    assert out["mode"] == "unsupervised" and len(out["leaderboard"]) == 3
    bad = _cli("automl", str(data), "--labels", "nolabel")
    assert bad.returncode == 2 and "nolabel" in bad.stderr and bad.stderr.count("\n") == 1


def test_cli_automl_registers_the_best_model(correlated, tmp_path, monkeypatch):
    pytest.importorskip("sqlalchemy")
    monkeypatch.setenv("PYNOMALY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PYNOMALY_DATABASE_URL", raising=False)
    monkeypatch.delenv("PYNOMALY_DATABASE_SCHEMA", raising=False)
    X, y = correlated
    data = tmp_path / "data.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header="a,b,c,label", comments="")
    run = _cli("automl", str(data), "--labels", "label", "--candidates", ",".join(CORE), "--name", "corr", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["registered"] == "corr@1" and out["best"]["detector"] == "builtin.mahalanobis"
    from pynomaly_core.model_ref import load_model

    restored = load_model("corr@1")
    np.testing.assert_allclose(restored.decision_function(X), pn.create_detector("mahalanobis").fit(X)
                               .decision_function(X), rtol=1e-12)
