"""The benchmark protocol of ``../shared/datasets/adbench``: stratified 70/30 split, fit without labels."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from pynomaly_core.metrics import average_precision, roc_auc


def stratified_split(y: np.ndarray, test_size: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices, each class split ``1 - test_size`` / ``test_size`` after a seeded shuffle."""
    y = np.asarray(y).reshape(-1)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for value in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == value))
        n_test = round(test_size * rows.size)
        test.append(rows[:n_test])
        train.append(rows[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def protocol_split(y: np.ndarray, seed: int = 0, test_size: float = 0.3,
                   max_train: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`stratified_split`, then (when ``max_train`` is set) a seeded subsample of at most ``max_train``
    training rows; the test rows are never subsampled."""
    train, test = stratified_split(y, test_size=test_size, seed=seed)
    if max_train is not None and train.size > max_train:
        rng = np.random.default_rng(seed + 1)
        train = np.sort(rng.choice(train, size=max_train, replace=False))
    return train, test


@dataclass
class EvaluationRecord:
    dataset: str
    detector: str
    roc_auc: float
    average_precision: float
    fit_s: float
    score_s: float


def evaluate_split(detector: Any, X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray,
                   dataset: str, name: str) -> EvaluationRecord:
    """Fit ``detector`` on ``X[train]`` without labels and measure it on ``X[test]``: the protocol's one measurement."""
    start = time.perf_counter()
    detector.fit(X[train])
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    scores = detector.decision_function(X[test])
    score_s = time.perf_counter() - start
    return EvaluationRecord(dataset, name, roc_auc(y[test], scores), average_precision(y[test], scores),
                            fit_s, score_s)


def evaluate(detector: Any, X: np.ndarray, y: np.ndarray, dataset: str, name: str, seed: int = 0) -> EvaluationRecord:
    """Fit ``detector`` on the training split without labels and measure it on the test split."""
    train, test = stratified_split(y, seed=seed)
    return evaluate_split(detector, X, y, train, test, dataset, name)
