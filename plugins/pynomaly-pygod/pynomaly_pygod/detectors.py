"""The adapter classes, one per PyGOD detector (``pynomaly_pygod.detectors:DOMINANT``), created on first access.

Creating a class imports neither PyGOD nor torch; that happens in ``fit``.
"""

from __future__ import annotations

from functools import partial

from pynomaly_core.wrapping import lazy_classes
from pynomaly_pygod.adapter import make_detector_class
from pynomaly_pygod.catalog import MODELS

_FACTORIES = {model.adapter: partial(make_detector_class, model) for model in MODELS}

__all__ = sorted(_FACTORIES)
__getattr__, __dir__ = lazy_classes(globals(), _FACTORIES)
