"""Parquet and Arrow IPC / Feather loaders (pyarrow), read in record batches.

Numeric and boolean columns become float64 (a null or NaN is a missing value); string and dictionary columns are
categorical under ``categorical="auto"``. Options, categorical encoding and the missing-value policy are those of
:class:`pynomaly_core.tabular.TableEncoder`. Rows are named by their 0-based position in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc
import pyarrow.parquet as pq

from pynomaly_core.data import Dataset, concat_datasets
from pynomaly_core.errors import InputError, first_line
from pynomaly_core.tabular import ColumnBatch, TableEncoder, encoded_batches

WHOLE_ROWS = 1 << 20


def is_categorical_type(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind)


def column_values(column: pa.Array | pa.ChunkedArray, name: str, source: str, categorical: bool) -> np.ndarray:
    """An Arrow column as float64 (NaN = missing) or, when ``categorical``, an object array of str / None."""
    kind = column.type
    if categorical:
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type) if isinstance(column, pa.Array) else pa.chunked_array(
                [chunk.dictionary_decode() for chunk in column.chunks], type=kind.value_type)
        return np.array(column.to_pylist(), dtype=object)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) \
            or pa.types.is_decimal(kind):
        return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    if is_categorical_type(kind) or pa.types.is_null(kind):
        return np.array(column.to_pylist(), dtype=object)  # the encoder names the first non-numeric value
    raise InputError(f"{source}: column {name!r} has unsupported type {kind}")


def rechunk(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows (the last one shorter) from record batches of any size."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


class ArrowSource:
    """Column names, encoder and batch reader of one Arrow-readable file."""

    def __init__(self, path: Path, schema: pa.Schema, open_batches: Callable[[list[str], int],
                 Iterator[pa.RecordBatch]], what: str, options: dict[str, Any]):
        self.path, self.schema, self.open_batches, self.what = path, schema, open_batches, what
        self.names = list(schema.names)
        self.encoder = TableEncoder(str(path), self.names, **options)
        if self.encoder.auto_categorical:
            self.encoder.categorical |= {j for j in self.encoder.feature_indices
                                         if is_categorical_type(schema.field(j).type)}
            self.encoder.auto_categorical = False

    def read(self, rows: int) -> Iterator[ColumnBatch]:
        used = self.encoder.used
        wanted = [self.names[j] for j in used]
        offset = 0
        try:
            for table in rechunk(self.open_batches(wanted, rows), rows):
                columns = {j: column_values(table.column(self.names[j]), self.names[j], str(self.path),
                                            j in self.encoder.categorical) for j in used}
                start = offset
                yield ColumnBatch(columns, table.num_rows, lambda i, start=start: f"row {start + i}")
                offset += table.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{self.path}: not a readable {self.what} file ({first_line(exc)})") from None


def _options(columns: Any, labels: Any, categorical: Any, encoding: str, missing: str) -> dict[str, Any]:
    return {"columns": columns, "labels": labels, "categorical": categorical, "encoding": encoding,
            "missing": missing}


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")


# -- Parquet -------------------------------------------------------------------------------------------------
def _parquet_source(source: str, options: dict[str, Any]) -> ArrowSource:
    path = Path(source)
    _check_file(path)
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({first_line(exc)})") from None

    def open_batches(columns: list[str], rows: int) -> Iterator[pa.RecordBatch]:
        # One row group at a time: a single iter_batches over the whole file keeps growing pyarrow's memory
        # (measured: +50 MB per million rows), per row group it stays flat.
        handle = pq.ParquetFile(path)
        for group in range(handle.num_row_groups):
            yield from handle.iter_batches(batch_size=rows, columns=columns, row_groups=[group])

    return ArrowSource(path, parquet.schema_arrow, open_batches, "Parquet", options)


def iter_parquet(source: str, rows: int = 65_536, *, columns: Sequence[str | int] | str | None = None,
                 labels: str | None = None, categorical: Sequence[str] | str | None = "auto",
                 encoding: str = "onehot", missing: str = "error") -> Iterator[Dataset]:
    """Batches of at most ``rows`` rows of a Parquet file (only the selected columns are read)."""
    reader = _parquet_source(source, _options(columns, labels, categorical, encoding, missing))
    yield from encoded_batches(reader.encoder, reader.read, rows, source)


def load_parquet(source: str, *, columns: Sequence[str | int] | str | None = None, labels: str | None = None,
                 categorical: Sequence[str] | str | None = "auto", encoding: str = "onehot",
                 missing: str = "error") -> Dataset:
    """Read a Parquet file; options as for the CSV loader (``columns``, ``labels``, ``categorical``,
    ``encoding`` onehot/ordinal, ``missing`` error/drop/impute-median)."""
    return concat_datasets(list(iter_parquet(source, WHOLE_ROWS, columns=columns, labels=labels,
                                             categorical=categorical, encoding=encoding, missing=missing)))


# -- Arrow IPC / Feather -------------------------------------------------------------------------------------
def _ipc_batches(path: Path, columns: list[str]) -> Iterator[pa.RecordBatch]:
    with pa.memory_map(str(path)) as mapped:
        try:
            reader: Any = pa.ipc.open_file(mapped)
            batches: Iterator[pa.RecordBatch] = (reader.get_batch(i) for i in range(reader.num_record_batches))
        except pa.ArrowInvalid:
            mapped.seek(0)
            batches = iter(pa.ipc.open_stream(mapped))
        for batch in batches:
            yield batch.select(columns)


def _arrow_source(source: str, options: dict[str, Any]) -> ArrowSource:
    path = Path(source)
    _check_file(path)
    try:
        with pa.memory_map(str(path)) as mapped:
            try:
                schema = pa.ipc.open_file(mapped).schema
            except pa.ArrowInvalid:
                mapped.seek(0)
                schema = pa.ipc.open_stream(mapped).schema
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable Arrow IPC file ({first_line(exc)})") from None
    return ArrowSource(path, schema, lambda columns, rows: _ipc_batches(path, columns), "Arrow IPC", options)


def iter_arrow(source: str, rows: int = 65_536, *, columns: Sequence[str | int] | str | None = None,
               labels: str | None = None, categorical: Sequence[str] | str | None = "auto",
               encoding: str = "onehot", missing: str = "error") -> Iterator[Dataset]:
    """Batches of at most ``rows`` rows of an Arrow IPC file or stream (Feather v2 included), memory-mapped."""
    reader = _arrow_source(source, _options(columns, labels, categorical, encoding, missing))
    yield from encoded_batches(reader.encoder, reader.read, rows, source)


def load_arrow(source: str, *, columns: Sequence[str | int] | str | None = None, labels: str | None = None,
               categorical: Sequence[str] | str | None = "auto", encoding: str = "onehot",
               missing: str = "error") -> Dataset:
    """Read an Arrow IPC file or stream / Feather v2 file; options as for :func:`load_parquet`."""
    return concat_datasets(list(iter_arrow(source, WHOLE_ROWS, columns=columns, labels=labels,
                                           categorical=categorical, encoding=encoding, missing=missing)))
