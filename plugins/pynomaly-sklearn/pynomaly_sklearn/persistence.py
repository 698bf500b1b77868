"""How the adapters save their fitted estimator.

* :class:`ArrayState`: the estimator's fitted arrays go into the core's ``state.npz`` and are set back on a
  fresh estimator, which then scores bit for bit like the saved one (EllipticEnvelope, SGDOneClassSVM).
* :class:`PickledState`: models whose state lives in Cython/libsvm structures (IsolationForest's trees,
  OneClassSVM's support vectors behind private attributes) are written with joblib; the core refuses that
  format without ``trust=True`` and checks its sha256 first, and :func:`load_pickled` unpickles nothing
  without that flag either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from pynomaly_core.errors import IntegrityError, UntrustedArtefactError

ESTIMATOR_FILE = "estimator.joblib"


def attributes_state(estimator: Any, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named fitted attributes of ``estimator`` as arrays (attributes that are absent or None are left out)."""
    return {name: np.asarray(getattr(estimator, name)) for name in names if getattr(estimator, name, None) is not None}


def restore_attributes(estimator: Any, state: dict[str, np.ndarray], names: tuple[str, ...]) -> Any:
    """Set the named attributes from ``state`` (0-d arrays become Python scalars, missing ones None)."""
    for name in names:
        value = state.get(name)
        if value is not None and value.ndim == 0:
            value = value.item()
        setattr(estimator, name, value)
    return estimator


def save_pickled(estimator: Any, directory: Path) -> dict[str, str]:
    import joblib

    joblib.dump(estimator, directory / ESTIMATOR_FILE)
    return {ESTIMATOR_FILE: "joblib"}


def load_pickled(directory: Path, artefacts: dict[str, str], trust: bool, expected: type, name: str) -> Any:
    """Unpickle the estimator, only with ``trust=True``, and check its class."""
    if artefacts.get(ESTIMATOR_FILE) != "joblib":
        raise IntegrityError(f"{directory}: {name} models need the artefact {ESTIMATOR_FILE} in format 'joblib'")
    if not trust:
        raise UntrustedArtefactError(
            f"{directory / ESTIMATOR_FILE} is a joblib pickle, which can run code when loaded; "
            "pass trust=True (CLI: --trust) only if you trust its origin"
        )
    import joblib

    estimator = joblib.load(directory / ESTIMATOR_FILE)
    if type(estimator) is not expected:
        raise IntegrityError(f"{directory / ESTIMATOR_FILE} holds a {type(estimator).__name__}, "
                             f"expected {expected.__name__}")
    return estimator


class ArrayState:
    """Mixin for :class:`~pynomaly_sklearn.adapter.SklearnAdapter`: save ``state_attributes`` in npz."""

    state_attributes: ClassVar[tuple[str, ...]] = ()

    def _get_state(self) -> dict[str, np.ndarray]:
        return attributes_state(self.estimator_, self.state_attributes)

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        estimator = self.estimator_class(**self.estimator_params())
        self.estimator_ = restore_attributes(estimator, state, self.state_attributes)


class PickledState:
    """Mixin for :class:`~pynomaly_sklearn.adapter.SklearnAdapter`: save the estimator with joblib."""

    def _get_state(self) -> dict[str, np.ndarray]:
        return {}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        return None

    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        return {**super()._save_artefacts(directory), **save_pickled(self.estimator_, directory)}

    def _load_artefacts(self, directory: Path, artefacts: dict[str, str], trust: bool) -> None:
        estimator = load_pickled(directory, artefacts, trust, self.estimator_class, self._name())
        expected = self.estimator_params()
        found = {key: value for key, value in estimator.get_params().items() if key in expected}
        if found != expected:
            raise IntegrityError(f"{directory / ESTIMATOR_FILE}: estimator parameters {found} differ from the "
                                 f"manifest's {expected}")
        self.estimator_ = estimator
        super()._load_artefacts(directory, artefacts, trust)
