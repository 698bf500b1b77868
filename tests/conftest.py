"""Shared fixtures: paths to the data the repo ships and to ../shared datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "data"
SHARED_ADBENCH = REPO.parent / "shared" / "datasets" / "adbench"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def cardio() -> tuple[np.ndarray, np.ndarray]:
    with np.load(EXAMPLES / "cardio.npz") as data:
        return data["X"].astype(np.float64), data["y"]


def adbench(name: str) -> tuple[np.ndarray, np.ndarray]:
    path = SHARED_ADBENCH / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    with np.load(path) as data:
        return data["X"].astype(np.float64), data["y"]


@pytest.fixture
def cli(pynomaly_cli):
    """``code, out, err = cli("detect", path, ...)``: the CLI in-process (pynomaly's pytest plugin)."""
    return pynomaly_cli
