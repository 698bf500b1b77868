"""river's online anomaly detectors for pynomaly (``river.half_space_trees``, ``river.one_class_svm``,
``river.local_outlier_factor``, ``river.loda``, ``river.gaussian_scorer``, ``river.standard_absolute_deviation``)
and :func:`filter_labels`, which labels a stream with river's ``ThresholdFilter`` or ``QuantileFilter``.

Importing this package imports no river: the plugin entry point (``pynomaly_river.plugin``) loads it first, and
registration must stay light. The detectors and the filters import river when first used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["as_river", "filter_labels"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pynomaly_river import filters

        return getattr(filters, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
