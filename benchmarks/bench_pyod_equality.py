"""pyod.<name> through pynomaly against PyOD called directly, on every ADBench set (issue "PyOD adapter").

Protocol: ``pynomaly_core.evaluation.stratified_split`` (70/30, seed 0), fit on the training rows, score the test
rows; the same seed on both sides. Detectors: IForest, ECOD, COPOD, HBOS, PCA, KNN, LOF (KNN and LOF on sets of
at most 60k rows). Printed per (dataset, detector): the largest absolute difference of the test scores and of the
training scores (over the rows where PyOD's scores are finite), how many of PyOD's test scores are not finite,
and whether pynomaly's are all finite. Goal: differences ≤ 1e-9; PyOD's non-finite PCA scores become finite.

    python benchmarks/bench_pyod_equality.py [--datasets 6_cardio,24_mnist] [--detectors pca,knn] [--json FILE]
                                             [--threads 1]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import adbench_sets, load_npz, print_table

from pynomaly_core import create_detector
from pynomaly_core.evaluation import stratified_split

#: pynomaly name → (PyOD class, parameters used on both sides)
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
TOLERANCE = 1e-9


def pyod_class(target: str) -> type:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def max_diff(ours: np.ndarray, theirs: np.ndarray) -> float | None:
    finite = np.isfinite(theirs)
    return float(np.max(np.abs(ours[finite] - theirs[finite]))) if finite.any() else None


def compare(name: str, X_train: np.ndarray, X_test: np.ndarray) -> dict:
    target, params = DETECTORS[name]
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        direct = pyod_class(target)(**params).fit(X_train)
        pyod_train, pyod_test = direct.decision_scores_, direct.decision_function(X_test)
    model = create_detector(f"pyod.{name}", **params).fit(X_train)
    ours_train, ours_test = model.decision_scores_, model.decision_function(X_test)
    return {
        "test_diff": max_diff(ours_test, pyod_test),
        "train_diff": max_diff(ours_train, pyod_train),
        "pyod_nonfinite_test": int((~np.isfinite(pyod_test)).sum()),
        "pyod_nonfinite_train": int((~np.isfinite(pyod_train)).sum()),
        "ours_finite": bool(np.isfinite(ours_test).all() and np.isfinite(ours_train).all()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", help="comma-separated name prefixes (default: every set)")
    parser.add_argument("--detectors", help=f"comma-separated subset of {','.join(DETECTORS)}")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (0: leave as is)")
    args = parser.parse_args(argv)
    if args.threads:  # same results; contended BLAS threads made PCA on 17_InternetAds take minutes
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    names = args.detectors.split(",") if args.detectors else list(DETECTORS)
    wanted = args.datasets.split(",") if args.datasets else None
    rows, records = [], []
    for path in adbench_sets():
        if wanted and not any(path.stem.startswith(w) for w in wanted):
            continue
        X, y = load_npz(path)
        train, test = stratified_split(y)
        for name in names:
            if name in NEIGHBOURS and X.shape[0] > MAX_NEIGHBOUR_ROWS:
                continue
            start = time.perf_counter()
            result = compare(name, X[train], X[test])
            record = {"dataset": path.stem, "detector": f"pyod.{name}", "rows": int(X.shape[0]), **result}
            records.append(record)
            rows.append((path.stem, name, X.shape[0], _fmt(result["test_diff"]), _fmt(result["train_diff"]),
                         result["pyod_nonfinite_test"], result["pyod_nonfinite_train"],
                         "yes" if result["ours_finite"] else "NO", f"{time.perf_counter() - start:.1f}s"))
            print(f"{path.stem} {name}: {rows[-1][3]} (PyOD non-finite test scores: {rows[-1][5]})", file=sys.stderr)
    print_table(["dataset", "detector", "rows", "max |Δ| test", "max |Δ| train", "PyOD non-finite test",
                 "PyOD non-finite train", "ours finite", "time"], rows)
    diffs = [d for r in records for d in (r["test_diff"], r["train_diff"]) if d is not None]
    worst = max(diffs) if diffs else 0.0
    nonfinite = sorted({(r["dataset"], r["detector"]) for r in records if r["pyod_nonfinite_test"]})
    ok = worst <= TOLERANCE and all(r["ours_finite"] for r in records)
    print(f"\n{len(records)} (dataset, detector) pairs; largest difference {worst:.3g} (goal ≤ {TOLERANCE:g}); "
          f"PyOD non-finite on {', '.join(f'{d}/{n}' for d, n in nonfinite) or 'none'}; "
          f"pynomaly finite everywhere: {'yes' if all(r['ours_finite'] for r in records) else 'NO'}")
    if args.json:
        args.json.write_text(json.dumps(records, indent=2))
    return 0 if ok else 1


def _fmt(value: float | None) -> str:
    return "n/a (PyOD all non-finite)" if value is None else f"{value:.3g}"


if __name__ == "__main__":
    raise SystemExit(main())
