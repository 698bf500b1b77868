"""Scoring Spark DataFrames: ``mapInPandas`` over Arrow batches with the model broadcast once, and one model per
group with ``groupBy().applyInPandas``.

Models travel as their safe-format archives (:mod:`pynomaly_core.shipping`: JSON manifest and hashed artefacts),
broadcast to the executors; each Python worker loads an archive once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql.types import BinaryType, DoubleType, LongType, StructField, StructType

from pynomaly_core.shipping import check_partitionable, feature_columns, from_bytes, to_bytes

SCORE_FIELDS = [StructField("score", DoubleType(), False), StructField("label", LongType(), False)]


def broadcast(df: DataFrame, model: Any) -> Any:
    """The model's safe-format bytes as a Spark broadcast variable."""
    check_partitionable(model)
    return df.sparkSession.sparkContext.broadcast(to_bytes(model))


def score_frame(df: DataFrame, model: Any, *, columns: Sequence[str] | None = None,
                keep: Sequence[str] = ()) -> DataFrame:
    """``keep`` columns (passed through) plus ``score`` (float64, higher = more anomalous) and ``label`` (0/1)."""
    used = feature_columns(model, df.columns, columns)
    shipped = broadcast(df, model)
    schema = StructType([*(df.schema[c] for c in keep), *SCORE_FIELDS])
    keep = list(keep)

    def score_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        loaded = from_bytes(shipped.value, trust=True)  # bytes made on the driver from a model it loaded
        for batch in batches:
            yield scored(loaded, batch, used, keep)

    return df.select(*dict.fromkeys([*keep, *used])).mapInPandas(score_batches, schema)


def score_groups(df: DataFrame, models: Mapping[Any, Any], by: str, *, columns: Sequence[str] | None = None,
                 keep: Sequence[str] = ()) -> DataFrame:
    """Score each group of ``by`` with its own model (``models[key]``); rows of a group without a model are
    dropped. Output: ``by``, ``keep`` columns, ``score``, ``label``."""
    first = next(iter(models.values()))
    used = feature_columns(first, df.columns, columns)
    for model in models.values():
        check_partitionable(model)
    shipped = df.sparkSession.sparkContext.broadcast({key: to_bytes(m) for key, m in models.items()})
    keep = [c for c in keep if c != by]
    schema = StructType([df.schema[by], *(df.schema[c] for c in keep), *SCORE_FIELDS])

    def score_group(group: pd.DataFrame) -> pd.DataFrame:
        key = group[by].iloc[0]
        data = shipped.value.get(key.item() if isinstance(key, np.generic) else key)
        if data is None:
            return pd.DataFrame({name: [] for name in schema.names})
        return scored(from_bytes(data, trust=True), group, used, [by, *keep])

    return df.groupBy(by).applyInPandas(score_group, schema)


def fit_groups(df: DataFrame, detector: str, by: str, *, params: Mapping[str, Any] | None = None,
               columns: Sequence[str] | None = None) -> dict[Any, Any]:
    """Fit one ``detector`` per group of ``by`` on the executors (each group's rows must fit in one worker's
    memory); returns ``{key: fitted model}``."""
    used = [c for c in df.columns if c != by] if columns is None else list(columns)
    options = dict(params or {})
    schema = StructType([df.schema[by], StructField("model", BinaryType(), False)])

    def fit_group(group: pd.DataFrame) -> pd.DataFrame:
        from pynomaly_core import create_detector

        model = create_detector(detector, **options).fit(group[used])
        return pd.DataFrame({by: [group[by].iloc[0]], "model": [to_bytes(model)]})

    rows = df.select(by, *used).groupBy(by).applyInPandas(fit_group, schema).collect()
    return {row[by]: from_bytes(bytes(row["model"]), trust=True) for row in rows}  # made by this job


def scored(model: Any, batch: pd.DataFrame, used: Sequence[str], keep: Sequence[str]) -> pd.DataFrame:
    X = batch[list(used)].to_numpy(dtype=np.float64)
    scores = model.decision_function(X) if len(X) else np.empty(0)
    out = {c: batch[c].to_numpy() for c in keep}
    out.update(score=scores, label=(scores > model.threshold_).astype(np.int64))
    return pd.DataFrame(out)
