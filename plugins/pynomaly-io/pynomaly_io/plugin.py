"""Entry point of the ``io`` plugin: loader specs only (pyarrow, h5py and SQLAlchemy load on first use)."""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl
from pynomaly_core.specs import LoaderSpec

_TABLE = {"columns": None, "labels": None, "categorical": "auto", "encoding": "onehot", "missing": "error"}

#: URL schemes of the SQL loader; bare ``postgresql``/``mysql``/``mariadb`` use psycopg 3 / PyMySQL.
SQL_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg", "postgres", "mysql", "mysql+pymysql", "mariadb",
               "mariadb+pymysql")


@hookimpl
def register_loaders(register):
    register(LoaderSpec(
        name="parquet",
        summary="Parquet file (pyarrow), read batch by batch; string columns are categorical.",
        target="pynomaly_io.arrow:load_parquet",
        iter_target="pynomaly_io.arrow:iter_parquet",
        params=_TABLE,
        suffixes=(".parquet", ".pq"),
    ))
    register(LoaderSpec(
        name="arrow",
        summary="Arrow IPC file or stream / Feather v2 (pyarrow, memory-mapped), read batch by batch.",
        target="pynomaly_io.arrow:load_arrow",
        iter_target="pynomaly_io.arrow:iter_arrow",
        params=_TABLE,
        suffixes=(".arrow", ".feather", ".ipc"),
    ))
    register(LoaderSpec(
        name="hdf5",
        summary="HDF5 dataset (h5py) by its path in the file: 2-D numeric or a table of named fields.",
        target="pynomaly_io.hdf5:load_hdf5",
        iter_target="pynomaly_io.hdf5:iter_hdf5",
        params={"dataset": None, "labels": None, "columns": None, "missing": "error"},
        suffixes=(".h5", ".hdf5", ".hdf"),
    ))
    register(LoaderSpec(
        name="sql",
        summary="A table or query through SQLAlchemy: SQLite, PostgreSQL (psycopg 3), MySQL/MariaDB (PyMySQL).",
        target="pynomaly_io.sql:load_sql",
        iter_target="pynomaly_io.sql:iter_sql",
        params={"table": None, "query": None, **_TABLE},
        schemes=SQL_SCHEMES,
    ))
