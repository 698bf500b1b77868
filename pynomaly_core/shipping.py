"""What scale-out engines (Dask, Spark) need: a fitted model as bytes in the safe format, the columns it scores,
and whether its scores can be computed partition by partition.

The bytes are a zip archive of the directory :func:`pynomaly_core.persistence.save` writes (JSON manifest and
hashed artefacts, no pickle): loading them checks every hash as loading the directory does, and refuses
code-running formats unless ``trust=True``. Each worker process loads a given archive once (cached by its sha256),
however many tasks score with it.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError


def to_bytes(model: Any) -> bytes:
    """The safe-format archive of a fitted, registered detector."""
    from pynomaly_core.persistence import save

    with tempfile.TemporaryDirectory(prefix="pynomaly-ship-") as tmp:
        directory = save(model, Path(tmp) / "model")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for path in sorted(directory.iterdir()):
                archive.write(path, path.name)
    return buffer.getvalue()


def from_bytes(data: bytes, *, trust: bool = False) -> Any:
    """The detector in an archive made by :func:`to_bytes` (cached per process: the same bytes load once)."""
    key = (hashlib.sha256(data).hexdigest(), trust)
    model = _CACHE.get(key)
    if model is None:
        model = _CACHE[key] = _extract_and_load(data, trust)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
    return model


_CACHE: dict[tuple[str, bool], Any] = {}
_CACHE_SIZE = 8


def _extract_and_load(data: bytes, trust: bool) -> Any:
    from pynomaly_core.errors import IntegrityError
    from pynomaly_core.persistence import load

    with tempfile.TemporaryDirectory(prefix="pynomaly-ship-") as tmp:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    if Path(name).name != name:
                        raise IntegrityError(f"model archive: unexpected path {name!r}")
                archive.extractall(tmp)
        except zipfile.BadZipFile as exc:
            raise IntegrityError(f"model archive: not a zip archive ({exc})") from None
        return load(tmp, trust=trust)


def feature_columns(model: Any, available: Sequence[Any], columns: Sequence[Any] | None = None) -> list[Any]:
    """``columns`` when given, else the model's fitted feature names, else every column; checked against the
    model's feature count."""
    if columns is None:
        names = getattr(model, "feature_names_in_", None)
        if names is not None and all(str(n) in {str(a) for a in available} for n in names):
            by_text = {str(a): a for a in available}
            columns = [by_text[str(n)] for n in names]
        else:
            columns = list(available)
    missing = [c for c in columns if c not in set(available)]
    if missing:
        raise InputError(f"column {missing[0]!r} is not in the data; columns: {', '.join(map(str, available))}")
    if len(columns) != model.n_features_in_:
        raise InputError(f"the model was fitted on {model.n_features_in_} features, the data has {len(columns)} "
                         f"columns ({', '.join(map(str, columns))}); choose them with --columns")
    return list(columns)


def arrow_matrix(batch: Any, out: np.ndarray | None = None) -> np.ndarray:
    """The float64 ``(rows, columns)`` matrix of a pyarrow Table or RecordBatch (nulls become NaN): how the engines
    hand a partition read on a worker to ``decision_function``. It is column-major, so each column is one sequential
    copy (filling a row-major matrix column by column walks all of its memory once per column). ``out``, a float64
    array of at least rows × columns elements, is reused for it (a view of its start is returned)."""
    rows, columns = batch.num_rows, batch.num_columns
    if out is None or out.size < rows * columns:
        X = np.empty((rows, columns), dtype=np.float64, order="F")
    else:
        X = out.reshape(-1)[:rows * columns].reshape(columns, rows).T
    for j, column in enumerate(batch.columns):
        X[:, j] = column.to_numpy(zero_copy_only=False)
    return X


def check_partitionable(model: Any) -> None:
    """Refuse a model whose scores depend on the rows scored together, or that scores only its training rows."""
    from pynomaly_core.registry import get_registry

    spec = get_registry().spec_of(model)
    caps = set() if spec is None else spec.capabilities
    for cap, why in (("batch_dependent", "a row's score depends on the other rows of its partition"),
                     ("transductive", "it scores only the rows it was fitted on")):
        if cap in caps:
            raise InputError(f"{spec.qualified_name} cannot be scored in partitions: {why}")
