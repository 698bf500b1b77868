"""PyOD adapter for pynomaly: every PyOD detector registered as ``pyod.<name>``.

The plugin registers from a static table (:mod:`pynomaly_pyod.catalog`) and imports PyOD only when a detector
is fitted. See ``plugins/pynomaly-pyod/README.md`` for naming, parameters, persistence and PyOD fixes.
"""

__version__ = "0.1.0"
