"""The hook specifications of pynomaly: what a plugin can contribute.

One registration hook per kind of contribution in :data:`pynomaly_core.kinds.KINDS` (``register_detectors``,
``register_loaders``, ``register_explainers``, ``register_drift_tests``), plus ``register_commands``. A
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

Hooks are called through pluggy, one plugin at a time (a plugin that raises is isolated): ``tryfirst``/``trylast``
and ``wrapper=True`` implementations order and wrap a plugin's own implementations, and
``PluginManager.add_hookcall_monitoring`` sees every call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

from pynomaly_core.kinds import KINDS, ContributionKind

PROJECT_NAME = "pynomaly"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


def _registration_hook(kind: ContributionKind) -> Callable[..., Any]:
    def register_contributions(register):
        pass

    register_contributions.__name__ = register_contributions.__qualname__ = kind.hook
    register_contributions.__doc__ = (f"Register {kind.plural.replace('_', ' ')}: call "
                                      f"``register({kind.spec_type.__name__}(...))`` once per {kind.label}.")
    return hookspec(register_contributions)


for _kind in KINDS:
    globals()[_kind.hook] = _registration_hook(_kind)


@hookspec
def register_commands(cli):
    """Add CLI subcommands: ``cli`` is the root Typer app (``@cli.command()`` or ``cli.add_typer``)."""


#: Every hook name, registration hooks first.
HOOK_NAMES: tuple[str, ...] = (*(kind.hook for kind in KINDS), "register_commands")
