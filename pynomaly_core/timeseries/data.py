"""Timestamped data: a CSV with a timestamp column, value columns and an optional series-id column.

:func:`load_timeseries` parses the timestamps (ISO 8601 date-times, or numbers: seconds since the epoch), checks
their order (an out-of-order row is an error naming it, unless ``sort=True``), and reports the sampling: the typical
interval, how many intervals differ from it (irregular sampling) and the gaps (intervals over 1.5 times it).
With ``series_id`` the table holds many series; order is checked within each. :func:`detect_timeseries` fits a
time-series detector per series (or one shared model) and returns one score per row, in file order.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.data import Dataset
from pynomaly_core.errors import InputError

_GAP_FACTOR = 1.5
CSV_SUFFIXES = (".csv", ".tsv", ".txt")


def _read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    if path.suffix.lower() not in CSV_SUFFIXES:
        raise InputError(f"{path}: timestamped data is read from CSV files ({', '.join(CSV_SUFFIXES)})")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path, newline="", encoding="utf-8") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        rows = [row for row in csv.reader(handle, dialect) if row]
    if not rows:
        raise InputError(f"{path}: empty file")
    return [name.strip() for name in rows[0]], rows[1:]


def _column(path: Path, header: list[str], name: str, what: str) -> int:
    try:
        return header.index(name)
    except ValueError:
        raise InputError(f"{path}: no {what} column {name!r} (columns: {', '.join(header)})") from None


def parse_timestamps(texts: Sequence[str], where: str) -> np.ndarray:
    """Timestamps as ``datetime64[ns]``: ISO 8601 text, or numbers (seconds since the epoch)."""
    texts = [text.strip() for text in texts]
    try:
        seconds = np.array(texts, dtype=np.float64)
    except ValueError:
        pass
    else:
        return (seconds * 1e9).astype("int64").astype("datetime64[ns]")
    try:
        return np.array([text.replace(" ", "T", 1).removesuffix("Z") for text in texts], dtype="datetime64[ns]")
    except ValueError:
        for i, text in enumerate(texts):
            try:
                np.datetime64(text.replace(" ", "T", 1).removesuffix("Z"), "ns")
            except ValueError:
                raise InputError(f"{where}: row {i + 2}: cannot parse timestamp {text!r}") from None
        raise


def sampling_report(stamps: np.ndarray, groups: np.ndarray | None = None) -> dict[str, Any]:
    """The typical interval between consecutive rows (within a series), irregular intervals and gaps."""
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
            "gaps": [{"row": int(row[g]) + 2, "after_s": float(delta[g]) / 1e9} for g in gaps[:100]],
            "n_gaps": int(gaps.size)}


def _group_indices(n: int, groups: np.ndarray | None) -> list[np.ndarray]:
    if groups is None:
        return [np.arange(n)]
    return [np.flatnonzero(groups == key) for key in dict.fromkeys(groups.tolist())]


def load_timeseries(source: str | Path, *, timestamp: str, columns: Sequence[str] | str | None = None,
                    series_id: str | None = None, labels: str | None = None, sort: bool = False) -> Dataset:
    """A timestamped CSV as a ``timeseries`` :class:`Dataset` (rows in file order, or in time order with ``sort``).

    ``extra`` holds ``timestamps`` (``datetime64[ns]``), ``series`` (the series id of each row, or ``None``),
    ``order`` (the file row of each dataset row) and ``sampling`` (:func:`sampling_report`).
    """
    path = Path(source)
    header, rows = _read_table(path)
    if not rows:
        raise InputError(f"{path}: no data rows")
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise InputError(f"{path}: row {i + 2}: expected {len(header)} columns, got {len(row)}")
    t_col = _column(path, header, timestamp, "timestamp")
    id_col = None if series_id is None else _column(path, header, series_id, "series-id")
    label_col = None if labels is None else _column(path, header, labels, "labels")
    if isinstance(columns, str):
        columns = [c.strip() for c in columns.split(",") if c.strip()]
    skip = {t_col, id_col, label_col}
    names = list(columns) if columns else [name for j, name in enumerate(header) if j not in skip]
    if not names:
        raise InputError(f"{path}: no value columns besides the timestamp")
    value_cols = [_column(path, header, name, "value") for name in names]
    stamps = parse_timestamps([row[t_col] for row in rows], str(path))
    groups = None if id_col is None else np.array([row[id_col].strip() for row in rows], dtype=object)
    X = np.empty((len(rows), len(value_cols)))
    for k, j in enumerate(value_cols):
        cells = [row[j] for row in rows]
        try:
            X[:, k] = np.array(cells, dtype=np.float64)
        except ValueError:
            bad = next(i for i, text in enumerate(cells) if not _is_number(text))
            raise InputError(f"{path}: row {bad + 2}, column {header[j]!r}: not a number: {cells[bad]!r}") from None
        if not np.isfinite(X[:, k]).all():
            bad = int(np.flatnonzero(~np.isfinite(X[:, k]))[0])
            raise InputError(f"{path}: row {bad + 2}, column {header[j]!r}: missing or infinite value")
    y = None if label_col is None else np.array([float(row[label_col]) for row in rows])
    order = np.arange(len(rows))
    for index in _group_indices(len(rows), groups):
        back = np.flatnonzero(np.diff(stamps[index]) < np.timedelta64(0, "ns"))
        if back.size and not sort:
            row = int(index[back[0] + 1])
            of = "" if groups is None else f" of series {groups[row]!r}"
            raise InputError(f"{path}: row {row + 2}: timestamp {rows[row][t_col].strip()!r} is earlier than the "
                             f"row before it{of}; sort the file by time (or pass sort)")
    if sort:
        keys = (stamps,) if groups is None else (stamps, _first_seen_codes(groups))
        order = np.lexsort(keys)
        X, stamps = X[order], stamps[order]
        y = None if y is None else y[order]
        groups = None if groups is None else groups[order]
    return Dataset(X=X, y=y, feature_names=names, source=str(path), kind="timeseries",
                   extra={"timestamps": stamps, "series": groups, "order": order,
                          "sampling": sampling_report(stamps, groups)})


def _first_seen_codes(groups: np.ndarray) -> np.ndarray:
    codes = {key: i for i, key in enumerate(dict.fromkeys(groups.tolist()))}
    return np.array([codes[key] for key in groups.tolist()])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


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
