"""Input and output checks shared by every detector: one-line errors that name the row and column."""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.errors import InputError, ScoreError


def feature_names_of(data: Any) -> list[str] | None:
    """Column names of a pandas/polars DataFrame or Arrow table, else ``None``."""
    if isinstance(data, np.ndarray):
        return None
    names = getattr(data, "column_names", None)  # pyarrow.Table / RecordBatch (whose .columns are arrays)
    if names is None:
        names = getattr(data, "columns", None)
    return [str(n) for n in names] if names is not None else None


def column_labels(data: Any) -> list[Any] | None:
    """The column labels of a DataFrame or Arrow table as they are (``1`` and ``"1"`` stay different; NumPy scalars
    become Python ones), else ``None``. Fitted detectors compare these, not their text."""
    if isinstance(data, np.ndarray):
        return None
    names = getattr(data, "column_names", None)
    if names is None:
        names = getattr(data, "columns", None)
    if names is None:
        return None
    return [name.item() if isinstance(name, np.generic) else name for name in names]


def same_labels(a: list[Any], b: list[Any]) -> bool:
    """Whether two column-label lists are equal label by label, types included (``1 != "1"``, ``1 != 1.0``)."""
    return len(a) == len(b) and all(type(x) is type(y) and x == y for x, y in zip(a, b, strict=True))


def _to_numpy(data: Any) -> np.ndarray:
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        if hasattr(data, "to_frame") and not hasattr(data, "columns"):  # Series
            data = data.to_frame()
        for name, dtype in zip(data.columns, data.dtypes, strict=True):
            if dtype.kind not in "biuf":
                raise InputError(f"column {name!r} is not numeric (dtype {dtype})")
        return data.to_numpy(dtype=np.float64, na_value=np.nan)
    if module == "polars":
        for name, dtype in zip(data.columns, data.dtypes, strict=True):
            if not dtype.is_numeric():
                raise InputError(f"column {name!r} is not numeric (dtype {dtype})")
        return np.asarray(data.to_numpy(), dtype=np.float64)
    if module == "pyarrow":
        columns = []
        for name, column in zip(data.column_names, data.columns, strict=True):
            import pyarrow as pa

            if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
                    or pa.types.is_boolean(column.type)):
                raise InputError(f"column {name!r} is not numeric (type {column.type})")
            columns.append(np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64))
        return np.column_stack(columns) if columns else np.empty((data.num_rows, 0))
    return np.asarray(data)


def check_array(
    data: Any,
    *,
    allow_nan: bool = False,
    n_features: int | None = None,
    feature_names: list[str] | None = None,
    what: str = "X",
) -> np.ndarray:
    """Return ``data`` as a C-contiguous 2-D float64 array or raise :class:`InputError`.

    >>> check_array([[1, 2], [3, 4]]).dtype
    dtype('float64')
    """
    names = feature_names_of(data) or feature_names
    array = _to_numpy(data)
    if array.dtype == object or array.dtype.kind in "USV":
        array = _coerce_cells(array, names, what)
    elif array.dtype.kind not in "biuf":
        raise InputError(f"{what} must be numeric, got dtype {array.dtype}")
    if array.ndim != 2:
        hint = " (use X.reshape(-1, 1) for a single feature)" if array.ndim == 1 else ""
        raise InputError(f"{what} must be 2-D (rows x features), got {array.ndim}-D with shape {array.shape}{hint}")
    if array.shape[0] == 0:
        raise InputError(f"{what} has no rows")
    if array.shape[1] == 0:
        raise InputError(f"{what} has no columns")
    if n_features is not None and array.shape[1] != n_features:
        raise InputError(f"{what} has {array.shape[1]} features but the detector was fitted on {n_features}")
    array = np.ascontiguousarray(array, dtype=np.float64)
    if not allow_nan:
        _reject_non_finite(array, names, what)
    return array


def _column_label(j: int, names: list[str] | None) -> str:
    if names is not None and j < len(names):
        return f"column {j} ({names[j]!r})"
    return f"column {j}"


def _coerce_cells(array: np.ndarray, names: list[str] | None, what: str) -> np.ndarray:
    try:
        return array.astype(np.float64)
    except (TypeError, ValueError):
        pass
    grid = np.atleast_2d(array)
    for (i, j), cell in np.ndenumerate(grid):
        try:
            float(cell)
        except (TypeError, ValueError):
            raise InputError(f"{what} has a non-numeric value {cell!r} at row {i}, {_column_label(j, names)}") from None
    raise InputError(f"{what} cannot be converted to float")


def _reject_non_finite(array: np.ndarray, names: list[str] | None, what: str) -> None:
    finite = np.isfinite(array)
    if finite.all():
        return
    i, j = (int(k) for k in np.argwhere(~finite)[0])
    value = "NaN" if np.isnan(array[i, j]) else str(array[i, j])
    total = int((~finite).sum())
    more = f" ({total} non-finite values in all)" if total > 1 else ""
    raise InputError(f"{what} contains {value} at row {i}, {_column_label(j, names)}{more}")


def check_scores(scores: Any, n_rows: int, detector: str) -> np.ndarray:
    """Enforce the output contract: a finite float64 vector with one score per row."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1) if np.ndim(scores) <= 2 else np.asarray(scores)
    if scores.shape != (n_rows,):
        raise ScoreError(f"detector {detector!r} returned scores of shape {np.shape(scores)}, expected ({n_rows},)")
    finite = np.isfinite(scores)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise ScoreError(
            f"detector {detector!r} returned {bad.size} non-finite score(s) (first: {scores[bad[0]]} at row "
            f"{int(bad[0])}); its output cannot be trusted on this data"
        )
    return scores
