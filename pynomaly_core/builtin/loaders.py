"""NumPy-only loaders: CSV (numeric columns), NPY and NPZ (ADBench's ``X``/``y`` layout)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pynomaly_core.data import Dataset
from pynomaly_core.errors import InputError


def _open_text(path: Path) -> str:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}: not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at line {line}, byte offset {exc.start})"
        ) from None
    if not text.strip():
        raise InputError(f"{path}: the file is empty")
    return text


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _select(names: list[str], wanted: Sequence[str | int] | None, path: Path) -> list[int]:
    if wanted is None:
        return list(range(len(names)))
    indices = []
    for item in wanted:
        if isinstance(item, int) or (isinstance(item, str) and item.isdigit() and item not in names):
            index = int(item)
            if not 0 <= index < len(names):
                raise InputError(f"{path}: column index {index} out of range (0..{len(names) - 1})")
        elif item in names:
            index = names.index(item)
        else:
            raise InputError(f"{path}: no column {item!r}; columns are {', '.join(names)}")
        indices.append(index)
    return indices


def load_csv(
    source: str,
    *,
    columns: Sequence[str | int] | None = None,
    labels: str | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
) -> Dataset:
    """Read a numeric CSV file.

    ``header`` is detected when not given (a first row with any non-numeric cell); ``delimiter`` is sniffed
    among ``, ; \\t |``. ``columns`` selects feature columns by name or index; ``labels`` names a 0/1 column
    that becomes ``y`` (and is not a feature). Any non-numeric or empty cell is an error naming its line and column.
    """
    path = Path(source)
    text = _open_text(path)
    if delimiter is None:
        sample = text[:65536]
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    line_numbers = [i + 1 for i, row in enumerate(rows) if row and any(cell.strip() for cell in row)]
    rows = [row for row in rows if row and any(cell.strip() for cell in row)]
    first = rows[0]
    if header is None:
        header = not all(_is_number(cell) for cell in first)
    names = [cell.strip() for cell in first] if header else [str(i) for i in range(len(first))]
    body, body_lines = (rows[1:], line_numbers[1:]) if header else (rows, line_numbers)
    if not body:
        raise InputError(f"{path}: no data rows")
    width = len(names)
    label_index = None
    if labels is not None:
        if labels not in names:
            raise InputError(f"{path}: no label column {labels!r}; columns are {', '.join(names)}")
        label_index = names.index(labels)
    feature_indices = _select(names, columns, path)
    if columns is None and label_index is not None:
        feature_indices.remove(label_index)
    values = np.empty((len(body), width))
    for r, (row, line) in enumerate(zip(body, body_lines, strict=True)):
        if len(row) != width:
            raise InputError(f"{path}: line {line} has {len(row)} fields, expected {width}")
        for c, cell in enumerate(row):
            try:
                values[r, c] = float(cell)
            except ValueError:
                what = "an empty value" if not cell.strip() else f"non-numeric value {cell.strip()[:40]!r}"
                raise InputError(f"{path}: {what} at line {line}, column {names[c]!r}") from None
            if not np.isfinite(values[r, c]):
                raise InputError(f"{path}: non-finite value {cell.strip()!r} at line {line}, column {names[c]!r}")
    y = None
    if label_index is not None:
        y = values[:, label_index].astype(np.int64)
    return Dataset(X=values[:, feature_indices], y=y, feature_names=[names[i] for i in feature_indices],
                   source=str(path))


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
                    raise InputError(f"{path}: no array {features!r}; arrays are {', '.join(keys)}")
            X = _check_array(archive[features], path, features)
            y = archive[labels].reshape(-1) if labels is not None and labels in keys else None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npz archive ({str(exc).splitlines()[0]})") from None
    if y is not None and y.size != X.shape[0]:
        raise InputError(f"{path}: {labels!r} has {y.size} entries but {features!r} has {X.shape[0]} rows")
    return Dataset(X=X, y=y, source=str(path))
