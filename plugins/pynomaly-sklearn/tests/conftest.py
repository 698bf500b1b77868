"""Fixtures of the sklearn plugin's tests: small data and the shared ADBench sets (skipped when absent)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

#: ../shared/datasets/adbench next to the repository (not part of it).
ADBENCH = Path(__file__).resolve().parents[3].parent / "shared" / "datasets" / "adbench"


@pytest.fixture
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """200 training rows from a standard normal and 40 test rows whose row 0 is an obvious outlier."""
    rng = np.random.default_rng(7)
    test = rng.normal(size=(40, 3))
    test[0] = 9.0
    return rng.normal(size=(200, 3)), test


@pytest.fixture
def adbench() -> Callable[[str], tuple[np.ndarray, np.ndarray]]:
    """Load an ADBench set by file name as (X, y), or skip the test when the shared data is not there."""

    def load(name: str) -> tuple[np.ndarray, np.ndarray]:
        path = ADBENCH / name
        if not path.is_file():
            pytest.skip(f"{path} not available")
        with np.load(path, allow_pickle=False) as data:
            return data["X"], data["y"]

    return load
