"""Population stability index per column, with a p-value from its chi-squared approximation.

PSI = Σ (c_k − r_k) ln(c_k / r_k) over the reference-quantile bins (or categories) with reference and current
proportions r_k, c_k. It is the symmetric Kullback–Leibler divergence, whose second-order expansion is
X² · (n + m) / (n m) with X² the Pearson statistic of the same 2 × K table; under no drift X² is approximately
χ² with K − 1 degrees of freedom (also with reference-quantile bins: the cell masses then vary like a
multinomial sample of the reference's size). The p-value uses X² itself rather than PSI · n m / (n + m): the
PSI's higher-order terms make that one anti-conservative (false-positive rate 0.065 instead of 0.05 at
n = m = 200, 10 bins, over 2 000 null pairs; X² gave 0.052). Bins empty in one sample get proportion ``epsilon``
in the PSI.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.builtin.binned_drift import check_binning, contingency, prepare
from pynomaly_core.builtin.chi2_drift import chi2_homogeneity
from pynomaly_core.drift import DriftReport, check_alpha_correction, per_feature_report
from pynomaly_core.errors import InputError

#: Conventional reading of PSI: < 0.1 no significant change, 0.1–0.25 moderate, ≥ 0.25 major.
BANDS = ((0.1, "none"), (0.25, "moderate"), (float("inf"), "major"))


def psi_band(value: float) -> str:
    return next(label for limit, label in BANDS if value < limit)


def psi(ref_counts: np.ndarray, cur_counts: np.ndarray, epsilon: float = 1e-4) -> float:
    """PSI of two count vectors over the same cells."""
    keep = (ref_counts + cur_counts) > 0
    r = np.maximum(ref_counts[keep] / ref_counts.sum(), epsilon)
    c = np.maximum(cur_counts[keep] / cur_counts.sum(), epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


class PSIDrift:
    """Per-column PSI; drift where the corrected chi-squared p-value is below ``alpha``. The effect size is the
    PSI itself, labelled ``none`` / ``moderate`` / ``major`` by the conventional 0.1 / 0.25 bands."""

    name = "builtin.psi"

    def __init__(self, alpha: float = 0.05, correction: str = "holm", n_bins: int = 10, categorical: Any = "auto",
                 max_categories: int = 50, epsilon: float = 1e-4):
        check_alpha_correction(self.name, alpha, correction)
        check_binning(self.name, n_bins, max_categories, categorical)
        if not 0 < epsilon < 0.1:
            raise InputError(f"{self.name}: epsilon must be in (0, 0.1), got {epsilon!r}")
        self.alpha = alpha
        self.correction = correction
        self.n_bins = n_bins
        self.categorical = categorical
        self.max_categories = max_categories
        self.epsilon = epsilon

    def run(self, reference: Any, current: Any, feature_names: list[str] | None = None) -> DriftReport:
        pairs, names = prepare(reference, current, feature_names, self.categorical, self.max_categories, self.name)
        values, p_values = [], []
        for ref, cur, is_cat in pairs:
            ref_counts, cur_counts, _ = contingency(ref, cur, is_cat, self.n_bins, "reference")
            value = psi(ref_counts, cur_counts, self.epsilon)
            values.append(value)
            p_values.append(chi2_homogeneity(ref_counts, cur_counts)[1])
        return per_feature_report(self.name, self.alpha, self.correction, names, values, p_values,
                                  effect_sizes=values, effects=[psi_band(v) for v in values],
                                  details={"n_reference": int(pairs[0][0].size), "n_current": int(pairs[0][1].size),
                                           "bands": {"moderate": 0.1, "major": 0.25}})
