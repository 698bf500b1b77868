"""Default ``ensemble`` and unsupervised AutoML against every PyOD default detector over ADBench.

Goal (issue "Analytics"): the unsupervised AutoML choice and the default ensemble each reach a higher mean ROC-AUC
than the best single PyOD default detector on the same sets.

Protocol (``../shared/datasets/adbench/README.md``): stratified 70/30 split with seed 0, fit on the training split
without labels, ROC-AUC on the test split. Training splits above ``--max-train`` rows (default 10,000) are
subsampled (seeded, the same rows for every method); test splits are always whole. PyOD detectors run through
PyOD directly with their default parameters (``random_state=0`` where they take one).

    python benchmarks/bench_ensemble_automl.py [--max-train N] [--sets 6_cardio,14_glass] [--cache DIR]

``--cache DIR`` keeps each PyOD detector's train/test scores in DIR so a rerun skips them.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import adbench_sets, load_npz, print_table

from pynomaly_core.evaluation import protocol_split
from pynomaly_core.metrics import roc_auc


def pyod_makers() -> dict[str, Callable[[], Any]]:
    """PyOD detectors with their defaults (seeded where they take a seed)."""
    from pyod.models.cblof import CBLOF
    from pyod.models.copod import COPOD
    from pyod.models.ecod import ECOD
    from pyod.models.gmm import GMM
    from pyod.models.hbos import HBOS
    from pyod.models.iforest import IForest
    from pyod.models.inne import INNE
    from pyod.models.knn import KNN
    from pyod.models.loda import LODA
    from pyod.models.lof import LOF
    from pyod.models.ocsvm import OCSVM
    from pyod.models.pca import PCA

    return {
        "IForest": lambda: IForest(random_state=0),
        "ECOD": ECOD,
        "COPOD": COPOD,
        "HBOS": HBOS,
        "KNN": KNN,
        "LOF": LOF,
        "OCSVM": OCSVM,
        "PCA": lambda: PCA(random_state=0),
        "CBLOF": lambda: CBLOF(random_state=0),
        "LODA": LODA,
        "GMM": lambda: GMM(random_state=0),
        "INNE": lambda: INNE(random_state=0),
    }


#: PyOD detectors whose scores came from the cache (their seconds are then not measured in this run).
CACHED: set[str] = set()


def pyod_scores(name: str, make: Callable[[], Any], X_train: np.ndarray, X_test: np.ndarray,
                cache: Path | None, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Training and test scores of one PyOD detector (from ``cache`` when present)."""
    path = None if cache is None else cache / f"{key}__{name}.npz"
    if path is not None and path.is_file():
        CACHED.add(name)
        with np.load(path) as data:
            return data["train"], data["test"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.random.seed(0)  # LODA draws its projections from the global generator
        try:
            model = make().fit(X_train)
            train = np.asarray(model.decision_scores_, float)
            test = np.asarray(model.decision_function(X_test), float)
            train, test = np.nan_to_num(train, nan=0.0), np.nan_to_num(test, nan=0.0)
        except Exception as exc:  # a default that PyOD cannot fit on this set: recorded as a failure
            print(f"  {key}: {name} failed ({type(exc).__name__}: {str(exc)[:80]})", file=sys.stderr)
            train, test = np.empty(0), np.empty(0)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, train=train, test=test)
    return train, test


def run_ours(make: Callable[[], Any], X_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make().fit(X_train).decision_function(X_test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-train", type=int, default=10_000, help="subsample larger training splits to this")
    parser.add_argument("--sets", default="", help="comma-separated dataset names (default: all)")
    parser.add_argument("--cache", type=Path, default=None, help="folder caching PyOD scores")
    parser.add_argument("--pyod-only", action="store_true", help="only compute (and cache) the PyOD scores")
    args = parser.parse_args()

    import pynomaly_core as pn

    wanted = {s for s in args.sets.split(",") if s}
    paths = [p for p in adbench_sets() if not wanted or p.stem in wanted]
    makers = pyod_makers()
    ours: dict[str, Callable[[], Any]] = {} if args.pyod_only else {
        "ensemble (default)": lambda: pn.create_detector("ensemble", random_state=0),
        "ensemble (core only)": lambda: pn.create_detector("ensemble", detectors=CORE_ONLY, random_state=0),
        "automl (unsupervised)": lambda: AutoMLDetector(),
    }
    methods = [*makers, *ours]
    results: dict[str, list[float]] = {m: [] for m in methods}
    seconds: dict[str, float] = {m: 0.0 for m in methods}
    failures: dict[str, list[str]] = {m: [] for m in methods}
    rows = []
    print(f"protocol: stratified 70/30 split, seed 0; training splits above {args.max_train:,} rows subsampled "
          f"to {args.max_train:,} (same rows for every method), test splits whole", flush=True)
    for path in paths:
        X, y = load_npz(path)
        train, test = protocol_split(y, seed=0, max_train=args.max_train)
        X_train, X_test, y_test = X[train], X[test], y[test]
        row: list[Any] = [path.stem, f"{train.size}/{test.size}"]
        for name in methods:
            start = time.perf_counter()
            if name in makers:
                _, scores = pyod_scores(name, makers[name], X_train, X_test, args.cache, path.stem)
            else:
                scores = run_ours(ours[name], X_train, X_test)
            seconds[name] += time.perf_counter() - start
            if scores.size == 0:
                failures[name].append(path.stem)
                auc = 0.5
            else:
                auc = roc_auc(y_test, scores)
            results[name].append(auc)
            row.append(auc)
        rows.append(row)
        print(f"  {path.stem}: " + ", ".join(f"{m} {a:.3f}" for m, a in zip(methods, row[2:], strict=True)),
              file=sys.stderr, flush=True)
    short = {m: m.replace(" (default)", "").replace(" (unsupervised)", "").replace(" (core only)", "-core")
             for m in methods}
    print(f"\n== ROC-AUC per dataset ({len(paths)} sets)")
    print_table(["dataset", "train/test", *(short[m] for m in methods)], rows)
    means = {m: float(np.mean(v)) for m, v in results.items()}
    ranks = _mean_ranks(results)
    print("\n== mean ROC-AUC per method")
    ordered = sorted(methods, key=lambda k: -means[k])
    print_table(["method", "mean ROC-AUC", "mean rank", "seconds"],
                [(m, means[m], ranks[m], "cached" if m in CACHED else f"{seconds[m]:.1f}") for m in ordered])
    for name, sets in failures.items():
        if sets:
            print(f"{name} failed to fit on {', '.join(sets)} (counted as ROC-AUC 0.5, a random ranking)")
    if ours:
        best = max(makers, key=lambda k: means[k])
        print(f"\nbest single PyOD default detector: {best} ({means[best]:.4f})")
        for name in ("ensemble (default)", "automl (unsupervised)"):
            verdict = "PASS" if means[name] > means[best] else "FAIL"
            print(f"{name}: {means[name]:.4f} vs {means[best]:.4f} ({means[name] - means[best]:+.4f}) -> {verdict}")


def _mean_ranks(results: dict[str, list[float]]) -> dict[str, float]:
    from pynomaly_core.metrics import rankdata

    table = np.array(list(results.values()))  # methods x datasets
    ranks = np.vstack([rankdata(-table[:, j]) for j in range(table.shape[1])]).T
    return {m: float(ranks[i].mean()) for i, m in enumerate(results)}


CORE_ONLY = ["ecod", "hbos", "mahalanobis"]
#: Large enough that no candidate is cut by the budget on a loaded machine (the choice stays reproducible).
AUTOML_BUDGET_S = 1800.0


class AutoMLDetector:
    """Unsupervised AutoML as a fit/decision_function object, so it runs like every other method here."""

    def fit(self, X: np.ndarray) -> AutoMLDetector:
        import pynomaly_core as pn

        self.result_ = pn.automl(X, budget_s=AUTOML_BUDGET_S, random_state=0)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.result_.best_model.decision_function(X)


if __name__ == "__main__":
    main()
