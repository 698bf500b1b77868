"""Scoring dask DataFrames and Arrays with a fitted detector: one task per partition, the model shipped once.

The model travels as its safe-format archive (:mod:`pynomaly_core.shipping`) wrapped in one ``dask.delayed``: a
single key of the graph that each worker receives once and loads once, whatever the number of partitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd

from pynomaly_core.shipping import check_partitionable, feature_columns, from_bytes, to_bytes

META = pd.DataFrame({"score": pd.Series(dtype="float64"), "label": pd.Series(dtype="int64")})


def ship(model: Any) -> Any:
    """The model as one delayed value (its safe-format bytes) for tasks to depend on."""
    check_partitionable(model)
    data = to_bytes(model)
    return dask.delayed(data, pure=True, name=f"pynomaly-model-{dask.base.tokenize(data)}")


def score_frame(frame: dd.DataFrame, model: Any, *, columns: Sequence[Any] | None = None) -> dd.DataFrame:
    """A lazy frame of ``score`` (float64, higher = more anomalous) and ``label`` (0/1), with ``frame``'s index."""
    used = feature_columns(model, list(frame.columns), columns)
    return frame[used].map_partitions(score_partition, ship(model), meta=META)


def score_array(array: da.Array, model: Any) -> da.Array:
    """Lazy float64 scores of the rows of a 2-D dask array (columns are gathered into one chunk per block)."""
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D array, got {array.ndim} dimensions")
    array = array.rechunk({1: -1})
    return da.map_blocks(score_block, array, ship(model), drop_axis=1, dtype=np.float64)


def score_partition(part: pd.DataFrame, data: bytes) -> pd.DataFrame:
    model = from_bytes(data, trust=True)  # bytes made by to_bytes on the driver from a model already loaded there
    scores = score_block(part.to_numpy(dtype=np.float64), data) if len(part) else np.empty(0)
    return pd.DataFrame({"score": scores, "label": (scores > model.threshold_).astype(np.int64)}, index=part.index)


def score_block(block: np.ndarray, data: bytes) -> np.ndarray:
    if block.shape[0] == 0:
        return np.empty(0)
    return from_bytes(data, trust=True).decision_function(np.asarray(block, dtype=np.float64))
