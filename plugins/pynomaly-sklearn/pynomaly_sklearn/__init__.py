"""scikit-learn detectors for pynomaly (``sklearn.iforest``, ``sklearn.lof``, ``sklearn.ocsvm``,
``sklearn.sgd_ocsvm``, ``sklearn.elliptic_envelope``) and :func:`as_sklearn`, which puts any pynomaly tabular
detector behind scikit-learn's outlier-detector API.

Importing this package imports no scikit-learn: the plugin entry point (``pynomaly_sklearn.plugin``) loads it
first, and registration must stay light. ``as_sklearn`` is imported on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PynomalyOutlierDetector", "as_sklearn"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from pynomaly_sklearn import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
