"""The result of a detection run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class DetectionResult:
    """Scores (higher = more anomalous), 0/1 labels and everything needed to interpret them."""

    scores: np.ndarray
    labels: np.ndarray
    threshold: float
    detector: str
    params: dict[str, Any]
    timings: dict[str, float]
    feature_names: list[str] | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    model: Any = None

    @property
    def n_anomalies(self) -> int:
        return int(self.labels.sum())

    def top(self, n: int = 10) -> np.ndarray:
        """Row indices of the ``n`` highest scores, most anomalous first (stable for ties)."""
        return np.argsort(-self.scores, kind="mergesort")[:n]

    def summary(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "params": self.params,
            "rows": int(self.scores.size),
            "anomalies": self.n_anomalies,
            "threshold": self.threshold,
            "timings": self.timings,
            "metrics": self.metrics,
        }

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per input row: ``score`` and ``label`` (requires pandas)."""
        import pandas as pd

        return pd.DataFrame({"score": self.scores, "label": self.labels})

    def __repr__(self) -> str:
        return (f"DetectionResult(detector={self.detector!r}, rows={self.scores.size}, "
                f"anomalies={self.n_anomalies}, threshold={self.threshold:.6g})")
