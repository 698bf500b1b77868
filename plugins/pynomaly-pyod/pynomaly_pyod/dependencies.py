"""Optional packages a PyOD model needs (torch, torch_geometric, xgboost, ...): checked before PyOD is imported."""

from __future__ import annotations

import importlib.util

from pynomaly_core.errors import PynomalyError
from pynomaly_pyod.catalog import Model


def missing_packages(model: Model) -> list[str]:
    """The packages of ``model.requires`` that cannot be imported here (found without importing them)."""
    return [package for package in model.requires if importlib.util.find_spec(package) is None]


def ensure_available(model: Model) -> None:
    """Raise a one-line :class:`PynomalyError` naming every missing package."""
    missing = missing_packages(model)
    if missing:
        names = ", ".join(missing)
        raise PynomalyError(
            f"{model.qualified_name} needs the package{'s' if len(missing) > 1 else ''} {names}, "
            f"which {'are' if len(missing) > 1 else 'is'} not installed (pip install {' '.join(missing)})"
        )
