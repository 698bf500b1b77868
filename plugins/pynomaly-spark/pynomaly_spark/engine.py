"""``pynomaly score MODEL DATA --engine spark -o OUT.parquet``: Spark reads the Parquet or CSV files and hands them to
Python in Arrow batches; each task scores its partition with the broadcast model, writes it as one Parquet file
(``part.NNNNN.parquet``, a row group per batch) and returns one small summary row (count, anomalies, its top rows).

One pass over the data: the scores never travel back into the JVM, nothing is cached, and the driver collects one row
per partition. The output directory must be reachable from the executors under the same path (local disk for
``local[N]``, a shared mount on a cluster), as for the Dask engine; it replaces ``OUT`` only when every task is done.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import ArrayType, DoubleType, IntegerType, LongType, StructField, StructType

from pynomaly_core.engines import staged_directory
from pynomaly_core.errors import InputError
from pynomaly_core.results import run_summary
from pynomaly_core.shipping import arrow_matrix, feature_columns, from_bytes
from pynomaly_spark.scoring import broadcast

SUMMARY = StructType([StructField("partition", IntegerType(), False), StructField("rows", LongType(), False),
                      StructField("anomalies", LongType(), False),
                      StructField("top_scores", ArrayType(DoubleType(), False), False),
                      StructField("top_positions", ArrayType(LongType(), False), False),
                      StructField("top_labels", ArrayType(LongType(), False), False)])

#: Cells (rows × features) per Arrow batch handed to Python: Spark's default of 10,000 rows makes the per-batch cost
#: (pandas frames, one ``decision_function`` call) dominate; batches of about a million cells halve the time.
BATCH_CELLS = 1 << 20


def score(model: Any, data: str, output: Path | None, *, scheduler: str | None = None,
          columns: Sequence[str] | None = None, top: int = 10) -> dict[str, Any]:
    """Score ``data`` (Parquet file/directory/glob, or CSV with a header) on Spark (``scheduler``: the master URL,
    default ``local[*]``); the CLI's summary."""
    if output is not None and Path(output).suffix.lower() not in (".parquet", ".pq"):
        raise InputError(f"{output}: --engine spark writes a Parquet dataset (a directory): name it *.parquet")
    began = time.perf_counter()
    spark = session(scheduler)
    started = time.perf_counter() - began
    df = read(spark, data)
    used = feature_columns(model, df.columns, columns)
    start = time.perf_counter()
    batch_rows = max(1, BATCH_CELLS // max(len(used), 1))
    with staged_directory(output, leftovers=".*.partial") as staging, _batch_rows(spark, batch_rows):
        summaries = summarised(df.select(*used), model, used, None if staging is None else str(staging),
                               top).toPandas()
    result = finish(model, summaries, top, time.perf_counter() - start, output)
    result["timings"] = {"session_s": round(started, 6), **result["timings"]}
    return result


def session(master: str | None) -> SparkSession:
    builder = SparkSession.builder.appName("pynomaly").config("spark.ui.enabled", "false")
    return builder.master(master or "local[*]").getOrCreate()


def read(spark: SparkSession, data: str) -> DataFrame:
    suffix = Path(data.rstrip("/")).suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        return spark.read.csv(data, header=True, inferSchema=True, sep="\t" if suffix == ".tsv" else ",")
    if suffix in (".parquet", ".pq") or Path(data).is_dir():
        return spark.read.parquet(data)
    raise InputError(f"{data}: --engine spark reads Parquet or CSV files (.parquet, .pq, .csv, .tsv)")


def summarised(df: DataFrame, model: Any, used: Sequence[str], directory: str | None, top: int) -> DataFrame:
    """One :data:`SUMMARY` row per Spark partition; with ``directory``, each partition's ``score`` and ``label``
    written there as ``part.NNNNN.parquet`` (partition number)."""
    shipped = broadcast(df, model)

    def score_partition(batches: Iterator[Any]) -> Iterator[Any]:
        from pyspark import TaskContext

        loaded = from_bytes(shipped.value, trust=True)  # bytes made on the driver from a model it loaded
        partition = TaskContext.get().partitionId()
        target = None if directory is None else Path(directory) / f"part.{partition:05d}.parquet"
        with _PartitionWriter(target) as writer:
            tally = _Tally(top)
            for batch in batches:  # pyarrow RecordBatches of the ``used`` columns, in that order
                X = arrow_matrix(batch)
                scores = loaded.decision_function(X) if len(X) else np.empty(0)
                labels = (scores > loaded.threshold_).astype(np.int64)
                writer.write(scores, labels)
                tally.add(scores, labels)
        yield tally.row(partition)

    return df.mapInArrow(score_partition, SUMMARY)


def _arrow(schema: StructType) -> Any:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(schema)


class _Tally:
    """Count, anomalies and the ``top`` highest scores (with their positions) of one partition, batch by batch."""

    def __init__(self, top: int):
        self.top, self.rows, self.anomalies = max(top, 0), 0, 0
        self.scores, self.positions, self.labels = np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64)

    def add(self, scores: np.ndarray, labels: np.ndarray) -> None:
        if self.top:
            best = np.argsort(-scores, kind="stable")[:self.top]
            scores_, positions = np.concatenate([self.scores, scores[best]]), np.concatenate(
                [self.positions, self.rows + best])
            labels_ = np.concatenate([self.labels, labels[best]])
            keep = np.lexsort((positions, -scores_))[:self.top]
            self.scores, self.positions, self.labels = scores_[keep], positions[keep], labels_[keep]
        self.rows += len(scores)
        self.anomalies += int(labels.sum())

    def row(self, partition: int) -> Any:
        import pyarrow as pa

        return pa.RecordBatch.from_pylist([{"partition": partition, "rows": self.rows, "anomalies": self.anomalies,
                                            "top_scores": self.scores.tolist(),
                                            "top_positions": self.positions.tolist(),
                                            "top_labels": self.labels.tolist()}], schema=_arrow(SUMMARY))


class _PartitionWriter:
    """One Parquet file per partition, a row group per batch, moved into place when the partition is done (a retried
    task writes the same file again)."""

    def __init__(self, target: Path | None):
        self.target, self.writer, self.partial = target, None, None

    def __enter__(self) -> _PartitionWriter:
        return self

    def write(self, scores: np.ndarray, labels: np.ndarray) -> None:
        if self.target is None:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({"score": scores, "label": labels})
        if self.writer is None:
            self.partial = self.target.with_name(f".{self.target.name}.{os.getpid()}.partial")
            self.writer = pq.ParquetWriter(self.partial, table.schema)
        self.writer.write_table(table)

    def __exit__(self, kind: Any, *_: Any) -> None:
        if self.target is None:
            return
        if kind is not None:
            if self.writer is not None:
                self.writer.close()
                Path(self.partial).unlink(missing_ok=True)
            return
        if self.writer is None:  # an empty partition still gets its (empty) file: the dataset has every part
            self.write(np.empty(0), np.empty(0, np.int64))
        self.writer.close()
        os.replace(self.partial, self.target)


@contextlib.contextmanager
def _batch_rows(spark: SparkSession, rows: int) -> Iterator[None]:
    """Arrow batches of ``rows`` rows for this job (Spark's setting restored afterwards)."""
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(key, None)
    spark.conf.set(key, str(rows))
    try:
        yield
    finally:
        spark.conf.unset(key) if before is None else spark.conf.set(key, before)


def finish(model: Any, summaries: pd.DataFrame, top: int, seconds: float, output: Path | None) -> dict[str, Any]:
    from pynomaly_core.pipeline import qualified_name_of

    summaries = summaries.sort_values("partition")
    rows = int(summaries["rows"].sum())
    if rows == 0:
        raise InputError("no rows to score")
    offsets = np.cumsum(summaries["rows"].to_numpy()) - summaries["rows"].to_numpy()
    best = sorted(((float(s), int(offset + p), int(lab))
                   for offset, part in zip(offsets, summaries.itertuples(), strict=True)
                   for s, p, lab in zip(part.top_scores, part.top_positions, part.top_labels, strict=True)),
                  key=lambda t: (-t[0], t[1]))[:max(top, 0)]
    result = run_summary(detector=qualified_name_of(model), params=model.get_params(), rows=rows,
                         anomalies=int(summaries["anomalies"].sum()), threshold=float(model.threshold_),
                         timings={"score_s": round(seconds, 6)}, metrics={},
                         top=[{"row": r, "score": s, "label": lab} for s, r, lab in best])
    return {**result, "output": None if output is None else str(output), "engine": "spark",
            "rows_per_s": round(rows / seconds, 1), "partitions": len(summaries)}
