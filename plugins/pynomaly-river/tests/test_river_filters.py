"""river's ThresholdFilter and QuantileFilter as a way to label a stream (pynomaly_river.filter_labels)."""

from __future__ import annotations

import numpy as np
import pytest
from pynomaly_river import as_river, filter_labels
from river import anomaly, compose, neighbors, preprocessing

from pynomaly_core.errors import InputError
from pynomaly_core.online import prequential
from pynomaly_core.sdk import create_detector


def river_filter_run(river_filter, X):
    scores, labels = [], []
    for row in X.tolist():
        x = dict(enumerate(row))
        score = river_filter.score_one(x)
        scores.append(score)
        labels.append(int(river_filter.classify(score)))
        river_filter.learn_one(x)
    return np.array(scores), np.array(labels)


@pytest.mark.parametrize("protect", [True, False])
def test_quantile_filter_labels_are_rivers(stream, protect):
    detector = create_detector("river.half_space_trees", seed=1, window_size=50)
    scores, labels = filter_labels(detector, stream, q=0.9, protect_anomaly_detector=protect)
    expected = river_filter_run(anomaly.QuantileFilter(anomaly.HalfSpaceTrees(seed=1, window_size=50), q=0.9,
                                                       protect_anomaly_detector=protect), stream)
    np.testing.assert_array_equal(scores, expected[0])
    np.testing.assert_array_equal(labels, expected[1])
    assert labels.dtype == np.int64 and 0 < labels.sum() < len(labels)


def test_threshold_filter_labels_are_rivers(stream):
    detector = create_detector("river.local_outlier_factor", window_size=80)
    scores, labels = filter_labels(detector, stream, threshold=1.5)
    expected = river_filter_run(anomaly.ThresholdFilter(
        anomaly.LocalOutlierFactor(engine=neighbors.LazySearch(window_size=80)), threshold=1.5),
        stream)
    np.testing.assert_array_equal(scores, expected[0])
    np.testing.assert_array_equal(labels, expected[1])
    np.testing.assert_array_equal(labels, (scores >= 1.5).astype(int))
    # protected: flagged records were not learned
    assert detector.n_learned_ == int((labels == 0).sum())


def test_threshold_filter_without_protection_learns_every_record(stream):
    detector = create_detector("river.half_space_trees", seed=2, window_size=50)
    scores, labels = filter_labels(detector, stream, threshold=0.8, protect_anomaly_detector=False)
    assert detector.n_learned_ == len(stream) and labels.sum() > 0
    reference = create_detector("river.half_space_trees", seed=2, window_size=50)
    np.testing.assert_array_equal(scores, prequential(reference, stream))


def test_filters_label_pynomaly_online_detectors_too(stream):
    detector = create_detector("builtin.half_space_trees", random_state=0, window_size=50)
    scores, labels = filter_labels(detector, stream, q=0.95)
    reference = create_detector("builtin.half_space_trees", random_state=0, window_size=50)
    expected = river_filter_run(anomaly.QuantileFilter(as_river(reference), q=0.95), stream)
    np.testing.assert_array_equal(scores, expected[0])
    np.testing.assert_array_equal(labels, expected[1])


def test_as_river_fits_in_a_river_pipeline(stream):
    ours = compose.Pipeline(preprocessing.MinMaxScaler(),
                            as_river(create_detector("builtin.half_space_trees", limits=None, random_state=3)))
    theirs = compose.Pipeline(preprocessing.MinMaxScaler(), anomaly.HalfSpaceTrees(seed=3))
    # (the empty scaler turns the first record into NaN, which pynomaly refuses: both learn it before scoring)
    for model in (ours, theirs):
        model.learn_one(dict(enumerate(stream[0].tolist())))
    for row in stream[1:].tolist():
        x = dict(enumerate(row))
        assert ours.score_one(x) == theirs.score_one(x)
        ours.learn_one(x)
        theirs.learn_one(x)


def test_filter_arguments_are_checked(stream):
    detector = create_detector("river.loda", seed=0)
    with pytest.raises(InputError, match="exactly one"):
        filter_labels(detector, stream)
    with pytest.raises(InputError, match="exactly one"):
        filter_labels(detector, stream, threshold=1.0, q=0.5)
    with pytest.raises(InputError, match="q must be"):
        filter_labels(detector, stream, q=1.5)
    with pytest.raises(InputError, match="online"):
        as_river(create_detector("builtin.ecod"))
