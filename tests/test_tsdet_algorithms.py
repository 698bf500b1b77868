"""What each native time-series detector computes, against a direct reference implementation or published scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pynomaly_core as pn
from pynomaly_core.errors import InputError
from pynomaly_core.timeseries.nab import load_corpus, read_detector_scores
from pynomaly_core.timeseries.seasonal import find_period
from pynomaly_core.timeseries.spectral import extend, saliency

FIXTURE = Path(__file__).parent / "fixtures" / "nab"


def test_windowed_gaussian_reproduces_nabs_published_scores():
    corpus = load_corpus(FIXTURE)
    published = read_detector_scores(FIXTURE / "results", "windowedGaussian", corpus)
    for relative, expected in published.items():
        values = corpus.series(relative)[1][:, None]
        scores = pn.create_detector("windowed_gaussian").fit(values).decision_scores_
        np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-9, err_msg=relative)


def test_windowed_gaussian_slides_by_steps(rng):
    x = rng.normal(size=(60, 1))
    scores = pn.create_detector("windowed_gaussian", window_size=10, step_size=5).fit(x).decision_scores_
    for i in range(1, 60):
        if i <= 10:
            before = x[:i, 0]
        else:
            last = 9 + 5 * ((i - 10) // 5)  # the window ending at record `last` is in use
            before = x[last - 9:last + 1, 0]
        std = before.std() or 1e-6
        from math import erfc, sqrt

        assert scores[i] == pytest.approx(1 - 0.5 * erfc(abs(x[i, 0] - before.mean()) / std / sqrt(2)), abs=1e-12)


def brute_left_matrix_profile(x: np.ndarray, m: int, history: int) -> np.ndarray:
    exclusion = m // 2
    out = np.zeros(x.size)
    for i in range(m - 1, x.size):
        q = x[i - m + 1:i + 1]
        q = (q - q.mean()) / q.std()
        best = np.inf
        for j in range(max(m - 1, i - history), i - exclusion + 1):
            c = x[j - m + 1:j + 1]
            best = min(best, np.sqrt(((q - (c - c.mean()) / c.std()) ** 2).sum()))
        out[i] = best if np.isfinite(best) else 0.0
    return out


def test_matrix_profile_equals_the_brute_force_left_profile(rng):
    x = np.cumsum(rng.normal(size=300))
    scores = pn.create_detector("matrix_profile", m=12, history=80).fit(x[:, None]).decision_scores_
    np.testing.assert_allclose(scores, brute_left_matrix_profile(x, 12, 80), rtol=1e-7, atol=1e-7)


def test_spectral_residual_saliency_peaks_at_a_spike(rng):
    x = np.sin(np.arange(64) / 4) + 0.05 * rng.normal(size=64)
    x[40] += 3
    assert int(np.argmax(saliency(x[None, :], 3)[0])) == 40
    extended = extend(np.arange(10.0)[None, :], 5)  # on a line: x[4] + 5 · slope 1, from the points before the last
    np.testing.assert_allclose(extended[0, 10:], [9.0] * 5)


def test_forecast_residual_learns_an_autoregressive_process(rng):
    x = np.zeros(3000)
    for t in range(2, x.size):
        x[t] = 1.2 * x[t - 1] - 0.5 * x[t - 2] + 0.1 * rng.normal()
    detector = pn.create_detector("forecast_residual", order=2, forgetting=1.0).fit(x[:, None])
    theta = detector.theta_[0] * 1.0  # on values scaled by |x[0]| (here the tiny floor), an exact AR(2) fit
    np.testing.assert_allclose(theta[1:], [1.2, -0.5], atol=0.05)
    assert np.median(detector.decision_scores_[100:]) < 1.0


@pytest.mark.parametrize("period", [7, 24, 96])
def test_find_period(period, rng):
    t = np.arange(20 * period)
    assert find_period(np.sin(2 * np.pi * t / period) + 0.2 * rng.normal(size=t.size), 200) == period
    assert find_period(rng.normal(size=500), 100) == 1


def test_seasonal_residual_flags_a_value_normal_for_the_series_but_not_for_its_phase(rng):
    t = np.arange(1500)
    x = np.sin(2 * np.pi * t / 24) + 0.05 * rng.normal(size=t.size)
    x[1206] = -1.0  # 1206 % 24 == 6, the top of a cycle: a trough value, in range but in the wrong phase
    detector = pn.create_detector("seasonal_residual", init=500)
    scores = detector.fit(x[:, None]).decision_scores_
    assert detector.period_ == 24
    assert int(np.argmax(scores[600:])) + 600 == 1206
    point = pn.create_detector("anomaly_likelihood").fit(x[:, None]).decision_scores_
    assert point[1206] < 0.5  # a point detector sees nothing unusual in the value itself


def _rest_reference(raw: np.ndarray, rest: int, level: float) -> np.ndarray:
    """The rest rule on scores without rests, one record at a time."""
    out, hold = raw.copy(), 0
    for i, score in enumerate(raw):
        if hold:
            hold -= 1
            out[i] = score * 0.1
        elif score >= level:
            hold = rest
    return out


@pytest.mark.parametrize("level", [1.0, 0.5, 0.3])
def test_anomaly_likelihood_rests_after_a_score_at_or_above_the_rest_level(level, rng):
    x = rng.normal(size=1200)
    x[700:760] += 6.0  # a level shift inside the wide spatial tolerance: likelihood alarms only
    x[900] = 100.0  # beyond the range by more than 5 widths: a spatial alarm
    params = {"window_size": 100, "learning": 50, "history": 400, "warmup": 100, "spatial_tolerance": 5.0}
    raw = pn.create_detector("anomaly_likelihood", rest=0, **params).fit(x[:, None]).decision_scores_
    rested = pn.create_detector("anomaly_likelihood", rest=25, rest_level=level, **params).fit(
        x[:, None]).decision_scores_
    np.testing.assert_array_equal(rested, _rest_reference(raw, 25, level))
    assert ((raw >= 0.5) & (raw < 1.0)).any() and (raw >= 1.0).any()
    if level < 1.0:  # a likelihood alarm starts a rest too
        assert not np.array_equal(rested, _rest_reference(raw, 25, 1.0))
    with pytest.raises(InputError, match="rest_level must be a number in"):
        pn.create_detector("anomaly_likelihood", rest_level=0.0).fit(x[:50, None])


def test_a_model_saved_before_rest_level_existed_keeps_its_scores(rng, tmp_path):
    import json

    x = rng.normal(size=800)
    x[600:640] += 6.0
    old = pn.create_detector("anomaly_likelihood", rest_level=1.0, window_size=100, learning=50, history=400,
                             warmup=100, spatial_tolerance=5.0).fit(x[:500, None])
    path = old.save(tmp_path / "model")
    manifest = json.loads((path / "manifest.json").read_text())
    del manifest["params"]["rest_level"]  # as written before the parameter was added
    (path / "manifest.json").write_text(json.dumps(manifest))
    loaded = pn.load(path)
    assert loaded.rest_level == 1.0
    np.testing.assert_array_equal(loaded.decision_function(x[500:, None]), old.decision_function(x[500:, None]))
