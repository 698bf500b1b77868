"""Training on a dask collection: mergeable detectors partition by partition, the others on a sample."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np

from pynomaly_core.merging import SKETCH_SIZE, MapPartitions, fit_merged, is_mergeable


class SampledTrainingWarning(UserWarning):
    """The detector cannot merge partition states: it was trained on a random sample of the rows."""


def fit(detector: Any, data: dd.DataFrame | da.Array, *, columns: Sequence[Any] | None = None,
        sketch_size: int = SKETCH_SIZE, sample_rows: int = 100_000, random_state: int = 0) -> Any:
    """Fit ``detector`` on every row of ``data`` when it is mergeable, else on about ``sample_rows`` random rows
    (with a :class:`SampledTrainingWarning`; ``trained_on_sample_`` holds the sample's size). Returns it."""
    blocks, names = _blocks(data, columns)
    if is_mergeable(detector):
        fit_merged(detector, dask_map(blocks), feature_names=names, sketch_size=sketch_size)
        detector.trained_on_sample_ = None
        return detector
    counts = dask.compute(*[dask.delayed(len)(b) for b in blocks])
    total = int(sum(counts))
    fraction = min(1.0, sample_rows / max(total, 1))
    parts = dask.compute(*[dask.delayed(_sample)(b, fraction, random_state + i) for i, b in enumerate(blocks)])
    sample = np.concatenate([p for p in parts if len(p)])
    warnings.warn(f"{detector._name()} is not mergeable: trained on a sample of {len(sample)} of {total} rows",
                  SampledTrainingWarning, stacklevel=2)
    if names is not None:
        import pandas as pd

        detector.fit(pd.DataFrame(sample, columns=list(names)))
    else:
        detector.fit(sample)
    detector.trained_on_sample_ = len(sample)
    return detector


#: How many partition results a worker merges into one (tree reduction): the driver receives few states however
#: many partitions there are.
FAN_IN = 8


def dask_map(blocks: list[Any], fan_in: int = FAN_IN) -> MapPartitions:
    """``map_partitions`` of :func:`pynomaly_core.merging.fit_merged` over delayed float64 blocks: the task is one
    key of the graph (shipped once per worker), each block one task; results are merged on the workers, ``fan_in``
    at a time, with the task's ``combine``."""

    def run(task: Any) -> list[Any]:
        shipped = dask.delayed(task, pure=False)
        results = [dask.delayed(_apply)(shipped, block) for block in blocks]
        combine = getattr(task, "combine", None)
        while combine is not None and len(results) > fan_in:
            results = [dask.delayed(_combine)(shipped, results[i:i + fan_in]) for i in range(0, len(results), fan_in)]
        return list(dask.compute(*results))

    return run


def _combine(task: Any, results: list[Any]) -> Any:
    return task.combine(results)


def _apply(task: Any, block: np.ndarray) -> Any:
    return task(block)


def _blocks(data: Any, columns: Sequence[Any] | None) -> tuple[list[Any], list[Any] | None]:
    """Delayed float64 arrays, one per partition (row block), and the feature names."""
    if isinstance(data, da.Array):
        if data.ndim != 2:
            raise ValueError(f"expected a 2-D array, got {data.ndim} dimensions")
        return list(data.rechunk({1: -1}).astype(np.float64).to_delayed().ravel()), None
    names = list(data.columns) if columns is None else list(columns)
    frame = data[names]
    return [dask.delayed(_as_array)(part) for part in frame.to_delayed()], names


def _as_array(part: Any) -> np.ndarray:
    return part.to_numpy(dtype=np.float64)


def _sample(block: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    if fraction >= 1.0:
        return block
    keep = np.random.default_rng(seed).random(len(block)) < fraction
    return block[keep]
