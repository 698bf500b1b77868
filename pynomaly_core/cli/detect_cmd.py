"""``pynomaly detect``: fit a detector on the data and score it."""

from __future__ import annotations

from pathlib import Path

import typer

from pynomaly_core.cli.options import (
    AS_JSON,
    COLUMNS,
    CONTAMINATION,
    DATA,
    LABELS,
    LOADER,
    LOADER_OPTION,
    OUTPUT,
    PARAM,
    QUERY,
    SORT,
    TABLE,
    TIMESTAMP,
    TOP,
)

DETECTOR = typer.Option(None, "--detector", "-d", help="Detector name (see `pynomaly detectors list`; default: "
                        "ecod, or the default time-series detector with --timestamp or --kind timeseries).")
SERIES_ID = typer.Option(None, "--series-id", help="Column naming the series of each row (with --timestamp): one "
                         "model per series.")
SHARED = typer.Option(False, "--shared-model", help="With --series-id: one model walks every series.")
KIND = typer.Option(None, "--kind", help="Data kind (tabular, timeseries, graph): picks the default detector.")


def register(app: typer.Typer) -> None:
    @app.command("detect")
    def detect(
        data: str = DATA,
        detector: str | None = DETECTOR,
        param: list[str] = PARAM,
        contamination: float | None = CONTAMINATION,
        output: Path | None = OUTPUT,
        top: int = TOP,
        labels: str | None = LABELS,
        columns: str | None = COLUMNS,
        loader: str | None = LOADER,
        loader_option: list[str] = LOADER_OPTION,
        table: str | None = TABLE,
        query: str | None = QUERY,
        as_json: bool = AS_JSON,
        timestamp: str | None = TIMESTAMP,
        series_id: str | None = SERIES_ID,
        shared_model: bool = SHARED,
        sort: bool = SORT,
        kind: str | None = KIND,
    ) -> None:
        """Fit a detector on DATA and score it: summary, top anomalies, optional per-row output."""
        from pynomaly_core.cli.inputs import create_cli_detector, detector_params, load_dataset, progress
        from pynomaly_core.cli.output import check_output_path, report
        from pynomaly_core.cli.timeseries_detect import (
            detect_timeseries_file,
            detector_for,
            refuse_loader_options,
            timeseries_only,
        )
        from pynomaly_core.pipeline import fit_detector

        if output is not None:
            check_output_path(output)
        detector = detector_for(detector, "timeseries" if timestamp and kind is None else kind)
        if not timestamp and (series_id or shared_model or sort):
            from pynomaly_core.errors import InputError

            raise InputError("--series-id, --shared-model and --sort need --timestamp COLUMN")
        if timestamp:
            refuse_loader_options(loader, loader_option)
            result = detect_timeseries_file(data, detector, detector_params(param, contamination), timestamp=timestamp,
                                            columns=columns, labels=labels, series_id=series_id, shared=shared_model,
                                            sort=sort, table=table, query=query)
            report(result, top, as_json, output)
            return
        model = create_cli_detector(detector, detector_params(param, contamination))
        dataset = load_dataset(data, loader, columns, labels, loader_option, table, query)
        if kind == "timeseries" or timeseries_only(detector):  # rows in file order are the time steps
            dataset.kind = "timeseries"
        with progress(f"fitting {detector} on {dataset.n_rows} rows", not getattr(model, "verbose", False)):
            result = fit_detector(model, dataset)
        report(result, top, as_json, output)
