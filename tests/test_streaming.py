"""Out-of-core scoring: streamed results equal whole-data results, atomic output, bounded top-N."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynomaly_core import create_detector, load_data
from pynomaly_core.cli.output import write_scores
from pynomaly_core.streaming import TopN, iter_batches, stream_score

from .conftest import EXAMPLES

SENSORS = EXAMPLES / "sensors.csv"
FEATURES = "temperature,pressure,vibration,current,humidity"


@pytest.fixture
def model_dir(tmp_path):
    data = load_data(SENSORS, columns=FEATURES.split(","))
    path = tmp_path / "model"
    create_detector("ecod").fit(data.features()).save(path)
    return path


def whole_scores(model_dir):
    from pynomaly_core import load

    model = load(model_dir)
    data = load_data(SENSORS, columns=FEATURES.split(","), labels="label")
    scores = model.decision_function(data.features())
    return model, data, scores, (scores > model.threshold_).astype(np.int64)


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_streamed_output_is_byte_identical_to_the_whole_run(cli, tmp_path, model_dir, suffix):
    _model, data, scores, labels = whole_scores(model_dir)
    reference = tmp_path / f"whole{suffix}"
    write_scores(reference, scores, labels)
    streamed = tmp_path / f"streamed{suffix}"
    code, out, err = cli("score", model_dir, SENSORS, "--columns", FEATURES, "--labels", "label", "--json",
                         "--batch-rows", "37", "--top", "7", "-o", streamed)
    assert code == 0, err
    assert streamed.read_bytes() == reference.read_bytes()
    summary = json.loads(out)
    order = np.argsort(-scores, kind="mergesort")[:7]
    assert summary["rows"] == 1000 and summary["anomalies"] == int(labels.sum())
    assert [t["row"] for t in summary["top"]] == order.tolist()
    assert [t["score"] for t in summary["top"]] == scores[order].tolist()
    from pynomaly_core.metrics import roc_auc

    assert summary["metrics"]["roc_auc"] == pytest.approx(roc_auc(data.y, scores), abs=1e-12)


def test_jsonl_and_parquet_outputs(cli, tmp_path, model_dir):
    pq = pytest.importorskip("pyarrow.parquet")
    _model, _data, scores, labels = whole_scores(model_dir)
    for name in ("s.jsonl", "s.parquet"):
        code, _, err = cli("score", model_dir, SENSORS, "--columns", FEATURES, "--batch-rows", "100",
                           "-o", tmp_path / name)
        assert code == 0, err
    records = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert [r["score"] for r in records] == scores.tolist() and [r["label"] for r in records] == labels.tolist()
    table = pq.read_table(tmp_path / "s.parquet")
    assert table.column("score").to_pylist() == scores.tolist()
    assert table.column("label").to_pylist() == labels.tolist()


def test_a_bad_row_mid_stream_leaves_the_existing_output_alone(cli, tmp_path, model_dir):
    lines = SENSORS.read_text().splitlines()
    lines[600] = lines[600].replace(lines[600].split(",")[2], "oops", 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    out_file = tmp_path / "scores.csv"
    out_file.write_text("score,label\n1.0,0\n")
    code, out, err = cli("score", model_dir, bad, "--columns", FEATURES, "--batch-rows", "50", "-o", out_file)
    assert code == 2 and err == f"error: {bad}: non-numeric value 'oops' at line 601, column 'vibration'\n"
    assert out_file.read_text() == "score,label\n1.0,0\n" and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "model", "scores.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "t"], "loader builtin.csv does not take --table"),
        (["--query", "select 1"], "loader builtin.csv does not take --query"),
        (["-o", "out.xlsx"], "output must end in .csv, .json, .jsonl, .parquet"),
        (["-O", "missing=zero"], "missing must be one of error, drop, impute-median"),
    ],
)
def test_score_usage_errors(cli, model_dir, args, message):
    code, _, err = cli("score", model_dir, SENSORS, "--columns", FEATURES, *args)
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_blas_detectors_agree_to_rounding(tmp_path):
    """A detector that multiplies matrices may round differently per batch size (BLAS blocking): 1 ulp-level."""
    data = load_data(SENSORS, columns=FEATURES.split(","))
    model = create_detector("mahalanobis").fit(data.features())
    out = tmp_path / "s.jsonl"
    stream_score(model, iter_batches(SENSORS, 37, columns=FEATURES.split(",")), output=out)
    streamed = np.array([json.loads(line)["score"] for line in out.read_text().splitlines()])
    np.testing.assert_allclose(streamed, model.decision_function(data.features()), rtol=1e-12, atol=0)


def test_stream_score_without_output_and_labels_keeps_nothing_per_row(model_dir):
    model, _data, scores, labels = whole_scores(model_dir)
    result = stream_score(model, iter_batches(SENSORS, 64, columns=FEATURES.split(",")), top=3)
    assert result["rows"] == 1000 and result["anomalies"] == int(labels.sum()) and result["metrics"] == {}
    assert [t["row"] for t in result["top"]] == np.argsort(-scores, kind="mergesort")[:3].tolist()


@settings(max_examples=60, deadline=None)
@given(
    scores=st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5]), min_size=1, max_size=60),
    n=st.integers(0, 12),
    batch=st.integers(1, 20),
)
def test_top_n_heap_equals_a_stable_sort(scores, n, batch):
    """Ties go to the earlier row, exactly like ``argsort(-scores, kind="mergesort")``, for any batching."""
    values = np.array(scores)
    top = TopN(n)
    for start in range(0, values.size, batch):
        chunk = values[start:start + batch]
        top.push(chunk, (chunk > 1).astype(np.int64), start)
    expected = np.argsort(-values, kind="mergesort")[:n]
    assert [r["row"] for r in top.rows()] == expected.tolist()
    assert [r["label"] for r in top.rows()] == (values[expected] > 1).astype(int).tolist()
