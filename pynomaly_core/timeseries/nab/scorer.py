"""The NAB scorer (Lavin & Ahmad 2015; NAB v1.1's sweep), in NumPy.

Each scorable row (past the probationary period, the first ``min(⌊0.15·n⌋, 750)`` rows of a series) gets a weight:

* inside an anomaly window of width ``w`` ending at row ``r``: ``tpWeight · σ(-(r - i + 1) / w) / σ(-1)``, so the
  first row of a window is worth ``tpWeight`` and detections late in the window less;
* outside, after a window that ended at row ``e``: ``fpWeight · σ(|i - e| / (w - 1))`` (negative, closer to
  ``-fpWeight`` the further from the window); before any window: ``-fpWeight``;

with the scaled sigmoid ``σ(x) = 2 / (1 + e^{5x}) - 1`` (``-1`` past ``x = 3``). At a threshold ``t`` a row is a
detection when its anomaly score is ``>= t``; a window counts once, with the weight of its best detection, or
``-fnWeight`` when it has none; every detection outside the windows adds its (negative) weight. The raw score of a
detector is the best total over the thresholds (one threshold for the whole corpus and profile), normalised to
``100 · (raw - null) / (perfect - null)``, where the null detector detects nothing (``-fnWeight`` per window) and
the perfect one detects the first row of every window (``tpWeight`` per window).

Where NAB's own code fails, after a window of a single row (a division by zero), the rows that follow are taken
as far from any window (``-fpWeight``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pynomaly_core.errors import InputError

if TYPE_CHECKING:
    from pynomaly_core.timeseries.nab.corpus import NabCorpus

PROBATION_PERCENT = 0.15
#: The probationary period never exceeds this share of 5000 rows (750 rows at 15 %).
PROBATION_CAP_ROWS = 5000


@dataclass(frozen=True)
class CostProfile:
    """An application profile's weights (NAB's cost matrix; the true-negative weight plays no part)."""

    tp_weight: float
    fp_weight: float
    fn_weight: float


PROFILE_NAMES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
DEFAULT_PROFILES: dict[str, CostProfile] = {
    "standard": CostProfile(1.0, 0.11, 1.0),
    "reward_low_FP_rate": CostProfile(1.0, 0.22, 1.0),
    "reward_low_FN_rate": CostProfile(1.0, 0.11, 2.0),
}


@dataclass(frozen=True)
class ProfileScore:
    """A detector's result under one profile: the chosen threshold, raw and normalised scores, row counts."""

    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float
    score: float
    tp: int
    fp: int
    fn: int
    tn: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def scaled_sigmoid(position: Any) -> np.ndarray:
    """NAB's scaled sigmoid ``2 / (1 + exp(5x)) - 1``, and ``-1`` for ``x > 3`` (vectorised)."""
    x = np.asarray(position, dtype=np.float64)
    with np.errstate(over="ignore"):
        value = 2.0 / (1.0 + np.exp(5.0 * x)) - 1.0
    return np.where(x > 3.0, -1.0, value)


_MAX_TP = float(scaled_sigmoid(-1.0))


def probation_length(rows: int, percent: float = PROBATION_PERCENT) -> int:
    """Rows at the start of a series that are not scored: ``min(⌊percent·rows⌋, percent·5000)``."""
    return int(min(math.floor(percent * rows), percent * PROBATION_CAP_ROWS))


@dataclass(frozen=True)
class Span:
    """A window located in a series: rows ``start..stop`` (inclusive) are inside; ``right`` and ``width`` give the
    positions of its rows (equal to ``stop`` and ``stop - start + 1`` on a series whose timestamps increase)."""

    start: int
    stop: int
    right: int
    width: int


def spans_from_timestamps(stamps: np.ndarray, windows: Sequence[tuple[Any, Any]], where: str = "") -> list[Span]:
    """Locate ``(start, end)`` timestamp windows in a series as NAB does: a window opens at the row whose timestamp
    equals its start (scanning forward) and closes at the next row equal to its end; widths and the right edge
    come from the first row holding each timestamp (this matters only where timestamps repeat)."""
    spans = []
    pos = 0
    for start, end in windows:
        hits = np.flatnonzero(stamps[pos:] == start)
        if hits.size == 0:
            raise InputError(f"{where}: window [{start}, {end}] starts at a timestamp the series does not have")
        first_end = np.flatnonzero(stamps == end)
        if first_end.size == 0:
            raise InputError(f"{where}: window [{start}, {end}] ends at a timestamp the series does not have")
        begin = pos + int(hits[0])
        closes = np.flatnonzero(stamps[begin:] == end)
        stop = begin + int(closes[0]) if closes.size else stamps.size - 1
        right = int(first_end[0])
        width = right - int(np.flatnonzero(stamps == start)[0]) + 1
        if width < 1:
            raise InputError(f"{where}: window [{start}, {end}]: its end comes before its start in the series")
        spans.append(Span(begin, stop, right, width))
        pos = stop + 1
    return spans


def spans_from_labels(labels: Any) -> list[Span]:
    """Windows of a per-row 0/1 label array: each maximal run of 1s."""
    y = np.asarray(labels).reshape(-1).astype(bool)
    edges = np.flatnonzero(np.diff(np.r_[False, y, False].astype(np.int8)))
    return [Span(int(a), int(b) - 1, int(b) - 1, int(b - a)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


@dataclass(frozen=True)
class _Layout:
    """Per scorable row of one series: its window (-1 outside) and the unweighted TP / FP rewards."""

    rows: np.ndarray
    window: np.ndarray
    tp_unit: np.ndarray
    fp_unit: np.ndarray
    n_windows: int


def _layout(n: int, spans: Sequence[Span], probation: int) -> _Layout:
    window = np.full(n, -1, dtype=np.int64)
    tp_unit = np.zeros(n)
    fp_unit = np.full(n, -1.0)  # before any window: as far from one as can be
    index = np.arange(n)
    for k, span in enumerate(spans):
        inside = slice(span.start, span.stop + 1)
        window[inside] = k
        tp_unit[inside] = scaled_sigmoid(-(span.right - index[inside] + 1) / span.width) / _MAX_TP
        end = spans[k + 1].start if k + 1 < len(spans) else n
        after = index[span.stop + 1:end]
        if after.size:
            with np.errstate(divide="ignore"):
                position = np.abs(span.stop - after) / float(span.width - 1) if span.width > 1 else np.inf
            fp_unit[span.stop + 1:end] = scaled_sigmoid(position)
    keep = index >= probation
    return _Layout(index[keep], window[keep], tp_unit[keep], fp_unit[keep], len(spans))


def _sweep(scores: np.ndarray, window: np.ndarray, weight: np.ndarray, fn_weight: float,
           n_windows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Totals at every candidate threshold, highest threshold first: (thresholds, totals, sorted order)."""
    order = np.argsort(-scores, kind="mergesort")
    ranked = scores[order]
    ranked_window = window[order]
    ranked_weight = weight[order]
    delta = np.where(ranked_window < 0, ranked_weight, 0.0)
    inside = np.flatnonzero(ranked_window >= 0)
    by_window = inside[np.argsort(ranked_window[inside], kind="mergesort")]
    bounds = np.flatnonzero(np.diff(ranked_window[by_window])) + 1
    for group in np.split(by_window, bounds):
        if group.size:
            best = np.maximum.accumulate(ranked_weight[group])
            delta[group] += np.diff(np.r_[-fn_weight, best])
    ends = np.r_[np.flatnonzero(np.diff(ranked)), ranked.size - 1] if ranked.size else np.array([], dtype=np.int64)
    totals = -fn_weight * n_windows + np.cumsum(delta)[ends]
    nothing = max(1.1, float(np.nextafter(ranked[0], np.inf))) if ranked.size else 1.1
    return np.r_[nothing, ranked[ends]], np.r_[-fn_weight * n_windows, totals], order


def score_corpus(series: Iterable[tuple[np.ndarray, Sequence[Span]]], profile: CostProfile, *,
                 name: str = "", probation_percent: float = PROBATION_PERCENT,
                 threshold: float | None = None) -> ProfileScore:
    """Score a set of series ``(anomaly scores, windows)`` under one profile.

    The threshold is the one that maximises the total over the set (NAB's optimiser), unless ``threshold`` is
    given. Windows that lie entirely in a probationary period count for the perfect detector but not the null.
    """
    parts_scores, parts_window, parts_weight = [], [], []
    offset = 0
    all_windows = 0
    for scores, spans in series:
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        layout = _layout(scores.size, spans, probation_length(scores.size, probation_percent))
        parts_scores.append(scores[layout.rows])
        parts_window.append(np.where(layout.window >= 0, layout.window + offset, -1))
        parts_weight.append(np.where(layout.window >= 0, profile.tp_weight * layout.tp_unit,
                                     profile.fp_weight * layout.fp_unit))
        offset += layout.n_windows
        all_windows += len(spans)
    scores = np.concatenate(parts_scores) if parts_scores else np.empty(0)
    window = np.concatenate(parts_window) if parts_window else np.empty(0, dtype=np.int64)
    weight = np.concatenate(parts_weight) if parts_weight else np.empty(0)
    if not np.isfinite(scores).all():
        raise InputError(f"{name or 'NAB scorer'}: anomaly scores must be finite")
    n_scorable = int(np.unique(window[window >= 0]).size)
    thresholds, totals, _ = _sweep(scores, window, weight, profile.fn_weight, n_scorable)
    if threshold is None:
        best = int(np.argmax(totals))
        chosen, raw = float(thresholds[best]), float(totals[best])
    else:
        chosen = float(threshold)
        below = np.flatnonzero(thresholds >= chosen)
        raw = float(totals[below[-1]]) if below.size else float(totals[0])
    flagged = scores >= chosen
    in_window = window >= 0
    null = -profile.fn_weight * n_scorable
    perfect = profile.tp_weight * all_windows
    normalised = 100.0 * (raw - null) / (perfect - null) if perfect != null else math.nan
    return ProfileScore(name, chosen, raw, null, perfect, normalised,
                        tp=int(np.sum(flagged & in_window)), fp=int(np.sum(flagged & ~in_window)),
                        fn=int(np.sum(~flagged & in_window)), tn=int(np.sum(~flagged & ~in_window)))


def corpus_series(corpus: NabCorpus, scores: Mapping[str, Any],
                  files: Sequence[str] | None = None) -> list[tuple[np.ndarray, list[Span]]]:
    """``(anomaly scores, windows)`` of the series ``files`` (default: every series of the corpus), checked: each
    needs scores, one per row of its data file."""
    files = corpus.files if files is None else list(files)
    unknown = [f for f in files if f not in corpus.windows]
    if unknown:
        raise InputError(f"NAB scorer: {unknown[0]!r} is not a series of the corpus")
    missing = [f for f in files if f not in scores]
    if missing:
        raise InputError(f"NAB scorer: no scores for {len(missing)} series of the corpus (first: {missing[0]})")
    series = []
    for relative in files:
        stamps = corpus.timestamps(relative)
        values = np.asarray(scores[relative], dtype=np.float64).reshape(-1)
        if values.size != stamps.size:
            raise InputError(f"{relative}: {values.size} scores but the series has {stamps.size} rows")
        series.append((values, spans_from_timestamps(stamps, corpus.windows[relative], relative)))
    return series


def score_detector(corpus: NabCorpus, scores: Mapping[str, Any], *, profiles: Mapping[str, CostProfile] | None = None,
                   probation_percent: float = PROBATION_PERCENT, files: Sequence[str] | None = None,
                   thresholds: Mapping[str, float] | None = None) -> dict[str, ProfileScore]:
    """NAB scores of one detector on a corpus, per profile (``scores``: relative path -> anomaly scores).

    Every series of the corpus (or of ``files``, a subset: the null and perfect detectors are then those of the
    subset) needs scores, one per row of its data file. A profile named in ``thresholds`` is scored at that fixed
    threshold (e.g. one chosen on other series) instead of the one that maximises its total.
    """
    series = corpus_series(corpus, scores, files)
    profiles = corpus.profiles if profiles is None else profiles
    fixed = thresholds or {}
    unknown = sorted(set(fixed) - set(profiles))
    if unknown:
        raise InputError(f"NAB scorer: threshold for unknown profile {unknown[0]!r}")
    return {name: score_corpus(series, profile, name=name, probation_percent=probation_percent,
                               threshold=fixed.get(name))
            for name, profile in profiles.items()}


@dataclass(frozen=True)
class ThresholdCurves:
    """Each series' raw NAB total at each of a set of candidate thresholds (highest first), under one profile.

    Totals add up over series, so the raw score of any subset ``rows`` at candidate ``j`` is
    ``totals[rows, j].sum()``; the best threshold of a subset is the candidate with the largest sum. ``fp`` holds the
    false-positive part of each total (at most 0), ``tp_best`` the largest true-positive total each series can reach
    (its windows' best scorable rows), ``lowest`` its lowest scorable anomaly score, and ``scorable`` / ``windows``
    its window counts (the null detector scores ``-fn_weight · scorable``, the perfect one ``tp_weight · windows``).
    """

    profile: CostProfile
    candidates: np.ndarray
    totals: np.ndarray
    fp: np.ndarray
    tp_best: np.ndarray
    lowest: np.ndarray
    scorable: np.ndarray
    windows: np.ndarray

    def bounds(self, rows: Any) -> tuple[float, float]:
        """``(null, perfect)`` raw totals of the subset ``rows``."""
        return (-self.profile.fn_weight * float(self.scorable[rows].sum()),
                self.profile.tp_weight * float(self.windows[rows].sum()))

    def best(self, rows: Any) -> tuple[int, float, bool]:
        """``(candidate index, raw total, exact)`` of the best candidate for the subset ``rows``. ``exact`` says
        that no threshold below the lowest candidate can do better: none flags more rows, or even every window
        detected at its best row plus the false positives already flagged at the lowest candidate (they only grow
        as the threshold falls) does not beat the best candidate."""
        total = self.totals[rows].sum(axis=0)
        j = int(np.argmax(total))
        if self.candidates[-1] <= float(self.lowest[rows].min()):
            return j, float(total[j]), True
        ceiling = float(self.tp_best[rows].sum()) + float(self.fp[rows, -1].sum())
        return j, float(total[j]), bool(ceiling <= total[j] + 1e-9 * (1.0 + abs(ceiling)))


def threshold_curves(series: Sequence[tuple[np.ndarray, Sequence[Span]]], profile: CostProfile,
                     candidates: Any, *, probation_percent: float = PROBATION_PERCENT) -> ThresholdCurves:
    """:class:`ThresholdCurves` of ``series`` ``(anomaly scores, windows)`` at ``candidates`` (any order; sorted
    highest first, after ``inf``: flag nothing). With every distinct score among the candidates, the best candidate
    of a subset is NAB's optimised threshold for that subset (its total equals :func:`score_corpus`'s raw score)."""
    cands = np.unique(np.r_[np.inf, np.asarray(candidates, dtype=np.float64).reshape(-1)])[::-1]
    totals = np.empty((len(series), cands.size))
    fp = np.empty((len(series), cands.size))
    tp_best = np.zeros(len(series))
    lowest = np.full(len(series), np.inf)
    scorable = np.empty(len(series), dtype=np.int64)
    windows = np.empty(len(series), dtype=np.int64)
    for i, (scores, spans) in enumerate(series):
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        layout = _layout(scores.size, spans, probation_length(scores.size, probation_percent))
        kept = scores[layout.rows]
        if not np.isfinite(kept).all():
            raise InputError(f"series {i}: anomaly scores must be finite")
        weight = np.where(layout.window >= 0, profile.tp_weight * layout.tp_unit, profile.fp_weight * layout.fp_unit)
        inside = layout.window >= 0
        scorable[i] = np.unique(layout.window[inside]).size
        if inside.any():
            best_rows = np.full(int(layout.window[inside].max()) + 1, -np.inf)
            np.maximum.at(best_rows, layout.window[inside], weight[inside])
            tp_best[i] = float(best_rows[np.isfinite(best_rows)].sum())
        if kept.size:
            lowest[i] = float(kept.min())
        windows[i] = len(spans)
        thresholds, sums, _ = _sweep(kept, layout.window, weight, profile.fn_weight, int(scorable[i]))
        # the last sweep threshold at or above each candidate (thresholds decrease; the first flags nothing)
        at = np.searchsorted(-thresholds, -cands, side="right") - 1
        totals[i] = sums[np.maximum(at, 0)]
        outside = layout.window < 0
        order = np.argsort(-kept[outside], kind="mergesort")
        fp_sums = np.r_[0.0, np.cumsum(weight[outside][order])]
        fp[i] = fp_sums[np.searchsorted(-kept[outside][order], -cands, side="right")]
    return ThresholdCurves(profile, cands, totals, fp, tp_best, lowest, scorable, windows)


def normalised(raw: float, null: float, perfect: float) -> float:
    """NAB's normalised score ``100 · (raw - null) / (perfect - null)`` (NaN when the two coincide)."""
    return 100.0 * (raw - null) / (perfect - null) if perfect != null else math.nan


def score_labels(labels: Any, scores: Any, profile: CostProfile | None = None, *,
                 probation_percent: float = PROBATION_PERCENT) -> ProfileScore:
    """The NAB score of one series whose windows are the runs of 1s of per-row ``labels`` (standard profile)."""
    labels = np.asarray(labels).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if labels.size != scores.size:
        raise InputError(f"NAB score: {labels.size} labels but {scores.size} scores")
    profile = DEFAULT_PROFILES["standard"] if profile is None else profile
    return score_corpus([(scores, spans_from_labels(labels))], profile, name="standard",
                        probation_percent=probation_percent)
