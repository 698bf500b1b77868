"""The result of a detection or scoring run, and the summary every front end prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def top_rows(scores: np.ndarray, labels: np.ndarray, n: int, offset: int = 0) -> list[dict[str, Any]]:
    """The ``n`` highest scores as ``{"row", "score", "label"}``, most anomalous first (ties: the earlier row)."""
    order = np.argsort(-scores, kind="mergesort")[:max(n, 0)]
    return [{"row": int(i) + offset, "score": float(scores[i]), "label": int(labels[i])} for i in order]


def run_summary(*, detector: str, params: dict[str, Any], rows: int, anomalies: int, threshold: float,
                timings: dict[str, float], metrics: dict[str, float],
                top: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The summary of a run (fields documented in ``docs/cli-json.md``); ``top`` only when asked for."""
    summary = {"detector": detector, "params": params, "rows": int(rows), "anomalies": int(anomalies),
               "threshold": float(threshold), "timings": timings, "metrics": metrics}
    if top is not None:
        summary["top"] = top
    return summary


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

    def summary(self, top: int | None = None) -> dict[str, Any]:
        """Detector, parameters, counts, threshold, timings, metrics (and the ``top`` rows when given a count)."""
        return run_summary(detector=self.detector, params=self.params, rows=self.scores.size,
                           anomalies=self.n_anomalies, threshold=self.threshold, timings=self.timings,
                           metrics=self.metrics,
                           top=None if top is None else top_rows(self.scores, self.labels, top))

    def to_frame(self) -> Any:
        """A pandas DataFrame with one row per input row: ``score`` and ``label`` (requires pandas)."""
        import pandas as pd

        return pd.DataFrame({"score": self.scores, "label": self.labels})

    def __repr__(self) -> str:
        return (f"DetectionResult(detector={self.detector!r}, rows={self.scores.size}, "
                f"anomalies={self.n_anomalies}, threshold={self.threshold:.6g})")
