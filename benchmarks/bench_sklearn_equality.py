"""The sklearn plugin against scikit-learn called directly, on every ADBench set of ../shared/datasets/adbench.

Protocol of :mod:`pynomaly_core.evaluation`: stratified 70/30 split with seed 0, fit on the training rows, score
the test rows. For each of the five detectors (scikit-learn defaults, ``random_state=0`` where there is one):

* ``max |diff|``: the largest absolute difference between pynomaly's test scores and ``-estimator.score_samples``
  (goal: at most 1e-9);
* on sets with at least ``--min-rows`` rows, CPU timings (one thread) as the median over interleaved runs after
  an untimed warm-up (at least ``--repeats``, more for short runs so that each path runs ``--min-seconds``):
  ``ratio`` = (fit + score through pynomaly) / (direct fit + score_samples of the test rows), the median over
  pairs of adjacent runs, the goal being 1.05;
  ``same-job ratio`` divides by the direct time plus what scikit-learn needs to produce the threshold that
  pynomaly's contract includes (scores of the training rows; free for LOF and EllipticEnvelope, whose ``fit``
  computes them).

OneClassSVM is quadratic in the rows: on larger sets it runs on a stratified sample of ``--ocsvm-max-rows`` rows
(marked ``*``). EllipticEnvelope is skipped where the features are at least half the training rows (17_InternetAds:
1555 features, 1376 rows): the minimum covariance determinant is degenerate there and one fit takes tens of minutes.
With ``--json FILE --resume`` each finished row is kept in FILE and a rerun skips it. Run with ``nice``:
``nice python benchmarks/bench_sklearn_equality.py [--datasets cardio ...] [--json rows.json --resume]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.covariance import EllipticEnvelope
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import SGDOneClassSVM
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM
from threadpoolctl import threadpool_limits

from pynomaly_core.evaluation import stratified_split
from pynomaly_core.sdk import create_detector

ADBENCH = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "adbench"
DETECTORS = ["iforest", "lof", "ocsvm", "sgd_ocsvm", "elliptic_envelope"]
SEEDED = {"iforest", "sgd_ocsvm", "elliptic_envelope"}
#: CPU time of this process: on a shared machine it is far less disturbed by other jobs than wall time. Every
#: run is single-threaded (scikit-learn's n_jobs=None; BLAS limited to one thread in main), so it is also the
#: wall time the run would take alone.
CLOCK = time.process_time


@dataclass
class Row:
    dataset: str
    detector: str
    rows: int
    sampled: bool
    max_abs_diff: float
    direct_s: float | None = None
    pynomaly_s: float | None = None
    ratio: float | None = None
    same_job_ratio: float | None = None
    repeats: int = 0
    note: str = ""


def direct_estimator(name: str) -> Any:
    return {
        "iforest": lambda: IsolationForest(random_state=0),
        "lof": lambda: LocalOutlierFactor(novelty=True),
        "ocsvm": lambda: OneClassSVM(),
        "sgd_ocsvm": lambda: SGDOneClassSVM(random_state=0),
        "elliptic_envelope": lambda: EllipticEnvelope(random_state=0),
    }[name]()


def run_direct(name: str, train: np.ndarray, test: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(fit + score seconds, extra seconds for training scores, test scores) of scikit-learn called directly."""
    gc.collect()
    start = CLOCK()
    estimator = direct_estimator(name).fit(train)
    scores = -estimator.score_samples(test)
    elapsed = CLOCK() - start
    start = CLOCK()
    if name == "lof":
        training = -estimator.negative_outlier_factor_
    elif name == "elliptic_envelope":
        training = estimator.dist_
    else:
        training = -estimator.score_samples(train)
    np.percentile(training, 90)
    return elapsed, CLOCK() - start, scores


def run_pynomaly(name: str, train: np.ndarray, test: np.ndarray) -> tuple[float, np.ndarray]:
    gc.collect()
    start = CLOCK()
    detector = create_detector(f"sklearn.{name}", **({"random_state": 0} if name in SEEDED else {})).fit(train)
    scores = detector.decision_function(test)
    return CLOCK() - start, scores


def sample_rows(y: np.ndarray, limit: int) -> np.ndarray:
    """A stratified random subset of ``limit`` row indices (seed 0)."""
    _, keep = stratified_split(y, test_size=limit / y.size, seed=0)
    return keep


def measure(dataset: str, name: str, X: np.ndarray, y: np.ndarray, args: argparse.Namespace) -> Row:
    sampled = name == "ocsvm" and X.shape[0] > args.ocsvm_max_rows
    if sampled:
        keep = sample_rows(y, args.ocsvm_max_rows)
        X, y = X[keep], y[keep]
    train_rows, test_rows = stratified_split(y, test_size=0.3, seed=0)
    train, test = X[train_rows], X[test_rows]
    if name == "elliptic_envelope" and 2 * X.shape[1] >= train.shape[0]:
        return Row(dataset, name, int(X.shape[0]), sampled, float("nan"), note="skipped (p >= n/2)")
    # Warm-up (imports, caches) and the equality check: the scores do not depend on timing.
    warm_s, _, expected = run_direct(name, train, test)
    _, scores = run_pynomaly(name, train, test)
    diffs = [float(np.max(np.abs(scores - expected)))]
    direct, same_job, ours = [], [], []
    repeats = 0
    if X.shape[0] >= args.min_rows:
        repeats = min(args.max_repeats, max(args.repeats, math.ceil(args.min_seconds / max(warm_s, 1e-6))))
    for i in range(repeats):
        if i % 2 == 0:  # alternate which path runs first
            direct_s, extra_s, expected = run_direct(name, train, test)
            pynomaly_s, scores = run_pynomaly(name, train, test)
        else:
            pynomaly_s, scores = run_pynomaly(name, train, test)
            direct_s, extra_s, expected = run_direct(name, train, test)
        direct.append(direct_s)
        same_job.append(direct_s + extra_s)
        ours.append(pynomaly_s)
        diffs.append(float(np.max(np.abs(scores - expected))))
    row = Row(dataset, name, int(X.shape[0]), sampled, max(diffs))
    if repeats:  # ratios per pair of adjacent runs, then the median: both runs of a pair saw the same load
        row.direct_s, row.pynomaly_s = statistics.median(direct), statistics.median(ours)
        row.ratio = statistics.median(p / d for p, d in zip(ours, direct, strict=True))
        row.same_job_ratio = statistics.median(p / d for p, d in zip(ours, same_job, strict=True))
        row.repeats = len(ours)
    return row


def table(rows: list[Row]) -> str:
    header = ["dataset", "detector", "rows", "max |diff|", "runs", "direct s", "pynomaly s", "ratio", "same-job ratio"]

    def fmt(value: float | None, spec: str) -> str:
        return "" if value is None else format(value, spec)

    cells = [[r.dataset, r.detector, f"{r.rows}{'*' if r.sampled else ''}", r.note or f"{r.max_abs_diff:.1e}",
              str(r.repeats or ""), fmt(r.direct_s, ".3f"), fmt(r.pynomaly_s, ".3f"), fmt(r.ratio, ".3f"),
              fmt(r.same_job_ratio, ".3f")] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    lines = ["  ".join(v.ljust(w) if i < 2 else v.rjust(w) for i, (v, w) in enumerate(zip(line, widths, strict=True)))
             for line in [header, ["-" * w for w in widths], *cells]]
    return "\n".join(lines)


def summary(rows: list[Row]) -> str:
    compared = [r.max_abs_diff for r in rows if not r.note]
    lines = [f"max |diff| over all {len(compared)} compared runs: {max(compared):.1e} (goal <= 1e-9)"]
    for name in DETECTORS:
        timed = [r for r in rows if r.detector == name and r.ratio is not None]
        if not timed:
            continue
        ratios = [r.ratio for r in timed]
        same = [r.same_job_ratio for r in timed]
        lines.append(f"{name:>17}: ratio median {statistics.median(ratios):.3f} (max {max(ratios):.3f}); "
                     f"same-job ratio median {statistics.median(same):.3f} (max {max(same):.3f}) "
                     f"over {len(timed)} sets")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=None, help="substrings of set names (default: all)")
    parser.add_argument("--detectors", nargs="*", default=DETECTORS, choices=DETECTORS)
    parser.add_argument("--repeats", type=int, default=3, help="least timed runs per set (median)")
    parser.add_argument("--min-seconds", type=float, default=10.0, help="repeat short runs up to this much time")
    parser.add_argument("--max-repeats", type=int, default=25)
    parser.add_argument("--min-rows", type=int, default=5000, help="time sets with at least this many rows")
    parser.add_argument("--ocsvm-max-rows", type=int, default=10000, help="sample larger sets for OneClassSVM")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this JSON file")
    parser.add_argument("--resume", action="store_true", help="keep the rows already in --json, run the others")
    args = parser.parse_args(argv)
    if not ADBENCH.is_dir():
        sys.exit(f"{ADBENCH} not found")
    files = sorted(ADBENCH.glob("*.npz"), key=lambda p: int(p.name.split("_")[0]))
    if args.datasets:
        files = [f for f in files if any(part.lower() in f.name.lower() for part in args.datasets)]
    rows: list[Row] = []
    if args.resume and args.json is not None and args.json.is_file():
        rows = [Row(**entry) for entry in json.loads(args.json.read_text())]
    done = {(r.dataset, r.detector) for r in rows}
    threadpool_limits(limits=1)
    warnings.simplefilter("ignore")  # ConvergenceWarning / MinCovDet warnings: the same in both paths
    for path in files:
        names = [name for name in args.detectors if (path.stem, name) not in done]
        if not names:
            continue
        with np.load(path, allow_pickle=False) as data:
            X, y = data["X"].astype(np.float64), data["y"]
        for name in names:
            rows.append(measure(path.stem, name, X, y, args))
            r = rows[-1]
            print(f"{r.dataset} {r.detector}: diff {r.max_abs_diff:.1e} ratio {r.ratio} same {r.same_job_ratio}",
                  file=sys.stderr, flush=True)
            if args.json is not None:
                args.json.write_text(json.dumps([asdict(row) for row in rows], indent=1))
    order = {path.stem: i for i, path in enumerate(files)}
    rows = sorted((r for r in rows if r.dataset in order),
                  key=lambda r: (order[r.dataset], DETECTORS.index(r.detector)))
    print(table(rows))
    print()
    print(summary(rows))


if __name__ == "__main__":
    main()
