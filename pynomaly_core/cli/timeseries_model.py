"""``pynomaly train`` / ``pynomaly score`` with ``--timestamp COL``: a time-series model trained on, and scoring,
a timestamped table (CSV/TSV, Parquet, SQL).

``train`` saves one model: with ``--series-id`` it needs ``--shared-model`` (one online model walks every series in
turn). ``score`` scores each series (``--series-id``) as the continuation of the series the model learned, one score
per row in file order.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def check_timeseries_flags(timestamp: str | None, series_id: str | None, shared: bool, sort: bool) -> None:
    """``--series-id``, ``--shared-model`` and ``--sort`` need ``--timestamp``."""
    from pynomaly_core.errors import InputError

    given = [flag for flag, value in (("--series-id", series_id), ("--shared-model", shared), ("--sort", sort))
             if value]
    if not timestamp and given:
        raise InputError(f"{given[0]} needs --timestamp COLUMN")


def train_timeseries_file(data: str, detector: str, params: dict[str, Any], *, timestamp: str,
                          columns: str | None, labels: str | None, series_id: str | None, shared: bool, sort: bool,
                          table: str | None, query: str | None) -> tuple[Any, Any]:
    """``(DetectionResult, dataset)``: ``detector`` fitted on the timestamped ``data``; its ``threshold_`` is the
    contamination percentile of all the training scores."""
    from pynomaly_core.cli.timeseries_detect import detect_dataset
    from pynomaly_core.errors import InputError
    from pynomaly_core.timeseries.data import load_timeseries

    if series_id and not shared:
        raise InputError("--series-id: train saves one model; pass --shared-model (one online model learns every "
                         "series in turn), or train a model per series on its own data")
    dataset = load_timeseries(data, timestamp=timestamp, columns=columns, series_id=series_id, labels=labels,
                              sort=sort, table=table, query=query)
    result = detect_dataset(dataset, detector, params, shared=shared)
    if shared:  # the model's own threshold came from the first series only
        result.model._set_threshold(result.scores, result.threshold)
    return result, dataset


def score_timeseries_file(resolved: Any, model: Any, data: str, *, timestamp: str, columns: str | None,
                          labels: str | None, series_id: str | None, sort: bool, table: str | None,
                          query: str | None, lineage_run: Any = None) -> Any:
    """Score the timestamped ``data`` with a saved model: a ``DetectionResult`` (one score per row, file order;
    labels from the model's ``threshold_``)."""
    from pynomaly_core.cli.timeseries_detect import file_order_labels, note_sampling
    from pynomaly_core.metrics import label_metrics
    from pynomaly_core.pipeline import _check_data_kind, qualified_name_of
    from pynomaly_core.results import DetectionResult
    from pynomaly_core.timeseries.data import load_timeseries, score_timeseries

    dataset = load_timeseries(data, timestamp=timestamp, columns=columns, series_id=series_id, labels=labels,
                              sort=sort, table=table, query=query)
    resolved.check_columns(dataset.feature_names, dataset.n_features)
    _check_data_kind(model, dataset)
    if lineage_run is not None:
        lineage_run.data(dataset)
    note_sampling(dataset.source, dataset.extra["sampling"])
    scores, seconds = score_timeseries(model, dataset)
    threshold = float(model.threshold_)
    return DetectionResult(scores=scores, labels=(scores > threshold).astype(np.int64), threshold=threshold,
                           detector=qualified_name_of(model), params=model.get_params(),
                           timings={"score_s": seconds}, feature_names=dataset.feature_names,
                           metrics=label_metrics(file_order_labels(dataset), scores), model=model)
