"""Timestamped data: a table (CSV/TSV, Parquet, SQL) with a timestamp column, value columns and an optional
series-id column.

:func:`load_timeseries` reads it (:mod:`pynomaly_core.timeseries.readers`), parses the timestamps (native
date-time types, ISO 8601 text, or numbers: seconds since the epoch), checks their order (an out-of-order row is an
error naming it, unless ``sort=True``), and reports the sampling: the typical interval, how many intervals differ
from it (irregular sampling) and the gaps (intervals over 1.5 times it).
With ``series_id`` the table holds many series; order is checked within each. :func:`detect_timeseries` fits a
time-series detector per series (or one shared model) and returns one score per row, in file order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.data import Dataset, NamedArray
from pynomaly_core.errors import InputError
from pynomaly_core.timeseries.readers import RawTable, cell_text, read_table, to_floats, to_timestamps

_GAP_FACTOR = 1.5


def parse_timestamps(texts: Sequence[str], where: str) -> np.ndarray:
    """Timestamps as ``datetime64[ns]`` from CSV cells (rows numbered from 2): see :func:`readers.to_timestamps`."""
    return to_timestamps(np.array(list(texts), dtype=object), where)


def sampling_report(stamps: np.ndarray, groups: np.ndarray | None = None, first_row: int = 2) -> dict[str, Any]:
    """The typical interval between consecutive rows (within a series), irregular intervals and gaps (each named
    by its row, the first data row being ``first_row``)."""
    deltas, rows = [], []
    for index in _group_indices(stamps.size, groups):
        if index.size > 1:
            deltas.append(np.diff(stamps[index]).astype("timedelta64[ns]").astype(np.int64))
            rows.append(index[1:])
    if not deltas:
        return {"interval_s": None, "irregular": 0, "gaps": []}
    delta, row = np.concatenate(deltas), np.concatenate(rows)
    typical = float(np.median(delta))
    gaps = np.flatnonzero(delta > _GAP_FACTOR * typical)
    return {"interval_s": typical / 1e9, "irregular": int((delta != typical).sum()),
            "gaps": [{"row": int(row[g]) + first_row, "after_s": float(delta[g]) / 1e9} for g in gaps[:100]],
            "n_gaps": int(gaps.size)}


def _group_indices(n: int, groups: np.ndarray | None) -> list[np.ndarray]:
    if groups is None:
        return [np.arange(n)]
    return [np.flatnonzero(groups == key) for key in dict.fromkeys(groups.tolist())]


def _check_column(raw: RawTable, name: str, what: str) -> str:
    if name not in raw.names:
        raise InputError(f"{raw.source}: no {what} column {name!r} (columns: {', '.join(raw.names)})")
    return name


def load_timeseries(source: str | Path, *, timestamp: str, columns: Sequence[str] | str | None = None,
                    series_id: str | None = None, labels: str | None = None, sort: bool = False,
                    table: str | None = None, query: str | None = None) -> Dataset:
    """A timestamped table as a ``timeseries`` :class:`Dataset` (rows in source order, or in time order with
    ``sort``): a CSV/TSV or Parquet file, or a SQL URL with ``table`` or ``query`` (see :mod:`.readers`).

    ``extra`` holds ``timestamps`` (``datetime64[ns]``), ``series`` (the series id of each row, or ``None``),
    ``order`` (the source row of each dataset row) and ``sampling`` (:func:`sampling_report`).
    """
    if isinstance(columns, str):
        columns = [c.strip() for c in columns.split(",") if c.strip()]
    special = [name for name in (timestamp, series_id, labels) if name is not None]
    raw = read_table(source, None if not columns else {*special, *columns}, table=table, query=query)
    where, first = raw.source, raw.first_row
    if raw.n_rows == 0:
        raise InputError(f"{where}: no data rows")
    _check_column(raw, timestamp, "timestamp")
    for name, what in ((series_id, "series-id"), (labels, "labels")):
        if name is not None:
            _check_column(raw, name, what)
    names = list(columns) if columns else [name for name in raw.names if name not in special]
    if not names:
        raise InputError(f"{where}: no value columns besides the timestamp")
    for name in names:
        _check_column(raw, name, "value")
    stamps = to_timestamps(raw.columns[timestamp], where, first)
    groups = None if series_id is None else np.array([cell_text(v) for v in raw.columns[series_id]], dtype=object)
    X = np.column_stack([to_floats(raw.columns[name], name, where, first) for name in names])
    y = None if labels is None else to_floats(raw.columns[labels], labels, where, first)
    order = np.arange(raw.n_rows)
    for index in _group_indices(raw.n_rows, groups):
        back = np.flatnonzero(np.diff(stamps[index]) < np.timedelta64(0, "ns"))
        if back.size and not sort:
            row = int(index[back[0] + 1])
            of = "" if groups is None else f" of series {groups[row]!r}"
            raise InputError(f"{where}: row {row + first}: timestamp {cell_text(raw.columns[timestamp][row])!r} is "
                             f"earlier than the row before it{of}; sort the data by time (or pass sort)")
    if sort:
        keys = (stamps,) if groups is None else (stamps, _first_seen_codes(groups))
        order = np.lexsort(keys)
        X, stamps = X[order], stamps[order]
        y = None if y is None else y[order]
        groups = None if groups is None else groups[order]
    return Dataset(X=X, y=y, feature_names=names, source=where, kind="timeseries",
                   extra={"timestamps": stamps, "series": groups, "order": order,
                          "sampling": sampling_report(stamps, groups, first)})


def _first_seen_codes(groups: np.ndarray) -> np.ndarray:
    codes = {key: i for i, key in enumerate(dict.fromkeys(groups.tolist()))}
    return np.array([codes[key] for key in groups.tolist()])


def detect_timeseries(make: Callable[[], Any], dataset: Dataset, *,
                      shared: bool = False) -> tuple[np.ndarray, Any, float]:
    """``(scores in file order, the last fitted model, seconds)``: a fresh detector per series (``make()``), or
    with ``shared`` one model that walks the series one after another."""
    groups = dataset.extra.get("series")
    order = dataset.extra.get("order", np.arange(dataset.n_rows))
    features = dataset.features()
    start = time.perf_counter()
    scores = np.empty(dataset.n_rows)
    model = None
    if groups is None:
        model = make().fit(features)
        scores[:] = model.decision_scores_
    else:
        from pynomaly_core.online import is_online, prequential

        for index in _group_indices(dataset.n_rows, groups):
            part = dataset.X[index]
            if shared and model is not None:
                if not is_online(model):
                    raise InputError(f"{dataset.source}: a shared model walks one series after another: it needs an "
                                     f"online detector, not {type(model).__name__}")
                scores[index] = prequential(model, part, batch_size=part.shape[0])
            else:
                model = make().fit(part)
                scores[index] = model.decision_scores_
    in_file_order = np.empty_like(scores)
    in_file_order[order] = scores
    return in_file_order, model, time.perf_counter() - start


def score_timeseries(model: Any, dataset: Dataset) -> tuple[np.ndarray, float]:
    """``(scores in file order, seconds)`` of a fitted detector: each series scored as the continuation of the
    series the model learned (``decision_function``; a time-series detector learns the rows as it walks them, then
    restores its trained state, so every series starts from it and the model is left unchanged)."""
    groups = dataset.extra.get("series")
    order = dataset.extra.get("order", np.arange(dataset.n_rows))
    start = time.perf_counter()
    scores = np.empty(dataset.n_rows)
    for index in _group_indices(dataset.n_rows, groups):
        part = dataset.X[index] if dataset.feature_names is None else NamedArray(dataset.X[index],
                                                                                  dataset.feature_names)
        scores[index] = np.asarray(model.decision_function(part), dtype=np.float64)
    in_file_order = np.empty_like(scores)
    in_file_order[order] = scores
    return in_file_order, time.perf_counter() - start
