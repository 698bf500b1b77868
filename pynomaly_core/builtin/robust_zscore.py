"""Robust (modified) z-score: distance from the median in units of the scaled median absolute deviation."""

from __future__ import annotations

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import InputError

#: MAD x 1.4826 estimates the standard deviation of a normal distribution (Iglewicz & Hoaglin, 1993).
MAD_TO_SD = 1.482602218505602
#: Mean absolute deviation x 1.2533 estimates it too; used where the MAD is 0.
MEANAD_TO_SD = 1.2533141373155001


class RobustZScore(BaseDetector):
    """|x − median| / (1.4826 · MAD) per feature, aggregated over features by ``max``, ``mean`` or ``sum``.

    A feature whose MAD is zero falls back to the mean absolute deviation; a constant feature gets a tiny
    scale, so any departure from its single value scores very high but finite.
    """

    qualified_name = "builtin.robust_zscore"

    def __init__(self, aggregate: str = "max", contamination: float = 0.1):
        self.aggregate = aggregate
        self.contamination = contamination

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        if self.aggregate not in ("max", "mean", "sum"):
            raise InputError(f"builtin.robust_zscore: aggregate must be max, mean or sum, got {self.aggregate!r}")
        median = np.median(X, axis=0)
        deviation = np.abs(X - median)
        scale = np.median(deviation, axis=0) * MAD_TO_SD
        fallback = deviation.mean(axis=0) * MEANAD_TO_SD
        scale = np.where(scale > 0, scale, fallback)
        tiny = np.finfo(np.float64).eps * np.maximum(1.0, np.abs(median))
        self.median_, self.scale_ = median, np.maximum(scale, tiny)

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"median": self.median_, "scale": self.scale_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.median_, self.scale_ = state["median"], state["scale"]

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Each feature's robust z-score (rows × features)."""
        self._check_fitted()
        return np.abs(self._validate_for_scoring(X) - self.median_) / self.scale_

    def _score(self, X: np.ndarray) -> np.ndarray:
        z = np.abs(X - self.median_) / self.scale_
        return {"max": np.max, "mean": np.mean, "sum": np.sum}[self.aggregate](z, axis=1)
