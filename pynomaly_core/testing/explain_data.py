"""Data for explainer tests (for plugin authors too): each anomalous row is extreme in exactly one, known feature."""

from __future__ import annotations

import numpy as np


def one_feature_anomalies(seed: int = 0, n_train: int = 500, n_anomalies: int = 40, d: int = 5,
                          shift: float = 6.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(training rows, anomalous rows, index of the feature that carries each row's anomaly)."""
    rng = np.random.default_rng(seed)
    train = rng.normal(size=(n_train, d))
    anomalies = rng.normal(size=(n_anomalies, d))
    culprit = np.arange(n_anomalies) % d
    anomalies[np.arange(n_anomalies), culprit] += rng.choice([-shift, shift], size=n_anomalies)
    return train, anomalies, culprit


def top_feature_accuracy(attributions: np.ndarray, culprit: np.ndarray) -> float:
    """Fraction of rows whose highest attribution is the feature that carries the anomaly."""
    return float(np.mean(np.argmax(attributions, axis=1) == culprit))
