"""HDF5 loader (h5py): one dataset of the file, read in row slabs.

The dataset is a 2-D (or 1-D) numeric array — columns named by its ``columns`` attribute when it has one, else
``0``, ``1``, … — or a 1-D table of named numeric fields (a compound dtype). ``dataset`` is its path inside the file
(default: the only dataset, or ``X``); ``labels`` is a field of that table or the path of a 1-D dataset of 0/1
labels (default: ``y`` when it exists next to ``X``). NaN is a missing value (``missing`` error/drop/impute-median).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from pynomaly_core.data import Dataset, concat_datasets
from pynomaly_core.errors import InputError
from pynomaly_core.tabular import ColumnBatch, TableEncoder, encoded_batches

WHOLE_ROWS = 1 << 20


def _datasets(handle: h5py.File) -> list[str]:
    found: list[str] = []
    handle.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) else None)
    return sorted(found)


def _open(path: Path) -> h5py.File:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path}: not a readable HDF5 file ({str(exc).splitlines()[0]})") from None


class _Hdf5Source:
    def __init__(self, path: Path, dataset: str | None, labels: str | None, columns: Any, missing: str):
        self.path = path
        with _open(path) as handle:
            names = _datasets(handle)
            if dataset is None:
                dataset = names[0] if len(names) == 1 else "X" if "X" in names else None
                if dataset is None:
                    raise InputError(f"{path}: several datasets ({', '.join(names) or 'none'}); pass dataset=PATH")
                if labels is None and dataset == "X" and "y" in names:
                    labels = "y"
            if dataset.strip("/") not in names:
                raise InputError(f"{path}: no dataset {dataset!r}; datasets are {', '.join(names) or '(none)'}")
            data = handle[dataset]
            self.dataset, self.n_rows, self.fields = dataset, data.shape[0] if data.ndim else 0, data.dtype.names
            if self.fields:
                if data.ndim != 1:
                    raise InputError(f"{path}: table dataset {dataset!r} must be 1-D, got shape {data.shape}")
                names_ = list(self.fields)
            else:
                if data.dtype.kind not in "biuf" or data.ndim not in (1, 2):
                    raise InputError(f"{path}: dataset {dataset!r} must be a 1-D or 2-D numeric array, "
                                     f"got {data.dtype} with shape {data.shape}")
                width = 1 if data.ndim == 1 else data.shape[1]
                attr = data.attrs.get("columns")
                names_ = [str(c.decode() if isinstance(c, bytes) else c) for c in attr] if attr is not None \
                    else [str(i) for i in range(width)]
                if len(names_) != width:
                    raise InputError(f"{path}: {dataset!r} has {width} columns but {len(names_)} names")
            self.label_path = None
            if labels is not None and labels not in names_:
                if labels.strip("/") not in names:
                    raise InputError(f"{path}: no label field or dataset {labels!r}")
                shape = handle[labels].shape
                if shape[:1] != (self.n_rows,) or len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
                    raise InputError(f"{path}: labels {labels!r} have shape {shape}, expected ({self.n_rows},)")
                self.label_path, labels = labels, None
        self.names = names_
        self.encoder = TableEncoder(str(path), names_, columns=columns, labels=labels, categorical=None,
                                    missing=missing)
        self.y_index = len(names_)
        if self.label_path is not None:  # a separate dataset, read alongside so dropped rows drop their label
            self.encoder.names.append(self.label_path)
            self.encoder.label_index = self.y_index

    def read(self, rows: int) -> Iterator[ColumnBatch]:
        with _open(self.path) as handle:
            data = handle[self.dataset]
            own = [j for j in self.encoder.used if j != self.y_index]
            for start in range(0, self.n_rows, rows):
                block = data[start:start + rows]
                if self.fields:
                    columns = {j: np.asarray(block[self.names[j]], dtype=np.float64) for j in own}
                else:
                    block = np.asarray(block, dtype=np.float64).reshape(block.shape[0], -1)
                    columns = {j: block[:, j] for j in own}
                if self.label_path is not None:
                    y = np.asarray(handle[self.label_path][start:start + rows], dtype=np.float64).reshape(-1)
                    columns[self.y_index] = y
                yield ColumnBatch(columns, len(block), lambda i, start=start: f"row {start + i}")


def iter_hdf5(source: str, rows: int = 65_536, *, dataset: str | None = None, labels: str | None = None,
              columns: Sequence[str | int] | str | None = None, missing: str = "error") -> Iterator[Dataset]:
    """Batches of at most ``rows`` rows of an HDF5 dataset (only one slab in memory at a time)."""
    reader = _Hdf5Source(Path(source), dataset, labels, columns, missing)
    yield from encoded_batches(reader.encoder, reader.read, rows, source)


def load_hdf5(source: str, *, dataset: str | None = None, labels: str | None = None,
              columns: Sequence[str | int] | str | None = None, missing: str = "error") -> Dataset:
    """Read an HDF5 dataset (see the module docstring for ``dataset`` and ``labels``)."""
    return concat_datasets(list(iter_hdf5(source, WHOLE_ROWS, dataset=dataset, labels=labels, columns=columns,
                                          missing=missing)))
