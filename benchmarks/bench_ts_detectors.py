"""Time-series detectors on the NAB corpus: NAB scores, mean VUS-PR, and online throughput.

1. **NAB** (``pynomaly nab run`` + ``nab score``): each detector walks each of the 58 series once, in time order,
   scoring every record before learning it, no labels; normalised NAB score per profile (standard, low FP, low FN)
   and the wall time of the run. Published: windowedGaussian 39.6, twitterADVec 47.1, randomCutForest 51.7,
   knncad 58.0, HTM 70.1, CAD OSE 69.9, ARTime 74.9 (standard).
2. **VUS-PR** (Paparrizos et al., 2022; ``max_buffer`` 100) of each detector's ``fit`` scores per series with at
   least one anomaly window (labels: 1 inside a window), averaged over those series; beside the windowing adapter
   over IForest (scikit-learn, seed 0) and ECOD with batch fits.
3. **Throughput**: records per second of the online run (``prequential``) over ``--points`` records of a noisy
   random walk, and of the per-record API (``score_one`` then ``learn_one``) over 20,000 records.

The defaults of builtin.anomaly_likelihood (the default time-series detector) are the best of a grid on the whole
NAB corpus: its NAB figures here are in-sample; ``bench_nab_heldout.py`` gives the held-out estimate.

    python benchmarks/bench_ts_detectors.py [--corpus ../shared/datasets/nab] [--detectors a,b] [--points 1000000]
                                            [--skip-nab] [--skip-vus] [--skip-throughput] [-o results.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, print_table

import pynomaly_core as pn
from pynomaly_core.online import prequential
from pynomaly_core.timeseries.metrics.vus import vus_pr
from pynomaly_core.timeseries.nab import load_corpus, score_detector
from pynomaly_core.timeseries.nab_run import run_corpus

CORPUS = REPO.parent / "shared" / "datasets" / "nab"
#: (label, registered name, parameters)
ONLINE = [
    ("anomaly_likelihood (default)", "anomaly_likelihood", {}),
    ("windowed_gaussian", "windowed_gaussian", {}),
    ("spectral_residual", "spectral_residual", {}),
    ("forecast_residual", "forecast_residual", {}),
    ("seasonal_residual", "seasonal_residual", {}),
    ("matrix_profile", "matrix_profile", {}),
    ("windowed ecod", "windowed", {"detector": "ecod", "refit": 1024}),
]
BATCH_ONLY = [
    ("windowed iforest", "windowed", {"detector": "sklearn.iforest", "params": {"random_state": 0}}),
]
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def nab_section(corpus, detectors) -> list[dict]:
    rows = []
    for label, name, params in detectors:
        scores, seconds = run_corpus(corpus, name, params)
        result = score_detector(corpus, scores)
        rows.append({"detector": label, **{p: round(result[p].score, 2) for p in PROFILES},
                     "seconds": round(seconds, 1)})
        print(f"  {label}: {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def vus_section(corpus, detectors) -> list[dict]:
    labelled = [f for f in corpus.files if corpus.windows[f]]
    rows = []
    for label, name, params in detectors:
        start = time.perf_counter()
        values = []
        for relative in labelled:
            X = corpus.series(relative)[1][:, None]
            scores = pn.create_detector(name, **params).fit(X).decision_scores_
            values.append(vus_pr(corpus.labels(relative), scores, 100))
        rows.append({"detector": label, "mean_vus_pr": round(float(np.mean(values)), 4), "series": len(values),
                     "seconds": round(time.perf_counter() - start, 1)})
        print(f"  {label}: {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def throughput_section(detectors, points: int) -> list[dict]:
    rng = np.random.default_rng(0)
    stream = (np.cumsum(rng.normal(size=points)) * 0.01 + rng.normal(size=points))[:, None]
    rows = []
    for label, name, params in detectors:
        detector = pn.create_detector(name, **params)
        start = time.perf_counter()
        prequential(detector, stream, batch_size=10_000)
        batch_s = time.perf_counter() - start
        detector = pn.create_detector(name, **params).fit(stream[:1000])
        start = time.perf_counter()
        for row in stream[1000:21_000]:
            detector.score_one(row)
            detector.learn_one(row)
        one_s = time.perf_counter() - start
        rows.append({"detector": label, "points": points, "records_per_s": round(points / batch_s),
                     "seconds": round(batch_s, 1), "per_record_api_per_s": round(20_000 / one_s)})
        print(f"  {label}: {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--detectors", help="comma-separated labels to run (default: all)")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--skip-nab", action="store_true")
    parser.add_argument("--skip-vus", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    chosen = None if not args.detectors else {d.strip() for d in args.detectors.split(",")}

    def pick(table):
        return [row for row in table if chosen is None or row[0].split(" (")[0] in chosen or row[0] in chosen]

    report: dict = {}
    if not (args.skip_nab and args.skip_vus):
        if not (args.corpus / "labels" / "combined_windows.json").is_file():
            raise SystemExit(f"no NAB corpus at {args.corpus} (pass --corpus)")
        corpus = load_corpus(args.corpus)
    if not args.skip_nab:
        report["nab"] = nab_section(corpus, pick(ONLINE))
        print("NAB (normalised score; each series once, in time order, score before learn)")
        print_table(["detector", *PROFILES, "seconds"], [list(r.values()) for r in report["nab"]])
    if not args.skip_vus:
        report["vus"] = vus_section(corpus, pick(ONLINE + BATCH_ONLY))
        print("VUS-PR (batch fit scores, mean over the series with anomaly windows)")
        print_table(["detector", "mean VUS-PR", "series", "seconds"], [list(r.values()) for r in report["vus"]])
    if not args.skip_throughput:
        report["throughput"] = throughput_section(pick(ONLINE), args.points)
        print(f"online throughput ({args.points:,} records, univariate)")
        print_table(["detector", "points", "records/s", "seconds", "score_one+learn_one /s"],
                    [list(r.values()) for r in report["throughput"]])
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
