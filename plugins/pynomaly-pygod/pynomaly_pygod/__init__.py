"""pynomaly-pygod: PyGOD's graph node-outlier detectors behind the pynomaly detector contract.

Importing this package imports neither PyGOD nor torch; :class:`Graph` (NumPy only) loads on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Graph", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Graph":
        from pynomaly_pygod.graph import Graph

        return Graph
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
