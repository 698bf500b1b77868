"""The hook specifications of pynomaly: what a plugin can contribute.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names match the specs below. Each
registration hook receives a ``register`` callback; call it once per contribution with a spec object from
:mod:`pynomaly_core.specs`. Specs name their code as ``"module:attr"`` strings, so registering a plugin never
imports its framework::

    from pynomaly_core import hookimpl
    from pynomaly_core.specs import DetectorSpec

    @hookimpl
    def register_detectors(register):
        register(DetectorSpec(
            name="iforest",
            summary="Isolation forest from my library.",
            target="my_plugin.detectors:IsolationForestDetector",
            params={"n_estimators": 100, "contamination": 0.1, "random_state": None},
            capabilities={"save", "deterministic_with_seed"},
        ))
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "pynomaly"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_detectors(register):
    """Register detectors: call ``register(DetectorSpec(...))`` once per detector."""


@hookspec
def register_loaders(register):
    """Register data loaders: call ``register(LoaderSpec(...))`` once per loader."""


@hookspec
def register_explainers(register):
    """Register explainers: call ``register(ExplainerSpec(...))`` once per explainer."""


@hookspec
def register_drift_tests(register):
    """Register drift tests: call ``register(DriftTestSpec(...))`` once per test."""


@hookspec
def register_commands(cli):
    """Add CLI subcommands: ``cli`` is the root Typer app (``@cli.command()`` or ``cli.add_typer``)."""
