"""``pynomaly score MODEL DATA --engine dask -o OUT.parquet``: read on the workers, score, write one Parquet file per
partition, gather only a small summary per partition (row count, anomalies, its top rows)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pynomaly_core.errors import InputError
from pynomaly_core.results import run_summary
from pynomaly_core.shipping import feature_columns, from_bytes
from pynomaly_dask.scoring import ship


def score(model: Any, data: str, output: Path | None, *, scheduler: str | None = None,
          columns: Sequence[str] | None = None, top: int = 10, partition_rows: int = 1 << 20) -> dict[str, Any]:
    """Score the Parquet or CSV files ``data`` (a path or glob) on a Dask cluster; the CLI's summary.

    Parquet is read by the tasks themselves (pyarrow, only the model's columns, about ``partition_rows`` rows of
    whole row groups per task), so a worker holds one partition at a time whatever the size of the data."""
    if output is not None and Path(output).suffix.lower() not in (".parquet", ".pq"):
        raise InputError(f"{output}: --engine dask writes a Parquet dataset (a directory): name it *.parquet")
    parts, names = partitions(data, partition_rows)
    used = feature_columns(model, names, columns)
    began = time.perf_counter()
    with client_for(scheduler) as client, _staging(output) as staging:
        start = time.perf_counter()
        shipped = ship(model)
        where = None if staging is None else str(staging)
        tasks = [dask.delayed(score_part)(part, used, shipped, i, where, top, pure=False)
                 for i, part in enumerate(parts)]
        futures = client.compute(tasks)
        if sys.stderr.isatty():
            from distributed import progress

            progress(futures)
        results = client.gather(futures)
        seconds = time.perf_counter() - start
    summary = summarise(model, results, top, seconds, output)
    summary["timings"] = {"cluster_s": round(start - began, 6), **summary["timings"]}
    return summary


def partitions(data: str, partition_rows: int) -> tuple[list[Any], list[str]]:
    """The partitions of ``data`` and its column names: ``(path, row groups)`` of Parquet files, or the delayed
    pandas partitions of a CSV read (``dask.dataframe.read_csv``); both are read on the workers."""
    suffix = Path(data.rstrip("/")).suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        frame = read(data)
        return list(frame.to_delayed()), list(frame.columns)
    files = sorted(glob.glob(str(Path(data) / "*.parquet")) if Path(data).is_dir() else glob.glob(data))
    if not files:
        raise InputError(f"{data}: no such file")
    if suffix not in (".parquet", ".pq") and not Path(data).is_dir():
        raise InputError(f"{data}: --engine dask reads Parquet or CSV files (.parquet, .pq, .csv, .tsv)")
    parts: list[Any] = []
    names: list[str] | None = None
    for path in files:
        try:
            meta = pq.ParquetFile(path).metadata
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
        names = names or meta.schema.to_arrow_schema().names
        group, rows = [], 0
        for g in range(meta.num_row_groups):
            group.append(g)
            rows += meta.row_group(g).num_rows
            if rows >= partition_rows:
                parts.append((path, group))
                group, rows = [], 0
        if group:
            parts.append((path, group))
    return parts, list(names or [])


def read(data: str) -> dd.DataFrame:
    """A lazy frame of the Parquet (file, directory or glob) or CSV (file or glob) ``data``; read on the workers."""
    suffix = Path(data.rstrip("/")).suffix.lower()
    if not glob.glob(data) and "://" not in data:
        raise InputError(f"{data}: no such file")
    if suffix in (".csv", ".tsv", ".txt"):
        return dd.read_csv(data, sep="\t" if suffix == ".tsv" else ",")
    if suffix in (".parquet", ".pq") or Path(data).is_dir():
        return dd.read_parquet(data)
    raise InputError(f"{data}: --engine dask reads Parquet or CSV files (.parquet, .pq, .csv, .tsv)")


@contextlib.contextmanager
def client_for(scheduler: str | None) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler``, or of a LocalCluster with one single-threaded worker process per
    core (closed afterwards)."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _staging(output: Path | None) -> Iterator[Path | None]:
    """A directory next to ``output`` that replaces it only when every partition is written."""
    if output is None:
        yield None
        return
    output = Path(output).absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        yield staging
        if output.exists():
            shutil.rmtree(output) if output.is_dir() else output.unlink()
        os.replace(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def score_part(part: Any, used: Sequence[str], data: bytes, index: int, directory: str | None,
               top: int) -> dict[str, Any]:
    """Read one partition (Parquet ``(path, row groups)`` or a pandas frame), score it, write
    ``part.NNNNN.parquet``; return its count, anomalies and top rows (local row numbers)."""
    model = from_bytes(data, trust=True)  # bytes made by the driver from a model it loaded
    if isinstance(part, tuple):
        path, groups = part
        table = pq.ParquetFile(path).read_row_groups(groups, columns=list(used))
        X = np.column_stack([np.asarray(c.to_numpy(), dtype=np.float64) for c in table.columns]) \
            if table.num_rows else np.empty((0, len(used)))
        del table
    else:
        X = part[list(used)].to_numpy(dtype=np.float64)
    scores = one_core_scores(model, X)
    labels = (scores > model.threshold_).astype(np.int64)
    if directory is not None:
        pq.write_table(pa.table({"score": scores, "label": labels}), Path(directory) / f"part.{index:05d}.parquet")
    best = np.argsort(-scores, kind="stable")[:top] if top > 0 else np.empty(0, dtype=np.int64)
    return {"rows": len(scores), "anomalies": int(labels.sum()),
            "top": [(float(scores[i]), int(i), int(labels[i])) for i in best]}


#: Rows × features scored per call in a worker: below the size at which the built-ins (HBOS, ECOD) score features in
#: threads, so that each single-threaded worker uses the one core it is given (Dask's nanny already limits BLAS to
#: one thread). Scores do not depend on it.
ONE_CORE_CELLS = (1 << 18) - 1


def one_core_scores(model: Any, X: np.ndarray) -> np.ndarray:
    if not len(X):
        return np.empty(0)
    rows = max(1, ONE_CORE_CELLS // max(X.shape[1], 1))
    return np.concatenate([model.decision_function(X[i:i + rows]) for i in range(0, len(X), rows)])


def summarise(model: Any, parts: list[dict[str, Any]], top: int, seconds: float,
              output: Path | None) -> dict[str, Any]:
    from pynomaly_core.pipeline import qualified_name_of

    rows = sum(p["rows"] for p in parts)
    if rows == 0:
        raise InputError("no rows to score")
    offsets = np.cumsum([0] + [p["rows"] for p in parts])
    best = sorted(((s, offsets[k] + i, label) for k, p in enumerate(parts) for s, i, label in p["top"]),
                  key=lambda t: (-t[0], t[1]))[:max(top, 0)]
    summary = run_summary(detector=qualified_name_of(model), params=model.get_params(), rows=rows,
                          anomalies=sum(p["anomalies"] for p in parts), threshold=float(model.threshold_),
                          timings={"score_s": round(seconds, 6)},
                          metrics={}, top=[{"row": int(r), "score": s, "label": lab} for s, r, lab in best])
    return {**summary, "output": None if output is None else str(output), "engine": "dask",
            "rows_per_s": round(rows / seconds, 1),
            "partitions": len(parts)}
