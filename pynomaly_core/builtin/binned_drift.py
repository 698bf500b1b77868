"""Columns as category counts: what the chi-squared and PSI drift tests compare.

A column is *categorical* when the test's ``categorical`` option names it (by name or index), or — with
``categorical="auto"`` — when it holds strings or only integer codes with at most ``max_categories`` distinct
values. Other (numeric) columns are cut into ``n_bins`` bins at quantiles (of the pooled sample or of the
reference). Rows are validated per column: NaN/inf in a numeric column and empty cells are errors naming the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.validation import feature_names_of


def as_columns(data: Any, what: str) -> tuple[list[np.ndarray], list[str] | None]:
    """The columns of a 2-D array / DataFrame / NamedArray as 1-D arrays (numeric or object) and their names."""
    names = feature_names_of(data)
    if type(data).__module__.split(".")[0] in ("pandas", "polars"):
        columns = [np.asarray(data[name].to_numpy()) for name in data.columns]
    else:
        array = np.asarray(data)
        if array.ndim != 2:
            raise InputError(f"{what} must be 2-D (rows x features), got shape {array.shape}")
        columns = [array[:, j] for j in range(array.shape[1])]
    if not columns or columns[0].size == 0:
        raise InputError(f"{what} has no rows or no columns")
    return columns, names


def _is_text(column: np.ndarray) -> bool:
    return column.dtype.kind in "OUS"


def _numeric(column: np.ndarray, what: str, name: str) -> np.ndarray:
    try:
        values = column.astype(np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what}: column {name!r} is not numeric (mark it categorical)") from None
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InputError(f"{what}: row {int(bad[0])}, column {name!r}: value {values[bad[0]]} is not finite")
    return values


def _categories(column: np.ndarray, what: str, name: str) -> np.ndarray:
    if _is_text(column):
        values = column.astype(str)
        missing = np.flatnonzero(np.char.strip(values) == "")
        if missing.size:
            raise InputError(f"{what}: row {int(missing[0])}, column {name!r}: empty cell")
        return values
    return _numeric(column, what, name)


def categorical_mask(columns: list[np.ndarray], names: list[str], categorical: Any, max_categories: int) -> list[bool]:
    """Which columns to treat as categorical (see the module docstring)."""
    if categorical == "auto" or categorical is None:
        mask = []
        for column in columns:
            if _is_text(column):
                mask.append(True)
                continue
            values = column.astype(np.float64, copy=False)
            finite = values[np.isfinite(values)]
            mask.append(bool(np.all(finite == np.round(finite))) and np.unique(finite).size <= max_categories)
        return mask
    if isinstance(categorical, str):
        categorical = [c.strip() for c in categorical.split(",") if c.strip()]
    if categorical is True or categorical is False:
        return [bool(categorical)] * len(columns)
    mask = [False] * len(columns)
    for item in categorical:
        if isinstance(item, int) or (isinstance(item, str) and item.isdigit() and item not in names):
            index = int(item)
            if not 0 <= index < len(columns):
                raise InputError(f"categorical column index {index} out of range (0..{len(columns) - 1})")
        elif item in names:
            index = names.index(item)
        else:
            raise InputError(f"categorical column {item!r} not found; columns are {', '.join(names)}")
        mask[index] = True
    return mask


def quantile_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Inner bin edges at the ``k / n_bins`` quantiles (duplicates dropped, so ties never make empty bins)."""
    edges = np.quantile(values, np.arange(1, n_bins) / n_bins)
    return np.unique(edges)


def contingency(ref: np.ndarray, cur: np.ndarray, categorical: bool, n_bins: int,
                edges_from: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Counts of ``ref`` and ``cur`` per category / bin (only cells that occur), and the number of cells."""
    if categorical:
        _, inverse = np.unique(np.concatenate([ref, cur]), return_inverse=True)
        cells = int(inverse.max()) + 1
        codes_ref, codes_cur = inverse[:ref.size], inverse[ref.size:]
    else:
        source = ref if edges_from == "reference" else np.concatenate([ref, cur])
        edges = quantile_edges(source, n_bins)
        cells = edges.size + 1
        codes_ref = np.searchsorted(edges, ref, side="right")
        codes_cur = np.searchsorted(edges, cur, side="right")
    return np.bincount(codes_ref, minlength=cells), np.bincount(codes_cur, minlength=cells), cells


def prepare(reference: Any, current: Any, feature_names: list[str] | None, categorical: Any,
            max_categories: int, test: str) -> tuple[list[tuple[np.ndarray, np.ndarray, bool]], list[str]]:
    """Validated (reference column, current column, is categorical) triples and the column names."""
    ref_cols, ref_names = as_columns(reference, "reference")
    cur_cols, _ = as_columns(current, "current")
    if len(ref_cols) != len(cur_cols):
        raise InputError(f"reference has {len(ref_cols)} features but current has {len(cur_cols)}")
    names = list(feature_names or ref_names or [f"x{j}" for j in range(len(ref_cols))])
    if len(names) != len(ref_cols):
        raise InputError(f"{test}: {len(names)} feature names for {len(ref_cols)} columns")
    mask = categorical_mask([np.concatenate([r, c]) for r, c in zip(ref_cols, cur_cols, strict=True)], names,
                            categorical, max_categories)
    pairs = []
    for name, r, c, is_cat in zip(names, ref_cols, cur_cols, mask, strict=True):
        if is_cat:
            r, c = _categories(r, "reference", name), _categories(c, "current", name)
            if r.dtype.kind != c.dtype.kind:
                r, c = r.astype(str), c.astype(str)
        else:
            r, c = _numeric(r, "reference", name), _numeric(c, "current", name)
        pairs.append((r, c, is_cat))
    return pairs, names


def check_binning(test: str, n_bins: int, max_categories: int, categorical: Any) -> None:
    if not isinstance(n_bins, int) or n_bins < 2:
        raise InputError(f"{test}: n_bins must be an integer >= 2, got {n_bins!r}")
    if not isinstance(max_categories, int) or max_categories < 2:
        raise InputError(f"{test}: max_categories must be an integer >= 2, got {max_categories!r}")
    if not (categorical is None or isinstance(categorical, str | bool | Sequence)):
        raise InputError(f"{test}: categorical must be 'auto', a list of columns or a comma-separated string")
