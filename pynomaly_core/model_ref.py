"""Resolve what a user names as a model (a saved model directory today) to a fitted detector.

Every command and service that takes a MODEL argument goes through :func:`load_model`, so new ways of naming a
model (e.g. a registry reference ``NAME[@VERSION]``) are added here once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_model(ref: str | Path, *, trust: bool = False) -> Any:
    """Load the fitted detector ``ref`` names: a directory written by ``save`` / ``pynomaly train``."""
    from pynomaly_core.persistence import load

    return load(Path(ref), trust=trust)
