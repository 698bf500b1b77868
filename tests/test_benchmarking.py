"""``pn.benchmark`` / ``pynomaly benchmark``: the protocol's numbers, output formats, plot, errors, PyOD equality."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import pynomaly_core as pn
from pynomaly_core.benchmarking import read_records, render, summary, write_records
from pynomaly_core.evaluation import protocol_split, stratified_split

from .conftest import adbench
from .eval_support import run_cli

sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture
def folder(tmp_path):
    """Three small labelled sets; names sort naturally (2 before 10)."""
    rng = np.random.default_rng(0)
    for name, n, d in (("10_big", 300, 4), ("2_small", 120, 3), ("3_mid", 200, 5)):
        X = rng.normal(size=(n, d))
        y = np.zeros(n, np.int64)
        y[: n // 10] = 1
        X[y == 1] += rng.uniform(1, 3)
        np.savez(tmp_path / f"{name}.npz", X=X, y=y)
    return tmp_path


def _expected(path, detector, seed):
    with np.load(path) as data:
        X, y = data["X"], data["y"]
    train, test = stratified_split(y, seed=seed)
    scores = pn.create_detector(detector).fit(X[train]).decision_function(X[test])
    return (sklearn_metrics.roc_auc_score(y[test], scores),
            sklearn_metrics.average_precision_score(y[test], scores))


def test_records_equal_the_protocol_computed_by_hand(folder):
    records = pn.benchmark(folder, ["ecod", "hbos"], seeds=[0, 1])
    assert [(r.dataset, r.detector) for r in records] == [
        (d, m) for d in ("2_small", "3_mid", "10_big") for m in ("ecod", "hbos")]
    for record in records:
        per_seed = [_expected(folder / f"{record.dataset}.npz", record.detector, s) for s in (0, 1)]
        assert record.roc_auc == pytest.approx(np.mean([p[0] for p in per_seed]), abs=1e-12)
        assert record.average_precision == pytest.approx(np.mean([p[1] for p in per_seed]), abs=1e-12)
        assert record.fit_s > 0 and record.score_s > 0


def test_protocol_split_subsamples_only_the_training_rows():
    y = np.r_[np.zeros(900, int), np.ones(100, int)]
    train, test = protocol_split(y, max_train=200)
    full_train, full_test = stratified_split(y)
    np.testing.assert_array_equal(test, full_test)
    assert train.size == 200 and set(train) <= set(full_train)
    np.testing.assert_array_equal(protocol_split(y, max_train=200)[0], train)


def test_output_formats_round_trip_and_summary(folder, tmp_path):
    records = pn.benchmark(folder, ["ecod", "robust_zscore"])
    for suffix in (".csv", ".json"):
        path = write_records(records, tmp_path / f"out{suffix}")
        assert read_records(path) == records
    rows = json.loads((tmp_path / "out.json").read_text())
    assert set(rows[0]) == {"dataset", "detector", "roc_auc", "average_precision", "fit_s", "score_s"}
    markdown = render(records, ".md").splitlines()
    assert markdown[0] == "| dataset | detector | roc_auc | average_precision | fit_s | score_s |"
    assert len(markdown) == 2 + len(records) and markdown[2].startswith(f"| 2_small | ecod | {records[0].roc_auc:.4f}")
    table = {r["detector"]: r for r in summary(records)}
    assert table["ecod"]["mean_roc_auc"] == pytest.approx(np.mean([r.roc_auc for r in records[::2]]))
    assert table["ecod"]["mean_rank"] + table["robust_zscore"]["mean_rank"] == pytest.approx(3.0)


def _cli(*args):
    return run_cli(*args)


def test_cli_benchmark_writes_records_and_plot(folder, tmp_path):
    out, png = tmp_path / "res.csv", tmp_path / "plot.png"
    run = _cli("benchmark", "--datasets", str(folder), "--detectors", "ecod,hbos", "--seeds", "0,1",
               "--output", str(out), "--plot", str(png))
    assert run.returncode == 0, run.stderr
    expected = pn.benchmark(folder, ["ecod", "hbos"], seeds=[0, 1])
    got = read_records(out)
    assert [(r.dataset, r.detector, r.roc_auc) for r in got] == [(r.dataset, r.detector, r.roc_auc) for r in expected]
    assert "mean ROC-AUC" in run.stdout and "2_small" in run.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    as_json = _cli("benchmark", "--datasets", str(folder), "--detectors", "ecod", "--json")
    assert json.loads(as_json.stdout)["summary"][0]["detector"] == "ecod"


@pytest.mark.parametrize(("args", "message"), [
    (["--detectors", "ecod", "--output", "x.txt"], "--output must end in .csv or .json or .md"),
    (["--detectors", "ecod", "--plot", "x.jpg"], "--plot must end in .png"),
    (["--detectors", "ecod,nosuch"], "unknown detector 'nosuch'"),
    (["--detectors", "ecod", "--seeds", "a"], "--seeds 'a': expected comma-separated integers"),
])
def test_cli_bad_usage_is_one_line_exit_2(folder, tmp_path, args, message):
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    run = _cli("benchmark", "--datasets", str(folder), *args)
    assert run.returncode == 2 and message in run.stderr and run.stderr.count("\n") == 1
    assert not (tmp_path / "x.txt").exists()


def test_cli_bad_dataset_names_the_file_and_keeps_old_output(folder, tmp_path):
    out = tmp_path / "res.json"
    out.write_text("previous")
    np.savez(folder / "5_nolabels.npz", X=np.zeros((10, 2)))
    run = _cli("benchmark", "--datasets", str(folder), "--detectors", "ecod", "--output", str(out))
    assert run.returncode == 2 and "5_nolabels.npz: no labels" in run.stderr
    assert out.read_text() == "previous"
    empty = tmp_path / "empty"
    empty.mkdir()
    run = _cli("benchmark", "--datasets", str(empty), "--detectors", "ecod")
    assert run.returncode == 2 and "no .npz datasets" in run.stderr


def test_cli_a_failing_detector_names_dataset_and_detector(tmp_path):
    pytest.importorskip("pynomaly_pyod")
    out = tmp_path / "res.json"
    out.write_text("previous")
    np.savez(tmp_path / "1_tiny.npz", X=np.arange(12.0).reshape(6, 2), y=np.r_[np.zeros(4), np.ones(2)])
    run = _cli("benchmark", "--datasets", str(tmp_path), "--detectors", "pyod.knn", "--output", str(out))
    assert run.returncode == 2 and "1_tiny.npz: pyod.knn (seed 0) failed: pyod.knn: Expected n_neighbors" in run.stderr
    assert out.read_text() == "previous"


def test_pyod_detectors_equal_pyod_on_a_real_adbench_set(tmp_path):
    pytest.importorskip("pynomaly_pyod")
    from pyod.models.ecod import ECOD
    from pyod.models.iforest import IForest

    X, y = adbench("29_Pima.npz")
    np.savez(tmp_path / "29_Pima.npz", X=X, y=y)
    records = {r.detector: r for r in pn.benchmark(tmp_path, ["pyod.iforest", "pyod.ecod"])}
    train, test = stratified_split(y, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, model in (("pyod.iforest", IForest(random_state=0)), ("pyod.ecod", ECOD())):
            scores = model.fit(X[train]).decision_function(X[test])
            assert records[name].roc_auc == sklearn_metrics.roc_auc_score(y[test], scores)
            assert records[name].average_precision == pytest.approx(
                sklearn_metrics.average_precision_score(y[test], scores), abs=1e-12)
