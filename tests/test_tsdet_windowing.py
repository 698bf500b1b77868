"""The windowing adapter: windows, stride, differencing, and window scores mapped back to the right points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pynomaly_core as pn
from pynomaly_core.errors import InputError, PynomalyError
from pynomaly_core.online import prequential
from pynomaly_core.timeseries.windowing import points_from_windows, sliding_windows


def test_windows_are_the_rows_in_time_order_flattened():
    X = np.arange(12.0).reshape(6, 2)
    windows, ends = sliding_windows(X, 3)
    np.testing.assert_array_equal(ends, [2, 3, 4, 5])
    np.testing.assert_array_equal(windows[0], X[0:3].ravel())
    windows, ends = sliding_windows(X, 2, stride=3)
    np.testing.assert_array_equal(ends, [1, 4, 5])  # every third window, and always the last
    windows, ends = sliding_windows(X[:, 0] ** 2, 2, difference=1)
    np.testing.assert_array_equal(windows[0], [4.0 - 0.0, 16.0 - 4.0])  # x0..x2 differenced
    np.testing.assert_array_equal(ends[0], 2)


def test_window_scores_map_back_to_the_points_they_cover():
    # windows of 3 rows ending at rows 2, 3, 4 of a 5-row series
    scores = np.array([3.0, 6.0, 9.0])
    ends = np.array([2, 3, 4])
    np.testing.assert_allclose(points_from_windows(scores, ends, 5, 3), [3, 4.5, 6, 7.5, 9])
    np.testing.assert_allclose(points_from_windows(scores, ends, 5, 3, "max"), [3, 6, 9, 9, 9])
    # stride wider than the window: rows no window covers take the next window's score
    np.testing.assert_allclose(points_from_windows(np.array([1.0, 2.0]), np.array([1, 5]), 6, 2), [1, 1, 2, 2, 2, 2])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(4, 60), window=st.integers(1, 4), stride=st.integers(1, 5), difference=st.integers(0, 2),
       seed=st.integers(0, 1000))
def test_each_point_gets_the_mean_of_its_windows(n, window, stride, difference, seed):
    values = np.random.default_rng(seed).normal(size=(n, 1))
    windows, ends = sliding_windows(values, window, stride, difference)
    if windows.shape[0] == 0:
        return
    scores = windows.sum(axis=1)
    span = window + difference
    mapped = points_from_windows(scores, ends, n, span)
    for i in range(n):
        covering = [s for s, e in zip(scores, ends, strict=True) if e - span + 1 <= i <= e]
        if covering:
            assert mapped[i] == pytest.approx(np.mean(covering))


def test_the_adapter_finds_a_shape_anomaly_a_point_detector_misses(rng):
    # a sine whose one period is played backwards: every value is normal, the window shape is not
    t = np.arange(2000)
    X = np.sin(2 * np.pi * t / 40)
    X[1400:1420] = X[1400:1420][::-1]
    X = (X + 0.02 * rng.normal(size=t.size))[:, None]
    scores = pn.create_detector("windowed", detector="mahalanobis", window=10).fit(X).decision_scores_
    assert 1395 <= int(np.argmax(scores)) <= 1425
    point = pn.create_detector("ecod").fit(X).decision_scores_
    assert not 1395 <= int(np.argmax(point)) <= 1425


def test_online_adapter_refits_on_a_schedule_and_batches_agree(rng):
    X = rng.normal(size=(500, 2))
    detector = pn.create_detector("windowed", window=4, stride=2, refit=50, memory=100)
    scores = prequential(detector, X, batch_size=1)
    assert (scores[:35] == 0).all() and scores[-1] > 0  # nothing to score with before the first 32 windows
    assert detector.bfill_ == 100 and detector.fit_windows_.shape[0] == 100
    np.testing.assert_allclose(prequential(pn.create_detector("windowed", window=4, stride=2, refit=50, memory=100),
                                           X, batch_size=64), scores, rtol=1e-9)


@pytest.mark.parametrize("params, message", [
    ({"window": 0}, "window"), ({"reduce": "median"}, "reduce"), ({"detector": "no_such"}, "no_such"),
])
def test_bad_adapter_settings_are_input_errors(params, message, rng):
    with pytest.raises(PynomalyError, match=message):  # an unknown inner detector: UnknownNameError
        pn.create_detector("windowed", **params).fit(rng.normal(size=(100, 1)))


def test_too_short_a_series_is_an_input_error():
    with pytest.raises(InputError, match="window"):
        pn.create_detector("windowed", window=16).fit(np.zeros((10, 1)))
