"""Entry point of the ``dask`` plugin: the engine of ``pynomaly score --engine dask`` and the ``pynomaly dask``
commands, named as strings (Dask is imported only when they run)."""

from __future__ import annotations

from pynomaly_core.hookspecs import hookimpl

#: ``pynomaly score --engine dask`` (see :mod:`pynomaly_core.engines`).
SCORE_ENGINE = "pynomaly_dask.engine:score"


@hookimpl
def register_commands(cli):
    from pynomaly_dask.commands import app

    cli.add_typer(app, name="dask")
