"""Mahalanobis distance to the training mean, with shrinkage and exact incremental updates."""

from __future__ import annotations

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import InputError
from pynomaly_core.preprocessing import power_of_two_unit


class Mahalanobis(BaseDetector):
    """Squared Mahalanobis distance under a shrunk covariance ``(1 − s)·Σ + s·(tr Σ / d)·I``.

    ``partial_fit`` merges batches exactly (Chan et al.'s pairwise update of mean and co-moments), so fitting
    in batches gives the same model as fitting once. Moments are kept in units of a power of two fixed by the first
    batch (``unit_``, an exact rescaling), so data near the float maximum does not overflow.
    """

    qualified_name = "builtin.mahalanobis"

    def __init__(self, shrinkage: float = 0.01, contamination: float = 0.1):
        self.shrinkage = shrinkage
        self.contamination = contamination

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        for attr in ("n_seen_", "mean_", "comoment_", "unit_"):
            self.__dict__.pop(attr, None)
        self._partial_fit(X)

    def _partial_fit(self, X: np.ndarray) -> None:
        if not 0 <= self.shrinkage <= 1:
            raise InputError(f"builtin.mahalanobis: shrinkage must be in [0, 1], got {self.shrinkage!r}")
        if not hasattr(self, "unit_"):
            self.unit_ = float(power_of_two_unit(X))
        X = X / self.unit_
        n_batch = X.shape[0]
        mean_batch = X.mean(axis=0)
        centred = X - mean_batch
        comoment_batch = centred.T @ centred
        if not hasattr(self, "n_seen_"):
            self.n_seen_, self.mean_, self.comoment_ = n_batch, mean_batch, comoment_batch
        else:
            n_old = self.n_seen_
            total = n_old + n_batch
            delta = mean_batch - self.mean_
            self.mean_ = self.mean_ + delta * (n_batch / total)
            self.comoment_ = self.comoment_ + comoment_batch + np.outer(delta, delta) * (n_old * n_batch / total)
            self.n_seen_ = total
        self._update_precision()

    # -- training on partitions (pynomaly_core.merging): moments in a power-of-two unit, merged pairwise --------
    merge_passes = 1

    def partial_state(self, X: np.ndarray, pass_index: int, previous: dict | None) -> dict:
        unit = float(power_of_two_unit(X))
        X = X / unit
        mean = X.mean(axis=0)
        centred = X - mean
        return {"n": X.shape[0], "unit": unit, "mean": mean, "comoment": centred.T @ centred}

    def merge_states(self, states: list[dict], pass_index: int) -> dict:
        """Rescale every state to the largest unit (exact: powers of two), then Chan's update, in order."""
        unit = max(s["unit"] for s in states)
        merged: dict = {}
        for state in states:
            ratio = state["unit"] / unit
            n, mean, comoment = state["n"], state["mean"] * ratio, state["comoment"] * (ratio * ratio)
            if not merged:
                merged = {"n": n, "mean": mean, "comoment": comoment}
                continue
            total = merged["n"] + n
            delta = mean - merged["mean"]
            merged = {"n": total, "mean": merged["mean"] + delta * (n / total),
                      "comoment": merged["comoment"] + comoment + np.outer(delta, delta) * (merged["n"] * n / total)}
        return {**merged, "unit": unit, "n_features": states[0]["n_features"]}

    def from_merged(self, merged: dict) -> None:
        if not 0 <= self.shrinkage <= 1:
            raise InputError(f"builtin.mahalanobis: shrinkage must be in [0, 1], got {self.shrinkage!r}")
        self.n_seen_, self.mean_, self.comoment_ = int(merged["n"]), merged["mean"], merged["comoment"]
        self.unit_ = float(merged["unit"])
        self._update_precision()

    def _update_precision(self) -> None:
        """Precision of the shrunk covariance in units of its mean variance ``t`` (scores use ``(x − μ) / √t``).

        Working in those units keeps the inverse finite whatever the data's scale: inverting a covariance of
        variance 1e-300 directly overflows to inf and turns every score into NaN.
        """
        d = self.mean_.size
        covariance = self.comoment_ / max(self.n_seen_ - 1, 1)
        target = float(np.trace(covariance) / d)
        if not target > 0:
            target = 1.0
        shrunk = (1 - self.shrinkage) * (covariance / target) + self.shrinkage * np.eye(d)
        shrunk[np.diag_indices(d)] += np.finfo(np.float64).eps
        self.precision_ = np.linalg.pinv(shrunk, hermitian=True)
        self.scale_ = np.sqrt(target)

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"n_seen": np.asarray(self.n_seen_), "mean": self.mean_, "comoment": self.comoment_,
                "precision": self.precision_, "scale": np.asarray(self.scale_), "unit": np.asarray(self.unit_)}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.n_seen_ = int(state["n_seen"])
        self.mean_, self.comoment_, self.precision_ = state["mean"], state["comoment"], state["precision"]
        self.scale_ = float(state["scale"]) if "scale" in state else 1.0  # models saved before the scaled precision
        self.unit_ = float(state["unit"]) if "unit" in state else 1.0  # models saved before the power-of-two unit

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Each feature's part of the squared distance, ``c_j (P c)_j`` for the centred, scaled row ``c``
        (rows × features; rows sum to the score, before it is clipped at 0)."""
        self._check_fitted()
        centred = (self._validate_for_scoring(X) / self.unit_ - self.mean_) / self.scale_
        return centred * (centred @ self.precision_)

    def _score(self, X: np.ndarray) -> np.ndarray:
        centred = (X / self.unit_ - self.mean_) / self.scale_
        return np.maximum(np.einsum("ij,ij->i", centred @ self.precision_, centred), 0.0)
