"""``pynomaly benchmark --timeseries``: detectors × labelled series (a folder or a NAB corpus), with VUS, range
and NAB metrics, records and plots (the work is in :mod:`pynomaly_core.timeseries.benchmark`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def _fmt(value: Any, digits: int = 4) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def run_timeseries(datasets: Path, names: list[str], *, seed: int, max_buffer: int, labels: str,
                   output: Path | None, plot: Path | None, plot_series: Path | None, as_json: bool) -> None:
    """Run the time-series benchmark and print (or write) its results; paths were checked by the caller."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pynomaly_core.cli.output import echo, print_json, print_table
    from pynomaly_core.errors import InputError
    from pynomaly_core.timeseries import benchmark

    if max_buffer < 0:
        raise InputError(f"--max-buffer {max_buffer}: must be >= 0")
    if plot_series is not None and plot_series.exists() and not plot_series.is_dir():
        raise InputError(f"--plot-series {plot_series}: not a folder")
    series = benchmark.load_series(datasets, label_column=labels)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("benchmark", total=len(series) * len(names))
        result = benchmark.run(series, names, max_buffer=max_buffer, seed=seed,
                               on_step=lambda text: bar.update(task, advance=1, description=text))
    written = []
    if output is not None:
        benchmark.write_records(result.records, output)
        written.append(str(output))
    if plot is not None or plot_series is not None:
        from pynomaly_core.timeseries import plots

        if plot is not None:
            written.append(str(plots.plot_summary(result, plot)))
        if plot_series is not None:
            plots.plot_series(result, plot_series)
            written.append(f"{plot_series}/ ({len(series)} PNG)")
    rows = benchmark.summary(result)
    if as_json:
        print_json({"records": [{k: benchmark._plain(v) for k, v in r.__dict__.items()} for r in result.records],
                    "summary": rows, "nab": result.nab, "output": None if output is None else str(output),
                    "plot": None if plot is None else str(plot),
                    "plot_series": None if plot_series is None else str(plot_series)})
        return
    vus_pr = {(r.dataset, r.detector): r.vus_pr for r in result.records}
    sets = list(dict.fromkeys(r.dataset for r in result.records))
    print_table(f"VUS-PR (buffers 0..{max_buffer}), {len(sets)} series", ["series", *names],
                [(d, *(_fmt(vus_pr[d, n]) for n in names)) for d in sets])
    print_table("summary (means over the series where a metric is defined)",
                ["detector", "ROC-AUC", "AP", "VUS-ROC", "VUS-PR", "range F1", "rank VUS-PR", "NAB std",
                 "NAB low FP", "NAB low FN"],
                [(r["detector"], _fmt(r["mean_roc_auc"]), _fmt(r["mean_average_precision"]), _fmt(r["mean_vus_roc"]),
                  _fmt(r["mean_vus_pr"]), _fmt(r["mean_range_f1"]), _fmt(r["mean_rank_vus_pr"], 2),
                  *(_fmt(r["nab"].get(p), 2) for p in ("standard", "reward_low_FP_rate", "reward_low_FN_rate")))
                 for r in rows])
    for path in written:
        echo(f"wrote {path}")
