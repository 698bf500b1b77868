"""``pynomaly nab run``: run a detector over a NAB corpus and write NAB's results layout."""

from __future__ import annotations

from pathlib import Path

import typer


def add_run_command(nab_app: typer.Typer) -> None:
    @nab_app.command("run")
    def run(
        detector: str = typer.Argument(..., help="An online detector (`pynomaly detectors list --kind timeseries`)."),
        corpus: Path = typer.Option(..., "--corpus", help="NAB corpus folder (data/, labels/combined_windows.json)."),
        output: Path = typer.Option(..., "--output", "-o", help="Results folder: writes <name>/<category>/"
                                    "<name>_<series>.csv with an anomaly_score column."),
        param: list[str] = typer.Option(None, "--param", "-p", help="Detector parameter key=value (repeatable)."),
        name: str | None = typer.Option(None, "--name", help="Results name (default: the detector's short name)."),
    ) -> None:
        """Walk each series once in time order, scoring each record before learning it; no labels are read."""
        from pynomaly_core.cli.output import echo
        from pynomaly_core.cli.params import parse_params
        from pynomaly_core.errors import InputError
        from pynomaly_core.registry import get_registry
        from pynomaly_core.timeseries.nab import load_corpus, write_scores
        from pynomaly_core.timeseries.nab_run import run_corpus

        if output.exists() and not output.is_dir():
            raise InputError(f"{output}: exists and is not a folder")
        spec = get_registry().detector(detector)
        results_name = name or spec.name
        nab = load_corpus(corpus)
        scores, seconds = run_corpus(nab, spec.qualified_name, parse_params(param))
        output.mkdir(parents=True, exist_ok=True)
        written = write_scores(output, results_name, scores)
        rows = sum(s.size for s in scores.values())
        echo(f"{spec.qualified_name}: {len(written)} series, {rows} records in {seconds:.1f}s "
             f"({rows / max(seconds, 1e-9):,.0f} records/s); wrote {output / results_name}")
        echo(f"score it: pynomaly nab score {output} --corpus {corpus} --detectors {results_name}")
