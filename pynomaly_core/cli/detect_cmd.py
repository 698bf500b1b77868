"""``pynomaly detect``, ``pynomaly train`` and ``pynomaly score``."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

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


@contextlib.contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner on stderr while long work runs (only on a terminal)."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


def load_dataset(source: str, loader: str | None, columns: str | None, labels: str | None,
                 loader_options: list[str] | None = None) -> Any:
    from pynomaly_core.data import select_loader
    from pynomaly_core.errors import InputError
    from pynomaly_core.registry import get_registry

    spec = select_loader(source, get_registry(), loader)
    options: dict[str, Any] = parse_params(loader_options, flag="--loader-option")
    if columns:
        options["columns"] = [c.strip() for c in columns.split(",") if c.strip()]
    if labels:
        options["labels"] = labels
    unsupported = sorted(set(options) - set(spec.params))
    if unsupported:
        raise InputError(f"loader {spec.qualified_name} does not take --{unsupported[0]}")
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
    if as_json:
        print_json(summary)
        return
    timing = ", ".join(f"{k} {v:.3f}s" for k, v in timings.items())
    echo(f"{detector}: {summary['rows']} rows, {summary['anomalies']} anomalies "
         f"(threshold {summary['threshold']:.6g}; {timing})")
    for name, value in metrics.items():
        echo(f"  {name.replace('_', ' ')}: {value:.4f}")
    if top > 0:
        print_table(f"top {len(order)} anomalies", ["row", "score", "label"],
                    [(int(i), f"{scores[i]:.6g}", int(labels[i])) for i in order])
    if output is not None:
        echo(f"wrote {output}")


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
        as_json: bool = AS_JSON,
    ) -> None:
        """Fit a detector on DATA and score it: summary, top anomalies, optional per-row output."""
        import time

        from pynomaly_core.sdk import create_detector

        if output is not None:
            check_output_path(output)
        params = parse_params(param)
        if contamination is not None:
            params["contamination"] = contamination
        model = create_detector(detector, **params)
        dataset = load_dataset(data, loader, columns, labels, loader_option)
        with progress(f"fitting {detector} on {dataset.n_rows} rows"):
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
        output: Path = typer.Option(..., "--output", "-o", help="Directory to save the fitted model in."),
        param: list[str] = typer.Option(None, "--param", "-p", help="Detector parameter key=value (repeatable)."),
        contamination: float | None = typer.Option(None, "--contamination", help="Expected anomaly fraction."),
        columns: str | None = COLUMNS,
        loader: str | None = LOADER,
        loader_option: list[str] = LOADER_OPTION,
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing model directory."),
    ) -> None:
        """Fit a detector on DATA and save it (JSON manifest + safe artefacts)."""
        import time

        from pynomaly_core.errors import InputError
        from pynomaly_core.sdk import create_detector

        if output.exists() and not overwrite:
            raise InputError(f"{output} already exists (use --overwrite to replace it)")
        params = parse_params(param)
        if contamination is not None:
            params["contamination"] = contamination
        model = create_detector(detector, **params)
        dataset = load_dataset(data, loader, columns, None, loader_option)
        with progress(f"fitting {detector} on {dataset.n_rows} rows"):
            start = time.perf_counter()
            model.fit(model_input(dataset))
            fit_s = time.perf_counter() - start
        model.save(output, overwrite=overwrite)
        echo(f"trained {getattr(model, 'detector_name', '') or detector} on {dataset.n_rows} rows "
             f"in {fit_s:.3f}s; saved to {output}")

    @app.command("score")
    def score(
        model_ref: str = typer.Argument(..., metavar="MODEL", help="A directory written by `pynomaly train`."),
        data: str = DATA,
        output: Path | None = OUTPUT,
        top: int = TOP,
        labels: str | None = LABELS,
        columns: str | None = COLUMNS,
        loader: str | None = LOADER,
        loader_option: list[str] = LOADER_OPTION,
        trust: bool = typer.Option(False, "--trust", help="Allow pickle artefacts (only for models you trust)."),
        as_json: bool = AS_JSON,
    ) -> None:
        """Score DATA with a saved model."""
        import time

        from pynomaly_core.model_ref import load_model

        if output is not None:
            check_output_path(output)
        model = load_model(model_ref, trust=trust)
        dataset = load_dataset(data, loader, columns, labels, loader_option)
        with progress(f"scoring {dataset.n_rows} rows"):
            start = time.perf_counter()
            scores = model.decision_function(model_input(dataset))
            score_s = time.perf_counter() - start
        labels_out = (scores > model.threshold_).astype("int64")
        name = getattr(model, "detector_name", "") or type(model).__name__
        report(name, model, scores, labels_out, dataset.y, {"score_s": score_s}, top, as_json, output)

