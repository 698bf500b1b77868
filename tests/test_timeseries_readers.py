"""Timestamped Parquet and SQL: native timestamp types, text and epoch numbers, order checks naming the row, sort,
series ids; the readers' conversions; ``detect --timestamp`` on Parquet and SQL URLs."""

from __future__ import annotations

import datetime as dt
import json
import socket
import sqlite3
import uuid

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynomaly_core.errors import InputError
from pynomaly_core.timeseries.data import load_timeseries
from pynomaly_core.timeseries.readers import split_sql_url, to_floats, to_timestamps

UTC = dt.timezone.utc
START = dt.datetime(2024, 3, 1, 12, 0)


def minutes(n: int, tz: dt.tzinfo | None = None) -> list[dt.datetime]:
    return [(START + dt.timedelta(minutes=i)).replace(tzinfo=tz) for i in range(n)]


def expected(n: int) -> np.ndarray:
    return np.array(minutes(n), dtype="datetime64[ns]")


# -- conversions ------------------------------------------------------------------------------------------------
def test_text_with_offsets_and_z_becomes_utc():
    cells = np.array(["2024-03-01T13:00:00+01:00", "2024-03-01T12:01:00Z", "2024-03-01 12:02:00"], dtype=object)
    np.testing.assert_array_equal(to_timestamps(cells, "x"), expected(3))


def test_datetime_and_date_objects_and_numbers():
    aware = np.array(minutes(3, dt.timezone(dt.timedelta(hours=-5))), dtype=object)
    np.testing.assert_array_equal(to_timestamps(aware, "x"), expected(3) + np.timedelta64(5, "h"))
    dates = np.array([dt.date(2024, 3, 1), dt.date(2024, 3, 2)], dtype=object)
    assert str(to_timestamps(dates, "x")[1]) == "2024-03-02T00:00:00.000000000"
    np.testing.assert_array_equal(to_timestamps(np.array([0, 90]), "x").astype(np.int64), [0, 90 * 10**9])


@pytest.mark.parametrize(("cells", "message"), [
    ([START, None], "x: row 1: missing timestamp"),
    (["2024-03-01", "noon"], "x: row 1: cannot parse timestamp 'noon'"),
    ([1.0, float("nan")], "x: row 1: missing timestamp"),
])
def test_bad_timestamps_name_the_row(cells, message):
    with pytest.raises(InputError, match=message):
        to_timestamps(np.array(cells, dtype=object), "x", first_row=0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-2**33, 2**33), min_size=1, max_size=20), st.integers(0, 999))
def test_epoch_seconds_as_numbers_or_text_are_the_same_instants(seconds, millis):
    want = np.array(seconds, dtype="datetime64[s]").astype("datetime64[ns]")
    np.testing.assert_array_equal(to_timestamps(np.array(seconds, dtype=np.int64), "x"), want)
    np.testing.assert_array_equal(to_timestamps(np.array([str(s) for s in seconds], dtype=object), "x"), want)
    np.testing.assert_array_equal(to_timestamps(np.array(seconds, dtype=object), "x"), want)
    fractional = to_timestamps(np.array([s + millis / 1000 for s in seconds if abs(s) < 2**31]), "x")
    want_ms = np.array([s * 1000 + millis for s in seconds if abs(s) < 2**31], dtype="datetime64[ms]")
    assert (np.abs(fractional - want_ms.astype("datetime64[ns]")) <= np.timedelta64(1, "us")).all()


def test_epoch_seconds_out_of_range_name_the_row():
    with pytest.raises(InputError, match=r"x: row 3: timestamp .* out of range"):
        to_timestamps(np.array([0, 10**12]), "x")


def test_values_missing_or_not_numbers_name_row_and_column():
    with pytest.raises(InputError, match=r"x: row 1, column 'v': missing or infinite value"):
        to_floats(np.array([1.0, None], dtype=object), "v", "x", first_row=0)
    with pytest.raises(InputError, match=r"x: row 0, column 'v': not a number: 'a'"):
        to_floats(np.array(["a"], dtype=object), "v", "x", first_row=0)
    with pytest.raises(InputError, match="holds date-times"):
        to_floats(expected(2), "v", "x")


def test_sql_url_parameters():
    assert split_sql_url("sqlite:///a.db?table=t", None, None) == ("sqlite:///a.db", "t", None)
    assert split_sql_url("postgresql://u@h/db?sslmode=disable&table=s.t", None, None) == \
        ("postgresql://u@h/db?sslmode=disable", "s.t", None)
    with pytest.raises(InputError, match="table given twice"):
        split_sql_url("sqlite:///a.db?table=t", "u", None)


# -- Parquet ------------------------------------------------------------------------------------------------------
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def series_values(n: int, spike: int | None = None) -> np.ndarray:
    values = np.sin(np.arange(n) / 5) + 0.05 * np.random.default_rng(0).normal(size=n)
    if spike is not None:
        values[spike] += 5
    return values


def write_parquet(path, **columns):
    pq.write_table(pa.table(columns), path)
    return path


@pytest.mark.parametrize("kind", ["us-utc", "ms-paris", "ns-naive", "s-naive"])
def test_parquet_native_timestamps_with_or_without_timezone(tmp_path, kind):
    unit, zone = kind.split("-")
    tz = {"utc": "UTC", "paris": "Europe/Paris", "naive": None}[zone]
    stamps = pa.array(minutes(50, UTC if tz else None), pa.timestamp(unit, tz=tz))
    path = write_parquet(tmp_path / "s.parquet", ts=stamps, v=pa.array(series_values(50)))
    dataset = load_timeseries(path, timestamp="ts")
    np.testing.assert_array_equal(dataset.extra["timestamps"], expected(50))  # UTC instants, naive
    assert dataset.feature_names == ["v"] and dataset.extra["sampling"]["interval_s"] == 60.0


def test_parquet_dates_text_and_epoch_columns(tmp_path):
    days = [dt.date(2024, 3, 1) + dt.timedelta(days=i) for i in range(10)]
    path = write_parquet(tmp_path / "s.parquet", day=pa.array(days, pa.date32()),
                         text=pa.array([d.isoformat() for d in days]),
                         epoch=pa.array([int(dt.datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())
                                         for d in days], pa.int64()),
                         v=pa.array(np.arange(10), pa.int32()))
    got = [load_timeseries(path, timestamp=col, columns="v").extra["timestamps"] for col in ("day", "text", "epoch")]
    np.testing.assert_array_equal(got[0], got[1])
    np.testing.assert_array_equal(got[0], got[2])
    assert load_timeseries(path, timestamp="day", columns="v").extra["sampling"]["interval_s"] == 86400.0


def test_parquet_out_of_order_names_the_row_and_sort_fixes_it(tmp_path):
    stamps = minutes(6)
    stamps[3], stamps[4] = stamps[4], stamps[3]
    path = write_parquet(tmp_path / "s.parquet", ts=pa.array(stamps, pa.timestamp("us")),
                         v=pa.array([0.0, 1, 2, 4, 3, 5]))
    with pytest.raises(InputError, match=r"s\.parquet: row 4: timestamp '2024-03-01T12:03:00' is earlier"):
        load_timeseries(path, timestamp="ts")
    dataset = load_timeseries(path, timestamp="ts", sort=True)
    np.testing.assert_array_equal(dataset.X[:, 0], [0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(dataset.extra["order"], [0, 1, 2, 4, 3, 5])


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(12)), st.lists(st.sampled_from("ab"), min_size=12, max_size=12))
def test_sort_gives_each_series_in_time_order_and_order_maps_back(permutation, ids):
    import tempfile

    stamps = np.array(minutes(12), dtype="datetime64[us]")[list(permutation)]
    values = np.arange(12.0)[list(permutation)]
    with tempfile.TemporaryDirectory() as folder:
        path = write_parquet(f"{folder}/p.parquet", ts=pa.array(stamps), id=pa.array(ids), v=pa.array(values))
        dataset = load_timeseries(path, timestamp="ts", series_id="id", sort=True)
    order = dataset.extra["order"]
    np.testing.assert_array_equal(dataset.X[:, 0], values[order])  # row k of the dataset is file row order[k]
    assert sorted(order.tolist()) == list(range(12))
    for key in set(ids):
        mine = dataset.extra["series"] == key
        assert (np.diff(dataset.extra["timestamps"][mine]) > np.timedelta64(0)).all()
    firsts = list(dict.fromkeys(ids))
    assert list(dict.fromkeys(dataset.extra["series"].tolist())) == firsts  # series in first-seen order


def test_parquet_series_ids_and_missing_values(tmp_path):
    ids = pa.array(["a", "b"] * 5).dictionary_encode()
    stamps = pa.array([s for s in minutes(5) for _ in (0, 1)], pa.timestamp("us", tz="UTC"))
    path = write_parquet(tmp_path / "s.parquet", ts=stamps, id=ids, v=pa.array(np.arange(10.0)))
    dataset = load_timeseries(path, timestamp="ts", series_id="id")
    assert dataset.extra["series"].tolist() == ["a", "b"] * 5 and dataset.feature_names == ["v"]
    assert dataset.extra["sampling"]["interval_s"] == 60.0 and dataset.extra["sampling"]["irregular"] == 0
    holes = write_parquet(tmp_path / "h.parquet", ts=stamps, v=pa.array([1.0, None] * 5))
    with pytest.raises(InputError, match=r"h\.parquet: row 1, column 'v': missing or infinite value"):
        load_timeseries(holes, timestamp="ts")
    with pytest.raises(InputError, match=r"no timestamp column 'when' \(columns: ts, v\)"):
        load_timeseries(holes, timestamp="when")


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    path = write_parquet(tmp_path / "s.parquet", ts=pa.array(minutes(3)), v=pa.array([1.0, 2, 3]))
    monkeypatch.setitem(__import__("sys").modules, "pyarrow.parquet", None)
    with pytest.raises(InputError, match=r"reading Parquet needs pyarrow: pip install 'pynomaly\[io\]'"):
        load_timeseries(path, timestamp="ts")


# -- SQL ----------------------------------------------------------------------------------------------------------
def sqlite_table(tmp_path, rows, columns="ts TIMESTAMP, id TEXT, v REAL"):
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as connection:
        connection.execute(f"CREATE TABLE t ({columns})")
        connection.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(rows[0]))})", rows)
    connection.close()
    return f"sqlite:///{path}"


def test_sqlite_text_and_epoch_timestamps_table_or_query(tmp_path):
    pytest.importorskip("pynomaly_io.sql")
    url = sqlite_table(tmp_path, [(f"2024-03-01 12:0{i}:00", i, "a", float(i)) for i in range(6)],
                       "ts TIMESTAMP, epoch INTEGER, id TEXT, v REAL")
    dataset = load_timeseries(f"{url}?table=t", timestamp="ts", columns=["v"])
    np.testing.assert_array_equal(dataset.extra["timestamps"], expected(6))
    np.testing.assert_array_equal(dataset.X[:, 0], np.arange(6.0))
    assert load_timeseries(url, timestamp="epoch", columns="v", table="t").extra["sampling"]["interval_s"] == 1.0
    with pytest.raises(InputError, match=r"x\.db: row 1: timestamp '2024-03-01 12:04:00' is earlier"):
        load_timeseries(url, timestamp="ts", columns="v", query="SELECT * FROM t ORDER BY v DESC")
    backwards = load_timeseries(url, timestamp="ts", columns="v", query="SELECT * FROM t ORDER BY v DESC",
                                sort=True)
    np.testing.assert_array_equal(backwards.extra["order"], [5, 4, 3, 2, 1, 0])
    with pytest.raises(InputError, match="name the table"):
        load_timeseries(url, timestamp="ts")
    with pytest.raises(InputError, match="no such table"):
        load_timeseries(f"{url}?table=nope", timestamp="ts")


def test_sqlite_series_ids_are_checked_within_each(tmp_path):
    pytest.importorskip("pynomaly_io.sql")
    rows = [(f"2024-03-01 12:0{i}:00", key, float(i)) for i in range(5) for key in ("a", "b")]
    rows[5] = ("2024-03-01 12:00:00", "b", 9.0)  # series b goes back in time at row 5 (0-based)
    url = sqlite_table(tmp_path, rows)
    with pytest.raises(InputError, match=r"row 5: timestamp '2024-03-01 12:00:00' is earlier .* of series 'b'"):
        load_timeseries(f"{url}?table=t", timestamp="ts", series_id="id")
    dataset = load_timeseries(f"{url}?table=t", timestamp="ts", series_id="id", sort=True)
    assert dataset.extra["series"].tolist() == ["a"] * 5 + ["b"] * 5  # each series together, in time order
    assert (np.diff(dataset.extra["timestamps"][5:]) >= np.timedelta64(0)).all()
    np.testing.assert_array_equal(dataset.extra["order"][5:], [1, 5, 3, 7, 9])  # ties keep file order


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


SERVERS = {"postgresql": ("postgresql://postgres@127.0.0.1:5432/test", 5432, "TIMESTAMP", "TIMESTAMPTZ"),
           "mariadb": ("mariadb://root@127.0.0.1:3306/test", 3306, "DATETIME", "TIMESTAMP")}


@pytest.mark.parametrize("server", sorted(SERVERS))
def test_server_native_timestamp_types(server):
    sa = pytest.importorskip("sqlalchemy")
    pytest.importorskip("pynomaly_io.sql")
    from pynomaly_io.sql import DRIVERS

    url, port, naive, aware = SERVERS[server]
    if not reachable(port):
        pytest.skip(f"{server} server not reachable on 127.0.0.1:{port}")
    table = f"pn_ts_{uuid.uuid4().hex[:10]}"
    parsed = sa.engine.make_url(url)
    engine = sa.create_engine(parsed.set(drivername=DRIVERS[parsed.drivername]))
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE TABLE {table} (t {naive}, tz {aware}, d DATE, v NUMERIC(10, 3), "
                                       "s VARCHAR(8))"))
            for i, stamp in enumerate(minutes(8)):
                connection.execute(sa.text(f"INSERT INTO {table} VALUES (:t, :tz, :d, :v, :s)"),
                                   {"t": stamp, "tz": stamp.replace(tzinfo=UTC), "d": (stamp + dt.timedelta(i)).date(),
                                    "v": i + 0.5, "s": "ab"[i % 2]})
        for column in ("t", "tz"):
            dataset = load_timeseries(f"{url}?table={table}", timestamp=column, columns="v")
            np.testing.assert_array_equal(dataset.extra["timestamps"], expected(8))
            np.testing.assert_array_equal(dataset.X[:, 0], np.arange(8) + 0.5)
        days = load_timeseries(url, timestamp="d", columns="v", series_id="s", table=table)
        assert days.extra["sampling"]["interval_s"] == 2 * 86400.0 and days.extra["series"].tolist()[:2] == ["a", "b"]
        with pytest.raises(InputError, match=r"row 1: timestamp .* is earlier"):
            load_timeseries(url, timestamp="t", columns="v", query=f"SELECT * FROM {table} ORDER BY v DESC")
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()


# -- the CLI ------------------------------------------------------------------------------------------------------
def test_detect_on_parquet_and_sqlite_gives_the_csv_scores(cli, tmp_path):
    pytest.importorskip("pynomaly_io.sql")
    values = series_values(300, spike=200)
    stamps = minutes(300)
    csv_path = tmp_path / "s.csv"
    csv_path.write_text("ts,v\n" + "".join(f"{s.isoformat()},{float(v)!r}\n"
                                           for s, v in zip(stamps, values, strict=True)))
    parquet = write_parquet(tmp_path / "s.parquet", ts=pa.array(stamps, pa.timestamp("ms", tz="UTC")),
                            v=pa.array(values))
    url = sqlite_table(tmp_path, [(s.isoformat(" "), "a", v) for s, v in zip(stamps, values, strict=True)])
    outputs = []
    for source in (str(csv_path), str(parquet), f"{url}?table=t"):
        out_file = tmp_path / f"o{len(outputs)}.csv"
        code, out, err = cli("detect", source, "--timestamp", "ts", "--columns", "v", "-o", str(out_file), "--json")
        assert code == 0, err
        assert json.loads(out)["detector"] == "builtin.anomaly_likelihood"
        outputs.append(out_file.read_text())
    assert outputs[0] == outputs[1] == outputs[2] and len(outputs[0].splitlines()) == 301


@pytest.mark.parametrize(("args", "message"), [
    (["s.xlsx", "--timestamp", "ts"], "timestamped data is read from CSV/TSV"),
    (["s.parquet", "--timestamp", "when"], "no timestamp column 'when'"),
    (["s.parquet", "--timestamp", "ts", "--loader", "csv"], "--loader does not apply with --timestamp"),
    (["s.parquet", "--timestamp", "ts", "--table", "t"], "--table and --query read SQL URLs"),
    (["sqlite:///x.db", "--timestamp", "ts"], "name the table"),
])
def test_detect_timestamp_errors_exit_2(cli, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    write_parquet(tmp_path / "s.parquet", ts=pa.array(minutes(20)), v=pa.array(np.arange(20.0)))
    sqlite_table(tmp_path, [("2024-03-01 12:00:00", "a", 1.0)])
    code, _out, err = cli("detect", *args)
    assert code == 2 and message in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1
