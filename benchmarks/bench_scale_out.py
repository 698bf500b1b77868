"""Scoring a Parquet dataset on Dask (1 and 2 workers), on Spark local[N] and in one process.

Goals (issue "Scale-out and MLOps"): on 20M × 10 rows, Dask with 2 workers ≥ 1.7× the rows/s of 1 worker on a
2-core machine; peak RSS per Dask worker bounded and independent of the data size (reported for the full dataset
and for a quarter of it); Spark local[2] and the single-process `pynomaly score` streaming path (the io plugin's
Parquet loader through pynomaly_core.streaming, file after file) measured in the same run for comparison.

    python benchmarks/bench_scale_out.py [--rows 20000000] [--files 16] [--detector hbos] [--skip-spark]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table

from pynomaly_core import create_detector, load


def write_dataset(folder: Path, rows: int, features: int, files: int) -> list[Path]:
    """``files`` Parquet files of normal rows (a few shifted), written chunk by chunk (memory stays small)."""
    rng = np.random.default_rng(0)
    paths, per_file = [], -(-rows // files)
    for k in range(files):
        n = min(per_file, rows - k * per_file)
        path = folder / f"part-{k:04d}.parquet"
        with pq.ParquetWriter(path, pa.schema([(f"f{j}", pa.float64()) for j in range(features)])) as writer:
            for start in range(0, n, 500_000):
                X = rng.normal(size=(min(500_000, n - start), features))
                X[::997] += 6
                writer.write_table(pa.table({f"f{j}": X[:, j] for j in range(features)}), row_group_size=250_000)
        paths.append(path)
    return paths


def single_process(model_dir: Path, paths: list[Path], out: Path) -> float:
    from pynomaly_core.registry import get_registry
    from pynomaly_core.streaming import score_stream

    model, spec = load(model_dir), get_registry().loader("parquet")
    start = time.perf_counter()
    for k, path in enumerate(paths):
        score_stream(model, spec, str(path), {}, 65_536, out / f"part-{k:04d}.parquet", 0)
    return time.perf_counter() - start


def _warm() -> None:
    import dask.dataframe  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from pynomaly_core.registry import get_registry

    get_registry()


def dask_run(model_dir: Path, pattern: str, out: Path, workers: int) -> tuple[float, int, list[float]]:
    from distributed import Client, LocalCluster
    from pynomaly_dask.engine import score

    model = load(model_dir)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.run(_warm)  # imports and plugin discovery once per worker, before the clock starts
        start = time.perf_counter()
        summary = score(model, pattern, out, scheduler=cluster.scheduler_address, top=0)
        seconds = time.perf_counter() - start
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return seconds, summary["rows"], sorted(peaks.values())


def spark_run(model_dir: Path, folder: Path, out: Path, cores: int) -> tuple[float, int]:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pynomaly_spark.engine import score, session

    spark = session(f"local[{cores}]")
    spark.range(1).count()  # JVM up before the clock starts
    start = time.perf_counter()
    summary = score(load(model_dir), str(folder), out, scheduler=f"local[{cores}]", top=0)
    seconds = time.perf_counter() - start
    spark.stop()
    return seconds, summary["rows"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--detector", default="hbos")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-local", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pynomaly-scale-") as tmp:
        tmp = Path(tmp)
        (tmp / "data").mkdir()
        t0 = time.perf_counter()
        paths = write_dataset(tmp / "data", args.rows, args.features, args.files)
        print(f"data: {args.rows} x {args.features} in {args.files} Parquet files "
              f"({sum(p.stat().st_size for p in paths) / 2**20:.0f} MiB, written in {time.perf_counter() - t0:.1f}s); "
              f"detector {args.detector}; {os.cpu_count()} cores")
        sample = pq.read_table(paths[0]).slice(0, 100_000).to_pandas()
        model_dir = create_detector(args.detector).fit(sample).save(tmp / "model")
        results: list[tuple[str, float, int, str]] = []
        if not args.skip_local:
            (tmp / "local").mkdir()
            seconds = single_process(model_dir, paths, tmp / "local")
            results.append(("single process (pynomaly score streaming)", seconds, args.rows, "-"))
        rss_full = None
        for workers in [int(w) for w in args.workers.split(",")]:
            seconds, rows, peaks = dask_run(model_dir, str(tmp / "data" / "*.parquet"), tmp / f"dask{workers}.parquet",
                                            workers)
            rss_full = peaks
            results.append((f"dask, {workers} worker(s)", seconds, rows, ", ".join(f"{p:.0f}" for p in peaks)))
        peaks_q, rows_q = [], 0
        if args.files >= 4:  # the same job on a quarter of the files: peak RSS must not change
            (tmp / "quarter").mkdir()
            for path in paths[:args.files // 4]:
                (tmp / "quarter" / path.name).symlink_to(path)
            _, rows_q, peaks_q = dask_run(model_dir, str(tmp / "quarter" / "*.parquet"), tmp / "dq.parquet", 2)
        if not args.skip_spark:
            cores = max(int(w) for w in args.workers.split(","))
            seconds, rows = spark_run(model_dir, tmp / "data", tmp / "spark.parquet", cores)
            results.append((f"spark local[{cores}]", seconds, rows, "-"))
    reference = {name: rows / s for name, s, rows, _ in results}
    one = next((v for k, v in reference.items() if k.startswith("dask, 1 ")), None)
    local = reference.get("single process (pynomaly score streaming)")
    print_table(["engine", "seconds", "rows/s", "x 1 dask worker", "x single process", "peak RSS/worker MiB"],
                [(name, round(s, 2), f"{rows / s:,.0f}", "-" if one is None else f"{rows / s / one:.2f}",
                  "-" if local is None else f"{rows / s / local:.2f}", rss) for name, s, rows, rss in results])
    if peaks_q:
        print(f"peak RSS per dask worker: {', '.join(f'{p:.0f}' for p in rss_full or [])} MiB on {args.rows} rows, "
              f"{', '.join(f'{p:.0f}' for p in peaks_q)} MiB on {rows_q} rows (independent of the data size)")


if __name__ == "__main__":
    main()
