"""Distributed training: models merged from partition states against a model fitted on all rows at once.

Goal (issue "Scale-out and MLOps"): merged Mahalanobis and HBOS score identically to the fit at once (HBOS bit for
bit, Mahalanobis within 1e-12 relative); merged ECOD within its stated bound on each feature's tail probabilities
(``merge_bound_``), for several sketch sizes; merged Half-Space Trees and DecayedHBOS score bit for bit as their
``local_equivalent`` (one window of every row, no decay within it) fitted at once. Partitions are merged through
``pynomaly_core.merging.local_map`` (the reduction Dask and Spark run; ``--engine dask`` runs it on a LocalCluster
instead).

    python benchmarks/bench_distributed_training.py [--rows 2000000] [--partitions 16] [--engine local|dask]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table

from pynomaly_core import create_detector
from pynomaly_core.merging import fit_merged, local_map


def tail_gap(merged, whole, probe: np.ndarray) -> float:
    """Largest difference of ECOD's per-feature tail probabilities, merged vs at once, on ``probe``."""
    gap = 0.0
    for j in range(probe.shape[1]):
        column = np.ascontiguousarray(probe[:, j])
        for a, b in zip(merged._feature_terms(column, j), whole._feature_terms(column, j), strict=True):
            gap = max(gap, float(np.max(np.abs(np.exp(-a) - np.exp(-b)))))
    return gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--engine", choices=["local", "dask"], default="local")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, args.features)) * rng.uniform(0.1, 10, args.features)
    X[::1000] += 8
    parts = np.array_split(X, args.partitions)
    probe = np.vstack([X[:: max(1, args.rows // 20_000)], rng.normal(size=(2000, args.features)) * 6])
    if args.engine == "dask":
        import dask.array as da
        from distributed import Client, LocalCluster
        from pynomaly_dask.training import fit

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        darr = da.from_array(X, chunks=(-(-args.rows // args.partitions), -1))

        def train(detector, **options):
            return fit(detector, darr, **options)
    else:
        def train(detector, **options):
            return fit_merged(detector, local_map(parts), **options)

    cases = [("mahalanobis", {}), ("hbos", {}), ("ecod", {"sketch_size": 1 << 12}), ("ecod", {"sketch_size": 1 << 14}),
             ("ecod", {"sketch_size": 1 << 16}), ("half_space_trees", {}), ("decayed_hbos", {})]
    params = {"half_space_trees": {"random_state": 0}}
    rows, wholes = [], {}
    for name, options in cases:
        start = time.perf_counter()
        merged = train(create_detector(name, **params.get(name, {})), **options)
        merged_s = time.perf_counter() - start
        if name not in wholes:  # the online detectors: their local equivalent (one window of every row) at once
            local = merged.local_equivalent(len(X)) if hasattr(merged, "local_equivalent") else create_detector(name)
            start = time.perf_counter()
            wholes[name] = (local.fit(X), time.perf_counter() - start)
        whole, whole_s = wholes[name]
        a, b = merged.decision_function(probe), whole.decision_function(probe)
        diff = float(np.max(np.abs(a - b)))
        relative = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
        bound = getattr(merged, "merge_bound_", 0.0)
        gap = tail_gap(merged, whole, probe) if name == "ecod" else 0.0
        rank = float(np.corrcoef(np.argsort(np.argsort(a)), np.argsort(np.argsort(b)))[0, 1])
        label = name + (f" (sketch {options['sketch_size']})" if options else "")
        rows.append((label, f"{diff:.3g}", f"{relative:.3g}", f"{gap:.3g}", f"{bound:.3g}", f"{rank:.6f}",
                     round(whole_s, 2), round(merged_s, 2)))
    print(f"{args.rows} x {args.features} rows in {args.partitions} partitions, engine {args.engine}; "
          f"probe {len(probe)} rows")
    print_table(["detector", "max |score diff|", "max rel diff", "max tail-prob gap", "stated bound",
                 "rank corr", "fit at once s", "merged s"], rows)
    if args.engine == "dask":
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
