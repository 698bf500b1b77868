"""Stratified K-fold splits in NumPy."""

from __future__ import annotations

import numpy as np

from pynomaly_core.errors import InputError


def stratified_kfold(y: np.ndarray, n_splits: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train, validation)`` row indices for each fold; every class is dealt round-robin over the folds after a
    seeded shuffle, so each fold holds its share of anomalies."""
    y = np.asarray(y).reshape(-1)
    classes, counts = np.unique(y, return_counts=True)
    if classes.size != 2:
        raise InputError(f"labels must have two classes (0/1) for cross-validation, got {classes.size}")
    if n_splits < 2 or counts.min() < n_splits:
        raise InputError(f"{n_splits}-fold cross-validation needs at least {n_splits} rows of each class; "
                         f"the smallest class has {int(counts.min())}")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(y.size, dtype=np.int64)
    for value in classes:
        rows = rng.permutation(np.flatnonzero(y == value))
        fold_of[rows] = np.arange(rows.size) % n_splits
    return [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in range(n_splits)]
