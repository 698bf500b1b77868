"""Typed access to the generated table of PyGOD detectors (``_table.py``). Imports neither PyGOD nor NumPy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pynomaly_core.wrapping import TableModel, catalog
from pynomaly_pygod import _table
from pynomaly_pygod._table import MISSING, PYGOD_VERSION

__all__ = ["MISSING", "MODELS", "PYGOD_VERSION", "Model", "get"]


@dataclass(frozen=True)
class Model(TableModel):
    """One PyGOD detector as pynomaly registers it (``pygod.<name>``); ``params`` in PyGOD's order, plus
    ``random_state`` (pynomaly's seed); ``adapter`` is PyGOD's class name."""

    PLUGIN: ClassVar[str] = "pygod"

    #: ``module:Class`` of the PyGOD detector.
    pygod_class: str = ""
    #: Parameters given by name: ``act`` (``torch.nn.functional``) and ``backbone`` (``torch_geometric.nn``).
    named_defaults: tuple[str, ...] = ()
    #: ``"pynomaly"``: pynomaly runs PyGOD's DeepDetector training loop with its own sampler;
    #: ``"pygod"``: PyGOD's own ``fit`` (which builds no NeighborLoader on the full graph).
    loop: str = "pygod"
    #: A subclass of PyGOD's ``DeepDetector``.
    deep: bool = False
    #: Scores graphs other than the one it was fitted on (PyGOD's others retrain on the new graph).
    inductive: bool = False


MODELS, get = catalog(Model, _table.MODELS)
