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
    """The verdict on one feature (or on all features jointly, named ``all``).

    ``effect_size`` is a sample-size-free measure of how far apart the distributions are (KS distance, Cramér's
    V, PSI, ...); ``effect`` an optional label for it (PSI's conventional ``none``/``moderate``/``major`` bands).
    """

    feature: str
    statistic: float
    p_value: float
    adjusted_p_value: float
    drift: bool
    effect_size: float | None = None
    effect: str | None = None


@dataclass
class DriftReport:
    """Per-feature and overall verdict of a drift test.

    ``p_value`` is the overall p-value: the smallest adjusted per-feature p-value (so ``drift`` is exactly
    ``p_value < alpha`` for the family-wise corrections), or the joint test's p-value.
    """

    test: str
    alpha: float
    correction: str
    features: list[FeatureDrift]
    drift: bool
    details: dict[str, Any] = field(default_factory=dict)
    p_value: float | None = None

    def __post_init__(self) -> None:
        if self.p_value is None and self.features:
            self.p_value = float(min(f.adjusted_p_value for f in self.features))

    @property
    def drifted_features(self) -> list[str]:
        return [f.feature for f in self.features if f.drift]

    def to_dict(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "alpha": self.alpha,
            "correction": self.correction,
            "drift": self.drift,
            "p_value": self.p_value,
            "drifted_features": self.drifted_features,
            "features": [vars(f) for f in self.features],
            "details": self.details,
        }


def check_alpha_correction(test: str, alpha: float, correction: str) -> None:
    """The one-line errors every per-feature test gives for a bad ``alpha`` or ``correction``."""
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise InputError(f"{test}: alpha must be in (0, 1), got {alpha!r}")
    if correction not in CORRECTIONS:
        raise InputError(f"{test}: correction must be one of {', '.join(CORRECTIONS)}, got {correction!r}")


def per_feature_report(
    test: str,
    alpha: float,
    correction: str,
    names: list[str],
    statistics: Any,
    p_values: Any,
    effect_sizes: Any = None,
    effects: list[str | None] | None = None,
    details: dict[str, Any] | None = None,
) -> DriftReport:
    """Adjust the per-feature p-values and build the report: drift wherever an adjusted p-value is below alpha."""
    p = np.clip(np.asarray(p_values, dtype=np.float64), 0.0, 1.0)
    adjusted = adjust_p_values(p, correction)
    sizes = [None] * len(names) if effect_sizes is None else [float(v) for v in effect_sizes]
    labels = effects or [None] * len(names)
    features = [
        FeatureDrift(str(name), float(stat), float(pv), float(q), bool(q < alpha), size, label)
        for name, stat, pv, q, size, label in zip(names, statistics, p, adjusted, sizes, labels, strict=True)
    ]
    return DriftReport(test, alpha, correction, features, any(f.drift for f in features), details or {})


def run_drift_test(reference: Any, current: Any, test: str = "ks", *, feature_names: list[str] | None = None,
                   **params: Any) -> DriftReport:
    """Run the drift test named ``test`` (short or qualified, see ``pynomaly drift --help``) on two samples.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> run_drift_test(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + [0, 1]).drifted_features
    ['x1']
    """
    from pynomaly_core.registry import get_registry

    spec = get_registry().resolve("drift_test", test)
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        raise InputError(f"{spec.qualified_name}: unknown parameter(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(sorted(spec.params)) or '(none)'}")
    return spec.load()(**params).run(reference, current, feature_names=feature_names)


def check_pair(reference: Any, current: Any, names: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate a reference/current pair of 2-D samples with the same number of features."""
    ref = check_array(reference, what="reference", feature_names=names)
    cur = check_array(current, what="current", feature_names=names)
    if ref.shape[1] != cur.shape[1]:
        raise InputError(f"reference has {ref.shape[1]} features but current has {cur.shape[1]}")
    return ref, cur
