"""builtin.half_space_trees against river's HalfSpaceTrees on the same streams: throughput and prequential ROC-AUC.

Goals (issue "Online detectors"): pynomaly's vectorised prequential run (micro-batches of 256 records, each scored
before it is learned) processes ≥ 20× the records per second of river's ``score_one``/``learn_one`` loop, and its
prequential ROC-AUC is within 0.02 of river's or better. Both use river's defaults (10 trees, height 8, window 250,
features assumed in [0, 1]) and the same seed; with one record per step pynomaly's trees and scores are river's
bit for bit (column ``=river (1)``), so only the micro-batching differs.

Streams (labels: the sets' own, 1 = anomaly):

(a) ADBench sets, rows shuffled with ``numpy.random.default_rng(seed).permutation``, then every feature min-max
    scaled with the first window of the stream (its first 250 records): ``x' = (x − min_w) / (max_w − min_w)``
    (``x − min_w`` where ``max_w = min_w``). The first window lies in [0, 1], as river's HST expects; later records
    may fall outside it (they take the outermost side of every split). Long sets are cut to ``--max-rows`` after
    shuffling.
(b) abrupt drift: ``annthyroid → mammography`` (two 6-feature ADBench sets, each shuffled, one after the other,
    scaled with the first window of the first), and ``shuttle + shift`` (shuttle shuffled and scaled; from the
    middle of the stream on every feature is shifted by +0.5, half of its first-window range).

Throughput: records per second of the whole prequential run (pynomaly: median of ``--repeats`` runs on the NumPy
array; river: one run of its loop over pre-built ``{column index: value}`` dicts, its native input, whose building
is not timed). ROC-AUC: of the prequential scores against the labels.

    python benchmarks/bench_online.py [--quick] [--batch-size 256] [--max-rows 100000] [--repeats 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ADBENCH, load_npz, median_time, print_table

from pynomaly_core.builtin.half_space_trees import HalfSpaceTrees
from pynomaly_core.metrics import roc_auc
from pynomaly_core.online import prequential

WINDOW = 250
SETS = ["6_cardio", "2_annthyroid", "23_mammography", "38_thyroid", "28_pendigits", "31_satimage-2", "30_satellite",
        "32_shuttle", "34_smtp", "16_http", "10_cover"]
QUICK_SETS = ["6_cardio", "2_annthyroid", "32_shuttle"]


def load(name: str) -> tuple[np.ndarray, np.ndarray]:
    path = ADBENCH / f"{name}.npz"
    if not path.is_file():
        raise SystemExit(f"{path} not found (the shared ADBench sets)")
    return load_npz(path)


def shuffled(X: np.ndarray, y: np.ndarray, seed: int, max_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(X.shape[0])[:max_rows]
    return X[order], y[order]


def first_window_minmax(X: np.ndarray, window: int = WINDOW) -> np.ndarray:
    low, high = X[:window].min(axis=0), X[:window].max(axis=0)
    return (X - low) / np.where(high > low, high - low, 1.0)


def labelled_streams(names: list[str], seed: int, max_rows: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    streams = []
    for name in names:
        X, y = shuffled(*load(name), seed, max_rows)
        streams.append((name, first_window_minmax(X), y))
    return streams


def drift_streams(seed: int, max_rows: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    first, y_first = shuffled(*load("2_annthyroid"), seed, max_rows)
    second, y_second = shuffled(*load("23_mammography"), seed, max_rows)
    joined = first_window_minmax(np.vstack([first, second]))
    X, y = shuffled(*load("32_shuttle"), seed, max_rows)
    X = first_window_minmax(X)
    X[X.shape[0] // 2:] += 0.5
    return [("annthyroid → mammography", joined, np.concatenate([y_first, y_second])), ("shuttle + shift", X, y)]


def river_prequential(X: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    from river import anomaly

    records = [dict(enumerate(row)) for row in X.tolist()]
    model = anomaly.HalfSpaceTrees(seed=seed)
    scores = np.empty(len(records))
    start = time.perf_counter()
    for i, x in enumerate(records):
        scores[i] = model.score_one(x)
        model.learn_one(x)
    return scores, time.perf_counter() - start


def compare(streams: list, batch_size: int, repeats: int, seed: int) -> tuple[list[tuple], dict[str, float]]:
    rows = []
    totals = {"records": 0, "river_s": 0.0, "ours_s": 0.0, "ours1_s": 0.0}
    aucs: dict[str, list[float]] = {"river": [], "ours": []}
    for name, X, y in streams:
        theirs, river_s = river_prequential(X, seed)
        ours = prequential(HalfSpaceTrees(limits=None, random_state=seed), X, batch_size=batch_size)
        ours_s = median_time(
            lambda X=X: prequential(HalfSpaceTrees(limits=None, random_state=seed), X, batch_size=batch_size), repeats)
        start = time.perf_counter()
        one_by_one = prequential(HalfSpaceTrees(limits=None, random_state=seed), X, batch_size=1)
        ours1_s = time.perf_counter() - start
        n = X.shape[0]
        river_auc, ours_auc = roc_auc(y, theirs), roc_auc(y, ours)
        aucs["river"].append(river_auc)
        aucs["ours"].append(ours_auc)
        for key, value in (("records", n), ("river_s", river_s), ("ours_s", ours_s), ("ours1_s", ours1_s)):
            totals[key] += value
        rows.append((name, n, X.shape[1], f"{n / river_s:,.0f}", f"{n / ours_s:,.0f}", river_s / ours_s,
                     f"{n / ours1_s:,.0f}", river_auc, ours_auc, ours_auc - river_auc,
                     "yes" if np.array_equal(one_by_one, theirs) else "NO"))
    summary = {
        "speed-up": totals["river_s"] / totals["ours_s"],
        "river rec/s": totals["records"] / totals["river_s"],
        "ours rec/s": totals["records"] / totals["ours_s"],
        "ours (1) rec/s": totals["records"] / totals["ours1_s"],
        "mean river AUC": float(np.mean(aucs["river"])),
        "mean ours AUC": float(np.mean(aucs["ours"])),
        "worst AUC gap": float(np.min(np.array(aucs["ours"]) - np.array(aucs["river"]))),
    }
    return rows, summary


COLUMNS = ["stream", "rows", "d", "river rec/s", "ours rec/s", "speed-up", "ours (1) rec/s", "river AUC",
           "ours AUC", "Δ AUC", "=river (1)"]


def report(title: str, rows: list[tuple], summary: dict[str, float], batch_size: int) -> None:
    print(f"\n== {title}")
    print_table(COLUMNS, rows)
    print(f"all streams: river {summary['river rec/s']:,.0f} rec/s, pynomaly (batches of {batch_size}) "
          f"{summary['ours rec/s']:,.0f} rec/s: {summary['speed-up']:.1f}x (goal >= 20x); pynomaly one record at a "
          f"time {summary['ours (1) rec/s']:,.0f} rec/s")
    print(f"mean prequential ROC-AUC: river {summary['mean river AUC']:.4f}, pynomaly {summary['mean ours AUC']:.4f};"
          f" worst pynomaly - river {summary['worst AUC gap']:+.4f} (goal >= -0.02)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{', '.join(QUICK_SETS)} and 20,000 rows at most")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--max-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5, help="pynomaly runs per stream (median)")
    parser.add_argument("--seed", type=int, default=0, help="shuffling and HST seed")
    args = parser.parse_args()
    names, max_rows = (QUICK_SETS, 20_000) if args.quick else (SETS, args.max_rows)
    print(f"HST n_trees=10 height=8 window={WINDOW} seed={args.seed}; pynomaly: prequential micro-batches of "
          f"{args.batch_size}; river: score_one/learn_one per record")
    rows, summary = compare(labelled_streams(names, args.seed, max_rows), args.batch_size, args.repeats, args.seed)
    report("(a) ADBench streams (shuffled, first-window min-max scaled)", rows, summary, args.batch_size)
    rows, summary = compare(drift_streams(args.seed, max_rows), args.batch_size, args.repeats, args.seed)
    report("(b) streams with an abrupt drift", rows, summary, args.batch_size)


if __name__ == "__main__":
    main()
