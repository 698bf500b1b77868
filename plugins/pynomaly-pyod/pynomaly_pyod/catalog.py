"""Typed access to the generated table of PyOD models (``_table.py``). Imports neither PyOD nor NumPy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pynomaly_core.wrapping import TableModel, catalog
from pynomaly_pyod import _table
from pynomaly_pyod._table import EXCLUDED, PYOD_VERSION

__all__ = ["EXCLUDED", "MODELS", "PYOD_VERSION", "Model", "get"]


@dataclass(frozen=True)
class Model(TableModel):
    """One PyOD model as pynomaly registers it (``pyod.<name>``); ``params`` in PyOD's order, ``None`` for the
    ``required`` ones."""

    PLUGIN: ClassVar[str] = "pyod"

    #: ``module:Class`` of the PyOD estimator.
    pyod_class: str = ""
    #: ``tabular``, ``timeseries`` or ``graph``.
    kind: str = "tabular"
    #: Parameters without a default in PyOD.
    required: tuple[str, ...] = ()
    #: Parameters whose PyOD default is a tuple (a JSON list here; passed to PyOD as a tuple).
    tuple_params: tuple[str, ...] = ()
    #: Parameters holding PyOD detectors; pynomaly names are accepted there.
    detector_params: tuple[str, ...] = ()
    #: Importable packages the model needs beyond PyOD's own dependencies.
    requires: tuple[str, ...] = ()
    #: ``random_state`` (or PyOD's other spelling) when the model takes a seed.
    seed_param: str | None = None
    #: ``fit`` needs labels ``y``.
    supervised: bool = False
    #: The model scores only the data it was fitted on (``decision_function`` is unsupported, or refits on the
    #: rows it is given).
    transductive: bool = False
    #: PyOD's ``fit`` ends with its default threshold on the final training scores (the core's threshold).
    standard_threshold: bool = False
    #: A parameter (``batch_size``) that the number of training rows must reach: PyOD trains on full batches only.
    min_rows_param: str | None = None


MODELS, get = catalog(Model, _table.MODELS)
