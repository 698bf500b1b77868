"""Typed access to the generated table of PyGOD detectors (``_table.py``). Imports neither PyGOD nor NumPy."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pynomaly_pygod import _table
from pynomaly_pygod._table import MISSING, PYGOD_VERSION

__all__ = ["MISSING", "MODELS", "PYGOD_VERSION", "Model", "get"]


@dataclass(frozen=True)
class Model:
    """One PyGOD detector as pynomaly registers it (``pygod.<name>``)."""

    name: str
    #: ``module:Class`` of the PyGOD detector.
    pygod_class: str
    #: Class name of the adapter in :mod:`pynomaly_pygod.detectors` (PyGOD's class name).
    adapter: str
    summary: str
    #: Constructor parameters in PyGOD's order with JSON defaults, plus ``random_state`` (pynomaly's seed).
    params: MappingProxyType
    #: Parameters given by name: ``act`` (``torch.nn.functional``) and ``backbone`` (``torch_geometric.nn``).
    named_defaults: tuple[str, ...]
    #: ``"pynomaly"``: pynomaly runs PyGOD's DeepDetector training loop with its own sampler;
    #: ``"pygod"``: PyGOD's own ``fit`` (which builds no NeighborLoader on the full graph).
    loop: str
    #: A subclass of PyGOD's ``DeepDetector``.
    deep: bool
    #: Scores graphs other than the one it was fitted on (PyGOD's others retrain on the new graph).
    inductive: bool
    capabilities: tuple[str, ...]

    @property
    def qualified_name(self) -> str:
        return f"pygod.{self.name}"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Model:
        fields = {key: tuple(value) if isinstance(value, list) else value for key, value in row.items()}
        fields["params"] = MappingProxyType(dict(row["params"]))
        return cls(**fields)


MODELS: tuple[Model, ...] = tuple(Model.from_row(row) for row in _table.MODELS)
_BY_NAME = {model.name: model for model in MODELS}


def get(name: str) -> Model:
    """The model called ``name`` or ``pygod.name``; ``KeyError`` when there is none."""
    return _BY_NAME[name.removeprefix("pygod.")]
