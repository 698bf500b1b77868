"""Readers of timestamped tables: CSV/TSV, Parquet (pyarrow) and SQL (the io plugin's SQLAlchemy path).

Each reader returns a :class:`RawTable`: the column names in order and the requested columns as arrays, either
typed (``datetime64``, numbers, from Parquet) or object arrays of cells (text from CSV; the driver's values from
SQL: ``datetime``, ``date``, ``Decimal``, ``str``, ``None``). :func:`to_timestamps` and :func:`to_floats` turn any
of them into ``datetime64[ns]`` and ``float64``, so :func:`~pynomaly_core.timeseries.data.load_timeseries` has one
code path. Rows are named as their format names them: CSV rows by their line (the first data row is row 2),
Parquet and SQL rows by their 0-based position, as the io plugin's loaders do.
"""

from __future__ import annotations

import csv
import datetime as dt
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import numpy as np

from pynomaly_core.data import scheme_of
from pynomaly_core.errors import InputError, first_line

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")
_INSTALL_IO = "pip install 'pynomaly[io]' (the pynomaly-io plugin)"


@dataclass
class RawTable:
    """A table as read: ``names`` (all columns, in order), ``columns`` (the requested ones) and ``first_row``
    (the number messages give the first data row)."""

    source: str
    names: list[str]
    columns: dict[str, np.ndarray]
    first_row: int

    @property
    def n_rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def read_table(source: str | Path, wanted: Collection[str] | None = None, *, table: str | None = None,
               query: str | None = None) -> RawTable:
    """Read the ``wanted`` columns (all when ``None``) of a CSV/TSV or Parquet file or a SQL URL
    (``sqlite:///file.db``, ``postgresql://…``; ``table``/``query``, or ``?table=NAME`` in the URL)."""
    text = str(source)
    scheme = scheme_of(text)
    if scheme is not None and scheme.split("+")[0] in SQL_SCHEMES:
        return read_sql(text, wanted, table=table, query=query)
    if table is not None or query is not None:
        raise InputError(f"{text}: --table and --query read SQL URLs (sqlite:///file.db, postgresql://…)")
    path = Path(text)
    suffix = path.suffix.lower()
    if scheme is not None or suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise InputError(f"{text}: timestamped data is read from CSV/TSV ({', '.join(CSV_SUFFIXES)}), Parquet "
                         f"({', '.join(PARQUET_SUFFIXES)}) files or SQL URLs ({', '.join(SQL_SCHEMES)})")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return read_parquet(path, wanted) if suffix in PARQUET_SUFFIXES else read_csv(path, wanted)


def read_csv(path: Path, wanted: Collection[str] | None = None) -> RawTable:
    """A CSV/TSV file (delimiter sniffed among ``, ; tab |``): the cells as text."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            sample = handle.read(4096)
            handle.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
            except csv.Error:
                dialect = csv.excel
            rows = [row for row in csv.reader(handle, dialect) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read ({first_line(exc)})") from None
    if not rows:
        raise InputError(f"{path}: empty file")
    names = [name.strip() for name in rows[0]]
    body = rows[1:]
    for i, row in enumerate(body):
        if len(row) != len(names):
            raise InputError(f"{path}: row {i + 2}: expected {len(names)} columns, got {len(row)}")
    columns = {name: np.array([row[j] for row in body], dtype=object)
               for j, name in enumerate(names) if wanted is None or name in wanted}
    return RawTable(str(path), names, columns, first_row=2)


def read_parquet(path: Path, wanted: Collection[str] | None = None) -> RawTable:
    """A Parquet file through pyarrow (only the wanted columns are read); timestamp and date columns stay typed."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(f"{path}: reading Parquet needs pyarrow: {_INSTALL_IO}") from None
    try:
        handle = pq.ParquetFile(path)
        names = list(handle.schema_arrow.names)
        read = [name for name in names if wanted is None or name in wanted]
        data = handle.read(columns=read)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({first_line(exc)})") from None
    return RawTable(str(path), names, {name: _arrow_column(data.column(name), name, path) for name in read},
                    first_row=0)


def _arrow_column(column: object, name: str, path: Path) -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type  # type: ignore[attr-defined]
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)  # type: ignore[attr-defined]
        kind = kind.value_type
    if pa.types.is_timestamp(kind):  # with a timezone the values are UTC instants
        return column.cast(pa.timestamp(kind.unit)).to_numpy().astype("datetime64[ns]")  # type: ignore
    if pa.types.is_date(kind):
        return column.cast(pa.timestamp("ms")).to_numpy().astype("datetime64[ns]")  # type: ignore
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) \
            or pa.types.is_decimal(kind):
        return np.asarray(pc.cast(column, pa.float64()).to_numpy(), dtype=np.float64)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return np.array(column.to_pylist(), dtype=object)  # type: ignore[attr-defined]
    raise InputError(f"{path}: column {name!r} has unsupported type {kind}")


def read_sql(url: str, wanted: Collection[str] | None = None, *, table: str | None = None,
             query: str | None = None) -> RawTable:
    """A table or query at a database URL, through the io plugin's SQL reader (SQLAlchemy; psycopg 3 for
    PostgreSQL, PyMySQL for MySQL/MariaDB). ``?table=NAME`` / ``?query=SELECT…`` in the URL work as the options."""
    url, table, query = split_sql_url(url, table, query)
    try:
        from pynomaly_io.sql import read_columns
    except ImportError:
        raise InputError(f"{url}: reading SQL needs SQLAlchemy and the io plugin: {_INSTALL_IO}") from None
    if table is None and query is None:
        raise InputError(f"{url}: name the table (--table NAME, or ?table=NAME in the URL) or a --query")
    names, columns = read_columns(url, table=table, query=query)
    return RawTable(url, names, {name: values for name, values in columns.items() if wanted is None or name in wanted},
                    first_row=0)


def split_sql_url(url: str, table: str | None, query: str | None) -> tuple[str, str | None, str | None]:
    """``(url without table/query parameters, table, query)``; an option and a URL parameter both given is an error."""
    base, sep, params = url.partition("?")
    if not sep:
        return url, table, query
    kept = []
    for key, value in parse_qsl(params, keep_blank_values=True):
        if key in ("table", "query"):
            if (table if key == "table" else query) is not None:
                raise InputError(f"{base}: {key} given twice (--{key} and ?{key}= in the URL)")
            table, query = (value, query) if key == "table" else (table, value)
        else:
            kept.append((key, value))
    return (f"{base}?{urlencode(kept)}" if kept else base), table, query


# -- conversions ------------------------------------------------------------------------------------------------
def cell_text(value: object) -> str:
    """A cell as messages quote it."""
    if isinstance(value, np.datetime64):
        whole = value.astype("datetime64[ns]").astype(np.int64) % 10**9 == 0
        return str(np.datetime_as_string(value, unit="s" if whole else "auto"))
    return str(value).strip() if isinstance(value, str) else str(value)


def to_timestamps(values: np.ndarray, where: str, first_row: int = 2) -> np.ndarray:
    """Timestamps as ``datetime64[ns]`` (naive; aware ones in UTC): typed date-times; numbers (seconds since the
    epoch); ISO 8601 text (``T`` or a space, optional ``Z`` or ``±HH:MM`` offset); ``datetime``/``date`` objects."""
    if values.dtype.kind == "M":
        stamps = values.astype("datetime64[ns]")
    elif values.dtype.kind in "iuf":
        stamps = _from_seconds(values.astype(np.float64), where, first_row)
    elif values.dtype.kind == "O":
        stamps = _from_objects(values, where, first_row)
    else:
        raise InputError(f"{where}: timestamps of type {values.dtype} are not supported")
    missing = np.isnat(stamps)
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise InputError(f"{where}: row {row + first_row}: missing timestamp")
    return stamps


#: Seconds since the epoch that ``datetime64[ns]`` holds (years 1678 to 2262).
_MAX_SECONDS = (2**63 - 1) // 10**9


def _from_seconds(seconds: np.ndarray, where: str, first_row: int) -> np.ndarray:
    """Seconds since the epoch (integers exact, fractions to the nanosecond) as ``datetime64[ns]``."""
    bad = ~np.isfinite(seconds) if seconds.dtype.kind == "f" else np.zeros(seconds.shape, dtype=bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"{where}: row {row + first_row}: missing timestamp")
    far = np.abs(seconds) > _MAX_SECONDS
    if far.any():
        row = int(np.flatnonzero(far)[0])
        raise InputError(f"{where}: row {row + first_row}: timestamp {seconds[row]!r} seconds since the epoch is "
                         "out of range (years 1678 to 2262)")
    if seconds.dtype.kind in "iu":
        return (seconds.astype(np.int64) * 10**9).astype("datetime64[ns]")
    whole = np.floor(seconds)
    nanos = whole.astype(np.int64) * 10**9 + np.round((seconds - whole) * 1e9).astype(np.int64)
    return nanos.astype("datetime64[ns]")


def _from_objects(values: np.ndarray, where: str, first_row: int) -> np.ndarray:
    cells = values.tolist()
    if cells and all(isinstance(c, str) for c in cells):
        return _from_text([c.strip() for c in cells], where, first_row)
    if cells and all(isinstance(c, int | float) and not isinstance(c, bool) for c in cells):
        return _from_seconds(_numbers(cells), where, first_row)
    out = np.empty(len(cells), dtype="datetime64[ns]")
    for i, cell in enumerate(cells):
        if isinstance(cell, dt.datetime | dt.date):
            out[i] = _from_datetime(cell)
        elif cell is None:
            raise InputError(f"{where}: row {i + first_row}: missing timestamp")
        elif isinstance(cell, str):
            out[i] = _from_text([cell.strip()], where, first_row + i)[0]
        else:
            try:
                out[i] = _from_seconds(_numbers([cell]), where, first_row + i)[0]  # Decimal
            except (TypeError, ValueError):
                raise InputError(f"{where}: row {i + first_row}: cannot parse timestamp {cell!r}") from None
    return out


def _from_datetime(value: dt.date) -> np.datetime64:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return np.datetime64(value, "ns") if isinstance(value, dt.datetime) else np.datetime64(value, "D")


def _numbers(cells: list) -> np.ndarray:
    """Numbers (or numeric text) as int64 when all are integers (exact seconds), else float64."""
    try:
        return np.array([int(c) for c in cells], dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return np.array([float(c) for c in cells], dtype=np.float64)


def _from_text(texts: list[str], where: str, first_row: int) -> np.ndarray:
    try:
        seconds = _numbers(texts)
    except ValueError:
        pass
    else:
        return _from_seconds(seconds, where, first_row)
    try:
        with warnings.catch_warnings():  # NumPy parses a UTC offset only with a deprecation warning: not here
            warnings.simplefilter("error")
            return np.array([t.replace(" ", "T", 1).removesuffix("Z") for t in texts], dtype="datetime64[ns]")
    except (ValueError, Warning):
        pass
    out = np.empty(len(texts), dtype="datetime64[ns]")
    for i, text in enumerate(texts):  # offsets (+01:00) and other ISO 8601 forms Python reads
        try:
            out[i] = np.datetime64(_from_datetime(dt.datetime.fromisoformat(text)), "ns")
        except ValueError:
            raise InputError(f"{where}: row {i + first_row}: cannot parse timestamp {text!r}") from None
    return out


def to_floats(values: np.ndarray, column: str, where: str, first_row: int = 2) -> np.ndarray:
    """A value column as finite ``float64``; a non-number or a missing/infinite value names its row."""
    if values.dtype.kind in "mM":
        raise InputError(f"{where}: column {column!r} holds date-times, not numbers")
    try:
        out = values.astype(np.float64)  # numbers, numeric text, Decimal; None becomes NaN
    except (TypeError, ValueError):
        cells = values.tolist()
        out = np.empty(len(cells))
        for i, cell in enumerate(cells):
            try:
                out[i] = float(cell.strip() if isinstance(cell, str) else cell)
            except (TypeError, ValueError):
                if cell is None:
                    raise InputError(f"{where}: row {i + first_row}, column {column!r}: missing value") from None
                raise InputError(f"{where}: row {i + first_row}, column {column!r}: not a number: {cell!r}") \
                    from None
    bad = ~np.isfinite(out)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"{where}: row {row + first_row}, column {column!r}: missing or infinite value")
    return out
