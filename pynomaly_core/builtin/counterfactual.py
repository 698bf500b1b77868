"""Counterfactual explanations: the smallest change of features that makes an anomalous row normal."""

from __future__ import annotations

from typing import Any

import numpy as np

from pynomaly_core.errors import InputError
from pynomaly_core.explain import Explanation, feature_names_for
from pynomaly_core.validation import check_array


class CounterfactualExplainer:
    """Greedy search, then shrinking.

    1. While the row scores above the threshold (``threshold``, default the detector's ``threshold_``), move the
       one unchanged feature to the background median whose move lowers the score most (at most
       ``max_features`` features, default all).
    2. Shrink each moved feature (last first) back toward its original value as far as the row stays normal,
       bisecting the move's fraction to ``tolerance``.

    Attribution of feature ``j`` = the score drop from moving ``x_j`` alone to the background median (the
    first greedy step's candidates, computed for every row, normal ones included), so the feature whose
    change helps most comes first. ``row_details`` give the counterfactual: whether the row became normal, its
    new score and, per changed feature, the original value, the new value and the delta.
    """

    name = "builtin.counterfactual"

    def __init__(self, detector: Any, threshold: float | None = None, max_features: int | None = None,
                 tolerance: float = 1e-3):
        if max_features is not None and (not isinstance(max_features, int) or max_features < 1):
            raise InputError(f"{self.name}: max_features must be a positive integer, got {max_features!r}")
        if not 0 < tolerance < 0.5:
            raise InputError(f"{self.name}: tolerance must be in (0, 0.5), got {tolerance!r}")
        self.detector = detector
        self.threshold = threshold
        self.max_features = max_features
        self.tolerance = tolerance

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return self.detector.decision_function(rows)

    def explain(self, X: Any, background: Any = None) -> Explanation:
        X = check_array(X, n_features=self.detector.n_features_in_)
        reference = X if background is None else check_array(background, n_features=X.shape[1], what="background")
        threshold = float(self.detector.threshold_ if self.threshold is None else self.threshold)
        target = np.median(reference, axis=0)
        n, d = X.shape
        limit = d if self.max_features is None else min(self.max_features, d)
        original = self._score(X)
        current, score = X.copy(), original.copy()
        singles = np.repeat(X[:, None, :], d, axis=1)
        singles[:, np.arange(d), np.arange(d)] = target
        attributions = original[:, None] - self._score(singles.reshape(-1, d)).reshape(n, d)
        moved: list[list[int]] = [[] for _ in range(n)]
        stuck = np.zeros(n, dtype=bool)  # no single move lowers the score any more
        for _ in range(limit):
            active = np.flatnonzero((score > threshold) & ~stuck)
            if active.size == 0:
                break
            candidates = np.repeat(current[active][:, None, :], d, axis=1)  # (rows, feature moved, d)
            candidates[:, np.arange(d), np.arange(d)] = target
            trial = self._score(candidates.reshape(-1, d)).reshape(active.size, d)
            for k, i in enumerate(active):
                trial[k, moved[i]] = np.inf
            for k, i in enumerate(active):
                j = int(np.argmin(trial[k]))
                if not trial[k, j] < score[i]:
                    stuck[i] = True
                    continue
                current[i, j] = target[j]
                score[i] = trial[k, j]
                moved[i].append(j)
        for i in range(n):
            if score[i] <= threshold:
                for j in reversed(moved[i]):
                    current[i, j], score[i] = self._shrink(current[i], X[i, j], target[j], j, threshold)
        names = feature_names_for(self.detector, d)
        details = [self._row_detail(X[i], current[i], moved[i], float(score[i]), threshold, names) for i in range(n)]
        return Explanation(attributions, original, names, self.name,
                           row_details=details, details={"threshold": threshold, "target": "background median"})

    def _shrink(self, row: np.ndarray, start: float, end: float, j: int, threshold: float) -> tuple[float, float]:
        """The value nearest ``start`` on the segment to ``end`` (which is normal) that keeps ``row`` normal."""
        low, high = 0.0, 1.0  # fraction of the move: ``high`` is known to be normal
        best_score = float(self._score(row[None, :])[0])
        while high - low > self.tolerance:
            fractions = np.linspace(low, high, 17)[:-1]
            grid = np.repeat(row[None, :], fractions.size, axis=0)
            grid[:, j] = start + fractions * (end - start)
            scores = self._score(grid)
            normal = np.flatnonzero(scores <= threshold)
            if normal.size == 0:
                low = fractions[-1]
                continue
            first = int(normal[0])
            if first == 0:
                high, best_score = float(fractions[0]), float(scores[0])
                break
            low, high, best_score = float(fractions[first - 1]), float(fractions[first]), float(scores[first])
        return start + high * (end - start), best_score

    @staticmethod
    def _row_detail(x: np.ndarray, new: np.ndarray, moved: list[int], score: float, threshold: float,
                    names: list[str]) -> dict[str, Any]:
        changes = [{"feature": names[j], "from": float(x[j]), "to": float(new[j]), "delta": float(new[j] - x[j])}
                   for j in moved if new[j] != x[j]]
        return {"counterfactual": {"reached_normal": bool(score <= threshold), "score": score, "changes": changes}}
