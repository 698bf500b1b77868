"""Drift tests: false-positive rate under the null and power against mean / scale shifts.

Goal (issue "Analytics"): at alpha = 0.05 the false-positive rate over 500 null pairs is within [0.03, 0.07]
for every drift test; the power for a few shift sizes is reported. Each null pair is two independent samples
of one distribution (standard normal; for chi2 also 4-level categorical codes); the FPR/alpha column is the
ratio against the nominal level, with a 95 % Wilson interval.

    python benchmarks/bench_drift.py [--trials 500] [--power-trials 100] [--rows 200] [--quick]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table

from pynomaly_core.registry import get_registry

ALPHA = 0.05


def wilson(hits: int, n: int) -> tuple[float, float]:
    p, z = hits / n, 1.959964
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def configs(quick: bool) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, drift test, params): every registered test, with settings that keep 500 trials affordable."""
    names = {spec.qualified_name for spec in get_registry().drift_tests()}
    rows = [("ks", "builtin.ks", {}), ("chi2", "builtin.chi2", {}), ("psi", "builtin.psi", {}),
            ("cvm", "builtin.cvm", {}), ("mmd (100 permutations)", "builtin.mmd", {"n_permutations": 100})]
    if "sklearn.classifier" in names:
        rows.append(("classifier (naive_bayes)", "sklearn.classifier",
                     {"classifier": "naive_bayes", "importance": False}))
        if not quick:
            rows.append(("classifier (random_forest, 20 trees)", "sklearn.classifier",
                         {"n_estimators": 20, "importance": False}))
    return rows


def rate(make: Callable[[int], Any], sample: Callable[[np.random.Generator], tuple], trials: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    hits = 0
    for t in range(trials):
        reference, current = sample(rng)
        hits += bool(make(t).run(reference, current).drift)
    return hits


def factory(name: str, params: dict[str, Any]) -> Callable[[int], Any]:
    cls = get_registry().resolve("drift_test", name).load()
    seeded = "random_state" in get_registry().resolve("drift_test", name).params
    return lambda t: cls(alpha=ALPHA, **params, **({"random_state": t} if seeded else {}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--power-trials", type=int, default=100)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="skip the random-forest classifier")
    args = parser.parse_args()
    n = args.rows
    nulls = {
        "N(0,1), 1 feature": lambda rng: (rng.normal(size=(n, 1)), rng.normal(size=(n, 1))),
        "N(0,1), 4 features, holm": lambda rng: (rng.normal(size=(n, 4)), rng.normal(size=(n, 4))),
    }
    shifts = {
        "mean +0.2": lambda rng: (rng.normal(size=(n, 1)), rng.normal(size=(n, 1)) + 0.2),
        "mean +0.4": lambda rng: (rng.normal(size=(n, 1)), rng.normal(size=(n, 1)) + 0.4),
        "scale x1.3": lambda rng: (rng.normal(size=(n, 1)), 1.3 * rng.normal(size=(n, 1))),
        "scale x1.6": lambda rng: (rng.normal(size=(n, 1)), 1.6 * rng.normal(size=(n, 1))),
    }
    print(f"# drift tests at alpha {ALPHA}: {args.trials} null pairs, {args.power_trials} shifted pairs, "
          f"{n} + {n} rows")
    fpr_rows, power_rows = [], []
    for label, name, params in configs(args.quick):
        make = factory(name, params)
        start = time.perf_counter()
        for null_label, sample in nulls.items():
            if name in ("builtin.mmd", "sklearn.classifier") and "4 features" in null_label:
                continue  # one joint verdict: the 4-feature case is no different
            hits = rate(make, sample, args.trials, seed=2024)
            low, high = wilson(hits, args.trials)
            fpr = hits / args.trials
            fpr_rows.append((label, null_label, f"{fpr:.3f}", f"[{low:.3f}, {high:.3f}]", f"{fpr / ALPHA:.2f}",
                             "yes" if 0.03 <= fpr <= 0.07 else "NO"))
        if name == "builtin.chi2":
            codes = lambda rng: (rng.choice(4, (n, 1), p=[0.4, 0.3, 0.2, 0.1]),  # noqa: E731
                                 rng.choice(4, (n, 1), p=[0.4, 0.3, 0.2, 0.1]))
            hits = rate(make, codes, args.trials, seed=2024)
            low, high = wilson(hits, args.trials)
            fpr_rows.append((label, "4 categories, 1 feature", f"{hits / args.trials:.3f}",
                             f"[{low:.3f}, {high:.3f}]", f"{hits / args.trials / ALPHA:.2f}",
                             "yes" if 0.03 <= hits / args.trials <= 0.07 else "NO"))
        powers = [rate(make, sample, args.power_trials, seed=99) / args.power_trials for sample in shifts.values()]
        seconds = (time.perf_counter() - start) / (args.trials * 2 + args.power_trials * len(shifts))
        power_rows.append((label, *[f"{p:.2f}" for p in powers], f"{1000 * seconds:.1f}"))
        print(f"  done {label}", file=sys.stderr, flush=True)
    print("\n## false-positive rate under the null (target [0.03, 0.07])")
    print_table(["test", "null", "FPR", "95% CI", "FPR/alpha", "in target"], fpr_rows)
    print("\n## power (fraction of shifted pairs flagged)")
    print_table(["test", *shifts, "ms per run"], power_rows)


if __name__ == "__main__":
    main()
