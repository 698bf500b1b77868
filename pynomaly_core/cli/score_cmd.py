"""``pynomaly score``: score data with a saved or stored model, streaming batches when the loader can."""

from __future__ import annotations

from pathlib import Path

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
    TABLE,
    TOP,
    TRUST,
)


def register(app: typer.Typer) -> None:
    @app.command("score")
    def score(
        model_ref: str = MODEL,
        data: str = DATA,
        output: Path | None = OUTPUT,
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
    ) -> None:
        """Score DATA with a saved model."""
        from pynomaly_core.cli.inputs import loader_call, progress
        from pynomaly_core.cli.output import check_output_path, print_summary, report
        from pynomaly_core.model_ref import resolve_model
        from pynomaly_core.pipeline import score_detector
        from pynomaly_core.streaming import check_stream_output, first_batch_columns, score_stream

        spec, options = loader_call(data, loader, columns, labels, loader_option, table, query)
        if spec.iter_target is not None:  # chunk-capable: stream batches, write results as they come
            if output is not None:
                check_stream_output(output)
            resolved = resolve_model(model_ref)
            model = resolved.load(trust=trust)
            resolved.check_columns(*first_batch_columns(spec, data, options))
            summary = score_stream(model, spec, data, options, batch_rows, output, top)
            print_summary(summary, top, as_json)
            return
        if output is not None:
            check_output_path(output)
        resolved = resolve_model(model_ref)
        model = resolved.load(trust=trust)
        dataset = spec.load()(data, **options)
        resolved.check_columns(dataset.feature_names, dataset.n_features)
        with progress(f"scoring {dataset.n_rows} rows"):
            result = score_detector(model, dataset)
        report(result, top, as_json, output)
