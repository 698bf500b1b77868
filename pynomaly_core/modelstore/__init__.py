"""The model store: fitted detectors stored under a name with versions (``pynomaly models``).

>>> from pynomaly_core.modelstore import ModelStore, fingerprint   # doctest: +SKIP
>>> store = ModelStore.from_env()                                   # doctest: +SKIP
>>> mv = store.register("sensors", model, data_fingerprint=fingerprint(X))  # doctest: +SKIP
>>> store.load("sensors").decision_function(X_new)                  # doctest: +SKIP

Importing this package is light: SQLAlchemy (the ``store`` extra) is imported only when a store is used.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "ModelStore": "pynomaly_core.modelstore.store",
    "load_version": "pynomaly_core.modelstore.store",
    "ModelVersion": "pynomaly_core.modelstore.version",
    "fingerprint": "pynomaly_core.modelstore.fingerprints",
    "check_schema": "pynomaly_core.modelstore.fingerprints",
    "schema_differences": "pynomaly_core.modelstore.fingerprints",
    "ModelNotFoundError": "pynomaly_core.modelstore.errors",
    "ModelStoreError": "pynomaly_core.modelstore.errors",
    "parse_ref": "pynomaly_core.modelstore.paths",
    "default_home": "pynomaly_core.modelstore.paths",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pynomaly_core.modelstore' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
