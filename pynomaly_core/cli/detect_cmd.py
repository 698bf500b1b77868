"""``pynomaly detect``: fit a detector on the data and score it."""

from __future__ import annotations

from pathlib import Path

import typer

from pynomaly_core.cli.options import (
    AS_JSON,
    COLUMNS,
    CONTAMINATION,
    DATA,
    DETECTOR,
    LABELS,
    LOADER,
    LOADER_OPTION,
    OUTPUT,
    PARAM,
    QUERY,
    TABLE,
    TOP,
)


def register(app: typer.Typer) -> None:
    @app.command("detect")
    def detect(
        data: str = DATA,
        detector: str = DETECTOR,
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
    ) -> None:
        """Fit a detector on DATA and score it: summary, top anomalies, optional per-row output."""
        from pynomaly_core.cli.inputs import create_cli_detector, detector_params, load_dataset, progress
        from pynomaly_core.cli.output import check_output_path, report
        from pynomaly_core.pipeline import fit_detector

        if output is not None:
            check_output_path(output)
        model = create_cli_detector(detector, detector_params(param, contamination))
        dataset = load_dataset(data, loader, columns, labels, loader_option, table, query)
        with progress(f"fitting {detector} on {dataset.n_rows} rows", not getattr(model, "verbose", False)):
            result = fit_detector(model, dataset)
        report(result, top, as_json, output)
