"""Options shared by several commands, each defined once."""

from __future__ import annotations

import typer

DATA = typer.Argument(..., help="Data file or URL (CSV, NPY, NPZ or any format a plugin loads).")
MODEL = typer.Argument(..., metavar="MODEL", help="A directory written by `pynomaly train -o`, or NAME[@VERSION] "
                       "from the model store.")
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
DETECTOR = typer.Option("ecod", "--detector", "-d", help="Detector name (see `pynomaly detectors list`).")
PARAM = typer.Option(None, "--param", "-p", help="Detector parameter key=value (repeatable).")
CONTAMINATION = typer.Option(None, "--contamination", help="Expected anomaly fraction.")
TRUST = typer.Option(False, "--trust", help="Allow pickle artefacts (only for models you trust).")
TIMESTAMP = typer.Option(None, "--timestamp", help="Timestamp column: treat the data (CSV/TSV, Parquet, or a SQL URL "
                         "with --table/--query or ?table=) as a time series (time order checked; one score per row).")
SORT = typer.Option(False, "--sort", help="With --timestamp: sort rows by time instead of rejecting disorder.")
STRICT = typer.Option(False, "--strict", help="Exit with code 1 when any plugin is broken.")


def enforce_strict(strict: bool) -> None:
    """``--strict``: fail (exit 1, via :class:`PluginLoadError`) when any installed plugin is broken."""
    if strict:
        from pynomaly_core.registry import get_registry

        get_registry().raise_if_broken()
