"""Drift-test results and multiple-testing corrections shared by every drift test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.validation import check_array

CORRECTIONS = ("holm", "bonferroni", "fdr_bh", "none")


def adjust_p_values(p_values: np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjusted p-values for ``holm`` (FWER), ``bonferroni`` (FWER), ``fdr_bh`` (Benjamini–Hochberg) or ``none``."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if method == "none" or m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, kind="mergesort")
    ranked = p[order]
    if method == "holm":
        adjusted = np.maximum.accumulate(ranked * (m - np.arange(m)))
    elif method == "fdr_bh":
        adjusted = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    else:
        raise InputError(f"unknown correction {method!r}; choose one of {', '.join(CORRECTIONS)}")
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    return result


@dataclass
class FeatureDrift:
    """The verdict on one feature."""

    feature: str
    statistic: float
    p_value: float
    adjusted_p_value: float
    drift: bool


@dataclass
class DriftReport:
    """Per-feature and overall verdict of a drift test."""

    test: str
    alpha: float
    correction: str
    features: list[FeatureDrift]
    drift: bool
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "alpha": self.alpha,
            "correction": self.correction,
            "drift": self.drift,
            "features": [vars(f) for f in self.features],
            "details": self.details,
        }


def check_pair(reference: Any, current: Any, names: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate a reference/current pair of 2-D samples with the same number of features."""
    ref = check_array(reference, what="reference", feature_names=names)
    cur = check_array(current, what="current", feature_names=names)
    if ref.shape[1] != cur.shape[1]:
        raise InputError(f"reference has {ref.shape[1]} features but current has {cur.shape[1]}")
    return ref, cur
