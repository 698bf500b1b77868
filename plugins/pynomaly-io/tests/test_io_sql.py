"""The SQL loader against real databases: SQLite (a file), PostgreSQL and MariaDB on loopback.

Each test creates a uniquely named table and drops it afterwards. PostgreSQL / MariaDB tests are skipped (with the
reason) only when the server cannot be reached.
"""

from __future__ import annotations

import socket
import sqlite3
import uuid

import numpy as np
import pytest
import sqlalchemy as sa
from io_test_data import N_ROWS, columns, expected

from pynomaly_core import load_data
from pynomaly_core.cli.app import main
from pynomaly_core.data import concat_datasets
from pynomaly_core.errors import InputError
from pynomaly_core.streaming import iter_batches
from pynomaly_core.testing import check_loader

SERVERS = {
    "postgresql": ("postgresql://postgres@127.0.0.1:5432/test", 5432),
    "mariadb": ("mariadb://root@127.0.0.1:3306/test", 3306),
    "mysql": ("mysql://root@127.0.0.1:3306/test", 3306),
}
DRIVER = {"postgresql": "postgresql+psycopg", "mariadb": "mariadb+pymysql", "mysql": "mysql+pymysql"}


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def _fill(engine: sa.Engine, table: str) -> None:
    data = columns()
    with engine.begin() as connection:
        connection.execute(sa.text(
            f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, temp DOUBLE PRECISION, rpm INTEGER, "
            f"kind VARCHAR(16), label INTEGER)"))
        connection.execute(
            sa.text(f"INSERT INTO {table} VALUES (:id, :temp, :rpm, :kind, :label)"),
            [{"id": i, **{k: v[i] for k, v in data.items()}} for i in range(N_ROWS)])


@pytest.fixture(params=["sqlite", "postgresql", "mariadb", "mysql"])
def database(request, tmp_path):
    """(URL as a user writes it, table name) for a filled table, dropped after the test."""
    table = f"pyn_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'd.db'}"
        sqlite3.connect(tmp_path / "d.db").close()
        engine = sa.create_engine(url)
    else:
        url, port = SERVERS[request.param]
        if not _reachable(port):
            pytest.skip(f"{request.param} server not reachable on 127.0.0.1:{port}")
        engine = sa.create_engine(url.replace(request.param, DRIVER[request.param], 1))
    _fill(engine, table)
    try:
        yield url, table
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE {table}"))
        engine.dispose()


@pytest.mark.parametrize("missing", ["drop", "impute-median"])
def test_table_and_query_load_and_batch(database, missing):
    url, table = database
    X, names, y = expected(missing)
    by_table = load_data(url, query=f"SELECT temp, rpm, kind, label FROM {table} ORDER BY id", labels="label",
                         missing=missing)
    assert by_table.feature_names == names and by_table.y.tolist() == y.tolist()
    np.testing.assert_allclose(by_table.X, X, rtol=1e-12)
    whole = load_data(url, table=table, columns=["temp", "rpm", "kind"], labels="label", missing=missing)
    np.testing.assert_allclose(whole.X, X, rtol=1e-12)
    batches = list(iter_batches(url, 8, query=f"SELECT temp, rpm, kind, label FROM {table} ORDER BY id",
                                labels="label", missing=missing))
    assert max(b.n_rows for b in batches) <= 8
    assert np.array_equal(concat_datasets(batches).X, by_table.X)


def test_sql_passes_the_loader_conformance_checks(database):
    url, table = database
    check_loader("io.sql", url, n_rows=N_ROWS, query=f"SELECT rpm, kind FROM {table} ORDER BY id",
                 missing="impute-median")


def test_sql_errors_are_one_line(database):
    url, table = database
    with pytest.raises(InputError, match=r"missing value at row 4, column 'temp'"):
        load_data(url, query=f"SELECT temp, rpm FROM {table} ORDER BY id")
    with pytest.raises(InputError, match=r"give exactly one of --table or --query"):
        load_data(url)
    with pytest.raises(InputError) as info:
        load_data(url, table=f"{table}_missing")
    assert str(info.value).startswith(url) and f"{table}_missing" in str(info.value)
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match=r"syntax|selec") as info:
        load_data(url, query="SELEC 1")


def test_cli_detect_and_streamed_score_from_a_database(database, tmp_path, capsys):
    url, table = database
    query = f"SELECT temp, rpm, kind FROM {table} ORDER BY id"

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as info:
            main(list(args))
        captured = capsys.readouterr()
        return info.value.code or 0, captured.out, captured.err

    model = tmp_path / "model"
    code, _, err = run("train", url, "--query", query, "-O", "missing=impute-median", "-d", "hbos", "-o",
                       str(model))
    assert code == 0, err
    out_file = tmp_path / "scores.csv"
    code, out, err = run("score", str(model), url, "--query", query, "-O", "missing=impute-median",
                         "--batch-rows", "9", "-o", str(out_file))
    assert code == 0, err and f"{N_ROWS} rows" in out
    assert len(out_file.read_text().splitlines()) == N_ROWS + 1
    code, out, err = run("detect", url, "--table", table, "--columns", "temp,rpm", "-O", "missing=drop",
                         "--json")
    assert code == 0, err
    code, _, err = run("detect", url, "--columns", "temp")
    assert code == 2 and "give exactly one of --table or --query" in err


def test_missing_sqlite_file_is_not_created(tmp_path):
    path = tmp_path / "absent.db"
    with pytest.raises(InputError, match=rf"sqlite:///{path}: no such file"):
        load_data(f"sqlite:///{path}", table="t")
    assert not path.exists()
