"""Scoring a Parquet dataset on Dask (1 and 2 workers), on Spark local[N] and in one process.

Goals (issue "Scale-out and MLOps"): on 20M × 10 rows, Dask with 2 workers ≥ 1.7× the rows/s of 1 worker on a
2-core machine; peak RSS per Dask worker bounded and independent of the data size (reported for the full dataset
and for a quarter of it); Spark local[2] and the single-process `pynomaly score` streaming path (the io plugin's
Parquet loader through pynomaly_core.streaming, file after file) measured in the same run for comparison.

Each engine first runs one untimed job on one file (worker processes started, imports, first-touch memory), then
the whole dataset; this is repeated ``--repeat`` times (Dask: a new cluster of each size per repetition, the sizes
in alternating order) and the table gives the median and the range (this machine is noisy).

    python benchmarks/bench_scale_out.py [--rows 20000000] [--files 16] [--detector hbos] [--repeat 3] [--skip-spark]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def single_process(model_dir: Path, paths: list[Path], out: Path, repeat: int) -> list[float]:
    from pynomaly_core.registry import get_registry
    from pynomaly_core.streaming import score_stream

    model, spec = load(model_dir), get_registry().loader("parquet")

    def job(files: list[Path]) -> None:
        for k, path in enumerate(files):
            score_stream(model, spec, str(path), {}, 65_536, out / f"part-{k:04d}.parquet", 0)

    return timed(lambda: job(paths[:1]), lambda: job(paths), repeat)


def timed(warm_up: Any, job: Any, repeat: int) -> list[float]:
    """``warm_up()`` once, untimed, then the seconds of ``repeat`` runs of ``job()``."""
    warm_up()
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        job()
        seconds.append(time.perf_counter() - start)
    return seconds


def _warm() -> None:
    import dask.dataframe  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from pynomaly_core.registry import get_registry

    get_registry()


def dask_run(model_dir: Path, pattern: str, out: Path, workers: int, repeat: int,
             warm_with: Path) -> tuple[list[float], int, list[float]]:
    from distributed import Client
    from pynomaly_dask.engine import local_cluster, score

    model = load(model_dir)
    with local_cluster(workers) as cluster, Client(cluster) as client:  # the engine's own cluster, sized
        client.run(_warm)  # imports and plugin discovery once per worker, before the clock starts
        address = cluster.scheduler_address
        rows: list[int] = []
        seconds = timed(lambda: score(model, str(warm_with), None, scheduler=address, top=0),
                        lambda: rows.append(score(model, pattern, out, scheduler=address, top=0)["rows"]), repeat)
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return seconds, rows[0], sorted(peaks.values())


def spark_run(model_dir: Path, folder: Path, out: Path, cores: int, repeat: int,
              warm_with: Path) -> tuple[list[float], int]:
    """The engine's job on ``folder``, after a job on the small ``warm_with`` file has started the JVM and the
    Python workers (imports, plugin discovery); that first job's time is printed."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pynomaly_spark.engine import score, session

    spark, model, master = session(f"local[{cores}]"), load(model_dir), f"local[{cores}]"
    start = time.perf_counter()
    score(model, str(warm_with), None, scheduler=master, top=0)
    print(f"spark: first job in a new session (JVM and Python workers starting) {time.perf_counter() - start:.1f}s")
    rows: list[int] = []
    seconds = timed(lambda: None, lambda: rows.append(score(model, str(folder), out, scheduler=master, top=0)["rows"]),
                    repeat)
    spark.stop()
    return seconds, rows[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--detector", default="hbos")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per engine (median reported)")
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
        results: list[tuple[str, list[float], int, str]] = []
        if not args.skip_local:
            (tmp / "local").mkdir()
            seconds = single_process(model_dir, paths, tmp / "local", args.repeat)
            results.append(("single process (pynomaly score streaming)", seconds, args.rows, "-"))
        rss_full = None
        counts = [int(w) for w in args.workers.split(",")]
        timings: dict[int, list[float]] = {w: [] for w in counts}
        peaks_of: dict[int, list[float]] = {}
        for r in range(args.repeat):  # one cluster size after the other, in alternating order: pairs close in time
            for workers in counts if r % 2 == 0 else counts[::-1]:
                seconds, rows, peaks = dask_run(model_dir, str(tmp / "data" / "*.parquet"),
                                                tmp / f"dask{workers}.parquet", workers, 1, paths[0])
                timings[workers] += seconds
                peaks_of[workers] = rss_full = peaks
        results += [(f"dask, {w} worker(s)", timings[w], rows, ", ".join(f"{p:.0f}" for p in peaks_of[w]))
                    for w in counts]
        if len(counts) == 2:
            pairs = [a / b for a, b in zip(timings[counts[0]], timings[counts[1]], strict=True)]
            print(f"dask {counts[1]} workers / {counts[0]}, per repetition: {', '.join(f'{x:.2f}' for x in pairs)} "
                  f"(median {statistics.median(pairs):.2f})")
        peaks_q, rows_q = [], 0
        if args.files >= 4:  # the same job on a quarter of the files: peak RSS must not change
            (tmp / "quarter").mkdir()
            for path in paths[:args.files // 4]:
                (tmp / "quarter" / path.name).symlink_to(path)
            _, rows_q, peaks_q = dask_run(model_dir, str(tmp / "quarter" / "*.parquet"), tmp / "dq.parquet", 2, 1,
                                          paths[0])
        if not args.skip_spark:
            cores = max(int(w) for w in args.workers.split(","))
            seconds, rows = spark_run(model_dir, tmp / "data", tmp / "spark.parquet", cores, args.repeat, paths[0])
            results.append((f"spark local[{cores}]", seconds, rows, "-"))
    rates = {name: rows / statistics.median(s) for name, s, rows, _ in results}
    one = next((v for k, v in rates.items() if k.startswith("dask, 1 ")), None)
    local = rates.get("single process (pynomaly score streaming)")
    print_table(["engine", "seconds (median)", "range", "rows/s", "x 1 dask worker", "x single process",
                 "peak RSS/worker MiB"],
                [(name, round(statistics.median(s), 2), f"{min(s):.2f}-{max(s):.2f}", f"{rates[name]:,.0f}",
                  "-" if one is None else f"{rates[name] / one:.2f}",
                  "-" if local is None else f"{rates[name] / local:.2f}", rss) for name, s, rows, rss in results])
    if peaks_q:
        print(f"peak RSS per dask worker: {', '.join(f'{p:.0f}' for p in rss_full or [])} MiB on {args.rows} rows, "
              f"{', '.join(f'{p:.0f}' for p in peaks_q)} MiB on {rows_q} rows (independent of the data size)")

if __name__ == "__main__":
    main()
