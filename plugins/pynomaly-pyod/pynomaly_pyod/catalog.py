"""Typed access to the generated table of PyOD models (``_table.py``). Imports neither PyOD nor NumPy."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pynomaly_pyod import _table
from pynomaly_pyod._table import EXCLUDED, PYOD_VERSION

__all__ = ["EXCLUDED", "MODELS", "PYOD_VERSION", "Model", "get"]


@dataclass(frozen=True)
class Model:
    """One PyOD model as pynomaly registers it (``pyod.<name>``)."""

    name: str
    #: ``module:Class`` of the PyOD estimator.
    pyod_class: str
    #: Class name of the adapter in :mod:`pynomaly_pyod.detectors`.
    adapter: str
    #: ``tabular``, ``timeseries`` or ``graph``.
    kind: str
    summary: str
    #: Constructor parameters in PyOD's order with JSON defaults (``None`` for ``required`` ones).
    params: MappingProxyType
    #: Parameters without a default in PyOD.
    required: tuple[str, ...]
    #: Parameters whose PyOD default is a tuple (a JSON list here; passed to PyOD as a tuple).
    tuple_params: tuple[str, ...]
    #: Parameters holding PyOD detectors; pynomaly names are accepted there.
    detector_params: tuple[str, ...]
    #: Importable packages the model needs beyond PyOD's own dependencies.
    requires: tuple[str, ...]
    capabilities: tuple[str, ...]
    #: ``random_state`` (or PyOD's other spelling) when the model takes a seed.
    seed_param: str | None
    #: ``fit`` needs labels ``y``.
    supervised: bool
    #: ``decision_function`` is unsupported: the model scores only the data it was fitted on.
    transductive: bool
    #: PyOD's ``fit`` ends with its default threshold on the final training scores (the core's threshold).
    standard_threshold: bool

    @property
    def qualified_name(self) -> str:
        return f"pyod.{self.name}"

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Model:
        fields = {key: tuple(value) if isinstance(value, list) else value for key, value in row.items()}
        fields["params"] = MappingProxyType(dict(row["params"]))
        return cls(**fields)


MODELS: tuple[Model, ...] = tuple(Model.from_row(row) for row in _table.MODELS)
_BY_NAME = {model.name: model for model in MODELS}


def get(name: str) -> Model:
    """The model called ``name`` or ``pyod.name``; ``KeyError`` when there is none."""
    return _BY_NAME[name.removeprefix("pyod.")]
