"""``pynomaly score``: score data with a saved or stored model, streaming batches when the loader can."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from pynomaly_core.cli.options import (
    AS_JSON,
    COLUMNS,
    DATA,
    LABELS,
    LOADER,
    LOADER_OPTION,
    MODEL,
    OUTPUT,
    QUERY,
    SORT,
    TABLE,
    TOP,
    TRUST,
)

TIMESTAMP = typer.Option(None, "--timestamp", help="Timestamp column: score the data (CSV/TSV, Parquet, SQL URL) as "
                         "a time series with a saved time-series model (time order checked; one score per row).")
SERIES_ID = typer.Option(None, "--series-id", help="With --timestamp: column naming the series of each row; each "
                         "series is scored as the continuation of what the model learned.")
STORAGE_OPTION = typer.Option(None, "--storage-option", help="With --engine: an fsspec storage option key=value "
                              "(repeatable; JSON values) for DATA/OUT URLs such as s3://bucket/data/*.parquet, e.g. "
                              "endpoint_url=http://127.0.0.1:9000.")


def register(app: typer.Typer) -> None:
    @app.command("score")
    def score(
        model_ref: str = MODEL,
        data: str = DATA,
        output: str | None = OUTPUT,
        top: int = TOP,
        labels: str | None = LABELS,
        columns: str | None = COLUMNS,
        loader: str | None = LOADER,
        loader_option: list[str] = LOADER_OPTION,
        table: str | None = TABLE,
        query: str | None = QUERY,
        batch_rows: int = typer.Option(65_536, "--batch-rows", min=1,
                                       help="Rows per batch when the loader streams (out-of-core scoring)."),
        trust: bool = TRUST,
        as_json: bool = AS_JSON,
        engine: str = typer.Option("local", "--engine",
                                   help="local, or a scale-out engine from a plugin: dask (extra dask), spark "
                                        "(extra spark); DATA may then be a Parquet/CSV glob, OUT is partitioned "
                                        "Parquet."),
        scheduler: str | None = typer.Option(None, "--scheduler",
                                             help="--engine dask: scheduler address (default: a LocalCluster sized "
                                                  "to the machine); --engine spark: the master URL."),
        timestamp: str | None = TIMESTAMP,
        series_id: str | None = SERIES_ID,
        sort: bool = SORT,
        storage_option: list[str] = STORAGE_OPTION,
    ) -> None:
        """Score DATA with a saved model."""
        from pynomaly_core.cli.inputs import loader_call, progress
        from pynomaly_core.cli.output import check_output_path, print_summary, report
        from pynomaly_core.cli.timeseries_model import check_timeseries_flags
        from pynomaly_core.engines import engine_output, engine_storage_options
        from pynomaly_core.model_ref import resolve_model
        from pynomaly_core.pipeline import score_detector
        from pynomaly_core.streaming import check_stream_output, first_batch_columns, score_stream

        check_timeseries_flags(timestamp, series_id, False, sort)
        target = engine_output(output) if engine != "local" else None if output is None else Path(output)
        if timestamp:
            _score_timeseries(model_ref, data, target, top, as_json, trust, engine, loader, loader_option,
                              timestamp=timestamp, columns=columns, labels=labels, series_id=series_id, sort=sort,
                              table=table, query=query)
            return
        if engine != "local":
            from pynomaly_core.engines import resolve_engine
            from pynomaly_core.errors import InputError

            run = resolve_engine(engine)
            unsupported = [flag for flag, value in (("--labels", labels), ("--loader", loader), ("--table", table),
                                                    ("--query", query), ("--loader-option", loader_option))
                           if value]
            if unsupported:
                raise InputError(f"--engine {engine} reads Parquet or CSV files: {unsupported[0]} is not supported")
            extra = engine_storage_options(engine, run, target, storage_option)
            model = resolve_model(model_ref).load(trust=trust)
            summary = run(model, data, target, scheduler=scheduler, top=top,
                          columns=None if columns is None else [c.strip() for c in columns.split(",")], **extra)
            print_summary(summary, top, as_json)
            return
        if storage_option:
            from pynomaly_core.errors import InputError

            raise InputError("--storage-option is for a scale-out --engine (dask) reading or writing URLs")
        output = target
        spec, options = loader_call(data, loader, columns, labels, loader_option, table, query)
        if spec.iter_target is not None:  # chunk-capable: stream batches, write results as they come
            if output is not None:
                check_stream_output(output)
            resolved = resolve_model(model_ref)
            model = resolved.load(trust=trust)
            from pynomaly_core.governance.lineage import scoring_run

            with scoring_run("pynomaly.score", resolved, data, output) as lineage_run:  # OpenLineage, if configured
                resolved.check_columns(*first_batch_columns(spec, data, options))
                lineage_run.source_only()
                summary = score_stream(model, spec, data, options, batch_rows, output, top)
            print_summary(summary, top, as_json)
            return
        if output is not None:
            check_output_path(output)
        resolved = resolve_model(model_ref)
        model = resolved.load(trust=trust)
        from pynomaly_core.governance.lineage import scoring_run

        with scoring_run("pynomaly.score", resolved, data, output) as lineage_run:  # OpenLineage, when configured
            dataset = spec.load()(data, **options)
            resolved.check_columns(dataset.feature_names, dataset.n_features)
            lineage_run.data(dataset)
            with progress(f"scoring {dataset.n_rows} rows"):
                result = score_detector(model, dataset)
        report(result, top, as_json, output)


def _score_timeseries(model_ref: str, data: str, output: Path | None, top: int, as_json: bool, trust: bool,
                      engine: str, loader: str | None, loader_option: list[str] | None, **options: Any) -> None:
    """``score --timestamp``: the whole table, one score per row in file order (no batch streaming)."""
    from pynomaly_core.cli.output import check_output_path, report
    from pynomaly_core.cli.timeseries_detect import refuse_loader_options
    from pynomaly_core.cli.timeseries_model import score_timeseries_file
    from pynomaly_core.errors import InputError
    from pynomaly_core.governance.lineage import scoring_run
    from pynomaly_core.model_ref import resolve_model

    if engine != "local":
        raise InputError(f"--engine {engine} does not take --timestamp (a time series is scored locally, in order)")
    refuse_loader_options(loader, loader_option)
    if output is not None:
        check_output_path(output)
    resolved = resolve_model(model_ref)
    model = resolved.load(trust=trust)
    with scoring_run("pynomaly.score", resolved, data, output) as lineage_run:  # OpenLineage, when configured
        result = score_timeseries_file(resolved, model, data, lineage_run=lineage_run, **options)
    report(result, top, as_json, output)
