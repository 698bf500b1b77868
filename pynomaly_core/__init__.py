"""pynomaly: one registry and one API for anomaly detection.

>>> import numpy as np, pynomaly_core as pn
>>> X = np.random.default_rng(0).normal(size=(500, 4)); X[7] += 8
>>> result = pn.detect(X, detector="ecod", contamination=0.01)
>>> int(result.top(1)[0])
7

Importing this package is cheap: the SDK and NumPy load on first use, so ``pynomaly plugins list`` stays fast.
"""

from __future__ import annotations

from typing import Any

from pynomaly_core.hookspecs import hookimpl

__version__ = "0.1.0"

_LAZY = {
    "detect": "pynomaly_core.sdk",
    "create_detector": "pynomaly_core.sdk",
    "list_detectors": "pynomaly_core.sdk",
    "load_data": "pynomaly_core.sdk",
    "iter_batches": "pynomaly_core.streaming",
    "load": "pynomaly_core.sdk",
    "register_model": "pynomaly_core.sdk",
    "train_model": "pynomaly_core.sdk",
    "list_models": "pynomaly_core.sdk",
    "get_model": "pynomaly_core.sdk",
    "delete_model": "pynomaly_core.sdk",
    "transition_model": "pynomaly_core.sdk",
    "model_history": "pynomaly_core.sdk",
    "ModelStore": "pynomaly_core.modelstore.store",
    "ModelVersion": "pynomaly_core.modelstore.version",
    "get_registry": "pynomaly_core.registry",
    "run_drift_test": "pynomaly_core.drift",
    "explain_anomalies": "pynomaly_core.explain",
    "DriftReport": "pynomaly_core.drift",
    "Explanation": "pynomaly_core.explain",
    "benchmark": "pynomaly_core.benchmarking",
    "automl": "pynomaly_core.automl",
    "compare_models": "pynomaly_core.compare",
    "BaseDetector": "pynomaly_core.base",
    "Dataset": "pynomaly_core.data",
    "DetectionResult": "pynomaly_core.results",
    "DetectorSpec": "pynomaly_core.specs",
    "LoaderSpec": "pynomaly_core.specs",
    "ExplainerSpec": "pynomaly_core.specs",
    "DriftTestSpec": "pynomaly_core.specs",
}

__all__ = ["__version__", "hookimpl", *_LAZY]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pynomaly_core' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
