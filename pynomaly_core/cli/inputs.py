"""What a command reads: the dataset a loader gives for the command-line options, and the detector to run."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from pynomaly_core.cli.params import parse_params


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


def detector_params(param: list[str] | None, contamination: float | None) -> dict[str, Any]:
    """``--param key=value`` options with ``--contamination`` folded in."""
    params = parse_params(param)
    if contamination is not None:
        params["contamination"] = contamination
    return params


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
