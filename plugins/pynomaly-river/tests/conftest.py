"""Fixtures of the river plugin's tests: small streams and the shared ADBench sets (skipped when absent)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

#: ../shared/datasets/adbench next to the repository (not part of it).
ADBENCH = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "adbench"


@pytest.fixture
def stream() -> np.ndarray:
    """400 rows in [0, 1] (river's HalfSpaceTrees expects that range) with a few obvious outliers."""
    rng = np.random.default_rng(3)
    X = rng.beta(2.0, 5.0, size=(400, 3))
    X[::41] = rng.random((len(X[::41]), 3)) * [1.0, 1.0, 0.1] + [0.0, 0.9, 0.9]
    return X


@pytest.fixture
def adbench() -> Callable[[str], tuple[np.ndarray, np.ndarray]]:
    """Load an ADBench set by file name as (X, y), or skip the test when the shared data is not there."""

    def load(name: str) -> tuple[np.ndarray, np.ndarray]:
        path = ADBENCH / name
        if not path.is_file():
            pytest.skip(f"{path} not available")
        with np.load(path, allow_pickle=False) as data:
            return data["X"].astype(np.float64), data["y"]

    return load
