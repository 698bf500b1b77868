"""Fixtures of the PyOD plugin's tests: ADBench sets with the protocol split and single-threaded torch."""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "data"
#: ../shared/datasets/adbench next to the repository (not part of it).
ADBENCH = REPO.parent / "shared" / "datasets" / "adbench"


@pytest.fixture
def adbench() -> Callable[[str], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Load an ADBench set as (X_train, X_test, y_train, y_test) with the protocol split; skip when absent."""
    from pynomaly_core.evaluation import stratified_split

    def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        path = ADBENCH / name
        if not path.is_file():
            pytest.skip(f"{path} not available")
        with np.load(path, allow_pickle=False) as data:
            X, y = data["X"].astype(np.float64), data["y"]
        train, test = stratified_split(y)
        return X[train], X[test], y[train], y[test]

    return load


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """Run BLAS and torch on one thread: on two shared cores, contended threads make a 300x300 eigh or a tiny
    network 10-50x slower. Restored after each module."""
    with contextlib.ExitStack() as stack:
        if importlib.util.find_spec("threadpoolctl") is not None:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(1))
        if importlib.util.find_spec("torch") is not None:
            import torch

            previous = torch.get_num_threads()
            torch.set_num_threads(1)
            stack.callback(torch.set_num_threads, previous)
        yield
