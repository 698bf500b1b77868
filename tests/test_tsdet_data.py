"""Timestamped CSV: parsing, order checks naming the row, series ids, sampling reports; ``detect --timestamp``."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from pynomaly_core.errors import InputError
from pynomaly_core.timeseries.data import detect_timeseries, load_timeseries, sampling_report


def write(path, header, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def stamp(minute: int) -> str:
    return f"2024-01-01 {minute // 60:02d}:{minute % 60:02d}:00"


@pytest.fixture
def series_csv(tmp_path):
    rng = np.random.default_rng(0)
    values = np.sin(np.arange(600) / 5) + 0.05 * rng.normal(size=600)
    values[450] += 5
    return write(tmp_path / "s.csv", ["time", "value", "other"],
                 [(stamp(i), v, 2 * v) for i, v in enumerate(values)])


def test_timestamps_values_and_sampling(series_csv):
    dataset = load_timeseries(series_csv, timestamp="time", columns="value")
    assert dataset.kind == "timeseries" and dataset.X.shape == (600, 1) and dataset.feature_names == ["value"]
    assert dataset.extra["timestamps"][1] - dataset.extra["timestamps"][0] == np.timedelta64(60, "s")
    assert dataset.extra["sampling"]["interval_s"] == 60.0 and dataset.extra["sampling"]["irregular"] == 0
    assert load_timeseries(series_csv, timestamp="time").feature_names == ["value", "other"]


def test_out_of_order_rows_are_rejected_naming_the_row(tmp_path):
    path = write(tmp_path / "bad.csv", ["t", "v"], [(stamp(0), 1), (stamp(2), 2), (stamp(1), 3), (stamp(3), 4)])
    with pytest.raises(InputError, match=r"bad\.csv: row 4: timestamp '2024-01-01 00:01:00' is earlier"):
        load_timeseries(path, timestamp="t")
    dataset = load_timeseries(path, timestamp="t", sort=True)
    np.testing.assert_array_equal(dataset.X[:, 0], [1, 3, 2, 4])
    np.testing.assert_array_equal(dataset.extra["order"], [0, 2, 1, 3])


def test_epoch_seconds_gaps_and_irregular_sampling(tmp_path):
    path = write(tmp_path / "gaps.csv", ["t", "v"], [(0, 1), (10, 2), (20, 3), (80, 4), (90, 5), (95, 6)])
    report = load_timeseries(path, timestamp="t").extra["sampling"]
    assert report["interval_s"] == 10.0 and report["irregular"] == 2
    assert report["gaps"] == [{"row": 5, "after_s": 60.0}]


@pytest.mark.parametrize("rows, message", [
    ([("2024-13-45", 1)], r"row 2: cannot parse timestamp"),
    ([(stamp(0), "x")], r"row 2, column 'v': not a number"),
    ([(stamp(0), "")], r"row 2, column 'v': not a number"),
])
def test_bad_cells_name_row_and_column(tmp_path, rows, message):
    with pytest.raises(InputError, match=message):
        load_timeseries(write(tmp_path / "b.csv", ["t", "v"], rows), timestamp="t")


def test_missing_columns_are_named(series_csv):
    with pytest.raises(InputError, match="no timestamp column 'when'"):
        load_timeseries(series_csv, timestamp="when")
    with pytest.raises(InputError, match="no value column 'nope'"):
        load_timeseries(series_csv, timestamp="time", columns=["nope"])


def test_many_series_one_model_each_or_shared(tmp_path):
    rng = np.random.default_rng(1)
    rows = []
    for i in range(400):  # two interleaved series at different levels
        rows.append((stamp(i), "a", rng.normal()))
        rows.append((stamp(i), "b", 100 + rng.normal()))
    rows[2 * 300 + 1] = (stamp(300), "b", 130.0)
    path = write(tmp_path / "many.csv", ["t", "id", "v"], rows)
    dataset = load_timeseries(path, timestamp="t", series_id="id")
    assert dataset.X.shape == (800, 1)
    from pynomaly_core.sdk import create_detector

    scores, _, _ = detect_timeseries(lambda: create_detector("anomaly_likelihood"), dataset)
    assert scores[601] == scores.max()  # in file order
    alone = create_detector("anomaly_likelihood").fit(dataset.X[1::2]).decision_scores_
    np.testing.assert_array_equal(scores[1::2], alone)  # series b by itself
    shared, _, _ = detect_timeseries(lambda: create_detector("anomaly_likelihood"), dataset, shared=True)
    assert shared.shape == (800,) and np.isfinite(shared).all()
    # order is checked within each series only
    rows[5] = (stamp(0), "b", 1.0)  # series b: minute 2 → minute 0, after minute 1
    write(tmp_path / "many.csv", ["t", "id", "v"], rows)
    with pytest.raises(InputError, match="of series 'b'"):
        load_timeseries(path, timestamp="t", series_id="id")


def test_only_known_formats_and_existing_files(tmp_path):
    with pytest.raises(InputError, match=r"read from CSV/TSV .*, Parquet .* files or SQL URLs"):
        load_timeseries(tmp_path / "s.xlsx", timestamp="t")
    with pytest.raises(InputError, match="no such file"):
        load_timeseries(tmp_path / "s.parquet", timestamp="t")
    with pytest.raises(InputError, match="no such file"):
        load_timeseries(tmp_path / "missing.csv", timestamp="t")


def test_sampling_report_of_one_row():
    assert sampling_report(np.array(["2024-01-01"], dtype="datetime64[ns]"))["interval_s"] is None


# -- the CLI -------------------------------------------------------------------------------------------------------
def test_detect_timestamp_uses_the_default_detector_one_score_per_row(cli, series_csv, tmp_path):
    out_file = tmp_path / "scores.csv"
    code, out, err = cli("detect", str(series_csv), "--timestamp", "time", "--columns", "value", "-o", str(out_file),
                         "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["detector"] == "builtin.anomaly_likelihood" and summary["rows"] == 600
    best = [r["row"] for r in summary["top"] if r["score"] == summary["top"][0]["score"]]
    assert 450 in best and len(best) <= 3
    assert len(out_file.read_text().splitlines()) == 601


def test_detect_kind_timeseries_picks_the_default(cli, series_csv, tmp_path):
    path = write(tmp_path / "plain.csv", ["value"], [(v,) for v in np.sin(np.arange(300) / 5)])
    code, out, err = cli("detect", str(path), "--kind", "timeseries", "--json")
    assert code == 0, err
    assert json.loads(out)["detector"] == "builtin.anomaly_likelihood"


def test_naming_a_time_series_detector_reads_rows_in_file_order(cli, tmp_path):
    path = write(tmp_path / "plain.csv", ["value"], [(v,) for v in np.sin(np.arange(300) / 5)])
    code, out, err = cli("detect", str(path), "-d", "spectral_residual", "--json")
    assert code == 0, err
    assert json.loads(out)["detector"] == "builtin.spectral_residual"


def test_detect_timestamp_reports_irregular_sampling(cli, tmp_path):
    path = write(tmp_path / "gaps.csv", ["t", "v"], [(i * 10 + (600 if i > 50 else 0), np.sin(i)) for i in range(100)])
    code, _out, err = cli("detect", str(path), "--timestamp", "t")
    assert code == 0 and "irregular sampling" in err and "1 gap(s)" in err


@pytest.mark.parametrize("extra, message", [
    (["--timestamp", "nope"], "no timestamp column 'nope'"),
    (["--timestamp", "time", "-d", "ecod"], "works on tabular data"),
    (["--kind", "pictures"], "--kind 'pictures'"),
    (["--series-id", "other"], "need --timestamp"),
])
def test_detect_timestamp_errors_are_one_line(cli, series_csv, tmp_path, extra, message):
    out_file = tmp_path / "never.csv"
    code, _out, err = cli("detect", str(series_csv), *extra, "-o", str(out_file))
    assert code == 2 and message in err and "Traceback" not in err
    assert not out_file.exists()


def test_detect_timestamp_rejects_disorder_unless_sorted(cli, tmp_path):
    path = write(tmp_path / "bad.csv", ["t", "v"], [(stamp(i), float(i)) for i in (0, 2, 1)] +
                 [(stamp(i), float(i)) for i in range(3, 200)])
    code, _out, err = cli("detect", str(path), "--timestamp", "t")
    assert code == 2 and "row 4" in err
    code, _out, err = cli("detect", str(path), "--timestamp", "t", "--sort")
    assert code == 0, err
