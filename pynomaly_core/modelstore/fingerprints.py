"""Training-data fingerprints and the column check that scoring runs against them.

A fingerprint records where the data came from, its shape, its column names and a SHA-256 of its values
(the float64 matrix, little-endian, row-major, after a header with the shape): the same numbers give the same
hash whether they came from CSV, NPY, a DataFrame or an array; labels are not part of it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError


def fingerprint(data: Any, *, source: str | None = None) -> dict[str, Any]:
    """Describe ``data`` (a :class:`Dataset`, DataFrame, Arrow table or array-like).

    >>> fp = fingerprint(np.zeros((3, 2)), source="zeros")
    >>> fp["n_rows"], fp["n_features"], fp["columns"], len(fp["sha256"])
    (3, 2, None, 64)
    """
    from pynomaly_core.data import Dataset
    from pynomaly_core.validation import check_array, feature_names_of

    if isinstance(data, Dataset):
        source = source if source is not None else (data.source or None)
        names = data.feature_names
        data = data.X
    else:
        names = feature_names_of(data)
    array = check_array(data, allow_nan=True, what="training data")
    return {
        "source": None if source is None else str(source),
        "n_rows": int(array.shape[0]),
        "n_features": int(array.shape[1]),
        "columns": None if names is None else [str(n) for n in names],
        "sha256": data_hash(array),
    }


def data_hash(array: np.ndarray) -> str:
    """SHA-256 of a 2-D float64 matrix (shape header + little-endian row-major values)."""
    values = np.ascontiguousarray(array, dtype="<f8")
    digest = hashlib.sha256(f"float64-le:{values.shape[0]}x{values.shape[1]}\n".encode())
    digest.update(memoryview(values).cast("B"))
    return digest.hexdigest()


def schema_differences(expected: dict[str, Any], columns: list[str] | None, n_features: int) -> list[str]:
    """What differs between the training fingerprint ``expected`` and data with ``columns`` / ``n_features``.

    Names are compared when both sides have them (missing, unexpected, then order); otherwise only the count.

    >>> schema_differences({"columns": ["a", "b", "c"], "n_features": 3}, ["a", "c", "x"], 3)
    ["missing 'b'", "unexpected 'x'"]
    >>> schema_differences({"columns": ["a", "b", "c"], "n_features": 3}, ["a", "c", "b"], 3)
    ["order differs at position 1 ('c' here, 'b' in training)"]
    """
    trained = expected.get("columns")
    n_trained = expected.get("n_features")
    problems: list[str] = []
    if trained is not None and columns is not None:
        columns = [str(c) for c in columns]
        missing = [c for c in trained if c not in columns]
        unexpected = [c for c in columns if c not in trained]
        if len(columns) != len(trained):
            problems.append(f"{len(columns)} columns instead of {len(trained)}")
        if missing:
            problems.append("missing " + ", ".join(repr(c) for c in missing))
        if unexpected:
            problems.append("unexpected " + ", ".join(repr(c) for c in unexpected))
        if not problems and columns != list(trained):
            i = next(k for k, (a, b) in enumerate(zip(columns, trained, strict=True)) if a != b)
            problems.append(f"order differs at position {i} ({columns[i]!r} here, {trained[i]!r} in training)")
    elif n_trained is not None and n_features != n_trained:
        problems.append(f"{n_features} columns instead of {n_trained}")
    return problems


def check_schema(expected: dict[str, Any] | None, columns: list[str] | None, n_features: int, model: str) -> None:
    """Raise :class:`InputError` naming every difference between the data's columns and model's training data."""
    if not expected:
        return
    problems = schema_differences(expected, columns, n_features)
    if problems:
        raise InputError(f"columns differ from model {model}'s training data: {'; '.join(problems)}")
