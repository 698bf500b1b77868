"""Scale-out engines for ``pynomaly score --engine NAME``, contributed by plugins.

An engine is the plugin of that name (``dask`` from ``plugins/pynomaly-dask``, ``spark`` from
``plugins/pynomaly-spark``) whose entry-point module sets ``SCORE_ENGINE = "module:function"``: a string, so the core
never imports Dask or PySpark until the engine is used. The function is called as
``score(model, data, output, *, scheduler, columns, top)`` and returns the summary ``pynomaly score`` prints.
The allow and block lists of plugins (``PYNOMALY_LOAD_PLUGINS``, ``PYNOMALY_DISABLE_PLUGINS``) apply to engines too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynomaly_core.errors import InputError
from pynomaly_core.specs import resolve_target

#: The first-party engines and the extra of the core that installs each (for the message when one is missing).
EXTRAS = {"dask": "dask", "spark": "spark"}
LOCAL = "local"


def engine_target(name: str) -> str:
    """The ``"module:function"`` the plugin ``name`` declares; :class:`InputError` naming what to install."""
    from pynomaly_core.registry import get_registry

    record = get_registry().plugins.get(name)
    target = getattr(record.module, "SCORE_ENGINE", None) if record is not None and record.ok else None
    if isinstance(target, str):
        return target
    if record is not None and not record.ok:
        raise InputError(f"engine {name!r}: plugin {name!r} failed to load ({record.error})")
    if name in EXTRAS:
        raise InputError(f"engine {name!r} is not installed: install the extra 'pynomaly[{EXTRAS[name]}]' "
                         f"(plugins/pynomaly-{name})")
    known = sorted({LOCAL, *EXTRAS, *available()})
    raise InputError(f"unknown engine {name!r}; known: {', '.join(known)}")


def available() -> list[str]:
    """Names of the installed engines (besides ``local``)."""
    from pynomaly_core.registry import get_registry

    return sorted(name for name, record in get_registry().plugins.items()
                  if record.ok and isinstance(getattr(record.module, "SCORE_ENGINE", None), str))


def resolve_engine(name: str) -> Callable[..., dict[str, Any]]:
    """The scoring function of engine ``name`` (this imports the engine's framework)."""
    return resolve_target(engine_target(name))
