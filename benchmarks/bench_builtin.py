"""Built-in ECOD and HBOS against PyOD's: scoring throughput and mean ROC-AUC over ADBench.

Goals (issue "Core"): built-in ECOD scoring throughput ≥ 5× PyOD ECOD (fit on 100k×10, score 1M×10, same run);
mean ROC-AUC over the shared ADBench sets within 0.01 of PyOD's, for ECOD and HBOS.

    python benchmarks/bench_builtin.py [--quick] [--repeats N]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import adbench_sets, load_npz, median_time, print_table

from pynomaly_core.builtin.ecod import ECOD
from pynomaly_core.builtin.hbos import HBOS
from pynomaly_core.evaluation import stratified_split
from pynomaly_core.metrics import roc_auc


def throughput(n_fit: int, n_score: int, repeats: int) -> list[tuple]:
    from pyod.models.ecod import ECOD as PyodECOD
    from pyod.models.hbos import HBOS as PyodHBOS

    rng = np.random.default_rng(0)
    train = rng.normal(size=(n_fit, 10))
    test = rng.normal(size=(n_score, 10))
    rows = []
    for name, ours, theirs in (("ecod", ECOD(), PyodECOD()), ("hbos", HBOS(), PyodHBOS())):
        ours.fit(train)
        theirs.fit(train)
        ours.decision_function(test[:1000])  # warm-up (numba compiles PyOD's kernels on first call)
        theirs.decision_function(test[:1000])
        ours_s = median_time(lambda o=ours: o.decision_function(test), repeats)
        theirs_s = median_time(lambda t=theirs: t.decision_function(test), repeats)
        fit_ours = median_time(lambda o=ours: o.fit(train), repeats)
        fit_theirs = median_time(lambda t=theirs: t.fit(train), repeats)
        rows.append((name, f"{n_score / ours_s:,.0f}", f"{n_score / theirs_s:,.0f}", theirs_s / ours_s,
                     fit_theirs / fit_ours))
    return rows


def accuracy() -> tuple[list[tuple], dict[str, float]]:
    from pyod.models.ecod import ECOD as PyodECOD
    from pyod.models.hbos import HBOS as PyodHBOS

    makers = {"ecod": ECOD, "pyod ecod": PyodECOD, "hbos": HBOS, "pyod hbos": PyodHBOS}
    rows, scores = [], {k: [] for k in makers}
    for path in adbench_sets():
        X, y = load_npz(path)
        train, test = stratified_split(y)
        row = [path.stem]
        for key, make in makers.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                auc = roc_auc(y[test], make().fit(X[train]).decision_function(X[test]))
            scores[key].append(auc)
            row.append(auc)
        rows.append(tuple(row))
    return rows, {k: float(np.mean(v)) for k, v in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10k×10 fit, 100k×10 score, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n_fit, n_score, repeats = (10_000, 100_000, 1) if args.quick else (100_000, 1_000_000, args.repeats)
    print(f"== scoring throughput: fit {n_fit:,}x10, score {n_score:,}x10, median of {repeats}")
    print_table(["detector", "ours rows/s", "pyod rows/s", "score speed-up", "fit speed-up"],
                throughput(n_fit, n_score, repeats))
    print("\n== ROC-AUC over ADBench (stratified 70/30, seed 0)")
    rows, means = accuracy()
    print_table(["dataset", *means], rows)
    print_table(["detector", "mean ROC-AUC"], list(means.items()))
    for name in ("ecod", "hbos"):
        difference = means[name] - means["pyod " + name]
        print(f"{name}: mean ROC-AUC difference vs PyOD = {difference:+.4f} (goal |d| <= 0.01)")


if __name__ == "__main__":
    main()
