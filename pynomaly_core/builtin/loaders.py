"""NumPy-only loaders: CSV, JSON Lines, NPY and NPZ (ADBench's ``X``/``y`` layout).

CSV and JSON Lines are read line by line (never whole), so ``iter_batches`` scores files larger than memory; their
categorical columns and missing values go through :class:`pynomaly_core.tabular.TableEncoder` (a first pass fits
categories and fill values when needed, so every batch is encoded alike).
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.data import Dataset, concat_datasets, slice_dataset
from pynomaly_core.errors import InputError
from pynomaly_core.tabular import SNIFF_ROWS, ColumnBatch, TableEncoder, encoded_batches, is_number

#: A longer line is an error (a binary file or a broken export), not a reason to run out of memory.
MAX_LINE_BYTES = 16 * 2**20
#: Cells read as missing under ``missing="drop"`` / ``"impute-median"`` (case-insensitive, after stripping).
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none"})
#: Rows per batch when a loader is asked for the whole file.
WHOLE_ROWS = 1 << 20


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: no such file")


def _lines(path: Path) -> Iterator[str]:
    """Decoded lines of a UTF-8 text file, read in blocks; a bad byte or an endless line is an error naming the
    line (the file is never read whole, and no line longer than :data:`MAX_LINE_BYTES` is held)."""
    import io
    import itertools

    def blocks() -> Iterator[io.StringIO]:
        number = offset = 0  # lines and bytes before the current block
        carry = b""
        with path.open("rb") as handle:
            while True:
                block = handle.read(min(1 << 20, MAX_LINE_BYTES))  # so a longer line always spans blocks
                data = carry + block
                cut = len(data) if not block else data.rfind(b"\n") + 1
                carry = data[cut:]
                first_end = data.find(b"\n")
                if len(carry) > MAX_LINE_BYTES or (carry is not data and first_end > MAX_LINE_BYTES):
                    line = number + (1 if first_end > MAX_LINE_BYTES else data.count(b"\n", 0, cut) + 1)
                    raise InputError(f"{path}: line {line} is longer than {MAX_LINE_BYTES} bytes")
                complete = data[:cut]
                if complete:
                    try:
                        text = complete.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        line = number + complete.count(b"\n", 0, exc.start) + 1
                        raise InputError(f"{path}: not UTF-8 text (invalid byte 0x{complete[exc.start]:02x} at line "
                                         f"{line}, byte offset {offset + exc.start})") from None
                    if offset == 0:
                        text = text.removeprefix("\ufeff")
                    yield io.StringIO(text, newline="")
                    number += complete.count(b"\n")
                    offset += len(complete)
                if not block:
                    return

    return itertools.chain.from_iterable(blocks())


# -- CSV -----------------------------------------------------------------------------------------------------
class _CsvLayout:
    """Delimiter, header, column names and the encoder of one CSV file (read from its first rows)."""

    def __init__(self, path: Path, delimiter: str | None, header: bool | None, options: dict[str, Any]):
        _check_file(path)
        self.path = path
        if delimiter is None:
            with path.open("rb") as handle:
                sample = handle.read(65536).decode("utf-8", errors="ignore").removeprefix("\ufeff")
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
        self.delimiter = delimiter
        first: list[str] | None = None
        rest: list[list[str]] = []
        for row, _ in self.rows():
            if first is None:
                first = row
            else:
                rest.append(row)
                if len(rest) >= SNIFF_ROWS:
                    break
        if first is None:
            raise InputError(f"{path}: the file is empty")
        if header is None:
            header = _looks_like_header(first, rest)
        self.header = header
        self.names = [cell.strip() for cell in first] if header else [str(i) for i in range(len(first))]
        self.encoder = TableEncoder(str(path), self.names, **options)
        body = rest if header else [first, *rest]
        self.encoder.infer_categorical(
            {j: [row[j].strip() for row in body if j < len(row)] for j in range(len(self.names))})

    def rows(self) -> Iterator[tuple[list[str], int]]:
        """Non-blank rows with the line each ends on (used for the first rows only)."""
        reader = csv.reader(_lines(self.path), delimiter=self.delimiter, strict=True)
        try:
            for row in reader:
                if len(row) > 1 or (row and row[0].strip()):
                    yield row, reader.line_num
        except csv.Error as exc:
            raise InputError(f"{self.path}: malformed CSV at line {reader.line_num} ({exc})") from None

    def read(self, rows: int) -> Iterator[ColumnBatch]:
        """Batches of ``rows`` rows; the hot loop of out-of-core CSV scoring, so kept to C-level calls."""
        reader = csv.reader(_lines(self.path), delimiter=self.delimiter, strict=True)
        skip_header = self.header
        chunk: list[list[str]] = []
        lines: list[int] = []
        try:
            for row in reader:
                if len(row) <= 1 and not (row and row[0].strip()):
                    continue  # a blank line
                if skip_header:
                    skip_header = False
                    continue
                chunk.append(row)
                lines.append(reader.line_num)
                if len(chunk) >= rows:
                    yield self._batch(chunk, lines)
                    chunk, lines = [], []
        except csv.Error as exc:
            raise InputError(f"{self.path}: malformed CSV at line {reader.line_num} ({exc})") from None
        if chunk:
            yield self._batch(chunk, lines)

    def _batch(self, chunk: list[list[str]], lines: list[int]) -> ColumnBatch:
        width = len(self.names)
        if set(map(len, chunk)) != {width}:
            for row, line in zip(chunk, lines, strict=True):
                if len(row) != width:
                    raise InputError(f"{self.path}: line {line} has {len(row)} fields, expected {width}")
        transposed = list(zip(*chunk, strict=True))
        columns = {}
        errors: list[tuple[int, str, int]] = []
        for j in self.encoder.used:
            cells = transposed[j]
            if j in self.encoder.categorical:
                columns[j] = np.array([c.strip() or None for c in cells], dtype=object)
            else:
                columns[j], error = self._numeric(cells, j)
                if error is not None:
                    errors.append(error)
        if errors:  # the first bad cell in reading order
            i, what, j = min(errors, key=lambda e: e[0])
            raise InputError(f"{self.path}: {what} at line {lines[i]}, column {self.names[j]!r}")
        return ColumnBatch(columns, len(chunk), lambda i: f"line {lines[i]}")

    def _numeric(self, cells: Sequence[str], j: int) -> tuple[np.ndarray, tuple[int, str, int] | None]:
        """The column as float64 and its first bad cell (row, what is wrong, column), if any."""
        strict = self.encoder.missing == "error"
        try:
            values = np.fromiter(map(float, cells), dtype=np.float64, count=len(cells))
        except ValueError:
            values = np.empty(len(cells))
            for i, cell in enumerate(cells):
                text = cell.strip()
                try:
                    values[i] = float(text)
                except ValueError:
                    missing = text.lower() in MISSING_TOKENS
                    if missing and not strict:
                        values[i] = np.nan
                        continue
                    what = ("an empty value" if not text else f"a missing value {text!r}" if missing
                            else f"non-numeric value {text[:40]!r}")
                    return values, (i, what, j)
        bad = ~np.isfinite(values)
        if bad.any():
            for i in np.flatnonzero(bad):
                if np.isinf(values[i]) or strict:
                    return values, (int(i), f"non-finite value {cells[i].strip()!r}", j)
        return values, None


def _looks_like_header(first: list[str], rest: list[list[str]]) -> bool:
    """A first row with a non-numeric cell above numeric ones is a header; all-numeric is data."""
    if all(is_number(cell) for cell in first):
        return False
    if not rest:
        return True
    for j, cell in enumerate(first):
        if not is_number(cell) and any(j < len(row) and is_number(row[j]) for row in rest):
            return True
    sample = "\n".join(",".join(row) for row in [first, *rest[:50]])
    try:
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return True


def _table_options(columns: Sequence[str | int] | str | None, labels: str | None,
                   categorical: Sequence[str] | str | None, encoding: str, missing: str) -> dict[str, Any]:
    return {"columns": columns, "labels": labels, "categorical": categorical, "encoding": encoding,
            "missing": missing}


def iter_csv(
    source: str,
    rows: int = 65_536,
    *,
    columns: Sequence[str | int] | str | None = None,
    labels: str | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
    categorical: Sequence[str] | str | None = "auto",
    encoding: str = "onehot",
    missing: str = "error",
) -> Iterator[Dataset]:
    """Batches of at most ``rows`` rows of a CSV file (see :func:`load_csv` for the options)."""
    layout = _CsvLayout(Path(source), delimiter, header,
                        _table_options(columns, labels, categorical, encoding, missing))
    yield from encoded_batches(layout.encoder, layout.read, rows, str(layout.path))


def load_csv(
    source: str,
    *,
    columns: Sequence[str | int] | str | None = None,
    labels: str | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
    categorical: Sequence[str] | str | None = "auto",
    encoding: str = "onehot",
    missing: str = "error",
) -> Dataset:
    """Read a CSV file.

    ``delimiter`` is sniffed among ``, ; \\t |`` and ``header`` detected when not given. ``columns`` selects
    feature columns by name or index; ``labels`` names a 0/1 column that becomes ``y``. ``categorical``: column
    names to encode (``"auto"``: feature columns with no numeric value in the first 1000 rows), as ``encoding``
    ``"onehot"`` (one 0/1 column per category, named ``col=value``) or ``"ordinal"`` (the index among the sorted
    categories). ``missing``: ``"error"`` (an empty cell is an error naming its line and column), ``"drop"`` the row,
    or ``"impute-median"`` (median of the column; most frequent category for a categorical one).
    """
    return concat_datasets(list(iter_csv(source, WHOLE_ROWS, columns=columns, labels=labels, delimiter=delimiter,
                                         header=header, categorical=categorical, encoding=encoding,
                                         missing=missing)))


# -- JSON Lines ----------------------------------------------------------------------------------------------
class _JsonlLayout:
    """Column names (the keys of the first object) and the encoder of one JSON Lines file."""

    def __init__(self, path: Path, options: dict[str, Any]):
        _check_file(path)
        self.path = path
        sample: list[dict[str, Any]] = []
        for record, _ in self.records():
            sample.append(record)
            if len(sample) >= SNIFF_ROWS:
                break
        if not sample:
            raise InputError(f"{path}: the file is empty")
        self.names = list(sample[0])
        self.encoder = TableEncoder(str(path), self.names, **options)
        self.encoder.infer_categorical({j: [r.get(name) for r in sample] for j, name in enumerate(self.names)})

    def records(self) -> Iterator[tuple[dict[str, Any], int]]:
        for line, text in enumerate(_lines(self.path), start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InputError(f"{self.path}: line {line} is not valid JSON ({exc.msg} at column {exc.colno})") \
                    from None
            if not isinstance(record, dict):
                raise InputError(f"{self.path}: line {line} is not a JSON object")
            yield record, line

    def read(self, rows: int) -> Iterator[ColumnBatch]:
        chunk: list[dict[str, Any]] = []
        lines: list[int] = []
        for record, line in self.records():
            chunk.append(record)
            lines.append(line)
            if len(chunk) >= rows:
                yield self._batch(chunk, lines)
                chunk, lines = [], []
        if chunk:
            yield self._batch(chunk, lines)

    def _batch(self, chunk: list[dict[str, Any]], lines: list[int]) -> ColumnBatch:
        known = set(self.names)
        for record, line in zip(chunk, lines, strict=True):
            if len(record) > len(known) or not known.issuperset(record):
                extra = sorted(set(record) - known)
                raise InputError(f"{self.path}: line {line} has unknown key {extra[0]!r}; keys are "
                                 f"{', '.join(self.names)}")
        columns = {}
        for j in self.encoder.used:
            name = self.names[j]
            values = [r.get(name) for r in chunk]
            for i, value in enumerate(values):
                if isinstance(value, dict | list):
                    raise InputError(f"{self.path}: nested value at line {lines[i]}, column {name!r}")
            columns[j] = np.array(values, dtype=object)
        return ColumnBatch(columns, len(chunk), lambda i: f"line {lines[i]}")


def iter_jsonl(
    source: str,
    rows: int = 65_536,
    *,
    columns: Sequence[str | int] | str | None = None,
    labels: str | None = None,
    categorical: Sequence[str] | str | None = "auto",
    encoding: str = "onehot",
    missing: str = "error",
) -> Iterator[Dataset]:
    """Batches of at most ``rows`` rows of a JSON Lines file."""
    layout = _JsonlLayout(Path(source), _table_options(columns, labels, categorical, encoding, missing))
    yield from encoded_batches(layout.encoder, layout.read, rows, str(layout.path))


def load_jsonl(
    source: str,
    *,
    columns: Sequence[str | int] | str | None = None,
    labels: str | None = None,
    categorical: Sequence[str] | str | None = "auto",
    encoding: str = "onehot",
    missing: str = "error",
) -> Dataset:
    """Read a JSON Lines file: one object per line, columns are the keys of the first object (a missing key is a
    missing value, an unknown key an error). Options as for :func:`load_csv`."""
    return concat_datasets(list(iter_jsonl(source, WHOLE_ROWS, columns=columns, labels=labels,
                                           categorical=categorical, encoding=encoding, missing=missing)))


def _check_array(array: np.ndarray, path: Path, key: str) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise InputError(f"{path}: array {key!r} has non-numeric dtype {array.dtype}")
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2:
        raise InputError(f"{path}: array {key!r} must be 2-D, got shape {array.shape}")
    return array


def load_npy(source: str) -> Dataset:
    """Read a 2-D (or 1-D, as one column) numeric ``.npy`` array. Pickled object arrays are refused."""
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise InputError(f"{path}: cannot read as .npy without pickle ({str(exc).splitlines()[0]})") from None
    return Dataset(X=_check_array(array, path, "array"), source=str(path))


def iter_npy(source: str, rows: int = 65_536) -> Iterator[Dataset]:
    """Batches of a ``.npy`` array, memory-mapped: only one batch is in memory at a time."""
    path = Path(source)
    _check_file(path)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        raise InputError(f"{path}: cannot read as .npy without pickle ({str(exc).splitlines()[0]})") from None
    array = _check_array(array, path, "array")
    for batch in slice_dataset(Dataset(X=array, source=str(path)), rows):
        batch.X = np.array(batch.X)
        yield batch


def _graph_hint(keys: list[str]) -> str:
    """For an archive with the graph layout (``x``, ``edge_index``): the loader that reads it, or that none does."""
    if not {"x", "edge_index"} <= set(keys):
        return ""
    from pynomaly_core.registry import get_registry

    loaders = get_registry().loaders(data_kind="graph")
    graph_loaders = [spec.qualified_name for spec in sorted(loaders, key=lambda spec: ".npz" not in spec.suffixes)]
    if graph_loaders:
        return f" (a graph archive: load it with loader {graph_loaders[0]!r}, CLI --loader {graph_loaders[0]})"
    return " (a graph archive: no installed plugin loads graphs; the pynomaly-pygod plugin does)"


def load_npz(source: str, *, features: str = "X", labels: str | None = "y") -> Dataset:
    """Read an ``.npz`` archive: features under ``X`` and optional labels under ``y`` (ADBench layout)."""
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            if features not in keys:
                if len(keys) == 1:
                    features = keys[0]
                else:
                    raise InputError(f"{path}: no array {features!r}; arrays are {', '.join(keys)}"
                                     f"{_graph_hint(keys)}")
            X = _check_array(archive[features], path, features)
            y = archive[labels].reshape(-1) if labels is not None and labels in keys else None
    except InputError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npz archive ({str(exc).splitlines()[0]})") from None
    if y is not None and y.size != X.shape[0]:
        raise InputError(f"{path}: {labels!r} has {y.size} entries but {features!r} has {X.shape[0]} rows")
    return Dataset(X=X, y=y, source=str(path))
