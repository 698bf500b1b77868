"""``pynomaly score MODEL DATA --engine spark -o OUT.parquet``: Spark reads the Parquet or CSV files, scores with the
broadcast model, writes partitioned Parquet; the summary (counts, top rows) is computed from the scored rows once."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import IntegerType, LongType, StructField, StructType

from pynomaly_core.errors import InputError
from pynomaly_core.results import run_summary
from pynomaly_core.shipping import feature_columns, from_bytes
from pynomaly_spark.scoring import SCORE_FIELDS, broadcast, scored

_POSITION = [StructField("partition", IntegerType(), False), StructField("position", LongType(), False)]


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
    positioned = with_positions(df.select(*used), model, used).persist()
    try:
        if output is not None:
            write(positioned.select("score", "label"), Path(output))
        summary = summarise(positioned, top)
    finally:
        positioned.unpersist()
    result = finish(model, summary, top, time.perf_counter() - start, output)
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


def with_positions(df: DataFrame, model: Any, used: Sequence[str]) -> DataFrame:
    """``score``, ``label`` and where each row is (Spark partition, position in it) for row numbers in the summary."""
    shipped = broadcast(df, model)

    def score_batches(batches):
        from pyspark import TaskContext

        loaded = from_bytes(shipped.value, trust=True)  # bytes made on the driver from a model it loaded
        partition, offset = TaskContext.get().partitionId(), 0
        for batch in batches:
            out = scored(loaded, batch, used, [])
            out["partition"] = np.int32(partition)
            out["position"] = np.arange(offset, offset + len(out), dtype=np.int64)
            offset += len(out)
            yield out

    return df.mapInPandas(score_batches, StructType([*SCORE_FIELDS, *_POSITION]))


def write(df: DataFrame, output: Path) -> None:
    """Write next to ``output`` and move into place only when Spark reports success."""
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent)) / "data"
    try:
        df.write.parquet(str(staging))
        if output.exists():
            shutil.rmtree(output) if output.is_dir() else output.unlink()
        os.replace(staging, output)
    finally:
        shutil.rmtree(staging.parent, ignore_errors=True)


def summarise(df: DataFrame, top: int) -> dict[str, Any]:
    counts = df.groupBy("partition").agg(F.count("*").alias("rows"), F.sum("label").alias("anomalies")).toPandas()
    best = df.orderBy(F.desc("score")).limit(max(top, 0)).toPandas() if top > 0 else pd.DataFrame()
    return {"counts": counts.sort_values("partition"), "top": best}


def finish(model: Any, summary: dict[str, Any], top: int, seconds: float, output: Path | None) -> dict[str, Any]:
    from pynomaly_core.pipeline import qualified_name_of

    counts = summary["counts"]
    rows = int(counts["rows"].sum())
    if rows == 0:
        raise InputError("no rows to score")
    offsets = dict(zip(counts["partition"], np.cumsum(counts["rows"]) - counts["rows"], strict=True))
    best = sorted(((float(r.score), int(offsets[r.partition] + r.position), int(r.label))
                   for r in summary["top"].itertuples()), key=lambda t: (-t[0], t[1]))[:max(top, 0)]
    result = run_summary(detector=qualified_name_of(model), params=model.get_params(), rows=rows,
                         anomalies=int(counts["anomalies"].sum()), threshold=float(model.threshold_),
                         timings={"score_s": round(seconds, 6)}, metrics={},
                         top=[{"row": r, "score": s, "label": lab} for s, r, lab in best])
    return {**result, "output": None if output is None else str(output), "engine": "spark",
            "rows_per_s": round(rows / seconds, 1), "partitions": len(counts)}
