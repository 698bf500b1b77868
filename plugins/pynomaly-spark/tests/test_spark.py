"""pynomaly on Spark (local[2]): scores identical to local ones, per-group models, distributed training, the CLI
engine and MLflow's spark_udf with the pynomaly flavour. One Spark session for the module."""

from __future__ import annotations

import os
import shutil
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pynomaly_core import create_detector, load
from pynomaly_core.errors import InputError

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (17): no `java` on PATH and no JAVA_HOME", allow_module_level=True)

from pynomaly_spark import fit, fit_groups, score_frame, score_groups
from pynomaly_spark.training import SampledTrainingWarning

COLUMNS = ["f0", "f1", "f2"]
DETECTORS = [("ecod", {}), ("hbos", {}), ("mahalanobis", {}), ("half_space_trees", {"random_state": 1}),
             ("sklearn.iforest", {"random_state": 0, "n_estimators": 20}), ("pyod.knn", {})]


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master("local[2]").appName("pynomaly-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "500").getOrCreate())
    yield session
    session.stop()


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(3000, 3)) * [1, 4, 0.2]
    X[[11, 2222]] += 30
    frame = pd.DataFrame(X, columns=COLUMNS)
    frame.insert(0, "id", np.arange(len(frame), dtype=np.int64))
    frame.insert(1, "sensor", np.arange(len(frame)) % 3)
    return frame


@pytest.fixture(scope="module")
def df(spark, table):
    return spark.createDataFrame(table).repartition(4)


def make(name, params, X):
    try:
        return create_detector(name, **params).fit(X)
    except Exception as exc:  # an adapter plugin that is not installed here
        pytest.skip(f"{name}: {exc}")


@pytest.mark.parametrize(("name", "params"), DETECTORS, ids=[d[0] for d in DETECTORS])
def test_spark_scores_equal_local_scores(df, table, name, params):
    model = make(name, params, table[COLUMNS])
    local = model.decision_function(table[COLUMNS])
    out = score_frame(df, model, keep=["id"]).toPandas().sort_values("id")
    assert len(out) == len(table)
    assert np.max(np.abs(out["score"].to_numpy() - local)) <= 1e-9
    assert np.array_equal(out["label"].to_numpy(), (local > model.threshold_).astype(np.int64))


def test_batch_dependent_models_are_refused(df, table):
    model = make("pyod.copod", {}, table[COLUMNS])
    with pytest.raises(InputError, match="cannot be scored in partitions"):
        score_frame(df, model)


def test_one_model_per_group(df, table):
    models = fit_groups(df, "hbos", by="sensor", columns=COLUMNS)
    assert sorted(models) == [0, 1, 2]
    out = score_groups(df, models, by="sensor", keep=["id"]).toPandas().sort_values("id")
    for key, group in table.groupby("sensor"):
        local = create_detector("hbos").fit(group[COLUMNS])
        expected = local.decision_function(group[COLUMNS])
        got = out[out["sensor"] == key]["score"].to_numpy()
        assert np.max(np.abs(got - expected)) <= 1e-9


@pytest.mark.parametrize("name", ["hbos", "mahalanobis", "ecod"])
def test_distributed_training_matches_a_fit_on_all_rows(df, table, name):
    ordered = df.orderBy("id").repartition(20)  # 20 partitions: merged on the executors 8 at a time, then here
    merged = fit(create_detector(name), ordered, columns=COLUMNS)
    whole = create_detector(name).fit(table[COLUMNS])
    scores, expected = merged.decision_function(table[COLUMNS]), whole.decision_function(table[COLUMNS])
    if name == "hbos":
        assert np.array_equal(scores, expected)
    else:
        np.testing.assert_allclose(scores, expected, rtol=1e-12, atol=1e-12)


def test_online_detectors_train_by_mass_merge(df, table):
    """Half-Space Trees (its random seed drawn per partition, the smallest kept) and DecayedHBOS: states through the
    codec, merged on the executors; the local equivalent's scores exactly."""
    ordered = df.orderBy("id").repartition(20)
    for detector in (create_detector("half_space_trees"), create_detector("decayed_hbos")):
        merged = fit(detector, ordered, columns=COLUMNS)
        whole = merged.local_equivalent(len(table)).fit(table[COLUMNS])
        assert np.array_equal(merged.decision_function(table[COLUMNS]), whole.decision_function(table[COLUMNS]))


def test_other_detectors_train_on_a_sample(df):
    with pytest.warns(SampledTrainingWarning, match="sample of"):
        model = fit(create_detector("robust_zscore"), df, columns=COLUMNS, sample_rows=600)
    assert 300 < model.trained_on_sample_ < 1000


def test_cli_engine_spark(spark, table, tmp_path, pynomaly_cli):
    data = tmp_path / "data.parquet"
    spark.createDataFrame(table[COLUMNS]).coalesce(1).write.parquet(str(data))
    model_dir = create_detector("ecod").fit(table[COLUMNS]).save(tmp_path / "model")
    out = tmp_path / "scores.parquet"
    code, stdout, err = pynomaly_cli("score", model_dir, data, "--engine", "spark", "--scheduler", "local[2]",
                                     "-o", out, "--top", "2", "--json")
    assert code == 0, err
    written = pq.read_table(out).to_pandas()
    local = load(model_dir).decision_function(table[COLUMNS])
    assert np.max(np.abs(written["score"].to_numpy() - local)) <= 1e-9
    assert '"rows": 3000' in stdout and '"row": 11' in stdout and '"row": 2222' in stdout


def test_mlflow_spark_udf_with_the_pynomaly_flavour(spark, df, table, tmp_path):
    pynomaly_mlflow = pytest.importorskip("pynomaly_mlflow")
    import mlflow.pyfunc

    model = create_detector("hbos").fit(table[COLUMNS])
    pynomaly_mlflow.save_model(model, tmp_path / "m")
    udf = mlflow.pyfunc.spark_udf(spark, str(tmp_path / "m"), result_type="double", env_manager="local")
    out = df.select("id", udf(*COLUMNS).alias("score")).toPandas().sort_values("id")
    assert np.max(np.abs(out["score"].to_numpy() - model.decision_function(table[COLUMNS]))) <= 1e-9


def test_engine_writes_one_file_per_partition_and_a_consistent_summary(spark, table, tmp_path):
    from pynomaly_spark.engine import score

    data = tmp_path / "data"
    data.mkdir()
    for k, (start, stop) in enumerate([(0, 1700), (1700, 2600), (2600, 3000)]):  # files of different sizes
        pq.write_table(pa.Table.from_pandas(table[COLUMNS].iloc[start:stop], preserve_index=False),
                       data / f"part-{k}.parquet")
    model = create_detector("hbos").fit(table[COLUMNS])
    out = tmp_path / "scores.parquet"
    summary = score(model, str(data), out, scheduler="local[2]", top=3)
    parts = sorted(out.glob("part.*.parquet"))
    assert len(parts) == summary["partitions"] and not list(out.glob(".*"))
    written = pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)
    local = model.decision_function(table[COLUMNS])
    assert summary["rows"] == len(written) == len(table)
    np.testing.assert_allclose(np.sort(written["score"].to_numpy()), np.sort(local), rtol=0, atol=1e-9)
    assert summary["anomalies"] == int(written["label"].sum()) == int((local > model.threshold_).sum())
    assert [t["score"] for t in summary["top"]] == pytest.approx(np.sort(local)[::-1][:3].tolist(), abs=1e-9)
    for t in summary["top"]:  # summary rows index the parts concatenated in partition order
        assert written["score"].iloc[t["row"]] == pytest.approx(t["score"], abs=0)
    assert spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch") == "500"  # the job's setting undone
    assert score(model, str(data), None, scheduler="local[2]", top=0)["rows"] == len(table)
