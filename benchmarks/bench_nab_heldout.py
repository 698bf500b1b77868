"""Held-out NAB score of the default time-series detector (issue "Time series"): its defaults were tuned on the whole
corpus, so its 60.60 is in-sample; this estimates what the tuning is worth on series it did not see.

Protocol. The 58 series are split by series into k folds (k = 2 and 5), stratified by NAB category (each category's
series shuffled with a fixed seed and dealt round-robin), several repetitions with different seeds. For each fold:

1. **choose on the training series only**: the detector's parameters, the setting of a stated grid with the best
   standard-profile NAB score on the training series (ties: the first in grid order), then each profile's
   threshold, NAB's optimised threshold on the training series with those parameters;
2. **score the held-out series** with those parameters and that threshold (normalised between the held-out
   series' null and perfect detectors): **fixed threshold**, the honest out-of-sample figure. Pooled: the raw
   totals of the k held-out folds of one repetition add up to a score of the whole corpus in which no series was
   scored with parameters or a threshold chosen on it (mean ± sd over repetitions);
3. beside it, the held-out series **re-optimised**: the same parameters, but the threshold NAB's optimiser picks
   on the held-out series themselves (what NAB does for every detector on the whole corpus).

The same run prints the in-sample figures (today's defaults and the grid's best, thresholds on all 58 series) and
the held-out figures of today's defaults with only the threshold chosen on the training series ("defaults, no
parameter choice": the cost of carrying a threshold to other series, without the parameter choice).

Every run is NAB's (each series once, in time order, a fresh detector, each record scored before it is learned, no
labels). Scores are cached per setting under ``benchmarks/.cache/nab_heldout`` (they do not depend on the split).
anomaly_likelihood's settings share their costly part: its likelihood score depends only on the window and the
averaging, so those runs (with spatial alarms off) are cached, and the spatial alarms and rest period are applied
to them exactly as the detector does; every run checks that equality against the detector for two settings.
Choosing over the grid uses per-series threshold curves at the 5,000 highest distinct scores (plus "flag nothing"),
checked exact per fold (no lower threshold can do better), and the chosen setting is then scored exactly.

    python benchmarks/bench_nab_heldout.py [--corpus ../shared/datasets/nab] [--quick] [--families a,b]
                                           [-o benchmarks/results/nab_heldout.json]
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import itertools
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, print_table

from pynomaly_core.timeseries.nab import load_corpus, normalised, score_detector, threshold_curves
from pynomaly_core.timeseries.nab.scorer import corpus_series
from pynomaly_core.timeseries.nab_run import run_corpus

CORPUS = REPO.parent / "shared" / "datasets" / "nab"
CACHE = Path(__file__).resolve().parent / ".cache" / "nab_heldout"
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
CANDIDATES = 5000
#: (k, repetitions) of the full run and of --quick; seeds are 0, 1, ...
SPLITS = {"full": ((2, 10), (5, 5)), "quick": ((2, 3), (5, 1))}

Setting = dict[str, Any]
Scores = dict[str, np.ndarray]


# -- cached runs ---------------------------------------------------------------------------------------------------
def _source_hash(*objects: Any) -> str:
    return hashlib.sha1("".join(inspect.getsource(o) for o in objects).encode()).hexdigest()[:10]


def cached_run(corpus: Any, name: str, params: Setting, version: str) -> Scores:
    """The NAB run of detector ``name`` with ``params`` over every series, from the cache when there."""
    text = json.dumps([name, params, version, corpus.files], sort_keys=True, default=str)
    path = CACHE / f"{name}-{hashlib.sha1(text.encode()).hexdigest()[:16]}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            return {f: data[f"s{i}"] for i, f in enumerate(corpus.files)}
    scores, _ = run_corpus(corpus, name, params)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, **{f"s{i}": scores[f] for i, f in enumerate(corpus.files)})
    os.replace(temporary, path)
    return scores


# -- anomaly_likelihood, setting by setting ------------------------------------------------------------------------
def spatial_alarms(values: np.ndarray, tolerance: float, warmup: int) -> np.ndarray:
    """1.0 where a value lies beyond the range of the values before it by more than ``tolerance`` times its width
    (from record ``warmup`` on), as anomaly_likelihood's spatial alarm."""
    out = np.zeros(values.size)
    if values.size < 2:
        return out
    hi = np.maximum.accumulate(values)[:-1]
    lo = np.minimum.accumulate(values)[:-1]
    width = hi - lo
    x = values[1:]
    alarm = (x > hi + tolerance * width) | (x < lo - tolerance * width)
    alarm[: max(warmup - 1, 0)] = False
    out[1:][alarm] = 1.0
    return out


def apply_rest(scores: np.ndarray, rest: int, level: float = 1.0) -> np.ndarray:
    """After a score of at least ``level``, the next ``rest`` scores times 0.1 (a score inside a rest starts none)."""
    out = scores.copy()
    if rest <= 0:
        return out
    free = 0
    for i in np.flatnonzero(scores >= level).tolist():
        if i >= free:
            out[i + 1:i + 1 + rest] *= 0.1
            free = i + 1 + rest
    return out


@dataclass
class Family:
    """A detector with a grid of settings; ``scores(setting)`` gives its NAB run for a setting."""

    name: str
    default: Setting
    grid: list[Setting]
    scores: Callable[[Setting], Scores]
    verify: Callable[[Sequence[Setting]], None] = lambda settings: None
    memo: dict[str, Scores] = field(default_factory=dict)

    def run(self, setting: Setting) -> Scores:
        key = json.dumps(setting, sort_keys=True)
        if key not in self.memo:
            self.memo[key] = self.scores(setting)
            if len(self.memo) > 8:  # the last few (the chosen settings recur)
                self.memo.pop(next(iter(self.memo)))
        return self.memo[key]


#: The grid's axes; ``rest_level`` 1.0 (a rest only after a spatial alarm) is the detector before rest levels.
AXES = {"window_size": [200, 500, 1000], "averaging": [3, 6, 12], "spatial_tolerance": [0.0, 0.01, 0.05],
        "rest": [10, 30, 100], "rest_level": [1.0, 0.6, 0.5, 0.4]}
QUICK_AXES = {"window_size": [200, 500, 1000], "averaging": [6, 12], "spatial_tolerance": [0.01], "rest": [30],
              "rest_level": [1.0, 0.5]}
#: The defaults before the held-out study (tuned on the whole corpus, rest only after spatial alarms).
OLD_DEFAULT = {"window_size": 500, "averaging": 6, "spatial_tolerance": 0.01, "rest": 30, "rest_level": 1.0}


def likelihood_family(corpus: Any, quick: bool, levels: Sequence[float] | None = None,
                      name: str = "rest_level_tuned") -> Family:
    """anomaly_likelihood over the grid :data:`AXES` (``levels``: only those rest levels)."""
    from pynomaly_core.timeseries import likelihood

    version = _source_hash(likelihood)
    axes = dict(QUICK_AXES if quick else AXES)
    if levels is not None:
        axes["rest_level"] = list(levels)
    grid = [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]
    detector = likelihood.AnomalyLikelihood()
    default = {key: getattr(detector, key) for key in axes}
    if default not in grid:
        default = OLD_DEFAULT
    values = {f: corpus.series(f)[1] for f in corpus.files}
    base_memo: dict[tuple[int, int], Scores] = {}
    spatial_memo: dict[float, Scores] = {}

    def scores(setting: Setting) -> Scores:
        key = (setting["window_size"], setting["averaging"])
        if key not in base_memo:  # the likelihood alone: spatial alarms off (never out of warm-up), no rest
            base_memo[key] = cached_run(corpus, "anomaly_likelihood", {"window_size": key[0], "averaging": key[1],
                                                                       "warmup": 10 ** 9, "rest": 0}, version)
        tol = setting["spatial_tolerance"]
        if tol not in spatial_memo:
            spatial_memo[tol] = {f: spatial_alarms(v, tol, detector.warmup) for f, v in values.items()}
        return {f: apply_rest(np.maximum(base_memo[key][f], spatial_memo[tol][f]), setting["rest"],
                              setting["rest_level"]) for f in corpus.files}

    def verify(settings: Sequence[Setting]) -> None:
        for setting in settings:
            real, _ = run_corpus(corpus, "anomaly_likelihood", setting)
            composed = scores(setting)
            bad = [f for f in corpus.files if not np.array_equal(real[f], composed[f])]
            if bad:
                raise SystemExit(f"anomaly_likelihood {setting}: composed scores differ from the detector's on "
                                 f"{len(bad)} series (first {bad[0]})")

    return Family(name, default, grid, scores, verify)


FAMILIES: dict[str, Callable[[Any, bool], Family]] = {
    # the default's procedure: rest level fixed at 0.5 (tail probability 1e-10), the other four axes tuned
    "anomaly_likelihood": lambda corpus, quick: likelihood_family(corpus, quick, [0.5], "anomaly_likelihood"),
    # the same grid with rests only after spatial alarms: the detector before rest levels
    "spatial_rest_only": lambda corpus, quick: likelihood_family(corpus, quick, [1.0], "spatial_rest_only"),
    # the rest level tuned too (4x the grid)
    "rest_level_tuned": likelihood_family,
}


# -- splits and selection ------------------------------------------------------------------------------------------
def stratified_folds(files: Sequence[str], k: int, seed: int) -> list[np.ndarray]:
    """Test indices of ``k`` folds: each category's series shuffled (seed) and dealt round-robin."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(files), dtype=np.int64)
    dealt = int(rng.integers(k))
    for category in sorted({f.split("/")[0] for f in files}):
        members = [i for i, f in enumerate(files) if f.split("/")[0] == category]
        for i in rng.permutation(members):
            fold_of[i] = dealt % k
            dealt += 1
    return [np.flatnonzero(fold_of == j) for j in range(k)]


@dataclass
class Fold:
    k: int
    repetition: int
    test: np.ndarray
    train: np.ndarray
    best_raw: float = -np.inf
    best: int = -1
    inexact: int = 0


def choose(family: Family, corpus: Any, folds: list[Fold], profile: Any) -> float:
    """For every fold, the grid setting with the best standard score on its training series (threshold curves)."""
    start = time.perf_counter()
    for index, setting in enumerate(family.grid):
        series = corpus_series(corpus, family.run(setting))
        everything = np.concatenate([s for s, _ in series])
        top = np.unique(everything)[-CANDIDATES:]
        curves = threshold_curves(series, profile, top)
        for fold in folds:
            _, raw, exact = curves.best(fold.train)
            fold.inexact += not exact
            if raw > fold.best_raw + 1e-12:
                fold.best_raw, fold.best = raw, index
    return time.perf_counter() - start


def evaluate(family: Family, corpus: Any, fold: Fold, setting: Setting) -> dict[str, Any]:
    """Thresholds on the training series, then the held-out series at those thresholds and re-optimised."""
    scores = family.run(setting)
    files = corpus.files
    train = score_detector(corpus, scores, files=[files[i] for i in fold.train])
    test_files = [files[i] for i in fold.test]
    fixed = score_detector(corpus, scores, files=test_files, thresholds={p: train[p].threshold for p in PROFILES})
    reopt = score_detector(corpus, scores, files=test_files)
    return {"train": {p: train[p].score for p in PROFILES},
            "thresholds": {p: train[p].threshold for p in PROFILES},
            "fixed": {p: fixed[p].score for p in PROFILES}, "fixed_raw": {p: fixed[p].raw for p in PROFILES},
            "reoptimised": {p: reopt[p].score for p in PROFILES}, "train_raw": train["standard"].raw}


def summary(values: Sequence[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=np.float64)
    return {"mean": round(float(array.mean()), 2), "sd": round(float(array.std(ddof=1)) if array.size > 1 else 0.0, 2),
            "min": round(float(array.min()), 2), "max": round(float(array.max()), 2), "n": int(array.size)}


def study(family: Family, corpus: Any, splits: Sequence[tuple[int, int]]) -> dict[str, Any]:
    n = len(corpus.files)
    everything = np.arange(n)
    folds = [Fold(k, r, test, np.setdiff1d(everything, test))
             for k, repetitions in splits for r in range(repetitions)
             for test in stratified_folds(corpus.files, k, seed=r)]
    whole = Fold(0, 0, everything, everything)
    seconds = choose(family, corpus, [*folds, whole], corpus.profiles["standard"])
    full = score_detector(corpus, family.run(family.default))
    bounds = {p: (full[p].null, full[p].perfect) for p in PROFILES}
    grid_best = family.grid[whole.best]
    in_best = score_detector(corpus, family.run(grid_best))
    report: dict[str, Any] = {
        "family": family.name, "grid_size": len(family.grid), "default": family.default,
        "axes": {key: sorted({s[key] for s in family.grid}) for key in family.grid[0]},
        "in_sample_default": {p: round(full[p].score, 2) for p in PROFILES},
        "in_sample_grid_best": {"setting": grid_best, **{p: round(in_best[p].score, 2) for p in PROFILES}},
        "selection_seconds": round(seconds, 1), "inexact_choices": sum(f.inexact for f in folds), "splits": []}
    for k, repetitions in splits:
        rows = {"chosen": [], "default": []}
        for fold in (f for f in folds if f.k == k):
            chosen = family.grid[fold.best]
            result = evaluate(family, corpus, fold, chosen)
            if abs(result["train_raw"] - fold.best_raw) > 1e-6:
                raise SystemExit(f"fold {fold}: curve total {fold.best_raw} != exact {result['train_raw']}")
            rows["chosen"].append({"repetition": fold.repetition, "setting": chosen, **result})
            rows["default"].append({"repetition": fold.repetition, **evaluate(family, corpus, fold,
                                                                              family.default)})
        entry: dict[str, Any] = {"k": k, "repetitions": repetitions}
        for label, items in rows.items():
            pooled = {p: [normalised(sum(i["fixed_raw"][p] for i in items if i["repetition"] == r), *bounds[p])
                          for r in range(repetitions)] for p in PROFILES}
            entry[label] = {
                "pooled_fixed": {p: summary(v) for p, v in pooled.items()},
                "fold_fixed": {p: summary([i["fixed"][p] for i in items]) for p in PROFILES},
                "fold_reoptimised": {p: summary([i["reoptimised"][p] for i in items]) for p in PROFILES},
                "fold_train": {p: summary([i["train"][p] for i in items]) for p in PROFILES},
            }
        counts = Counter(json.dumps(i["setting"], sort_keys=True) for i in rows["chosen"])
        entry["chosen_settings"] = [{"setting": json.loads(s), "folds": c} for s, c in counts.most_common(5)]
        entry["folds"] = [{key: i[key] for key in ("repetition", "setting", "thresholds", "train", "fixed",
                                                     "reoptimised")} for i in rows["chosen"]]
        report["splits"].append(entry)
    return report


def show(report: dict[str, Any]) -> None:
    def cell(s: dict[str, float]) -> str:
        return f"{s['mean']:.2f} ± {s['sd']:.2f}"

    name = report["family"]
    print(f"{name}: grid of {report['grid_size']} settings; in-sample (thresholds on all 58 series)")
    rows = [["defaults " + json.dumps(report["default"]), *(f"{report['in_sample_default'][p]:.2f}" for p in PROFILES)],
            ["grid's best " + json.dumps(report["in_sample_grid_best"]["setting"]),
             *(f"{report['in_sample_grid_best'][p]:.2f}" for p in PROFILES)]]
    print_table(["in-sample", *PROFILES], rows)
    rows = []
    for entry in report["splits"]:
        tag = f"k={entry['k']} x{entry['repetitions']}"
        for label, title in (("chosen", "params+threshold on train"),
                             ("default", "defaults (params from all series), threshold on train")):
            part = entry[label]
            rows.append([tag, title, "pooled, fixed threshold", *(cell(part["pooled_fixed"][p]) for p in PROFILES)])
            rows.append([tag, title, "per fold, fixed threshold", *(cell(part["fold_fixed"][p]) for p in PROFILES)])
            rows.append([tag, title, "per fold, re-optimised", *(cell(part["fold_reoptimised"][p])
                                                                 for p in PROFILES)])
    print("held-out (mean ± sd over repetitions for pooled, over folds otherwise)")
    print_table(["split", "choice", "held-out score", *PROFILES], rows)
    for entry in report["splits"]:
        print(f"k={entry['k']}: most chosen settings: " + "; ".join(
            " ".join(f"{k}={v}" for k, v in c["setting"].items()) + f" ({c['folds']} folds)"
            for c in entry["chosen_settings"]))
    print(f"selection: {report['selection_seconds']} s; (fold, setting) pairs whose best threshold may lie below "
          f"the {CANDIDATES} candidates: {report['inexact_choices']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--quick", action="store_true", help="a small grid, k=2 x3 and k=5 x1 (about a minute)")
    parser.add_argument("--families", default=",".join(FAMILIES), help=f"comma-separated of {', '.join(FAMILIES)}")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    if not (args.corpus / "labels" / "combined_windows.json").is_file():
        print(f"error: no NAB corpus at {args.corpus} (pass --corpus)", file=sys.stderr)
        return 2
    names = [n.strip() for n in args.families.split(",") if n.strip()]
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        print(f"error: unknown family {unknown[0]!r} (known: {', '.join(FAMILIES)})", file=sys.stderr)
        return 2
    start = time.perf_counter()
    corpus = load_corpus(args.corpus)
    splits = SPLITS["quick" if args.quick else "full"]
    reports = []
    for name in names:
        family = FAMILIES[name](corpus, args.quick)
        family.verify([family.default, family.grid[len(family.grid) // 3 + 1]])
        reports.append(study(family, corpus, splits))
        show(reports[-1])
    elapsed = time.perf_counter() - start
    print(f"total {elapsed:.0f} s ({'quick' if args.quick else 'full'})")
    if args.output:  # through a temporary file: never a half-written report
        text = json.dumps({"mode": "quick" if args.quick else "full", "seconds": round(elapsed, 1),
                           "splits": [list(s) for s in splits], "families": reports}, indent=1) + "\n"
        args.output.parent.mkdir(parents=True, exist_ok=True)
        temporary = args.output.with_name(f".{args.output.name}.{os.getpid()}.tmp")
        temporary.write_text(text)
        os.replace(temporary, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
