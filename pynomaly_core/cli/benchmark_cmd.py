"""``pynomaly benchmark``: detectors × a folder of labelled ``.npz`` sets, with the ADBench protocol."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def _check_file(path: Path, suffixes: tuple[str, ...], what: str) -> None:
    from pynomaly_core.errors import InputError

    if path.suffix.lower() not in suffixes:
        raise InputError(f"{path}: {what} must end in {' or '.join(suffixes)}")
    if not path.parent.exists():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a directory")


def _split_list(text: str, flag: str) -> list[str]:
    from pynomaly_core.errors import InputError

    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise InputError(f"{flag}: give a comma-separated list")
    return items


def register(app: typer.Typer) -> None:
    @app.command("benchmark")
    def benchmark(
        datasets: Path = typer.Option(..., "--datasets", help="Folder of .npz files with X and 0/1 labels y."),
        detectors: str = typer.Option(..., "--detectors", "-d", help="Comma-separated detector names."),
        seeds: str = typer.Option("0", "--seeds", help="Comma-separated seeds (split and random_state); "
                                  "metrics are averaged over them."),
        output: Path | None = typer.Option(None, "--output", "-o", help="Records file: .csv, .json or .md."),
        plot: Path | None = typer.Option(None, "--plot", help="PNG: ROC-AUC per dataset and a rank summary."),
        max_train: int | None = typer.Option(None, "--max-train", help="Subsample larger training splits."),
        as_json: bool = typer.Option(False, "--json", help="Print the records and summary as JSON."),
        timeseries: bool = typer.Option(False, "--timeseries", help="Time-series mode: --datasets is a NAB corpus "
                                        "or a folder of labelled series (.csv with a label column, or .npz); "
                                        "point, range, VUS and NAB metrics."),
        max_buffer: int = typer.Option(100, "--max-buffer", help="--timeseries: largest VUS buffer (rows)."),
        labels: str = typer.Option("label", "--labels", help="--timeseries: the label column of .csv series."),
        plot_series: Path | None = typer.Option(None, "--plot-series", help="--timeseries: folder for one PNG per "
                                                "series (values, windows, scores, flagged rows)."),
    ) -> None:
        """Run the benchmark protocol (stratified 70/30 split, fit without labels, metrics on the test split).

        With --timeseries: fit each detector on each whole series and evaluate its (prequential) training scores.
        """
        from pynomaly_core import benchmarking
        from pynomaly_core.cli.output import echo, print_json, print_table
        from pynomaly_core.errors import InputError
        from pynomaly_core.registry import get_registry

        names = _split_list(detectors, "--detectors")
        try:
            seed_list = [int(s) for s in _split_list(seeds, "--seeds")]
        except ValueError:
            raise InputError(f"--seeds {seeds!r}: expected comma-separated integers") from None
        if output is not None:
            _check_file(output, benchmarking.OUTPUT_SUFFIXES, "--output")
        if plot is not None or plot_series is not None:
            if plot is not None:
                _check_file(plot, (".png",), "--plot")
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                raise InputError("--plot needs matplotlib: pip install 'pynomaly[plot]'") from None
        for name in names:
            get_registry().detector(name)
        if timeseries:
            from pynomaly_core.cli.benchmark_ts import run_timeseries

            if len(seed_list) > 1 or max_train is not None:
                raise InputError("--timeseries takes one seed and no --max-train (each series is fitted whole)")
            run_timeseries(datasets, names, seed=seed_list[0], max_buffer=max_buffer, labels=labels, output=output,
                           plot=plot, plot_series=plot_series, as_json=as_json)
            return
        if plot_series is not None:
            raise InputError("--plot-series needs --timeseries")
        files = benchmarking.dataset_files(datasets)
        total = len(files) * len(names) * len(seed_list)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task("benchmark", total=total)
            records = benchmarking.benchmark(
                files, names, seeds=seed_list, max_train=max_train,
                on_step=lambda text: bar.update(task, advance=1, description=text))
        if output is not None:
            benchmarking.write_records(records, output)
        if plot is not None:
            benchmarking.plot(records, plot)
        rows = benchmarking.summary(records)
        if as_json:
            print_json({"records": [r.__dict__ for r in records], "summary": rows,
                        "output": None if output is None else str(output), "plot": None if plot is None else str(plot)})
            return
        auc = {(r.dataset, r.detector): r.roc_auc for r in records}
        sets = list(dict.fromkeys(r.dataset for r in records))
        print_table(f"ROC-AUC, {len(sets)} datasets, seeds {','.join(map(str, seed_list))}", ["dataset", *names],
                    [(d, *(f"{auc[d, n]:.4f}" for n in names)) for d in sets])
        print_table("summary", ["detector", "mean ROC-AUC", "mean AP", "mean rank"],
                    [(r["detector"], f"{r['mean_roc_auc']:.4f}", f"{r['mean_average_precision']:.4f}",
                      f"{r['mean_rank']:.2f}") for r in rows])
        for path in (output, plot):
            if path is not None:
                echo(f"wrote {path}")
