"""``pynomaly score`` streaming Parquet / Arrow input through a saved model, and bad files at the CLI."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pynomaly_core import create_detector, load_data
from pynomaly_core.cli.output import write_scores


@pytest.fixture
def readings(tmp_path):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(3000, 4))
    X[[17, 2500]] += 7
    path = tmp_path / "readings.parquet"
    pq.write_table(pa.table({f"f{i}": X[:, i] for i in range(4)}), path, row_group_size=700)
    model = tmp_path / "model"
    create_detector("hbos").fit(load_data(path).features()).save(model)
    return path, model


def test_streamed_parquet_score_equals_whole_score(pynomaly_cli, tmp_path, readings):
    path, model = readings
    from pynomaly_core import load

    fitted = load(model)
    scores = fitted.decision_function(load_data(path).features())
    reference = tmp_path / "whole.csv"
    write_scores(reference, scores, (scores > fitted.threshold_).astype(np.int64))
    out = tmp_path / "streamed.csv"
    code, stdout, err = pynomaly_cli("score", model, path, "--batch-rows", "256", "--top", "2", "-o", out)
    assert code == 0, err
    assert out.read_bytes() == reference.read_bytes()
    assert "3000 rows" in stdout and all(f"{r} " in stdout for r in ("17", "2500"))
    code, _, err = pynomaly_cli("score", model, path, "--batch-rows", "999", "-o", tmp_path / "s.parquet")
    assert code == 0, err
    assert pq.read_table(tmp_path / "s.parquet").column("score").to_pylist() == scores.tolist()


def test_bad_parquet_keeps_existing_output_and_exits_2(pynomaly_cli, tmp_path, readings):
    _path, model = readings
    bad = tmp_path / "bad.parquet"
    values = [str(v) for v in range(3000)]
    values[2222] = "n/a?"
    pq.write_table(pa.table({"f0": np.zeros(3000), "f1": np.zeros(3000), "f2": np.zeros(3000), "f3": values}),
                   bad, row_group_size=500)
    out = tmp_path / "scores.csv"
    out.write_text("keep me\n")
    code, stdout, err = pynomaly_cli("score", model, bad, "-O", "categorical=none", "--batch-rows", "100", "-o", out)
    assert code == 2 and err == f"error: {bad}: non-numeric value 'n/a?' at row 2222, column 'f3'\n"
    assert out.read_text() == "keep me\n" and stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.parquet", "model", "readings.parquet", "scores.csv"]


def test_table_option_is_refused_by_file_loaders(pynomaly_cli, readings):
    path, model = readings
    code, _, err = pynomaly_cli("score", model, path, "--table", "t")
    assert code == 2 and err == "error: loader io.parquet does not take --table\n"
