"""The adapter classes, one per PyOD model (``pynomaly_pyod.detectors:IForest``), created on first access.

Creating a class imports neither PyOD nor its optional dependencies; that happens in ``fit``.
"""

from __future__ import annotations

import threading

from pynomaly_pyod.adapter import PyODDetector, make_detector_class
from pynomaly_pyod.catalog import MODELS

_BY_ADAPTER = {model.adapter: model for model in MODELS}
_lock = threading.Lock()

__all__ = sorted(_BY_ADAPTER)


def __getattr__(name: str) -> type[PyODDetector]:
    model = _BY_ADAPTER.get(name)
    if model is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _lock:
        cls = globals().get(name)
        if cls is None:
            cls = globals()[name] = make_detector_class(model)
    return cls


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
