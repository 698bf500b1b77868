"""A/B comparison of two fitted detectors on the same labelled rows.

* ROC-AUC difference (A − B) with DeLong's test (DeLong et al., 1988; the fast algorithm of Sun & Xu, 2014) and a
  paired, stratified bootstrap (anomalies and normal rows resampled separately, the same rows for both models):
  a confidence interval and a two-sided p-value each.
* Agreement of the rows each model flags (scores above its own threshold): Cohen's kappa, Jaccard index, counts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.metrics import rankdata, roc_auc


@dataclass
class AUCTest:
    method: str
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    std_error: float


@dataclass
class Agreement:
    flagged_a: int
    flagged_b: int
    flagged_both: int
    cohen_kappa: float
    jaccard: float
    row_agreement: float


@dataclass
class Comparison:
    roc_auc_a: float
    roc_auc_b: float
    tests: list[AUCTest]
    agreement: Agreement
    n_rows: int
    n_anomalies: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _normal_quantile(p: float) -> float:
    """Inverse of the standard normal CDF (bisection on erfc; exact to ~1e-12)."""
    low, high = -40.0, 40.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        if _normal_cdf(mid) < p:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def _check(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y).reshape(-1)
    a, b = np.asarray(a, dtype=np.float64).reshape(-1), np.asarray(b, dtype=np.float64).reshape(-1)
    if not (y.size == a.size == b.size):
        raise InputError(f"labels ({y.size}) and the two score vectors ({a.size}, {b.size}) differ in length")
    if set(np.unique(y).tolist()) != {0, 1}:
        raise InputError("labels must be 0/1 with both classes present")
    return y.astype(bool), a, b


def delong_components(y: np.ndarray, scores: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and the structural components V10 (one per anomaly) and V01 (one per normal row), mid-ranks for ties."""
    positive = np.asarray(y, dtype=bool)
    pos, neg = scores[positive], scores[~positive]
    m, n = pos.size, neg.size
    all_ranks = rankdata(np.r_[pos, neg])
    v10 = (all_ranks[:m] - rankdata(pos)) / n
    v01 = 1.0 - (all_ranks[m:] - rankdata(neg)) / m
    auc = float((all_ranks[:m].sum() - m * (m + 1) / 2) / (m * n))
    return auc, v10, v01


def delong_test(y: np.ndarray, a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> AUCTest:
    """DeLong's test of AUC(A) − AUC(B) on the same rows: normal CI and two-sided p-value."""
    y, a, b = _check(y, a, b)
    auc_a, v10_a, v01_a = delong_components(y, a)
    auc_b, v10_b, v01_b = delong_components(y, b)
    m, n = v10_a.size, v01_a.size
    s10 = np.cov(np.vstack([v10_a, v10_b])) if m > 1 else np.zeros((2, 2))
    s01 = np.cov(np.vstack([v01_a, v01_b])) if n > 1 else np.zeros((2, 2))
    variance = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    difference = auc_a - auc_b
    se = math.sqrt(max(variance, 0.0))
    z_crit = _normal_quantile(0.5 + confidence / 2)
    tie = 1.0 if difference == 0 else 0.0
    p_value = tie if se == 0 else min(1.0, 2 * _normal_cdf(-abs(difference) / se))
    return AUCTest("delong", difference, difference - z_crit * se, difference + z_crit * se, p_value, se)


def bootstrap_test(y: np.ndarray, a: np.ndarray, b: np.ndarray, n_bootstrap: int = 2000, seed: int = 0,
                   confidence: float = 0.95) -> AUCTest:
    """Paired stratified bootstrap of AUC(A) − AUC(B): percentile CI; p-value = twice the smaller tail share of
    the bootstrap differences on either side of 0 (with the +1 correction), capped at 1."""
    y, a, b = _check(y, a, b)
    if n_bootstrap < 100:
        raise InputError(f"n_bootstrap must be at least 100, got {n_bootstrap}")
    rng = np.random.default_rng(seed)
    positives, negatives = np.flatnonzero(y), np.flatnonzero(~y)
    labels = np.r_[np.ones(positives.size, bool), np.zeros(negatives.size, bool)]
    differences = np.empty(n_bootstrap)
    for i in range(n_bootstrap):
        rows = np.r_[rng.choice(positives, positives.size), rng.choice(negatives, negatives.size)]
        differences[i] = roc_auc(labels, a[rows]) - roc_auc(labels, b[rows])
    difference = roc_auc(y, a) - roc_auc(y, b)
    tail = (1 - confidence) / 2
    low, high = np.quantile(differences, [tail, 1 - tail])
    below = (np.sum(differences <= 0) + 1) / (n_bootstrap + 1)
    above = (np.sum(differences >= 0) + 1) / (n_bootstrap + 1)
    return AUCTest("bootstrap", difference, float(low), float(high), float(min(1.0, 2 * min(below, above))),
                   float(np.std(differences, ddof=1)))


def flag_agreement(flags_a: np.ndarray, flags_b: np.ndarray) -> Agreement:
    """Cohen's kappa, Jaccard index and raw agreement of two 0/1 flag vectors."""
    a, b = np.asarray(flags_a).astype(bool), np.asarray(flags_b).astype(bool)
    n = a.size
    observed = float(np.mean(a == b))
    expected = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
    kappa = 1.0 if expected == 1.0 else (observed - expected) / (1 - expected)
    union = int(np.sum(a | b))
    both = int(np.sum(a & b))
    return Agreement(int(a.sum()), int(b.sum()), both, float(kappa), 1.0 if union == 0 else both / union,
                     observed if n else 1.0)


def compare_models(model_a: Any, model_b: Any, X: Any, y: Any, *, method: str = "both", n_bootstrap: int = 2000,
            seed: int = 0, confidence: float = 0.95) -> Comparison:
    """Compare two fitted detectors on ``X`` with 0/1 labels ``y`` (``method``: delong, bootstrap or both)."""
    if method not in ("delong", "bootstrap", "both"):
        raise InputError(f"method must be delong, bootstrap or both, got {method!r}")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence}")
    if y is None:
        raise InputError("comparing models needs labels")
    scores_a, scores_b = model_a.decision_function(X), model_b.decision_function(X)
    labels, scores_a, scores_b = _check(y, scores_a, scores_b)
    tests = []
    if method in ("delong", "both"):
        tests.append(delong_test(labels, scores_a, scores_b, confidence))
    if method in ("bootstrap", "both"):
        tests.append(bootstrap_test(labels, scores_a, scores_b, n_bootstrap, seed, confidence))
    agreement = flag_agreement(scores_a > model_a.threshold_, scores_b > model_b.threshold_)
    return Comparison(roc_auc(labels, scores_a), roc_auc(labels, scores_b), tests, agreement, int(labels.size),
                      int(labels.sum()), confidence)


compare = compare_models
