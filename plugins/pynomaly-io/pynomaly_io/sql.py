"""SQL loader (SQLAlchemy 2): a table or a query from SQLite, PostgreSQL or MySQL/MariaDB, fetched in batches.

``postgresql://`` uses psycopg 3 and ``mysql://`` / ``mariadb://`` PyMySQL, so no other driver is needed.
Rows are fetched through a server-side cursor (``stream_results``), so a large result is never held whole.
Numeric (and DECIMAL) columns become float64 with NULL as a missing value; text columns are categorical under
``categorical="auto"``. A first pass (categories, fill values) runs the statement once more, so a query should
return its rows in a stable order (``ORDER BY``) when it uses categorical columns or ``impute-median``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from pynomaly_core.data import Dataset, concat_datasets
from pynomaly_core.errors import InputError, first_line
from pynomaly_core.tabular import SNIFF_ROWS, ColumnBatch, TableEncoder, encoded_batches

WHOLE_ROWS = 1 << 20
#: Drivers for URLs that name only the database.
DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "mysql": "mysql+pymysql",
           "mariadb": "mariadb+pymysql"}


def _first_line(exc: BaseException) -> str:
    """The first line of a database error: the driver's own message (``orig``) when SQLAlchemy wraps one."""
    return first_line(getattr(exc, "orig", None) or exc)


class _SqlSource:
    def __init__(self, url: str, table: str | None, query: str | None, options: dict[str, Any]):
        try:
            parsed = sa.engine.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise InputError(f"{url}: not a database URL ({_first_line(exc)})") from None
        self.label = parsed.render_as_string(hide_password=True)
        if parsed.drivername in DRIVERS:
            parsed = parsed.set(drivername=DRIVERS[parsed.drivername])
        if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:") \
                and not Path(parsed.database).is_file():
            raise InputError(f"{self.label}: no such file {parsed.database}")
        if (table is None) == (query is None):
            raise InputError(f"{self.label}: give exactly one of --table or --query")
        if table is not None:
            schema, _, name = table.rpartition(".")
            self.statement: Any = sa.select(sa.text("*")).select_from(sa.table(name, schema=schema or None))
            sample = self.statement.limit(SNIFF_ROWS)
        else:
            text = query.strip().rstrip(";")
            self.statement = sa.text(text)
            sample = sa.select(sa.text("*")).select_from(sa.text(f"({text}) AS pynomaly_sample")).limit(SNIFF_ROWS)
        self.engine = sa.create_engine(parsed)
        try:
            with self.engine.connect() as connection:
                result = connection.execute(sample)
                self.names = [str(k) for k in result.keys()]  # noqa: SIM118 (a Result, not a dict)
                rows = result.fetchall()
        except sa.exc.SQLAlchemyError as exc:
            raise InputError(f"{self.label}: {self._own_error(query) or _first_line(exc)}") from None
        self.encoder = TableEncoder(self.label, self.names, **options)
        self.encoder.infer_categorical({j: [row[j] for row in rows] for j in range(len(self.names))})

    def _own_error(self, query: str | None) -> str | None:
        """The database's message for the query itself (not for the sampling wrapper around it), if it fails."""
        if query is not None:
            try:
                with self.engine.connect() as connection:
                    connection.execute(self.statement).close()
            except sa.exc.SQLAlchemyError as exc:
                return _first_line(exc)
        return None

    def read(self, rows: int) -> Iterator[ColumnBatch]:
        offset = 0
        try:
            with self.engine.connect() as connection:
                result = connection.execution_options(stream_results=True, yield_per=rows).execute(self.statement)
                try:
                    for part in result.partitions(rows):
                        columns = {j: np.array([row[j] for row in part], dtype=object) for j in self.encoder.used}
                        start = offset
                        yield ColumnBatch(columns, len(part), lambda i, start=start: f"row {start + i}")
                        offset += len(part)
                finally:
                    result.close()  # before the connection goes back to the pool (PyMySQL needs it)
        except sa.exc.SQLAlchemyError as exc:
            raise InputError(f"{self.label}: {_first_line(exc)}") from None


def iter_sql(source: str, rows: int = 65_536, *, table: str | None = None, query: str | None = None,
             columns: Sequence[str | int] | str | None = None, labels: str | None = None,
             categorical: Sequence[str] | str | None = "auto", encoding: str = "onehot",
             missing: str = "error") -> Iterator[Dataset]:
    """Batches of at most ``rows`` rows of a table or query at the database URL ``source``."""
    reader = _SqlSource(source, table, query, {"columns": columns, "labels": labels, "categorical": categorical,
                                               "encoding": encoding, "missing": missing})
    try:
        yield from encoded_batches(reader.encoder, reader.read, rows, reader.label)
    finally:
        reader.engine.dispose()


def load_sql(source: str, *, table: str | None = None, query: str | None = None,
             columns: Sequence[str | int] | str | None = None, labels: str | None = None,
             categorical: Sequence[str] | str | None = "auto", encoding: str = "onehot",
             missing: str = "error") -> Dataset:
    """Read a table (``table="name"`` or ``"schema.name"``) or a ``query`` from the database URL ``source``;
    other options as for the CSV loader."""
    return concat_datasets(list(iter_sql(source, WHOLE_ROWS, table=table, query=query, columns=columns,
                                         labels=labels, categorical=categorical, encoding=encoding,
                                         missing=missing)))


def read_columns(source: str, *, table: str | None = None,
                 query: str | None = None) -> tuple[list[str], dict[str, np.ndarray]]:
    """Every column of a table or query as an object array of the driver's values (``datetime``, ``date``,
    ``Decimal``, ``str``, ``None``, …), in the database's row order: for readers that convert columns themselves,
    such as timestamped data (:mod:`pynomaly_core.timeseries.readers`)."""
    reader = _SqlSource(source, table, query, {"columns": None, "labels": None, "categorical": None,
                                               "encoding": "onehot", "missing": "error"})
    try:
        parts = [batch.columns for batch in reader.read(WHOLE_ROWS)]
    finally:
        reader.engine.dispose()
    return reader.names, {name: np.concatenate([part[j] for part in parts]) if parts else np.empty(0, dtype=object)
                          for j, name in enumerate(reader.names)}
