"""``pynomaly dask train``: distributed training from the command line (Dask is imported when it runs)."""

from __future__ import annotations

import warnings
from pathlib import Path

import typer

from pynomaly_core.cli.options import COLUMNS, CONTAMINATION, DATA, DETECTOR, PARAM

app = typer.Typer(help="Train on a Dask cluster (scoring: `pynomaly score --engine dask`).", no_args_is_help=True)


@app.command("train")
def train(
    data: str = DATA,
    detector: str = DETECTOR,
    output: Path = typer.Option(..., "--output", "-o", help="Model directory to write."),
    param: list[str] = PARAM,
    contamination: float | None = CONTAMINATION,
    columns: str | None = COLUMNS,
    scheduler: str | None = typer.Option(None, "--scheduler", help="Scheduler address (default: a LocalCluster)."),
    sample_rows: int = typer.Option(100_000, "--sample-rows", min=1,
                                    help="Rows a detector that is not mergeable is trained on."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing model directory."),
) -> None:
    """Fit DETECTOR on Parquet/CSV DATA (a glob): mergeable detectors on every row, partition by partition; others
    on a random sample (said so)."""
    from pynomaly_core.cli.inputs import create_cli_detector, detector_params
    from pynomaly_core.cli.output import echo
    from pynomaly_core.errors import InputError
    from pynomaly_dask.engine import client_for, read
    from pynomaly_dask.training import SampledTrainingWarning, fit

    if output.exists() and not overwrite:
        raise InputError(f"{output} already exists (use --overwrite to replace it)")
    model = create_cli_detector(detector, detector_params(param, contamination))
    frame = read(data)
    with client_for(scheduler), warnings.catch_warnings():
        warnings.simplefilter("ignore", SampledTrainingWarning)  # said below, in one line
        fit(model, frame, columns=None if columns is None else [c.strip() for c in columns.split(",")],
            sample_rows=sample_rows)
    model.save(output, overwrite=overwrite)
    how = "on every row (merged partitions)" if model.trained_on_sample_ is None else \
        f"on a sample of {model.trained_on_sample_} rows (not mergeable)"
    echo(f"trained {model._name()} {how} in {model.fit_time_s_:.3f}s; saved to {output}")
    equivalent = getattr(model, "local_equivalent", None)
    if model.trained_on_sample_ is None and equivalent is not None:  # online detectors: one window of every row
        params, mine = equivalent(model.n_learned_).get_params(), model.get_params()
        changed = ", ".join(f"{k}={v!r}" for k, v in params.items() if v != mine[k])
        echo(f"  scores exactly as a fit on all rows at once with {changed}")
    bound = getattr(model, "merge_bound_", 0.0)
    if model.trained_on_sample_ is None and bound:
        echo(f"  per-feature CDF within {bound:.3g} of a fit on all rows (quantile sketch)")
