"""Explanations: per-row feature attributions shared by every explainer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Explanation:
    """``attributions[i, j]``: how much feature ``j`` raises row ``i``'s anomaly score (higher = more to blame)."""

    attributions: np.ndarray
    scores: np.ndarray
    feature_names: list[str]
    explainer: str

    def top_features(self, row: int, k: int = 3) -> list[tuple[str, float]]:
        order = np.argsort(-self.attributions[row], kind="mergesort")[:k]
        return [(self.feature_names[j], float(self.attributions[row, j])) for j in order]

    def to_dict(self, k: int = 3) -> dict[str, Any]:
        return {
            "explainer": self.explainer,
            "rows": [
                {"row": i, "score": float(self.scores[i]),
                 "top_features": [{"feature": f, "attribution": a} for f, a in self.top_features(i, k)]}
                for i in range(self.attributions.shape[0])
            ],
        }
