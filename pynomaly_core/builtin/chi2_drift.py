"""Pearson chi-squared test of homogeneity per column: categorical codes or strings as they are, numeric
columns cut into ``n_bins`` bins at the pooled sample's quantiles (see :mod:`binned_drift`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pynomaly_core.builtin.binned_drift import check_binning, contingency, prepare
from pynomaly_core.builtin.special import chi2_sf
from pynomaly_core.drift import DriftReport, check_alpha_correction, per_feature_report


def chi2_homogeneity(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float, int]:
    """(X², p-value, degrees of freedom) of the 2 × K table, cells empty in both rows dropped (no Yates)."""
    table = np.vstack([ref_counts, cur_counts]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    dof = table.shape[1] - 1
    if dof < 1:
        return 0.0, 1.0, 0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    return statistic, chi2_sf(statistic, dof), dof


class ChiSquaredDrift:
    """Per-column chi-squared test with a multiple-testing correction; effect size Cramér's V = √(X² / N).

    ``categorical``: ``"auto"`` (strings and integer codes with ≤ ``max_categories`` values), a list of column
    names / indices, or a comma-separated string of them; other columns are binned.
    """

    name = "builtin.chi2"

    def __init__(self, alpha: float = 0.05, correction: str = "holm", categorical: Any = "auto", n_bins: int = 10,
                 max_categories: int = 50):
        check_alpha_correction(self.name, alpha, correction)
        check_binning(self.name, n_bins, max_categories, categorical)
        self.alpha = alpha
        self.correction = correction
        self.categorical = categorical
        self.n_bins = n_bins
        self.max_categories = max_categories

    def run(self, reference: Any, current: Any, feature_names: list[str] | None = None) -> DriftReport:
        pairs, names = prepare(reference, current, feature_names, self.categorical, self.max_categories, self.name)
        stats, p_values, effects, dofs, kinds = [], [], [], [], []
        for ref, cur, is_cat in pairs:
            ref_counts, cur_counts, _ = contingency(ref, cur, is_cat, self.n_bins, "pooled")
            statistic, p_value, dof = chi2_homogeneity(ref_counts, cur_counts)
            stats.append(statistic)
            p_values.append(p_value)
            effects.append(math.sqrt(statistic / (ref.size + cur.size)))
            dofs.append(dof)
            kinds.append("categorical" if is_cat else "binned")
        return per_feature_report(self.name, self.alpha, self.correction, names, stats, p_values,
                                  effect_sizes=effects,
                                  details={"n_reference": int(pairs[0][0].size), "n_current": int(pairs[0][1].size),
                                           "dof": dict(zip(names, dofs, strict=True)),
                                           "columns": dict(zip(names, kinds, strict=True))})
