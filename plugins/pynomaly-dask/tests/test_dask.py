"""pynomaly on Dask: scores identical to local ones, distributed training, the CLI engine, a worker killed mid-run."""

from __future__ import annotations

import os
import signal
import time
import warnings

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pynomaly_dask import fit, score_array, score_frame
from pynomaly_dask.training import SampledTrainingWarning

from pynomaly_core import create_detector, load
from pynomaly_core.errors import InputError

distributed = pytest.importorskip("distributed")

COLUMNS = ["f0", "f1", "f2", "f3"]
#: Built-ins and a sample of scikit-learn / PyOD adapters (the latter only when installed).
DETECTORS = [("ecod", {}), ("hbos", {}), ("mahalanobis", {}), ("robust_zscore", {}),
             ("half_space_trees", {"random_state": 1, "window_size": 100}),
             ("sklearn.iforest", {"random_state": 0, "n_estimators": 20}), ("pyod.knn", {})]


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(4000, 4)) * [1, 3, 0.5, 10]
    X[[7, 3100]] += 25
    return pd.DataFrame(X, columns=COLUMNS)


def make(name, params, table):
    try:
        return create_detector(name, **params).fit(table)
    except Exception as exc:  # an adapter plugin that is not installed here
        pytest.skip(f"{name}: {exc}")


@pytest.mark.parametrize(("name", "params"), DETECTORS, ids=[d[0] for d in DETECTORS])
def test_dask_scores_equal_local_scores(client, table, name, params):
    model = make(name, params, table)
    local = model.decision_function(table)
    frame = score_frame(dd.from_pandas(table, npartitions=5), model).compute()
    assert np.max(np.abs(frame["score"].to_numpy() - local)) <= 1e-9
    assert np.array_equal(frame["label"].to_numpy(), (local > model.threshold_).astype(np.int64))
    blocks = score_array(da.from_array(table.to_numpy(), chunks=(700, 2)), model).compute()
    assert np.max(np.abs(blocks - local)) <= 1e-9


def test_batch_dependent_models_are_refused(table):
    model = make("pyod.copod", {}, table)
    with pytest.raises(InputError, match="cannot be scored in partitions"):
        score_frame(dd.from_pandas(table, npartitions=2), model)


@pytest.mark.parametrize("name", ["hbos", "mahalanobis", "ecod"])
def test_distributed_training_matches_a_fit_on_all_rows(client, table, name):
    whole = create_detector(name).fit(table)
    merged = fit(create_detector(name), dd.from_pandas(table, npartitions=20), sketch_size=1 << 14)  # a tree
    scores, expected = merged.decision_function(table), whole.decision_function(table)
    if name == "hbos":
        assert np.array_equal(scores, expected)
    else:
        np.testing.assert_allclose(scores, expected, rtol=1e-12, atol=1e-12)
    assert list(merged.feature_names_in_) == COLUMNS and merged.trained_on_sample_ is None


def test_ecod_sketch_bound_holds_when_compressed(client, table):
    whole = create_detector("ecod").fit(table)
    merged = fit(create_detector("ecod"), dd.from_pandas(table, npartitions=4), sketch_size=128)
    assert 0 < merged.merge_bound_ < 0.1
    for j in range(4):
        column = np.ascontiguousarray(table.iloc[::5, j].to_numpy())
        for a, b in zip(merged._feature_terms(column, j), whole._feature_terms(column, j), strict=True):
            assert np.max(np.abs(np.exp(-a) - np.exp(-b))) <= merged.merge_bound_


def test_other_detectors_train_on_a_sample_and_say_so(client, table):
    with pytest.warns(SampledTrainingWarning, match="sample of"):
        model = fit(create_detector("robust_zscore"), dd.from_pandas(table, npartitions=3), sample_rows=1000)
    assert 500 < model.trained_on_sample_ < 1500


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, table):
    folder = tmp_path_factory.mktemp("parquet")
    for k, rows in enumerate(np.array_split(np.arange(len(table)), 3)):
        part = table.iloc[rows]
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / f"part-{k}.parquet",
                       row_group_size=600)
    return folder


def test_cli_engine_dask_writes_partitioned_parquet(client, table, dataset, tmp_path, pynomaly_cli):
    model_dir = create_detector("hbos").fit(table).save(tmp_path / "model")
    out = tmp_path / "scores.parquet"
    code, stdout, err = pynomaly_cli("score", model_dir, str(dataset / "*.parquet"), "--engine", "dask",
                                     "--scheduler", client.scheduler.address, "-o", out, "--top", "2", "--json")
    assert code == 0, err
    written = pq.read_table(out).to_pandas()
    local = load(model_dir).decision_function(table)
    assert len(list(out.glob("part.*.parquet"))) >= 3
    assert np.max(np.abs(written["score"].to_numpy() - local)) <= 1e-9
    assert '"rows": 4000' in stdout and '"row": 7' in stdout and '"row": 3100' in stdout


def test_cli_engine_refuses_non_parquet_output(client, dataset, tmp_path, pynomaly_cli, table):
    model_dir = create_detector("hbos").fit(table).save(tmp_path / "model")
    code, _, err = pynomaly_cli("score", model_dir, str(dataset / "*.parquet"), "--engine", "dask",
                                "--scheduler", client.scheduler.address, "-o", tmp_path / "s.csv")
    assert code == 2 and "Parquet" in err


def test_cli_dask_train(client, table, dataset, tmp_path, pynomaly_cli):
    out = tmp_path / "model"
    code, stdout, err = pynomaly_cli("dask", "train", str(dataset / "*.parquet"), "-d", "hbos", "-o", out,
                                     "--scheduler", client.scheduler.address)
    assert code == 0, err
    assert "every row" in stdout
    expected = create_detector("hbos").fit(table).decision_function(table)
    assert np.array_equal(load(out).decision_function(table), expected)


def _slow(part):
    time.sleep(0.15)
    return part


def test_a_worker_killed_mid_run_still_gives_complete_results(client, table):
    """Dask reruns the tasks of a dead worker (the nanny restarts it); every row is scored exactly once."""
    model = create_detector("ecod").fit(table)
    frame = dd.from_pandas(table, npartitions=24).map_partitions(_slow, meta=table.iloc[:0])
    future = client.compute(score_frame(frame, model))
    time.sleep(1.0)
    assert not future.done()
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    os.kill(victim, signal.SIGKILL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = future.result(timeout=120)
    assert len(result) == len(table) and result.index.is_unique
    assert np.max(np.abs(result.sort_index()["score"].to_numpy() - model.decision_function(table))) <= 1e-9


def test_cli_engine_dask_reads_csv_globs(client, table, tmp_path, pynomaly_cli):
    for k, rows in enumerate(np.array_split(np.arange(len(table)), 2)):
        table.iloc[rows].to_csv(tmp_path / f"part-{k}.csv", index=False)
    model_dir = create_detector("mahalanobis").fit(table).save(tmp_path / "model")
    out = tmp_path / "scores.parquet"
    code, _, err = pynomaly_cli("score", model_dir, str(tmp_path / "part-*.csv"), "--engine", "dask",
                                "--scheduler", client.scheduler.address, "-o", out)
    assert code == 0, err
    written = pq.read_table(out).to_pandas()["score"].to_numpy()
    assert np.max(np.abs(written - load(model_dir).decision_function(table))) <= 1e-9
