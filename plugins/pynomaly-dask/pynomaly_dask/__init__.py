"""pynomaly on Dask: :func:`score_frame` / :func:`score_array` score with any fitted detector, :func:`fit` trains a
mergeable one partition by partition (others on a sample), and ``pynomaly score --engine dask`` runs the CLI on a
cluster. Dask is imported on first use, not by the plugin's entry point."""

from __future__ import annotations

from typing import Any

__all__ = ["fit", "score_array", "score_frame"]


def __getattr__(name: str) -> Any:
    if name in ("score_frame", "score_array"):
        from pynomaly_dask import scoring

        return getattr(scoring, name)
    if name == "fit":
        from pynomaly_dask.training import fit

        return fit
    raise AttributeError(name)
