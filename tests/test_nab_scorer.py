"""The NAB scorer: against a row-by-row transcription of NAB's sweep, its invariants, and NAB's scoreboard."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynomaly_core.errors import InputError
from pynomaly_core.timeseries.nab import (
    CostProfile,
    load_corpus,
    read_detector_scores,
    scaled_sigmoid,
    score_detector,
    write_scores,
)
from pynomaly_core.timeseries.nab.corpus import list_detectors, results_path
from pynomaly_core.timeseries.nab.scorer import (
    DEFAULT_PROFILES,
    normalised,
    probation_length,
    score_corpus,
    score_labels,
    spans_from_labels,
    spans_from_timestamps,
    threshold_curves,
)

FIXTURE = Path(__file__).parent / "fixtures" / "nab"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "nab"
DETECTORS = ("windowedGaussian", "randomCutForest", "twitterADVec")


def oracle(series, profile: CostProfile, probation_percent: float = 0.15) -> float:
    """NAB's sweep, one row at a time: weights per row, then the best total over thresholds (highest first)."""
    rows = []  # (anomaly score, weight, window key or None)
    for s_id, (stamps, windows, scores) in enumerate(series):
        stamps = list(stamps)
        pending = list(windows)
        current = right = width = None
        prev_right = prev_width = None
        n = len(stamps)
        probation = min(math.floor(probation_percent * n), probation_percent * 5000)
        for i, (t, a) in enumerate(zip(stamps, scores, strict=True)):
            if pending and t == pending[0][0]:
                current = pending.pop(0)
                right = stamps.index(current[1])
                width = right - stamps.index(current[0]) + 1
            if current is not None:
                x = -(right - i + 1) / width
                weight = profile.tp_weight * (2 / (1 + math.exp(5 * x)) - 1) / (2 / (1 + math.exp(-5)) - 1)
            elif prev_right is None:
                weight = -profile.fp_weight
            else:
                x = abs(prev_right - i) / (prev_width - 1) if prev_width > 1 else math.inf  # NAB divides by 0
                weight = profile.fp_weight * (-1.0 if x > 3 else 2 / (1 + math.exp(5 * x)) - 1)
            if i >= probation:
                rows.append((a, weight, None if current is None else (s_id, current[0])))
            if current is not None and t == current[1]:
                prev_right, prev_width = i, width
                current = None
    rows.sort(key=lambda r: -r[0])
    parts = {key: -profile.fn_weight for _, _, key in rows if key is not None}
    fp_total = 0.0
    best = sum(parts.values())
    for k, (a, weight, key) in enumerate(rows):
        if key is None:
            fp_total += weight
        else:
            parts[key] = max(parts[key], weight)
        if k + 1 == len(rows) or rows[k + 1][0] != a:
            best = max(best, fp_total + sum(parts.values()))
    return best


def fixture_series(detector: str):
    corpus = load_corpus(FIXTURE)
    scores = read_detector_scores(FIXTURE / "results", detector, corpus)
    return corpus, scores, [(corpus.timestamps(f), corpus.windows[f], scores[f]) for f in corpus.files]


def test_scaled_sigmoid_matches_nab_reference_points():
    values = scaled_sigmoid([-1.0, -0.5, 0.0, 1.0, 3.0, 3.5])
    np.testing.assert_allclose(values[:4], [0.98661, 0.84828, 0.0, -0.98661], atol=5e-6)
    assert values[4] > -1.0 and values[5] == -1.0


def test_probationary_period_is_15_percent_capped_at_750_rows():
    assert probation_length(1000) == 150
    assert probation_length(4032) == 604
    assert probation_length(22695) == 750


@pytest.mark.parametrize("detector", DETECTORS)
def test_fixture_scores_equal_a_row_by_row_transcription_of_nab(detector):
    corpus, scores, series = fixture_series(detector)
    results = score_detector(corpus, scores)
    assert set(results) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    for name, result in results.items():
        assert result.raw == pytest.approx(oracle(series, corpus.profiles[name]), abs=1e-9)
        assert result.null == -corpus.profiles[name].fn_weight * 8
        assert result.perfect == 8.0
        assert result.tp + result.fp + result.fn + result.tn == sum(
            f.size - probation_length(f.size) for f in scores.values())


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_series_agree_with_the_transcription(data):
    n = data.draw(st.integers(8, 120))
    labels = np.array(data.draw(st.lists(st.sampled_from([0, 0, 0, 1]), min_size=n, max_size=n)))
    scores = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.2, 0.5, 0.7, 0.9, 1.0]), min_size=n, max_size=n)))
    profile = data.draw(st.sampled_from(list(DEFAULT_PROFILES.values())))
    stamps = np.arange(n)
    windows = [(s.start, s.stop) for s in spans_from_labels(labels)]
    result = score_corpus([(scores, spans_from_labels(labels))], profile)
    assert result.raw == pytest.approx(oracle([(stamps, windows, scores)], profile), abs=1e-9)


def test_the_perfect_detector_scores_100_and_the_null_detector_0():
    corpus = load_corpus(FIXTURE)
    perfect, null = {}, {}
    for f in corpus.files:
        stamps = corpus.timestamps(f)
        perfect[f] = np.zeros(stamps.size)
        for start, _ in corpus.windows[f]:
            perfect[f][np.flatnonzero(stamps == start)[0]] = 1.0
        null[f] = np.full(stamps.size, 0.5)
    for result in score_detector(corpus, perfect).values():
        assert result.score == pytest.approx(100.0)
    for result in score_detector(corpus, null).values():
        assert result.score == pytest.approx(0.0)


def test_scores_depend_only_on_the_order_of_the_anomaly_scores_and_not_on_the_order_of_series():
    corpus, scores, series = fixture_series("randomCutForest")
    base = score_detector(corpus, scores)
    squashed = score_detector(corpus, {f: s ** 3 for f, s in scores.items()})
    for name in base:
        assert squashed[name].raw == pytest.approx(base[name].raw, abs=1e-12)
    profile = corpus.profiles["standard"]
    from pynomaly_core.timeseries.nab.scorer import spans_from_timestamps

    items = [(s, spans_from_timestamps(t, w)) for t, w, s in series]
    assert score_corpus(items[::-1], profile).raw == pytest.approx(score_corpus(items, profile).raw, abs=1e-12)


def test_a_given_threshold_scores_the_rows_at_or_above_it():
    labels = np.zeros(200, dtype=int)
    labels[100:110] = 1
    scores = np.zeros(200)
    scores[100] = 0.9
    scores[150] = 0.6
    optimum = score_labels(labels, scores)
    assert optimum.threshold == 0.9 and optimum.tp == 1 and optimum.fp == 0
    assert optimum.score == pytest.approx(100.0)
    lower = score_corpus([(scores, spans_from_labels(labels))], DEFAULT_PROFILES["standard"], threshold=0.6)
    assert lower.fp == 1 and lower.raw < optimum.raw


def test_write_scores_round_trips_in_the_reference_layout(tmp_path):
    corpus = load_corpus(FIXTURE)
    scores = {f: np.linspace(0, 1, corpus.timestamps(f).size) for f in corpus.files}
    written = write_scores(tmp_path, "mine", scores)
    assert written[0] == tmp_path / "mine" / "artificialNoAnomaly" / "mine_art_daily_no_noise.csv"
    assert results_path(tmp_path, "mine", "realTraffic/speed_7578.csv").is_file()
    assert list_detectors(tmp_path) == ["mine"]
    back = read_detector_scores(tmp_path, "mine", corpus)
    for f in corpus.files:
        np.testing.assert_array_equal(back[f], scores[f])
    assert not list(tmp_path.rglob(".*.tmp"))


def test_bad_results_name_the_file_and_row(tmp_path):
    corpus = load_corpus(FIXTURE)
    write_scores(tmp_path, "d", {f: np.zeros(corpus.timestamps(f).size) for f in corpus.files})
    path = results_path(tmp_path, "d", "realTraffic/speed_7578.csv")
    lines = path.read_text().splitlines()
    lines[5] = "oops"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"speed_7578.csv: row 6, column 'anomaly_score'.*'oops'"):
        read_detector_scores(tmp_path, "d", corpus)
    path.write_text("score\n0\n")
    with pytest.raises(InputError, match="no column 'anomaly_score'"):
        read_detector_scores(tmp_path, "d", corpus)
    path.unlink()
    with pytest.raises(InputError, match="missing"):
        read_detector_scores(tmp_path, "d", corpus)
    with pytest.raises(InputError, match="not a folder"):
        load_corpus(tmp_path / "nowhere")


def test_windows_at_unknown_timestamps_are_an_error(tmp_path):
    (tmp_path / "data" / "c").mkdir(parents=True)
    (tmp_path / "labels").mkdir()
    (tmp_path / "data" / "c" / "s.csv").write_text("timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,2\n")
    (tmp_path / "labels" / "combined_windows.json").write_text(
        json.dumps({"c/s.csv": [["2020-01-01 00:01:00", "2020-01-01 00:05:00"]]}))
    corpus = load_corpus(tmp_path)
    with pytest.raises(InputError, match="starts at a timestamp the series does not have"):
        score_detector(corpus, {"c/s.csv": [0.0, 1.0]})
    (tmp_path / "data" / "c" / "s.csv").write_text("timestamp,value\nyesterday,1\n")
    with pytest.raises(InputError, match=r"s.csv: row 2, column 'timestamp'"):
        load_corpus(tmp_path).timestamps("c/s.csv")


@pytest.mark.skipif(not (CORPUS / "reference" / "final_results.json").is_file(),
                    reason=f"the NAB corpus is not at {CORPUS} (shared/datasets/nab)")
@pytest.mark.slow
def test_the_published_scoreboard_rows_are_reproduced_within_half_a_point():
    corpus = load_corpus(CORPUS)
    published = json.loads((CORPUS / "reference" / "final_results.json").read_text())
    for detector in DETECTORS:
        results = score_detector(corpus, read_detector_scores(CORPUS / "reference", detector, corpus))
        for profile, result in results.items():
            assert abs(result.score - published[detector][profile]) < 0.5, (detector, profile, result.score)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_scores_inside_the_probationary_period_change_nothing(data):
    corpus, scores, _ = fixture_series("windowedGaussian")
    changed = {}
    for f, values in scores.items():
        head = probation_length(values.size)
        noise = np.array(data.draw(st.lists(st.floats(0, 1), min_size=head, max_size=head)))
        changed[f] = np.r_[noise, values[head:]]
    before, after = score_detector(corpus, scores), score_detector(corpus, changed)
    for name in before:
        assert after[name].raw == pytest.approx(before[name].raw, abs=1e-12)


def test_a_fixed_threshold_equal_to_the_optimised_one_reproduces_the_optimised_score():
    corpus, scores, _ = fixture_series("randomCutForest")
    optimised = score_detector(corpus, scores)
    fixed = score_detector(corpus, scores, thresholds={name: r.threshold for name, r in optimised.items()})
    for name, result in optimised.items():
        assert fixed[name] == result
    subset = corpus.files[::2]
    part = score_detector(corpus, scores, files=subset)
    items = [(scores[f], spans_from_timestamps(corpus.timestamps(f), corpus.windows[f], f)) for f in subset]
    for name, profile in corpus.profiles.items():
        assert part[name] == score_corpus(items, profile, name=name)
    with pytest.raises(InputError, match="not a series of the corpus"):
        score_detector(corpus, scores, files=["nowhere/x.csv"])
    with pytest.raises(InputError, match="unknown profile"):
        score_detector(corpus, scores, thresholds={"cheap": 0.5})


def test_a_fixed_threshold_scores_no_better_than_the_optimised_one():
    corpus, scores, _ = fixture_series("twitterADVec")
    optimised = score_detector(corpus, scores)
    for t in (0.0, 0.3, 0.9, 2.0):
        fixed = score_detector(corpus, scores, thresholds=dict.fromkeys(corpus.profiles, t))
        for name, result in fixed.items():
            assert result.raw <= optimised[name].raw + 1e-12 and result.threshold == t


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_threshold_curves_add_up_to_the_scores_of_any_subset(data):
    n_series = data.draw(st.integers(1, 4))
    series = []
    for _ in range(n_series):
        n = data.draw(st.integers(8, 80))
        labels = np.array(data.draw(st.lists(st.sampled_from([0, 0, 0, 1]), min_size=n, max_size=n)))
        scores = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.2, 0.5, 0.7, 0.9, 1.0]), min_size=n,
                                             max_size=n)))
        series.append((scores, spans_from_labels(labels)))
    profile = data.draw(st.sampled_from(list(DEFAULT_PROFILES.values())))
    everything = np.unique(np.concatenate([s for s, _ in series]))
    curves = threshold_curves(series, profile, everything)
    rows = np.array(data.draw(st.lists(st.integers(0, n_series - 1), min_size=1, max_size=n_series, unique=True)))
    subset = [series[i] for i in rows]
    _, raw, exact = curves.best(rows)
    optimum = score_corpus(subset, profile)
    assert exact and raw == pytest.approx(optimum.raw, abs=1e-9)
    null, perfect = curves.bounds(rows)
    assert (null, perfect) == (optimum.null, optimum.perfect)
    if not math.isnan(optimum.score):
        assert normalised(raw, null, perfect) == pytest.approx(optimum.score, abs=1e-9)
    for k, t in enumerate(curves.candidates):
        assert curves.totals[rows, k].sum() == pytest.approx(score_corpus(subset, profile, threshold=t).raw, abs=1e-9)


def test_threshold_curves_say_when_a_lower_threshold_might_do_better():
    labels = np.zeros(300, dtype=int)
    labels[200:210] = 1
    scores = np.zeros(300)
    scores[200] = 0.2  # the window's first row: a detection at full weight, below the first candidates
    scores[100] = 0.1
    curves = threshold_curves([(scores, spans_from_labels(labels))], DEFAULT_PROFILES["standard"], [0.9, 1.0])
    assert curves.best(np.array([0]))[2] is False
    curves = threshold_curves([(scores, spans_from_labels(labels))], DEFAULT_PROFILES["standard"], [0.2, 0.9])
    j, raw, exact = curves.best(np.array([0]))
    assert exact and curves.candidates[j] == 0.2 and raw == score_corpus(
        [(scores, spans_from_labels(labels))], DEFAULT_PROFILES["standard"]).raw
