"""Training on a Spark DataFrame: mergeable detectors from per-partition states (``mapInPandas``), the others on a
sample (said so)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql.types import BinaryType, StructField, StructType

from pynomaly_core.merging import SKETCH_SIZE, MapPartitions, fit_merged, is_mergeable
from pynomaly_core.state_codec import decode_state, encode_state

_STATE = StructType([StructField("state", BinaryType(), True)])


class SampledTrainingWarning(UserWarning):
    """The detector cannot merge partition states: it was trained on a random sample of the rows."""


def fit(detector: Any, df: DataFrame, *, columns: Sequence[str] | None = None, sketch_size: int = SKETCH_SIZE,
        sample_rows: int = 100_000, seed: int = 0) -> Any:
    """Fit ``detector`` on every row of ``df`` when it is mergeable, else on about ``sample_rows`` random rows
    (with a :class:`SampledTrainingWarning`; ``trained_on_sample_`` holds the sample's size). Returns it."""
    used = list(df.columns) if columns is None else list(columns)
    frame = df.select(*used)
    if is_mergeable(detector):
        fit_merged(detector, spark_map(frame), feature_names=used, sketch_size=sketch_size)
        detector.trained_on_sample_ = None
        return detector
    total = frame.count()
    sample = frame.sample(fraction=min(1.0, sample_rows / max(total, 1)), seed=seed).toPandas()
    warnings.warn(f"{detector._name()} is not mergeable: trained on a sample of {len(sample)} of {total} rows",
                  SampledTrainingWarning, stacklevel=2)
    detector.fit(sample.astype(np.float64))
    detector.trained_on_sample_ = len(sample)
    return detector


#: How many partition results one task merges into one (tree reduction): the driver receives few states however
#: many partitions there are.
FAN_IN = 8


def spark_map(frame: DataFrame, fan_in: int = FAN_IN) -> MapPartitions:
    """``map_partitions`` of :func:`pynomaly_core.merging.fit_merged`: the task runs once per Spark partition on its
    rows (Arrow batches gathered into one float64 array); results are merged on the executors, ``fan_in`` at a time,
    with the task's ``combine`` (``coalesce`` without a shuffle), and the few left come back to the driver. States
    travel as :mod:`pynomaly_core.state_codec` bytes (JSON + npz), never pickled."""
    width = len(frame.columns)

    def run(task: Any) -> list[Any]:
        def per_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            parts = [b.to_numpy(dtype=np.float64) for b in batches]
            X = np.concatenate(parts) if parts else np.empty((0, width))
            yield pd.DataFrame({"state": [encode_state(task(X))]})

        def combine(states: Iterator[bytes]) -> Iterator[bytes]:
            yield encode_state(task.combine([decode_state(s) for s in states]))

        states = frame.mapInPandas(per_partition, _STATE).rdd.map(lambda row: bytes(row["state"]))
        while hasattr(task, "combine") and states.getNumPartitions() > fan_in:
            states = states.coalesce(-(-states.getNumPartitions() // fan_in)).mapPartitions(combine)
        return [decode_state(s) for s in states.collect()]

    return run
