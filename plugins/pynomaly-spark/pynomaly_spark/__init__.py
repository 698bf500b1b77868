"""pynomaly on Spark: :func:`score_frame` (mapInPandas with a broadcast model), :func:`score_groups` /
:func:`fit_groups` (one model per group, applyInPandas), :func:`fit` (mergeable detectors trained partition by
partition) and ``pynomaly score --engine spark``. PySpark is imported on first use, not by the entry point."""

from __future__ import annotations

from typing import Any

__all__ = ["fit", "fit_groups", "score_frame", "score_groups"]


def __getattr__(name: str) -> Any:
    if name in ("score_frame", "score_groups", "fit_groups"):
        from pynomaly_spark import scoring

        return getattr(scoring, name)
    if name == "fit":
        from pynomaly_spark.training import fit

        return fit
    raise AttributeError(name)
