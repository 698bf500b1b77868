"""NAB scoreboard: our NAB scorer on the published raw scores of three detectors, beside NAB's own numbers.

Goal (issue "Time series"): every normalised score (standard, reward_low_FP_rate, reward_low_FN_rate) of
windowedGaussian, randomCutForest and twitterADVec within ±0.5 of ``reference/final_results.json``. The raw scores
are the ``anomaly_score`` columns shipped in ``shared/datasets/nab/reference/``; the corpus is NAB v1.1.

    python benchmarks/bench_nab_scoreboard.py [--corpus ../shared/datasets/nab]

Exits 1 when a row misses the goal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, print_table

from pynomaly_core.timeseries.nab import load_corpus, read_detector_scores, score_detector

DETECTORS = ("windowedGaussian", "randomCutForest", "twitterADVec")
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
TOLERANCE = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "datasets" / "nab")
    args = parser.parse_args()
    published = json.loads((args.corpus / "reference" / "final_results.json").read_text())
    start = time.perf_counter()
    corpus = load_corpus(args.corpus)
    rows, worst = [], 0.0
    for detector in DETECTORS:
        results = score_detector(corpus, read_detector_scores(args.corpus / "reference", detector, corpus))
        for profile in PROFILES:
            ours, theirs = results[profile].score, published[detector][profile]
            worst = max(worst, abs(ours - theirs))
            rows.append((detector, profile, f"{results[profile].threshold:.6g}", f"{ours:.4f}", f"{theirs:.4f}",
                         f"{ours - theirs:+.2e}"))
    elapsed = time.perf_counter() - start
    print(f"NAB v1.1 corpus: {len(corpus.files)} series, {sum(map(len, corpus.windows.values()))} windows; "
          f"scored 3 detectors x 3 profiles in {elapsed:.2f} s")
    print_table(["detector", "profile", "threshold", "ours", "published", "difference"], rows)
    verdict = "met" if worst <= TOLERANCE else "MISSED"
    print(f"largest difference {worst:.2e} (goal: within ±{TOLERANCE}): {verdict}")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    raise SystemExit(main())
