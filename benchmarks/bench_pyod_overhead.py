"""Overhead of the pynomaly PyOD adapter: (fit + score through pynomaly) ÷ (the same calls on PyOD directly).

Sets: every ADBench set with at least 5,000 rows, protocol split (70/30, seed 0). Detectors: IForest, ECOD,
COPOD, HBOS, PCA, KNN, LOF (KNN and LOF on sets of at most 60k rows). Both sides run in the same process,
alternating, after one warm-up each; the ratio is of the median times (at least ``--repeats`` runs, more for
fast cases). Wall-clock and process CPU time are both reported: on shared cores the CPU-time ratio is the
stable one. BLAS runs on one thread by default (``--threads``), as contended BLAS threads add noise far above
the overhead. Goal: ratio ≤ 1.05.

    python benchmarks/bench_pyod_overhead.py [--repeats 5] [--budget 1.0] [--datasets 2_annthyroid] [--detectors hbos]
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import adbench_sets, load_npz, print_table

from pynomaly_core import create_detector
from pynomaly_core.evaluation import stratified_split

DETECTORS = {
    "iforest": ("pyod.models.iforest:IForest", {"random_state": 0}),
    "ecod": ("pyod.models.ecod:ECOD", {}),
    "copod": ("pyod.models.copod:COPOD", {}),
    "hbos": ("pyod.models.hbos:HBOS", {}),
    "pca": ("pyod.models.pca:PCA", {"random_state": 0}),
    "knn": ("pyod.models.knn:KNN", {}),
    "lof": ("pyod.models.lof:LOF", {}),
}
NEIGHBOURS = {"knn", "lof"}
MAX_NEIGHBOUR_ROWS = 60_000
MIN_ROWS = 5_000
GOAL = 1.05


def pyod_class(target: str) -> type:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def timed(func: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    func()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(name: str, X_train: np.ndarray, X_test: np.ndarray, repeats: int, budget: float) -> dict[str, float]:
    """Median wall and CPU times of both sides: alternating runs, at least ``repeats`` each and more (up to 40)
    while a side has used less than ``budget`` seconds, so millisecond-scale cases get enough samples."""
    target, params = DETECTORS[name]
    cls = pyod_class(target)

    def direct() -> None:
        cls(**params).fit(X_train).decision_function(X_test)

    def adapter() -> None:
        create_detector(f"pyod.{name}", **params).fit(X_train).decision_function(X_test)

    direct(), adapter()  # warm-up: imports, numba compilation, caches
    runs: dict[str, list[tuple[float, float]]] = {"direct": [], "adapter": []}
    repeat = 0
    while repeat < repeats or (repeat < 40 and sum(w for w, _ in runs["direct"]) < budget):
        order = (("direct", direct), ("adapter", adapter))
        for key, func in order if repeat % 2 == 0 else order[::-1]:
            runs[key].append(timed(func))
        repeat += 1
    return {f"{key}_{kind}": statistics.median(run[i] for run in runs[key])
            for key in runs for i, kind in enumerate(("wall", "cpu"))} | {"runs": repeat}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="minimum runs per side")
    parser.add_argument("--budget", type=float, default=1.0, help="add runs (up to 40) until a side used this long")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (0: leave as is)")
    parser.add_argument("--datasets", help="comma-separated name prefixes (default: every set with ≥ 5k rows)")
    parser.add_argument("--detectors", help=f"comma-separated subset of {','.join(DETECTORS)}")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    names = args.detectors.split(",") if args.detectors else list(DETECTORS)
    wanted = args.datasets.split(",") if args.datasets else None
    rows, records = [], []
    for path in adbench_sets():
        if wanted and not any(path.stem.startswith(w) for w in wanted):
            continue
        X, y = load_npz(path)
        if X.shape[0] < MIN_ROWS:
            continue
        train, test = stratified_split(y)
        X_train, X_test = np.ascontiguousarray(X[train]), np.ascontiguousarray(X[test])
        for name in names:
            if name in NEIGHBOURS and X.shape[0] > MAX_NEIGHBOUR_ROWS:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                times = measure(name, X_train, X_test, args.repeats, args.budget)
            record = {"dataset": path.stem, "detector": f"pyod.{name}", "rows": int(X.shape[0]), **times,
                      "ratio_wall": times["adapter_wall"] / times["direct_wall"],
                      "ratio_cpu": times["adapter_cpu"] / times["direct_cpu"]}
            records.append(record)
            rows.append((path.stem, name, X.shape[0], times["runs"], f"{times['direct_wall']:.4f}",
                         f"{times['adapter_wall']:.4f}", f"{record['ratio_wall']:.3f}", f"{record['ratio_cpu']:.3f}"))
            print(f"{path.stem} {name}: wall {record['ratio_wall']:.3f} cpu {record['ratio_cpu']:.3f}", file=sys.stderr)
    print_table(["dataset", "detector", "rows", "runs", "PyOD s", "pynomaly s", "ratio (wall)", "ratio (CPU)"], rows)
    print()
    summary = []
    for name in names:
        mine = [r for r in records if r["detector"] == f"pyod.{name}"]
        if mine:
            summary.append((name, len(mine), *(f"{f(r[key] for r in mine):.3f}" for key in ("ratio_wall", "ratio_cpu")
                                               for f in (statistics.median, max))))
    print_table(["detector", "sets", "median (wall)", "max (wall)", "median (CPU)", "max (CPU)"], summary)
    overall = statistics.median(r["ratio_wall"] for r in records) if records else float("nan")
    cpu = statistics.median(r["ratio_cpu"] for r in records) if records else float("nan")
    print(f"\nmedian ratio over {len(records)} (dataset, detector) pairs: wall {overall:.3f}, CPU {cpu:.3f} "
          f"(goal ≤ {GOAL})")
    if args.json:
        args.json.write_text(json.dumps(records, indent=2))
    return 0 if overall <= GOAL else 1


if __name__ == "__main__":
    raise SystemExit(main())
