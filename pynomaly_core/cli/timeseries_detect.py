"""``pynomaly detect --timestamp COL``: a timestamped table (CSV/TSV, Parquet, SQL) as a time series (per series
with ``--series-id``)."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

DATA_KINDS = ("tabular", "graph", "timeseries")


def detector_for(detector: str | None, kind: str | None) -> str:
    """The detector a ``detect`` run uses: the named one, else the default of the data kind."""
    from pynomaly_core.errors import InputError

    if kind is not None and kind not in DATA_KINDS:
        raise InputError(f"--kind {kind!r}: expected one of {', '.join(DATA_KINDS)}")
    if detector is not None:
        return detector
    if kind == "timeseries":
        from pynomaly_core.timeseries.registration import DEFAULT_DETECTOR

        return DEFAULT_DETECTOR
    if kind == "graph":
        raise InputError("--kind graph: name a detector (`pynomaly detectors list --kind graph`)")
    return "ecod"


def timeseries_only(detector: str) -> bool:
    """Whether ``detector`` takes time series only (then a table's rows, in file order, are its time steps)."""
    from pynomaly_core.registry import get_registry

    return get_registry().detector(detector).data_kinds == {"timeseries"}


def refuse_loader_options(loader: str | None, loader_options: list[str] | None) -> None:
    """``--timestamp`` reads the data itself (CSV/TSV, Parquet, SQL): ``--loader`` and ``-O`` do not apply."""
    from pynomaly_core.errors import InputError

    if loader or loader_options:
        raise InputError(f"{'--loader' if loader else '--loader-option'} does not apply with --timestamp (CSV/TSV, "
                         "Parquet and SQL URLs are read directly)")


def detect_timeseries_file(data: str, detector: str, params: dict[str, Any], *, timestamp: str,
                           columns: str | None, labels: str | None, series_id: str | None, shared: bool,
                           sort: bool, table: str | None = None, query: str | None = None) -> Any:
    """Load ``data`` as a time series, run ``detector`` on each series, and return a ``DetectionResult``."""
    from pynomaly_core.timeseries.data import load_timeseries

    dataset = load_timeseries(data, timestamp=timestamp, columns=columns, series_id=series_id, labels=labels,
                              sort=sort, table=table, query=query)
    return detect_dataset(dataset, detector, params, shared=shared)


def detect_dataset(dataset: Any, detector: str, params: dict[str, Any], *, shared: bool) -> Any:
    """Fit ``detector`` on a loaded time series (per series, or one shared model): a ``DetectionResult`` whose
    threshold is the contamination percentile of all the scores."""
    from pynomaly_core.cli.inputs import create_cli_detector
    from pynomaly_core.metrics import label_metrics
    from pynomaly_core.pipeline import _check_data_kind, qualified_name_of
    from pynomaly_core.results import DetectionResult
    from pynomaly_core.timeseries.data import detect_timeseries

    probe = create_cli_detector(detector, dict(params))
    _check_data_kind(probe, dataset)
    note_sampling(dataset.source, dataset.extra["sampling"])
    scores, model, seconds = detect_timeseries(lambda: create_cli_detector(detector, dict(params)), dataset,
                                               shared=shared)
    contamination = getattr(model, "contamination", 0.1)
    threshold = float(np.percentile(scores, 100 * (1 - contamination)))
    return DetectionResult(scores=scores, labels=(scores > threshold).astype(np.int64), threshold=threshold,
                           detector=qualified_name_of(model), params=model.get_params(), timings={"fit_s": seconds},
                           feature_names=dataset.feature_names, metrics=label_metrics(file_order_labels(dataset),
                                                                                      scores), model=model)


def file_order_labels(dataset: Any) -> Any:
    """The dataset's labels in file order (``None`` without labels)."""
    return None if dataset.y is None else dataset.y[np.argsort(dataset.extra["order"])]


def note_sampling(source: str, sampling: dict[str, Any]) -> None:
    """One line on stderr when the sampling is irregular or has gaps."""
    if not sampling.get("irregular"):
        return
    gaps = sampling.get("n_gaps", 0)
    first = f" (first before row {sampling['gaps'][0]['row']}, {sampling['gaps'][0]['after_s']:g}s)" if gaps else ""
    sys.stderr.write(f"note: {source}: irregular sampling: typical interval {sampling['interval_s']:g}s, "
                     f"{sampling['irregular']} intervals differ, {gaps} gap(s){first}\n")
