"""Column encoding shared by every tabular loader: column selection, a label column, categorical columns (one-hot
or ordinal) and the missing-value policy (``error``, ``drop``, ``impute-median``).

A loader turns each batch of its source into a :class:`ColumnBatch` (float columns with NaN for a missing value,
or object columns of strings / ``None`` for categorical ones) and hands it to a :class:`TableEncoder`.

Batches must be encoded alike, so the encoder is *fitted* first when it needs to be (:attr:`needs_fit`): a first
pass over the whole source collects the categories of every categorical column (sorted, so one-hot columns and
ordinal codes do not depend on batch size or row order) and the fill values of ``impute-median`` (the median of
a numeric column, the most frequent category of a categorical one). Medians are exact up to
:data:`MEDIAN_SAMPLE` non-missing values per column; beyond that they are the median of a uniform random sample of
that many values (seeded, so the same file always gives the same fill value).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError

MISSING_POLICIES = ("error", "drop", "impute-median")
ENCODINGS = ("onehot", "ordinal")
#: Values per column kept to compute an ``impute-median`` fill value (exact below this count).
MEDIAN_SAMPLE = 200_000
#: Rows a loader looks at to decide which columns are categorical under ``categorical="auto"``.
SNIFF_ROWS = 1000


@dataclass
class ColumnBatch:
    """One batch of a source, column by column, with a way to name a row in error messages.

    ``columns[j]`` is float64 (NaN = missing) for a numeric column or an object array of ``str`` / ``None``
    for a categorical one; ``where(i)`` names row ``i`` of the batch in the source (``"line 7"``, ``"row 12"``).
    """

    columns: dict[int, np.ndarray]
    n_rows: int
    where: Callable[[int], str]


def select_columns(names: list[str], wanted: Sequence[str | int] | None, source: str) -> list[int]:
    """Indices of the ``wanted`` columns (names, or integer positions), or all columns."""
    if wanted is None:
        return list(range(len(names)))
    if isinstance(wanted, str):
        wanted = [c.strip() for c in wanted.split(",") if c.strip()]
    indices = []
    for item in wanted:
        if isinstance(item, int) or (isinstance(item, str) and item.isdigit() and item not in names):
            index = int(item)
            if not 0 <= index < len(names):
                raise InputError(f"{source}: column index {index} out of range (0..{len(names) - 1})")
        elif item in names:
            index = names.index(item)
        else:
            raise InputError(f"{source}: no column {item!r}; columns are {', '.join(names)}")
        indices.append(index)
    return indices


def is_number(cell: Any) -> bool:
    if cell is None or isinstance(cell, bool):
        return cell is not None
    if isinstance(cell, int | float):
        return True
    try:
        float(cell)
    except (TypeError, ValueError):
        return False
    return True


class TableEncoder:
    """Turns :class:`ColumnBatch` objects into ``(X, y)`` with the same columns and codes for every batch."""

    def __init__(
        self,
        source: str,
        names: list[str],
        *,
        columns: Sequence[str | int] | str | None = None,
        labels: str | None = None,
        categorical: Sequence[str] | str | None = "auto",
        encoding: str = "onehot",
        missing: str = "error",
    ) -> None:
        if missing not in MISSING_POLICIES:
            raise InputError(f"{source}: missing must be one of {', '.join(MISSING_POLICIES)}, got {missing!r}")
        if encoding not in ENCODINGS:
            raise InputError(f"{source}: encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
        self.source, self.names, self.encoding, self.missing = source, list(names), encoding, missing
        self.label_index: int | None = None
        if labels is not None:
            if labels not in self.names:
                raise InputError(f"{source}: no label column {labels!r}; columns are {', '.join(self.names)}")
            self.label_index = self.names.index(labels)
        self.feature_indices = select_columns(self.names, columns, source)
        if columns is None and self.label_index is not None:
            self.feature_indices.remove(self.label_index)
        if not self.feature_indices:
            raise InputError(f"{source}: no feature columns left")
        if isinstance(categorical, str) and categorical.strip().lower() in ("", "none", "null"):
            categorical = None  # as the command line writes it: -O categorical=none
        self.auto_categorical = categorical == "auto"
        explicit: list[str] = [] if categorical in (None, "auto") else (
            [c.strip() for c in categorical.split(",") if c.strip()] if isinstance(categorical, str)
            else list(categorical))
        self.categorical = set(select_columns(self.names, explicit, source)) if explicit else set()
        self.categories: dict[int, list[str]] = {}
        self.fill: dict[int, Any] = {}
        self._seen: dict[int, Counter[str]] = {}
        self._samples: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._rng = np.random.default_rng(0)
        self.fitted = False

    # -- which columns are categorical -------------------------------------------------------------------------
    @property
    def used(self) -> list[int]:
        """Columns a loader must read: the features and the label column."""
        return self.feature_indices + ([] if self.label_index is None else [self.label_index])

    def infer_categorical(self, sample: dict[int, Sequence[Any]]) -> None:
        """Under ``categorical="auto"``: a feature column none of whose sampled non-missing values is a number."""
        if not self.auto_categorical:
            return
        for j in self.feature_indices:
            values = [v for v in sample.get(j, ()) if v is not None and v != ""]
            if values and not any(is_number(v) for v in values):
                self.categorical.add(j)
        self.auto_categorical = False

    @property
    def needs_fit(self) -> bool:
        return bool(self.categorical & set(self.feature_indices)) or self.missing == "impute-median"

    # -- fitting (first pass) --------------------------------------------------------------------------------
    def observe(self, batch: ColumnBatch) -> None:
        """Accumulate categories and fill-value statistics from one batch of the first pass."""
        for j in self.feature_indices:
            column = batch.columns[j]
            if j in self.categorical:
                self._seen.setdefault(j, Counter()).update(v for v in _as_categories(column) if v is not None)
            elif self.missing == "impute-median":
                values = self.numeric(column, j, batch)
                values = values[~np.isnan(values)]
                keys = self._rng.random(values.size)
                old_values, old_keys = self._samples.get(j, (np.empty(0), np.empty(0)))
                values, keys = np.concatenate([old_values, values]), np.concatenate([old_keys, keys])
                if values.size > MEDIAN_SAMPLE:
                    keep = np.argpartition(keys, MEDIAN_SAMPLE)[:MEDIAN_SAMPLE]
                    values, keys = values[keep], keys[keep]
                self._samples[j] = (values, keys)

    def finish(self) -> None:
        """Freeze categories and fill values after the first pass."""
        for j in self.feature_indices:
            if j in self.categorical:
                counts = self._seen.get(j, Counter())
                self.categories[j] = sorted(counts)
                if self.missing == "impute-median":
                    if not counts:
                        raise InputError(f"{self.source}: column {self.names[j]!r} has no values to impute from")
                    top = max(counts.values())
                    self.fill[j] = min(k for k, v in counts.items() if v == top)
            elif self.missing == "impute-median":
                values = self._samples.get(j, (np.empty(0),))[0]
                if values.size == 0:
                    raise InputError(f"{self.source}: column {self.names[j]!r} has no values to impute from")
                self.fill[j] = float(np.median(values))
        self._seen, self._samples = {}, {}
        self.fitted = True

    # -- encoding ----------------------------------------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        out = []
        for j in self.feature_indices:
            if j in self.categorical and self.encoding == "onehot":
                out += [f"{self.names[j]}={c}" for c in self.categories[j]]
            else:
                out.append(self.names[j])
        return out

    def numeric(self, column: np.ndarray, j: int, batch: ColumnBatch) -> np.ndarray:
        """A column as float64 (NaN = missing); a non-numeric or infinite value is an error naming its row."""
        if column.dtype.kind != "f":
            try:
                column = np.array([np.nan if v is None else v for v in column], dtype=np.float64) \
                    if column.dtype == object else column.astype(np.float64)
            except (TypeError, ValueError):
                for i, v in enumerate(column):
                    if v is not None and not is_number(v):
                        raise InputError(f"{self.source}: non-numeric value {str(v)[:40]!r} at {batch.where(i)}, "
                                         f"column {self.names[j]!r}") from None
                raise
        infinite = np.isinf(column)
        if infinite.any():
            i = int(np.flatnonzero(infinite)[0])
            raise InputError(f"{self.source}: non-finite value {column[i]} at {batch.where(i)}, "
                             f"column {self.names[j]!r}")
        return column

    def _missing_error(self, batch: ColumnBatch, i: int, j: int) -> InputError:
        return InputError(f"{self.source}: missing value at {batch.where(i)}, column {self.names[j]!r} "
                          "(missing='drop' or 'impute-median' to accept it)")

    def encode(self, batch: ColumnBatch) -> tuple[np.ndarray, np.ndarray | None]:
        """``(X, y)`` of one batch; rows with a missing value are dropped under ``missing="drop"``."""
        if self.needs_fit and not self.fitted:
            raise RuntimeError("TableEncoder.encode before finish(): the first pass is missing")
        keep = np.ones(batch.n_rows, dtype=bool)
        blocks: list[np.ndarray] = []
        first_missing: tuple[int, int] | None = None  # (row, column) of the first missing value in reading order
        for j in self.feature_indices:
            column = batch.columns[j]
            if j in self.categorical:
                codes = self._codes(column, j, batch)
                missing = codes < 0
            else:
                values = self.numeric(column, j, batch)
                missing = np.isnan(values)
            if missing.any():
                if self.missing == "error":
                    row = int(np.flatnonzero(missing)[0])
                    if first_missing is None or row < first_missing[0]:
                        first_missing = (row, j)
                elif self.missing == "drop":
                    keep &= ~missing
                elif j in self.categorical:
                    codes = np.where(missing, self.categories[j].index(self.fill[j]), codes)
                else:
                    values = np.where(missing, self.fill[j], values)
            if j in self.categorical:
                if self.encoding == "ordinal":
                    blocks.append(codes.astype(np.float64)[:, None])
                else:
                    onehot = np.zeros((batch.n_rows, len(self.categories[j])))
                    rows = np.flatnonzero(codes >= 0)
                    onehot[rows, codes[rows]] = 1.0
                    blocks.append(onehot)
            else:
                blocks.append(values[:, None])
        if first_missing is not None:
            raise self._missing_error(batch, *first_missing)
        y = None
        if self.label_index is not None:
            y_values = self.numeric(batch.columns[self.label_index], self.label_index, batch)
            missing = np.isnan(y_values)
            if missing.any():
                if self.missing != "drop":
                    raise self._missing_error(batch, int(np.flatnonzero(missing)[0]), self.label_index)
                keep &= ~missing
            y = y_values[keep].astype(np.int64)
        X = np.hstack(blocks) if blocks else np.empty((batch.n_rows, 0))
        return (X if keep.all() else X[keep]), y

    def _codes(self, column: np.ndarray, j: int, batch: ColumnBatch) -> np.ndarray:
        lookup = {c: k for k, c in enumerate(self.categories[j])}
        codes = np.empty(batch.n_rows, dtype=np.int64)
        for i, value in enumerate(_as_categories(column)):
            if value is None:
                codes[i] = -1
                continue
            code = lookup.get(value)
            if code is None:
                raise InputError(f"{self.source}: unknown category {value[:40]!r} at {batch.where(i)}, "
                                 f"column {self.names[j]!r}")
            codes[i] = code
        return codes


def _as_categories(column: np.ndarray) -> list[str | None]:
    """Category keys of a column: strings as they are, numbers as text (``3.0`` → ``"3"``), NaN/None as missing."""
    out: list[str | None] = []
    for value in column.tolist():
        if value is None or value == "" or (isinstance(value, float) and value != value):
            out.append(None)
        elif isinstance(value, float) and value.is_integer():
            out.append(str(int(value)))
        else:
            out.append(str(value))
    return out


#: Rows per batch of the first (fitting) pass; it does not change the result.
FIT_ROWS = 65_536


def encoded_batches(
    encoder: TableEncoder, read: Callable[[int], Any], rows: int, source: str
) -> Any:
    """Datasets of at most ``rows`` rows from ``read(rows)`` (an iterator of :class:`ColumnBatch`), after a first
    pass that fits ``encoder`` when it needs one. Batches left empty by ``missing="drop"`` are skipped."""
    from pynomaly_core.data import Dataset

    if rows < 1:
        raise InputError(f"{source}: rows per batch must be >= 1, got {rows}")
    if encoder.needs_fit and not encoder.fitted:
        for batch in read(FIT_ROWS):
            encoder.observe(batch)
        encoder.finish()
    produced = 0
    for batch in read(rows):
        X, y = encoder.encode(batch)
        if X.shape[0] == 0:
            continue
        produced += X.shape[0]
        yield Dataset(X=X, y=y, feature_names=encoder.feature_names, source=source)
    if produced == 0:
        raise InputError(f"{source}: no data rows" + (" left after dropping rows with missing values"
                                                      if encoder.missing == "drop" else ""))
