"""Time-series metrics: VUS against TSB-AD, range precision/recall against prts, and their properties."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pynomaly_core.errors import InputError
from pynomaly_core.metrics import average_precision, rankdata, roc_auc
from pynomaly_core.timeseries.metrics import (
    best_f1,
    point_metrics,
    range_f1,
    range_precision,
    range_recall,
    ranges_of,
    vus,
    vus_pr,
    vus_roc,
)
from pynomaly_core.timeseries.nab import load_corpus, read_detector_scores

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "ts_metrics_reference.json").read_text())
RANGE_OPTIONS = [{}, {"alpha": 0.5, "cardinality": "reciprocal", "bias": "front"}, {"alpha": 0.2, "bias": "middle"},
                 {"cardinality": "reciprocal", "bias": "back"}, {"alpha": 1.0}]


def labelled(draw_data, min_size: int = 20, max_size: int = 200) -> tuple[np.ndarray, np.ndarray]:
    n = draw_data.draw(st.integers(min_size, max_size))
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(draw_data.draw(st.integers(1, 4))):
        start = draw_data.draw(st.integers(0, n - 1))
        labels[start:start + draw_data.draw(st.integers(1, 15))] = 1
    assume(0 < labels.sum() < n)
    scores = np.array(draw_data.draw(st.lists(st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.8, 1.0]) | st.floats(0, 1),
                                              min_size=n, max_size=n)))
    return labels, scores + 0.5 * labels * draw_data.draw(st.floats(0, 1))


def fixture_case(case: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    corpus = load_corpus(FIXTURES / "nab")
    y = corpus.labels(case["series"])
    s = read_detector_scores(FIXTURES / "nab" / "results", case["detector"], corpus, [case["series"]])[case["series"]]
    pred = np.zeros_like(y)
    pred[np.argsort(-s, kind="mergesort")[: int(y.sum())]] = 1
    return y, s, pred


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"{c['detector']}-{c['series'].split('/')[1]}")
def test_fixture_values_equal_the_frozen_reference_values(case):
    y, s, pred = fixture_case(case)
    for buffer, expected in case["vus"].items():
        result = vus(y, s, int(buffer))
        assert result.roc == pytest.approx(expected["roc"], abs=1e-6)
        assert result.pr == pytest.approx(expected["pr"], abs=1e-6)
    for item in case["ranges"]:
        assert range_precision(y, pred, **item["options"]) == pytest.approx(item["precision"], abs=1e-12)
        assert range_recall(y, pred, **item["options"]) == pytest.approx(item["recall"], abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.data(), st.integers(0, 30), st.sampled_from([250, 20]))
def test_vus_agrees_with_tsb_ad(data, buffer, n_thresholds):
    basic_metrics = pytest.importorskip("TSB_AD.evaluation.basic_metrics", reason="TSB-AD is not installed")
    labels, scores = labelled(data)
    curve = basic_metrics.generate_curve(labels, scores, buffer, "opt", n_thresholds)
    result = vus(labels, scores, buffer, n_thresholds=n_thresholds)
    assert result.roc == pytest.approx(curve[-2], abs=1e-6)
    assert result.pr == pytest.approx(curve[-1], abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.data(), st.sampled_from(RANGE_OPTIONS))
def test_range_precision_and_recall_agree_with_prts(data, options):
    prts = pytest.importorskip("prts", reason="prts is not installed")
    labels, scores = labelled(data)
    pred = (scores >= data.draw(st.sampled_from([0.3, 0.5, 0.8]))).astype(np.int64)
    assume(pred.any())
    assert range_precision(labels, pred, **options) == pytest.approx(prts.ts_precision(labels, pred, **options),
                                                                     abs=1e-12)
    assert range_recall(labels, pred, **options) == pytest.approx(prts.ts_recall(labels, pred, **options), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_vus_with_no_buffer_every_threshold_and_no_existence_is_the_point_metric(data):
    labels, scores = labelled(data)
    result = vus(labels, scores, 0, n_thresholds=None, existence=False)
    assert result.roc == pytest.approx(roc_auc(labels, scores), abs=1e-12)
    assert result.pr == pytest.approx(average_precision(labels, scores), abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.data(), st.integers(0, 20))
def test_vus_depends_only_on_the_ranking_of_the_scores(data, buffer):
    labels, scores = labelled(data)
    a, b = vus(labels, scores, buffer), vus(labels, rankdata(scores) * 2 - 9, buffer)
    assert a.roc == pytest.approx(b.roc, abs=1e-12) and a.pr == pytest.approx(b.pr, abs=1e-12)
    assert len(a.roc_by_buffer) == buffer + 1
    assert vus_roc(labels, scores, buffer) == a.roc and vus_pr(labels, scores, buffer) == a.pr


def test_a_perfect_score_has_vus_one_and_a_wide_buffer_rewards_near_misses():
    labels = np.zeros(300, dtype=int)
    labels[100:110] = 1
    labels[200:205] = 1
    assert vus(labels, labels.astype(float), 10).roc == pytest.approx(1.0)
    early = np.zeros(300)
    early[95:98] = 1.0
    early[197] = 1.0
    narrow, wide = vus(labels, early, 2), vus(labels, early, 40)
    assert wide.roc > narrow.roc and wide.pr > narrow.pr


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=5, max_size=80), st.lists(st.booleans(), min_size=5, max_size=80))
def test_isolated_points_reduce_range_metrics_to_point_precision_and_recall(real_mask, pred_mask):
    n = min(len(real_mask), len(pred_mask))
    real = np.zeros(2 * n, dtype=int)
    pred = np.zeros(2 * n, dtype=int)
    real[::2] = np.array(real_mask[:n])
    pred[::2] = np.array(pred_mask[:n])
    hits = int(np.sum(real & pred))
    assert range_recall(real, pred) == pytest.approx(hits / real.sum() if real.sum() else 0.0)
    assert range_precision(real, pred) == pytest.approx(hits / pred.sum() if pred.sum() else 0.0)


def test_range_metric_options_follow_the_paper():
    real = np.array([0, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    front = np.array([0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    back = np.array([0, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    assert range_recall(real, front, bias="front") == pytest.approx(4 / 10)
    assert range_recall(real, back, bias="front") == pytest.approx(1 / 10)
    assert range_recall(real, back, bias="back") == pytest.approx(4 / 10)
    assert range_recall(real, front, alpha=1.0) == 1.0
    split = np.array([0, 1, 0, 1, 0, 0, 0, 0, 0, 0])
    assert range_recall(real, split) == pytest.approx(0.5)
    assert range_recall(real, split, cardinality="reciprocal") == pytest.approx(0.25)
    assert range_recall(real, split, cardinality=lambda k: 0.0) == 0.0
    assert range_precision(real, real) == range_recall(real, real) == range_f1(real, real) == 1.0
    assert range_precision(real, np.zeros(10, dtype=int)) == 0.0
    np.testing.assert_array_equal(ranges_of([1, 1, 0, 1]), [[0, 1], [3, 3]])


def test_point_metrics_reuse_the_core_metrics():
    labels = np.array([0, 0, 1, 1, 0, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    metrics = point_metrics(labels, scores)
    assert metrics["roc_auc"] == roc_auc(labels, scores)
    assert metrics["average_precision"] == average_precision(labels, scores)
    assert best_f1(labels, scores) == (pytest.approx(2 * 3 / (4 + 3)), 0.35)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: vus([0, 0, 0], [1, 2, 3]), "only one class"),
    (lambda: vus([0, 1], [1, 2, 3]), "labels have 2 rows but scores have 3"),
    (lambda: vus([0, 1, 2], [1, 2, 3]), "labels must be 0/1"),
    (lambda: vus([0, 1], [1, np.nan]), "scores must be finite"),
    (lambda: vus([0, 1], [1, 2], -1), "max_buffer must be an integer >= 0"),
    (lambda: range_recall([0, 1], [0, 1], bias="sideways"), "bias must be one of"),
    (lambda: range_recall([0, 1], [0, 1], cardinality="two"), "cardinality must be one of"),
    (lambda: range_recall([0, 1], [0, 1], alpha=2), "alpha must be in"),
])
def test_bad_input_is_one_clear_error(call, message):
    with pytest.raises(InputError, match=message):
        call()
