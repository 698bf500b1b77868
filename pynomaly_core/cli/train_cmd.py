"""``pynomaly train``: fit a detector and save it to a folder and/or the model store."""

from __future__ import annotations

from pathlib import Path

import typer

from pynomaly_core.cli.options import (
    COLUMNS,
    CONTAMINATION,
    DATA,
    LABELS,
    LOADER,
    LOADER_OPTION,
    PARAM,
    QUERY,
    SORT,
    TABLE,
    TIMESTAMP,
)

DETECTOR = typer.Option(None, "--detector", "-d", help="Detector name (see `pynomaly detectors list`; default: "
                        "ecod, or the default time-series detector with --timestamp).")
SERIES_ID = typer.Option(None, "--series-id", help="With --timestamp and --shared-model: column naming the series "
                         "of each row (one model learns them one after another).")
SHARED = typer.Option(False, "--shared-model", help="With --series-id (required with it): one online model learns "
                      "every series in turn, and is saved.")


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        data: str = DATA,
        detector: str | None = DETECTOR,
        output: Path | None = typer.Option(None, "--output", "-o", help="Directory to save the fitted model in."),
        name: str | None = typer.Option(None, "--name", help="Register the model as a new version of NAME in "
                                        "the model store (see `pynomaly models`)."),
        parent: str | None = typer.Option(None, "--parent", help="With --name: NAME@VERSION it derives from."),
        param: list[str] = PARAM,
        contamination: float | None = CONTAMINATION,
        labels: str | None = LABELS,
        columns: str | None = COLUMNS,
        loader: str | None = LOADER,
        loader_option: list[str] = LOADER_OPTION,
        table: str | None = TABLE,
        query: str | None = QUERY,
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing model directory."),
        timestamp: str | None = TIMESTAMP,
        series_id: str | None = SERIES_ID,
        shared_model: bool = SHARED,
        sort: bool = SORT,
    ) -> None:
        """Fit a detector on DATA and save it to a folder (-o) and/or register it in the model store (--name)."""
        from pynomaly_core.cli import models_cmd
        from pynomaly_core.cli.inputs import create_cli_detector, detector_params, load_dataset, progress
        from pynomaly_core.cli.output import echo
        from pynomaly_core.cli.timeseries_detect import detector_for, refuse_loader_options
        from pynomaly_core.cli.timeseries_model import check_timeseries_flags, train_timeseries_file
        from pynomaly_core.errors import InputError
        from pynomaly_core.governance import lineage
        from pynomaly_core.pipeline import fit_detector

        if output is None and name is None:
            raise InputError("pass --output DIR to save the model to a folder, or --name NAME to register it")
        if parent is not None and name is None:
            raise InputError("--parent needs --name (lineage is kept in the model store)")
        if output is not None and output.exists() and not overwrite:
            raise InputError(f"{output} already exists (use --overwrite to replace it)")
        check_timeseries_flags(timestamp, series_id, shared_model, sort)
        if timestamp:
            refuse_loader_options(loader, loader_option)
        detector = detector_for(detector, "timeseries" if timestamp else None)
        store = None if name is None else models_cmd.open_for_training(name, parent)
        model = create_cli_detector(detector, detector_params(param, contamination))
        # OpenLineage (when $PYNOMALY_LINEAGE_URL is set): START before the data is read, FAIL if anything fails
        with lineage.run("pynomaly.train", inputs=[lineage.dataset(str(data))]) as current:
            if timestamp:
                result, dataset = train_timeseries_file(
                    data, detector, detector_params(param, contamination), timestamp=timestamp, columns=columns,
                    labels=labels, series_id=series_id, shared=shared_model, sort=sort, table=table, query=query)
                model = result.model
            else:
                dataset = load_dataset(data, loader, columns, labels, loader_option, table, query)
                with progress(f"fitting {detector} on {dataset.n_rows} rows", not getattr(model, "verbose", False)):
                    result = fit_detector(model, dataset)
            done = []
            if output is not None:
                model.save(output, overwrite=overwrite)
                current.outputs.append(lineage.dataset(str(output)))
                done.append(f"saved to {output}")
            if store is not None:
                stored = models_cmd.store_trained(store, name, parent, result, dataset, data)
                done.append(f"registered as {stored.ref}")
        echo(f"trained {result.detector} on {dataset.n_rows} rows in {result.timings['fit_s']:.3f}s; "
             f"{'; '.join(done)}")
        for metric, value in result.metrics.items():
            echo(f"  {metric.replace('_', ' ')} (training data): {value:.4f}")
