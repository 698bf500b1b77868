"""Feature scaling shared by the detectors that need it (the deep backends, the ensemble's ``scaling``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Standardizer:
    """Per-feature ``(x - mean) / scale`` fitted on training rows; a constant feature gets ``scale = 1``."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardizer:
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        scale[~(scale > np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mean)))] = 1.0
        return cls(mean, scale)

    def transform(self, X: np.ndarray, dtype: type = np.float32) -> np.ndarray:
        """Scaled copy of ``X`` in ``dtype`` (float32 by default: the deep backends train and score in it)."""
        return ((X - self.mean) / self.scale).astype(dtype, copy=False)


def power_of_two_unit(X: np.ndarray, axis: int | None = None) -> np.ndarray:
    """A power of two ``u`` with ``|X| / u < 2`` (per column with ``axis=0``; 1 where ``X`` is all zeros).

    Dividing by a power of two is exact, so statistics computed on ``X / u`` are those of ``X`` scaled exactly,
    but sums and squares no longer overflow for data near the float maximum (or underflow near its minimum).
    """
    largest = np.max(np.abs(X), axis=axis)
    _, exponent = np.frexp(largest)
    unit = np.ldexp(1.0, exponent - 1)
    return np.where(largest > 0, unit, 1.0)
