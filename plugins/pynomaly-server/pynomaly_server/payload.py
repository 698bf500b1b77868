"""Request bodies: JSON parsing, rows → float64 matrices, uploaded CSV → Dataset; errors name the field, row
and column that is wrong."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from pynomaly_core.errors import PynomalyError
from pynomaly_server.errors import ApiError


def parse_json(body: bytes) -> Any:
    if not body:
        raise ApiError(400, "malformed_json", "the request body is empty: expected a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "malformed_json", f"malformed JSON: {str(exc).splitlines()[0]}") from None


def json_object(body: bytes) -> dict[str, Any]:
    value = parse_json(body)
    if not isinstance(value, dict):
        raise ApiError(422, "invalid_input", f"the request body must be a JSON object, got {type(value).__name__}")
    return value


def field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = ..., *,
          what: str = "") -> Any:
    """``body[name]`` checked against ``kind``; missing and not optional → 422 naming the field."""
    if name not in body or body[name] is None:
        if default is ...:
            raise ApiError(422, "invalid_input", f"missing field {name!r}{what}")
        return default
    value = body[name]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ApiError(422, "invalid_input", f"field {name!r}: expected {_kind_name(kind)}, got a boolean")
    if not isinstance(value, kind):
        raise ApiError(422, "invalid_input", f"field {name!r}: expected {_kind_name(kind)}, got "
                                             f"{type(value).__name__}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {dict: "an object", list: "an array", str: "a string", int: "an integer", float: "a number",
             bool: "a boolean"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def rows(value: Any, name: str = "data") -> np.ndarray:
    """A non-empty rectangular list of lists of finite numbers → float64 array (n_rows, n_features)."""
    if not isinstance(value, list) or not value:
        raise ApiError(422, "invalid_input", f"field {name!r}: expected a non-empty array of rows")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        array = None
    if array is None or array.ndim != 2 or array.dtype.kind not in "iuf" or array.shape[1] == 0:
        raise ApiError(422, "invalid_input", _locate_problem(value, name))
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        r, c = np.argwhere(~np.isfinite(array))[0]
        raise ApiError(422, "invalid_input", f"field {name!r}: row {r}, column {c} is not finite")
    return array


def _locate_problem(value: list[Any], name: str) -> str:
    width = None
    for r, row in enumerate(value):
        if not isinstance(row, list):
            return f"field {name!r}: row {r} is not an array"
        if not row:
            return f"field {name!r}: row {r} is empty"
        if width is None:
            width = len(row)
        elif len(row) != width:
            return f"field {name!r}: row {r} has {len(row)} values, expected {width}"
        for c, cell in enumerate(row):
            if isinstance(cell, bool) or not isinstance(cell, int | float):
                return f"field {name!r}: row {r}, column {c} is not a number ({orjson.dumps(cell).decode()[:40]})"
            if isinstance(cell, int) and abs(cell) > 2**53:
                return f"field {name!r}: row {r}, column {c} is too large"
    return f"field {name!r}: expected a rectangular array of numbers"


def feature_names(value: Any, n_features: int, name: str = "feature_names") -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(422, "invalid_input", f"field {name!r}: expected an array of strings")
    if len(value) != n_features:
        raise ApiError(422, "invalid_input", f"field {name!r}: {len(value)} names for {n_features} columns")
    return list(value)


def params(value: Any, name: str = "params") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(422, "invalid_input", f"field {name!r}: expected an object of parameters")
    return value


def csv_dataset(content: bytes, filename: str, *, labels: str | None = None,
                columns: list[str] | None = None) -> Any:
    """Parse an uploaded CSV with the registry's CSV loader; errors name the uploaded file, line and column."""
    from pynomaly_core.data import select_loader
    from pynomaly_core.registry import get_registry

    display = Path(filename or "upload.csv").name or "upload.csv"
    if not content.strip():
        raise ApiError(422, "invalid_csv", f"{display}: the file is empty")
    spec = select_loader("upload.csv", get_registry())
    handle, path = tempfile.mkstemp(suffix=".csv", prefix="pynomaly-upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        options: dict[str, Any] = {}
        if labels:
            options["labels"] = labels
        if columns:
            options["columns"] = columns
        try:
            return spec.load()(path, **options)
        except (PynomalyError, ValueError) as exc:
            message = str(exc).splitlines()[0].replace(path, display) if str(exc) else type(exc).__name__
            raise ApiError(422, "invalid_csv", message) from None
    finally:
        os.unlink(path)
