"""``pynomaly train`` / ``pynomaly score`` with ``--timestamp``: a saved time-series model scores the continuation of
its series exactly as ``detect`` scores the whole series; series ids, sorting and one-line errors (exit code 2)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import pynomaly_core as pn
from pynomaly_core.timeseries.data import load_timeseries, score_timeseries


def stamp(minute: int) -> str:
    return f"2024-01-01T{minute // 60:02d}:{minute % 60:02d}:00"


def write(path, header, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def series(n: int = 600, seed: int = 0) -> np.ndarray:
    values = np.sin(np.arange(n) / 5) + 0.05 * np.random.default_rng(seed).normal(size=n)
    values[3 * n // 4] += 5
    return values


def scores_of(path) -> np.ndarray:
    with open(path) as handle:
        return np.array([float(row["score"]) for row in csv.DictReader(handle)])


@pytest.mark.parametrize(("detector", "split"), [("anomaly_likelihood", 400), ("windowed_gaussian", 123),
                                                 ("seasonal_residual", 300)])
def test_train_then_score_continues_the_series_as_detect_scores_it(cli, tmp_path, detector, split):
    values = series()
    rows = [(stamp(i), float(v)) for i, v in enumerate(values)]
    whole = write(tmp_path / "all.csv", ["time", "value"], rows)
    head = write(tmp_path / "head.csv", ["time", "value"], rows[:split])
    tail = write(tmp_path / "tail.csv", ["time", "value"], rows[split:])
    model, detected, scored = tmp_path / "model", tmp_path / "detect.csv", tmp_path / "score.csv"
    code, out, err = cli("train", str(head), "--timestamp", "time", "-d", detector, "-o", str(model))
    assert code == 0 and f"on {split} rows" in out, err
    code, _, err = cli("detect", str(whole), "--timestamp", "time", "-d", detector, "-o", str(detected))
    assert code == 0, err
    code, out, err = cli("score", str(model), str(tail), "--timestamp", "time", "-o", str(scored), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["rows"] == 600 - split and "score_s" in summary["timings"]
    np.testing.assert_array_equal(scores_of(scored), scores_of(detected)[split:])
    # the saved model scores as the fitted one does; scoring leaves it unchanged
    fitted = pn.create_detector(detector).fit(values[:split, None])
    loaded = pn.load(model)
    dataset = load_timeseries(tail, timestamp="time")
    first, _ = score_timeseries(loaded, dataset)
    again, _ = score_timeseries(loaded, dataset)
    np.testing.assert_array_equal(first, fitted.decision_function(values[split:, None]))
    np.testing.assert_array_equal(first, again)


def test_train_without_a_detector_uses_the_default_time_series_one(cli, tmp_path):
    path = write(tmp_path / "s.csv", ["time", "value"], [(stamp(i), float(v)) for i, v in enumerate(series(200))])
    code, out, err = cli("train", str(path), "--timestamp", "time", "-o", str(tmp_path / "m"))
    assert code == 0 and "builtin.anomaly_likelihood" in out, err
    code, out, err = cli("train", str(path), "--columns", "value", "-o", str(tmp_path / "tabular"))
    assert code == 0 and "builtin.ecod" in out, err  # without --timestamp: as before


def test_score_with_series_ids_scores_each_from_the_trained_state_in_file_order(cli, tmp_path):
    rng = np.random.default_rng(1)
    model = tmp_path / "m"
    path = write(tmp_path / "s.csv", ["time", "value"], [(stamp(i), rng.normal()) for i in range(300)])
    assert cli("train", str(path), "--timestamp", "time", "-o", str(model))[0] == 0
    a, b = rng.normal(size=100), 50 + rng.normal(size=100)
    rows = [r for i in range(100) for r in ((stamp(300 + i), "a", a[i]), (stamp(300 + i), "b", b[i]))]
    many = write(tmp_path / "many.csv", ["time", "id", "value"], rows)
    out_file = tmp_path / "scores.csv"
    code, out, err = cli("score", str(model), str(many), "--timestamp", "time", "--series-id", "id", "-o",
                         str(out_file), "--json")
    assert code == 0, err
    scores = scores_of(out_file)
    loaded = pn.load(model)
    np.testing.assert_array_equal(scores[0::2], loaded.decision_function(a[:, None]))
    np.testing.assert_array_equal(scores[1::2], loaded.decision_function(b[:, None]))
    assert json.loads(out)["top"][0]["row"] % 2 == 1  # series b is far from what the model learned


def test_score_sort_puts_scores_back_in_file_order(cli, tmp_path):
    values = series(300)
    rows = [(stamp(i), float(v)) for i, v in enumerate(values)]
    model = tmp_path / "m"
    assert cli("train", str(write(tmp_path / "head.csv", ["t", "v"], rows[:200])), "--timestamp", "t",
               "-o", str(model))[0] == 0
    tail = rows[200:]
    shuffled = [tail[i] for i in np.random.default_rng(2).permutation(len(tail))]
    in_order, out_of_order = tmp_path / "a.csv", tmp_path / "b.csv"
    write(tmp_path / "tail.csv", ["t", "v"], tail)
    write(tmp_path / "shuffled.csv", ["t", "v"], shuffled)
    assert cli("score", str(model), str(tmp_path / "tail.csv"), "--timestamp", "t", "-o", str(in_order))[0] == 0
    code, _, err = cli("score", str(model), str(tmp_path / "shuffled.csv"), "--timestamp", "t", "-o",
                       str(out_of_order))
    assert code == 2 and "is earlier than the row before it" in err
    assert cli("score", str(model), str(tmp_path / "shuffled.csv"), "--timestamp", "t", "--sort", "-o",
               str(out_of_order))[0] == 0
    by_stamp = dict(zip([r[0] for r in tail], scores_of(in_order), strict=True))
    np.testing.assert_array_equal(scores_of(out_of_order), [by_stamp[r[0]] for r in shuffled])


def test_train_shared_model_over_series_ids_saves_one_model(cli, tmp_path):
    rng = np.random.default_rng(3)
    rows = [r for i in range(200) for r in ((stamp(i), "a", rng.normal()), (stamp(i), "b", 10 + rng.normal()))]
    path = write(tmp_path / "many.csv", ["time", "id", "value"], rows)
    model = tmp_path / "m"
    code, out, err = cli("train", str(path), "--timestamp", "time", "--series-id", "id", "--shared-model",
                         "-o", str(model))
    assert code == 0 and "on 400 rows" in out, err
    code, out, err = cli("detect", str(path), "--timestamp", "time", "--series-id", "id", "--shared-model", "--json")
    assert code == 0, err
    assert pn.load(model).threshold_ == pytest.approx(json.loads(out)["threshold"])  # from all the series


@pytest.mark.parametrize(("args", "message"), [
    (["train", "{csv}", "--timestamp", "time", "--series-id", "id", "-o", "{out}"],
     "--series-id: train saves one model; pass --shared-model"),
    (["train", "{csv}", "--sort", "-o", "{out}"], "--sort needs --timestamp COLUMN"),
    (["train", "{csv}", "--timestamp", "when", "-o", "{out}"], "no timestamp column 'when'"),
    (["train", "{csv}", "--timestamp", "time", "--columns", "value", "-d", "ecod", "-o", "{out}"],
     "works on tabular data"),
    (["train", "{csv}", "--timestamp", "time", "-O", "header=true", "-o", "{out}"],
     "--loader-option does not apply with --timestamp"),
    (["score", "{model}", "{csv}", "--series-id", "id"], "--series-id needs --timestamp COLUMN"),
    (["score", "{model}", "{csv}", "--timestamp", "time", "--engine", "dask"], "--engine dask does not take"),
    (["score", "{model}", "{csv}", "--timestamp", "time", "--columns", "id"], "not a number"),
    (["score", "{model}", "{csv}", "--timestamp", "time", "-o", "{out}.txt"], "output must end in"),
])
def test_errors_are_one_line_exit_2_and_write_nothing(cli, tmp_path, args, message):
    rows = [(stamp(i), "a", float(v)) for i, v in enumerate(series(100))]
    csv_path = write(tmp_path / "s.csv", ["time", "id", "value"], rows)
    model, out = tmp_path / "model", tmp_path / "out"
    assert cli("train", str(csv_path), "--timestamp", "time", "--columns", "value", "-o", str(model))[0] == 0
    filled = [a.format(csv=csv_path, out=out, model=model) for a in args]
    code, _, err = cli(*filled)
    assert code == 2 and message in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists() and not (tmp_path / "out.txt").exists()
