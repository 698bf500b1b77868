"""``pynomaly score MODEL DATA --engine dask -o OUT.parquet``: read on the workers, score, write one Parquet file per
partition, gather only a small summary per partition (row count, anomalies, its top rows). DATA and OUT are local
paths or fsspec URLs (``s3://bucket/data/*.parquet``: :mod:`pynomaly_dask.storage`)."""

from __future__ import annotations

import contextlib
import glob
import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pynomaly_core.engines import is_url, staged_directory
from pynomaly_core.errors import InputError
from pynomaly_core.results import run_summary
from pynomaly_core.shipping import arrow_matrix, feature_columns, from_bytes
from pynomaly_dask.scoring import ship
from pynomaly_dask.storage import expand, open_parquet, staged_output, write_table


def score(model: Any, data: str, output: Path | str | None, *, scheduler: str | None = None,
          columns: Sequence[str] | None = None, top: int = 10, partition_rows: int = 1 << 20,
          storage_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Score the Parquet or CSV files ``data`` (a path, glob or fsspec URL) on a Dask cluster; the CLI's summary.

    Parquet is read by the tasks themselves (pyarrow, only the model's columns, about ``partition_rows`` rows of
    whole row groups per task), so a worker holds one partition at a time whatever the size of the data.
    ``storage_options`` go to fsspec for URLs (s3fs also reads ``AWS_*`` from each process's environment); an
    ``output`` URL is staged and copied into place at the end, not renamed atomically (see
    :func:`pynomaly_dask.storage.staged_output`)."""
    if output is not None and Path(str(output)).suffix.lower() not in (".parquet", ".pq"):
        raise InputError(f"{output}: --engine dask writes a Parquet dataset (a directory): name it *.parquet")
    options = dict(storage_options or {})
    parts, names = partitions(data, partition_rows, options)
    used = feature_columns(model, names, columns)
    began = time.perf_counter()
    with client_for(scheduler) as client, _output(output, options) as staging:
        start = time.perf_counter()
        shipped = ship(model)
        where = None if staging is None else str(staging)
        tasks = [dask.delayed(score_part)(part, used, shipped, i, where, top, options, pure=False)
                 for i, part in enumerate(parts)]
        futures = client.compute(tasks)
        if sys.stderr.isatty():
            from distributed import progress

            progress(futures)
        results = _gather(client, futures)
        seconds = time.perf_counter() - start
    summary = summarise(model, results, top, seconds, output)
    summary["timings"] = {"cluster_s": round(start - began, 6), **summary["timings"]}
    return summary


def _gather(client: Any, futures: list[Any]) -> list[Any]:
    """The tasks' results. When one fails, the tasks already sent to workers are waited for and the others cancelled
    before the error goes on, so that no task writes under the staging prefix after it is removed."""
    try:
        return client.gather(futures)
    except Exception:
        from distributed import wait

        busy = {key for keys in client.processing().values() for key in keys}
        client.cancel([f for f in futures if f.key not in busy])
        wait([f for f in futures if f.key in busy])
        raise


def partitions(data: str, partition_rows: int,
               storage_options: Mapping[str, Any] | None = None) -> tuple[list[Any], list[str]]:
    """The partitions of ``data`` and its column names: ``(path, row groups)`` of Parquet files (local paths or
    URLs), or the delayed pandas partitions of a CSV read (``dask.dataframe.read_csv``); both are read on the
    workers."""
    suffix = Path(data.rstrip("/")).suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        frame = read(data, storage_options)
        return list(frame.to_delayed()), list(frame.columns)
    if is_url(data):
        files = expand(data, storage_options)
        if any(Path(f).suffix.lower() not in (".parquet", ".pq") for f in files):
            raise InputError(f"{data}: --engine dask reads Parquet or CSV files (.parquet, .pq, .csv, .tsv)")
    else:
        files = sorted(glob.glob(str(Path(data) / "*.parquet")) if Path(data).is_dir() else glob.glob(data))
        if not files:
            raise InputError(f"{data}: no such file")
        if suffix not in (".parquet", ".pq") and not Path(data).is_dir():
            raise InputError(f"{data}: --engine dask reads Parquet or CSV files (.parquet, .pq, .csv, .tsv)")
    parts: list[Any] = []
    names: list[str] | None = None
    for path in files:
        try:
            with open_parquet(path, storage_options) as file:
                meta = file.metadata
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
        names = names or meta.schema.to_arrow_schema().names
        parts.extend((path, groups) for groups in balanced_groups(
            [meta.row_group(g).num_rows for g in range(meta.num_row_groups)], partition_rows))
    return parts, list(names or [])


def balanced_groups(sizes: Sequence[int], partition_rows: int) -> list[list[int]]:
    """A file's row groups (their row counts ``sizes``) in runs of consecutive groups, as many runs as
    ``partition_rows`` goes into the file's rows (at least one) and of as nearly equal rows as whole groups allow:
    a 1.25M-row file with ``partition_rows`` 1M is one task, not a task of 1M rows and one of 250k."""
    total = sum(sizes)
    count = max(1, min(len(sizes), round(total / max(partition_rows, 1))))
    runs: list[list[int]] = [[] for _ in range(count)]
    before = 0
    for g, size in enumerate(sizes):  # a group goes to the run its middle row falls in
        runs[min(count - 1, int((before + size / 2) * count // max(total, 1)))].append(g)
        before += size
    return [run for run in runs if run]


def read(data: str, storage_options: Mapping[str, Any] | None = None) -> dd.DataFrame:
    """A lazy frame of the Parquet (file, directory or glob) or CSV (file or glob) ``data``, local or a URL; read on
    the workers."""
    suffix = Path(data.rstrip("/")).suffix.lower()
    if is_url(data):
        expand(data, storage_options)  # one line when nothing matches or s3fs is missing
    elif not glob.glob(data):
        raise InputError(f"{data}: no such file")
    options = {"storage_options": dict(storage_options)} if storage_options else {}
    if suffix in (".csv", ".tsv", ".txt"):
        return dd.read_csv(data, sep="\t" if suffix == ".tsv" else ",", **options)
    if suffix in (".parquet", ".pq") or (not is_url(data) and Path(data).is_dir()):
        return dd.read_parquet(data, **options)
    raise InputError(f"{data}: --engine dask reads Parquet or CSV files (.parquet, .pq, .csv, .tsv)")


@contextlib.contextmanager
def client_for(scheduler: str | None) -> Iterator[Any]:
    """A client of the scheduler at ``scheduler``, or of a LocalCluster with one single-threaded worker process per
    core (closed afterwards)."""
    from distributed import Client

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with local_cluster(os.cpu_count() or 1) as cluster, Client(cluster) as client:
        yield client


#: glibc settings for the worker processes of :func:`local_cluster`. Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_``
#: to 64 KiB (memory freed goes back to the system at once), which also fixes glibc's mmap threshold at 128 KiB: each
#: array a detector allocates while scoring is then mapped and unmapped, and page faults make scoring ~1.5× slower
#: (HBOS, 1M × 10 rows: 0.43 s instead of 0.27 s). Arrays under 16 MiB stay on the heap, which keeps up to 64 MiB.
WORKER_MALLOC = {"MALLOC_TRIM_THRESHOLD_": str(64 << 20), "MALLOC_MMAP_THRESHOLD_": str(16 << 20)}


#: The LocalCluster has no dashboard, so the workers' statistical profiler (a stack sample every 10 ms, shown only
#: there) is off, and the event loops check that they are not blocked every 200 ms instead of 20 ms. With as many
#: workers as cores these take CPU from the scoring: idle, they cost two workers and the client process about 8 % of a
#: core; with them, 4 %.
LOCAL_CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "200ms"}


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes whose glibc settings are
    :data:`WORKER_MALLOC` (environment variables already set win) and whose diagnostics are
    :data:`LOCAL_CLUSTER_CONFIG`."""
    from distributed import LocalCluster

    settings: dict[str, Any] = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_MALLOC.items()}
    settings.update(LOCAL_CLUSTER_CONFIG)
    with dask.config.set(settings), LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                dashboard_address=None) as cluster:
        yield cluster


def _output(output: Path | str | None, storage_options: Mapping[str, Any]) -> contextlib.AbstractContextManager[Any]:
    """Where the tasks write their parts: a local staging directory, or a staging prefix for an output URL."""
    if is_url(output):
        return staged_output(output, storage_options)  # type: ignore[arg-type]
    return staged_directory(output)  # type: ignore[arg-type]


def score_part(part: Any, used: Sequence[str], data: bytes, index: int, directory: str | None,
               top: int, storage_options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read one partition (Parquet ``(path or URL, row groups)`` or a pandas frame), score it, write
    ``part.NNNNN.parquet`` (into a local directory or under a URL prefix); return its count, anomalies and top rows
    (local row numbers)."""
    model = from_bytes(data, trust=True)  # bytes made by the driver from a model it loaded
    if isinstance(part, tuple):
        path, groups = part
        try:
            with open_parquet(path, storage_options) as file:
                table = file.read_row_groups(groups, columns=list(used))
        except (pa.ArrowException, OSError) as exc:  # raised on the client as one line
            raise InputError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
        if table.num_columns != len(used):  # pyarrow skips the columns a file lacks
            missing = [c for c in used if c not in table.column_names]
            raise InputError(f"{path}: no column {', '.join(map(repr, missing))}")
        X = arrow_matrix(table, _buffer())
        del table
    else:
        X = part[list(used)].to_numpy(dtype=np.float64)
    scores = one_core_scores(model, X)
    if isinstance(part, tuple):
        _keep_buffer(X)
    labels = (scores > model.threshold_).astype(np.int64)
    if directory is not None and is_url(directory):
        write_table(pa.table({"score": scores, "label": labels}), f"{directory}/part.{index:05d}.parquet",
                    storage_options)
    elif directory is not None:
        pq.write_table(pa.table({"score": scores, "label": labels}), Path(directory) / f"part.{index:05d}.parquet")
    best = np.argsort(-scores, kind="stable")[:top] if top > 0 else np.empty(0, dtype=np.int64)
    return {"rows": len(scores), "anomalies": int(labels.sum()),
            "top": [(float(scores[i]), int(i), int(labels[i])) for i in best]}


_THREAD = threading.local()


def _buffer() -> np.ndarray | None:
    """The matrix buffer of this worker thread (grown to the largest partition): each task writes its partition
    into memory the previous one used instead of faulting in ~80 MB of fresh pages."""
    return getattr(_THREAD, "buffer", None)


def _keep_buffer(X: np.ndarray) -> None:
    base = X.base if X.base is not None else X
    current = _buffer()
    if current is None or base.size > current.size:
        _THREAD.buffer = base.ravel(order="K")  # a view: the matrix is contiguous in memory order


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
              output: Path | str | None) -> dict[str, Any]:
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
