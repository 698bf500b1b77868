"""Entry point of the ``spark`` plugin: the engine of ``pynomaly score --engine spark``, named as a string (PySpark
is imported only when it runs)."""

from __future__ import annotations

#: ``pynomaly score --engine spark`` (see :mod:`pynomaly_core.engines`).
SCORE_ENGINE = "pynomaly_spark.engine:score"
