"""The neutral training helpers every deep backend builds on (:mod:`pynomaly_core.deep`)."""

from __future__ import annotations

import numpy as np
import pytest

from pynomaly_core.deep import design
from pynomaly_core.deep.training import EarlyStopping, Standardizer, batch_slices, split_validation
from pynomaly_core.errors import InputError


def test_derived_layer_sizes_follow_the_feature_count():
    """Default widths are clamped to [MIN_WIDTH, MAX_WIDTH] and halve; explicit ``hidden_layers`` win."""
    assert design.hidden_layer_sizes(3) == [design.MIN_WIDTH, design.MIN_WIDTH // 2]
    assert design.hidden_layer_sizes(10_000) == [design.MAX_WIDTH, design.MAX_WIDTH // 2]
    assert design.hidden_layer_sizes(7, [5]) == [5]


def test_standardizer_keeps_constant_features_finite():
    """A constant feature gets scale 1 (scaled to 0); the others unit variance, in float32."""
    X = np.column_stack([np.arange(5.0), np.full(5, 3.0)])
    scaler = Standardizer.fit(X)
    assert scaler.scale[1] == 1.0
    scaled = scaler.transform(X)
    assert scaled.dtype == np.float32 and np.all(scaled[:, 1] == 0) and abs(scaled[:, 0].std() - 1) < 1e-6


def test_batch_slices_cover_every_row_and_avoid_single_row_batches():
    """Batches cover every row once, in order, and none has a single row (unless there is one row)."""
    for n, size in [(10, 3), (10, 5), (7, 10), (1, 4), (9, 4)]:
        slices = batch_slices(n, size)
        assert [i for s in slices for i in range(s.start, s.stop)] == list(range(n))
        assert n == 1 or all(s.stop - s.start >= 2 for s in slices)


def test_validation_split_is_seeded_and_disjoint():
    """The hold-out is seeded, disjoint from the training rows, and refused for fewer than 2 rows."""
    train, val = split_validation(100, 0.1, np.random.default_rng(3))
    again = split_validation(100, 0.1, np.random.default_rng(3))
    assert np.array_equal(train, again[0]) and np.array_equal(val, again[1])
    assert val.size == 10 and not set(train) & set(val) and len(set(train) | set(val)) == 100
    assert split_validation(10, 0.1, np.random.default_rng(0))[1].size == 0  # one row is too few to validate on
    with pytest.raises(InputError, match="at least 2 training rows"):
        split_validation(1, 0.1, np.random.default_rng(0))


def test_early_stopping_rule():
    """Stops ``patience`` epochs without a relative improvement of MIN_RELATIVE_IMPROVEMENT; keeps the best."""
    stopper = EarlyStopping(patience=2)
    assert stopper.update(0, 1.0) and stopper.update(1, 0.5)
    assert not stopper.update(2, 0.5 * (1 - design.MIN_RELATIVE_IMPROVEMENT / 2))  # too small a gain
    assert not stopper.stop and not stopper.update(3, 0.6) and stopper.stop
    assert stopper.best_epoch == 1
