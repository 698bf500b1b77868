"""``pynomaly detect``, ``pynomaly train`` and ``pynomaly score``."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from pynomaly_core.cli import models_cmd
from pynomaly_core.cli.output import check_output_path, echo, print_json, print_table, write_scores
from pynomaly_core.cli.params import parse_params

DATA = typer.Argument(..., help="Data file or URL (CSV, NPY, NPZ or any format a plugin loads).")
LOADER = typer.Option(None, "--loader", help="Loader name (default: chosen by suffix or URL scheme).")
COLUMNS = typer.Option(None, "--columns", help="Comma-separated feature columns (CSV).")
LABELS = typer.Option(None, "--labels", help="Column holding 0/1 labels: prints ROC-AUC and average precision.")
OUTPUT = typer.Option(None, "--output", "-o", help="Write one row per input row (score, label): .csv or .json.")
TOP = typer.Option(10, "--top", help="How many of the most anomalous rows to print.")
AS_JSON = typer.Option(False, "--json", help="Print the summary as JSON.")
LOADER_OPTION = typer.Option(None, "--loader-option", "-O",
                             help="Loader option key=value (repeatable), e.g. -O nodes=nodes.csv.")
TABLE = typer.Option(None, "--table", help="Table to read (SQL URLs such as sqlite:///file.db).")
QUERY = typer.Option(None, "--query", help="SELECT statement to read (SQL URLs).")


def create_cli_detector(name: str, params: dict[str, Any]) -> Any:
    """The detector a command runs: one with the ``progress`` capability shows its progress bar unless told not to."""
    from pynomaly_core.registry import get_registry
    from pynomaly_core.sdk import create_detector

    if "progress" in get_registry().detector(name).capabilities and "verbose" not in params:
        params = {**params, "verbose": True}
    return create_detector(name, **params)


@contextlib.contextmanager
def progress(message: str, enabled: bool = True) -> Iterator[None]:
    """A spinner on stderr while long work runs (only on a terminal, and not over a detector's own progress bar)."""
    if not enabled or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


def loader_call(source: str, loader: str | None, columns: str | None, labels: str | None,
                loader_options: list[str] | None = None, table: str | None = None,
                query: str | None = None) -> tuple[Any, dict[str, Any]]:
    """The loader spec for ``source`` and the options the command line gives it (each checked against it)."""
    from pynomaly_core.data import select_loader
    from pynomaly_core.errors import InputError
    from pynomaly_core.registry import get_registry

    spec = select_loader(source, get_registry(), loader)
    options: dict[str, Any] = parse_params(loader_options, flag="--loader-option")
    if columns:
        options["columns"] = [c.strip() for c in columns.split(",") if c.strip()]
    if labels:
        options["labels"] = labels
    if table is not None:
        options["table"] = table
    if query is not None:
        options["query"] = query
    unsupported = sorted(set(options) - set(spec.params))
    if unsupported:
        raise InputError(f"loader {spec.qualified_name} does not take --{unsupported[0]}")
    return spec, options


def load_dataset(source: str, loader: str | None, columns: str | None, labels: str | None,
                 loader_options: list[str] | None = None, table: str | None = None,
                 query: str | None = None) -> Any:
    spec, options = loader_call(source, loader, columns, labels, loader_options, table, query)
    return spec.load()(source, **options)


def model_input(dataset: Any) -> Any:
    """What a detector fits or scores: a graph dataset itself (its edges are in ``extra``), else the feature
    matrix with its column names."""
    return dataset if dataset.kind == "graph" else dataset.features()


def report(detector: str, model: Any, scores: Any, labels: Any, y: Any, timings: dict[str, float],
           top: int, as_json: bool, output: Path | None) -> None:
    import numpy as np

    from pynomaly_core.metrics import average_precision, roc_auc

    metrics = {}
    if y is not None and np.unique(y).size == 2:
        metrics = {"roc_auc": roc_auc(y, scores), "average_precision": average_precision(y, scores)}
    order = np.argsort(-scores, kind="mergesort")[:top]
    if output is not None:
        write_scores(output, scores, labels)
    summary = {
        "detector": detector,
        "params": model.get_params(),
        "rows": int(scores.size),
        "anomalies": int(labels.sum()),
        "threshold": float(model.threshold_),
        "timings": {k: round(v, 6) for k, v in timings.items()},
        "metrics": metrics,
        "top": [{"row": int(i), "score": float(scores[i]), "label": int(labels[i])} for i in order],
        "output": None if output is None else str(output),
    }
    print_summary(summary, top, as_json)


def print_summary(summary: dict[str, Any], top: int, as_json: bool) -> None:
    """Print a detect/score summary (see :func:`report`) as text or JSON."""
    if as_json:
        print_json(summary)
        return
    timing = ", ".join(f"{k} {v:.3f}s" for k, v in summary["timings"].items())
    echo(f"{summary['detector']}: {summary['rows']} rows, {summary['anomalies']} anomalies "
         f"(threshold {summary['threshold']:.6g}; {timing})")
    for name, value in summary["metrics"].items():
        echo(f"  {name.replace('_', ' ')}: {value:.4f}")
    if top > 0:
        print_table(f"top {len(summary['top'])} anomalies", ["row", "score", "label"],
                    [(r["row"], f"{r['score']:.6g}", r["label"]) for r in summary["top"]])
    if summary["output"] is not None:
        echo(f"wrote {summary['output']}")


def register(app: typer.Typer) -> None:
    @app.command("detect")
    def detect(
        data: str = DATA,
        detector: str = typer.Option("ecod", "--detector", "-d", help="Detector name (see `detectors list`)."),
        param: list[str] = typer.Option(None, "--param", "-p", help="Detector parameter key=value (repeatable)."),
        contamination: float | None = typer.Option(None, "--contamination", help="Expected anomaly fraction."),
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
        import time


        if output is not None:
            check_output_path(output)
        params = parse_params(param)
        if contamination is not None:
            params["contamination"] = contamination
        model = create_cli_detector(detector, params)
        dataset = load_dataset(data, loader, columns, labels, loader_option, table, query)
        with progress(f"fitting {detector} on {dataset.n_rows} rows", not getattr(model, "verbose", False)):
            start = time.perf_counter()
            model.fit(model_input(dataset))
            fit_s = time.perf_counter() - start
        name = getattr(model, "detector_name", "") or detector
        report(name, model, model.decision_scores_, model.labels_, dataset.y, {"fit_s": fit_s}, top, as_json,
               output)

    @app.command("train")
    def train(
        data: str = DATA,
        detector: str = typer.Option("ecod", "--detector", "-d", help="Detector name."),
        output: Path | None = typer.Option(None, "--output", "-o", help="Directory to save the fitted model in."),
        name: str | None = typer.Option(None, "--name", help="Register the model as a new version of NAME in the "
                                        "model registry (see `pynomaly models`)."),
        parent: str | None = typer.Option(None, "--parent", help="With --name: NAME@VERSION it derives from."),
        param: list[str] = typer.Option(None, "--param", "-p", help="Detector parameter key=value (repeatable)."),
        contamination: float | None = typer.Option(None, "--contamination", help="Expected anomaly fraction."),
        labels: str | None = LABELS,
        columns: str | None = COLUMNS,
        loader: str | None = LOADER,
        loader_option: list[str] = LOADER_OPTION,
        table: str | None = TABLE,
        query: str | None = QUERY,
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing model directory."),
    ) -> None:
        """Fit a detector on DATA and save it to a folder (-o) and/or register it in the model registry (--name)."""
        import time

        from pynomaly_core.errors import InputError

        if output is None and name is None:
            raise InputError("pass --output DIR to save the model to a folder, or --name NAME to register it")
        if parent is not None and name is None:
            raise InputError("--parent needs --name (lineage is kept in the model registry)")
        if output is not None and output.exists() and not overwrite:
            raise InputError(f"{output} already exists (use --overwrite to replace it)")
        store = None if name is None else models_cmd.open_for_training(name, parent)
        params = parse_params(param)
        if contamination is not None:
            params["contamination"] = contamination
        model = create_cli_detector(detector, params)
        dataset = load_dataset(data, loader, columns, labels, loader_option, table, query)
        with progress(f"fitting {detector} on {dataset.n_rows} rows", not getattr(model, "verbose", False)):
            start = time.perf_counter()
            model.fit(model_input(dataset))
            fit_s = time.perf_counter() - start
        done = []
        if output is not None:
            model.save(output, overwrite=overwrite)
            done.append(f"saved to {output}")
        if store is not None:
            registered = models_cmd.register_trained(store, name, parent, model, dataset, data, fit_s)
            done.append(f"registered as {registered.ref}")
        echo(f"trained {getattr(model, 'detector_name', '') or detector} on {dataset.n_rows} rows "
             f"in {fit_s:.3f}s; {'; '.join(done)}")
        for metric, value in models_cmd.training_metrics(dataset.y, model.decision_scores_).items():
            echo(f"  {metric.replace('_', ' ')} (training data): {value:.4f}")

    @app.command("score")
    def score(
        model_ref: str = typer.Argument(..., metavar="MODEL", help="A directory written by `pynomaly train -o`, "
                                        "or NAME[@VERSION] from the model registry."),
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
        trust: bool = typer.Option(False, "--trust", help="Allow pickle artefacts (only for models you trust)."),
        as_json: bool = AS_JSON,
    ) -> None:
        """Score DATA with a saved model."""
        import time

        from pynomaly_core.model_ref import resolve_model

        spec, options = loader_call(data, loader, columns, labels, loader_option, table, query)
        if spec.iter_target is not None:  # chunk-capable: stream batches, write results as they come
            from pynomaly_core.streaming import check_stream_output, score_command

            if output is not None:
                check_stream_output(output)
            resolved = resolve_model(model_ref)
            model = resolved.load(trust=trust)
            resolved.check_columns(*models_cmd.first_batch_columns(spec, data, options))
            print_summary(score_command(model, spec, data, options, batch_rows, output, top), top, as_json)
            return
        if output is not None:
            check_output_path(output)
        resolved = resolve_model(model_ref)
        model = resolved.load(trust=trust)
        dataset = spec.load()(data, **options)
        resolved.check_columns(dataset.feature_names, dataset.n_features)
        with progress(f"scoring {dataset.n_rows} rows"):
            start = time.perf_counter()
            scores = model.decision_function(model_input(dataset))
            score_s = time.perf_counter() - start
        labels_out = (scores > model.threshold_).astype("int64")
        name = getattr(model, "detector_name", "") or type(model).__name__
        report(name, model, scores, labels_out, dataset.y, {"score_s": score_s}, top, as_json, output)

