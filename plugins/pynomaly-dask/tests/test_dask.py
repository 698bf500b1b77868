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
from hypothesis import given, settings
from hypothesis import strategies as st
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


@pytest.mark.parametrize(("name", "params"), [("half_space_trees", {"random_state": None, "window_size": 100}),
                                              ("decayed_hbos", {"decay": 0.01})])
def test_online_detectors_train_by_mass_merge(client, table, name, params):
    """Shared trees/edges, masses/counts summed over 20 partitions (a tree): the local equivalent's scores exactly."""
    merged = fit(create_detector(name, **params), dd.from_pandas(table, npartitions=20))
    whole = merged.local_equivalent(len(table)).fit(table)
    assert np.array_equal(merged.decision_function(table), whole.decision_function(table))
    assert merged.threshold_ == whole.threshold_ and merged.trained_on_sample_ is None


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


def test_cli_dask_train_half_space_trees(client, table, dataset, tmp_path, pynomaly_cli):
    out = tmp_path / "hst"
    code, stdout, err = pynomaly_cli("dask", "train", str(dataset / "*.parquet"), "-d", "half_space_trees", "-o", out,
                                     "--param", "random_state=3", "--scheduler", client.scheduler.address)
    assert code == 0, err
    assert "every row (merged partitions)" in stdout and f"window_size={len(table)}" in stdout
    model = load(out)
    expected = model.local_equivalent(len(table)).fit(table).decision_function(table)
    assert np.array_equal(model.decision_function(table), expected)


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


@given(st.lists(st.integers(0, 2_000), max_size=40), st.integers(1, 5_000))
@settings(max_examples=200, deadline=None)
def test_balanced_groups_cover_every_group_in_order(sizes, partition_rows):
    from pynomaly_dask.engine import balanced_groups

    runs = balanced_groups(sizes, partition_rows)
    assert [g for run in runs for g in run] == list(range(len(sizes)))  # consecutive runs, in order, no gaps
    assert all(runs) and len(runs) <= max(1, round(sum(sizes) / partition_rows))
    if sizes and max(sizes) <= partition_rows // 4 and sum(sizes) >= 4 * partition_rows:  # fine-grained groups
        rows = [sum(sizes[g] for g in run) for run in runs]
        assert max(rows) <= 2 * min(rows) + 2 * max(sizes)


def test_local_cluster_workers_keep_small_arrays_on_the_heap():
    from pynomaly_dask.engine import WORKER_MALLOC, local_cluster

    with local_cluster(1) as cluster, distributed.Client(cluster) as c:
        seen = next(iter(c.run(lambda: {k: os.environ.get(k) for k in WORKER_MALLOC}).values()))
    assert seen == {k: os.environ.get(k, v) for k, v in WORKER_MALLOC.items()}


def test_engine_partitions_of_different_sizes_score_as_locally(tmp_path):
    """One worker scores partitions of 2,400, 700 and 1,800 rows in turn, each written into the matrix buffer the
    previous one used: every score equals the local one, in order."""
    from pynomaly_dask.engine import local_cluster, score

    rng = np.random.default_rng(4)
    sizes, frames = [2400, 700, 1800], []
    for k, n in enumerate(sizes):
        frame = pd.DataFrame(rng.normal(size=(n, len(COLUMNS))) * (k + 1), columns=COLUMNS)
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / f"p{k}.parquet",
                       row_group_size=300)
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    model = create_detector("hbos").fit(data)
    with local_cluster(1) as cluster:
        summary = score(model, str(tmp_path / "p*.parquet"), tmp_path / "out.parquet",
                        scheduler=cluster.scheduler_address, top=3, partition_rows=1000)
    written = pd.concat([pq.read_table(p).to_pandas() for p in sorted((tmp_path / "out.parquet").glob("*.parquet"))])
    np.testing.assert_array_equal(written["score"].to_numpy(), model.decision_function(data))
    assert summary["rows"] == len(data) and summary["partitions"] == 2 + 1 + 2


@pytest.fixture(scope="module")
def s3(dataset):
    """A real S3 API on loopback (moto's server in a thread) with ``s3://bucket/data/part-{0,1,2}.parquet``; the
    storage options that reach it."""
    import logging
    import socket

    server_module = pytest.importorskip("moto.server")
    s3fs = pytest.importorskip("s3fs")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log in the CLI's captured stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    options = {"key": "testing", "secret": "testing", "endpoint_url": f"http://127.0.0.1:{port}"}
    fs = s3fs.S3FileSystem(**options)
    fs.mkdir("bucket")
    for path in sorted(dataset.glob("*.parquet")):
        fs.put_file(str(path), f"bucket/data/{path.name}")
    yield fs, options
    server.stop()


def s3_parts(fs, prefix):
    fs.invalidate_cache()
    return pd.concat([pd.read_parquet(fs.open(p, "rb")) for p in sorted(fs.find(prefix))], ignore_index=True)


def test_engine_reads_and_writes_s3_as_locally(client, table, s3):
    from pynomaly_dask.engine import score

    fs, options = s3
    model = create_detector("hbos").fit(table)
    summary = score(model, "s3://bucket/data/*.parquet", "s3://bucket/out.parquet", scheduler=client.scheduler.address,
                    top=2, partition_rows=1000, storage_options=options)
    written = s3_parts(fs, "bucket/out.parquet")
    assert summary["rows"] == len(written) == len(table) and summary["partitions"] == 3
    assert np.max(np.abs(written["score"].to_numpy() - model.decision_function(table))) <= 1e-9
    assert sorted(t["row"] for t in summary["top"]) == [7, 3100]
    assert not [p for p in fs.ls("bucket", refresh=True) if p.rsplit("/", 1)[1].startswith(".")]  # no staging


def test_failed_s3_run_keeps_the_old_output_and_no_staging(client, table, s3):
    from pynomaly_dask.engine import score

    fs, options = s3
    old = pa.table({"score": [1.0], "label": [0]})
    with fs.open("bucket/keep.parquet/part.00000.parquet", "wb") as f:
        pq.write_table(old, f)
    fs.copy("bucket/data/part-0.parquet", "bucket/mixed/a.parquet")
    with fs.open("bucket/mixed/b.parquet", "wb") as f:  # a later object without the model's column f3
        pq.write_table(pa.Table.from_pandas(table[COLUMNS[:3]], preserve_index=False), f)
    model = create_detector("hbos").fit(table)
    with pytest.raises(InputError, match=r"^s3://bucket/mixed/b\.parquet: no column 'f3'$"):
        score(model, "s3://bucket/mixed/*.parquet", "s3://bucket/keep.parquet", scheduler=client.scheduler.address,
              storage_options=options)
    fs.invalidate_cache()
    assert fs.find("bucket/keep.parquet") == ["bucket/keep.parquet/part.00000.parquet"]
    assert s3_parts(fs, "bucket/keep.parquet").equals(old.to_pandas())
    assert not [p for p in fs.ls("bucket") if p.rsplit("/", 1)[1].startswith(".")]


def test_cli_engine_dask_s3(client, table, s3, tmp_path, pynomaly_cli):
    fs, options = s3
    model_dir = create_detector("mahalanobis").fit(table).save(tmp_path / "model")
    flags = [f"--storage-option={k}={v}" for k, v in options.items()]
    common = ["--engine", "dask", "--scheduler", client.scheduler.address, *flags]
    code, stdout, err = pynomaly_cli("score", model_dir, "s3://bucket/data/*.parquet", *common,
                                     "-o", "s3://bucket/cli.parquet", "--json")
    assert code == 0, err
    assert '"rows": 4000' in stdout and '"output": "s3://bucket/cli.parquet"' in stdout
    written = s3_parts(fs, "bucket/cli.parquet")["score"].to_numpy()
    assert np.max(np.abs(written - load(model_dir).decision_function(table))) <= 1e-9
    code, _, err = pynomaly_cli("score", model_dir, "s3://bucket/nothing/*.parquet", *common)
    assert code == 2 and err.strip() == "error: s3://bucket/nothing/*.parquet: no files matched"
    fs.pipe("bucket/junk/x.parquet", b"not parquet")
    code, _, err = pynomaly_cli("score", model_dir, "s3://bucket/junk/*.parquet", *common)
    assert code == 2 and err.startswith("error: s3://bucket/junk/x.parquet: not a readable Parquet file")
    assert len(err.strip().splitlines()) == 1


def test_missing_s3fs_is_one_line_naming_the_package(monkeypatch):
    import importlib
    import sys

    from pynomaly_dask.storage import filesystem

    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs raises ImportError
    monkeypatch.delitem(importlib.import_module("fsspec.registry")._registry, "s3", raising=False)
    needs = r"^s3://b/k\.parquet: s3:// needs s3fs: install the extra 'pynomaly\[s3\]' \(or pip install s3fs\)$"
    with pytest.raises(InputError, match=needs):
        filesystem("s3://b/k.parquet")
