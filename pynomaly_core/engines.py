"""Scale-out engines for ``pynomaly score --engine NAME``, contributed by plugins.

An engine is the plugin of that name (``dask`` from ``plugins/pynomaly-dask``, ``spark`` from
``plugins/pynomaly-spark``) whose entry-point module sets ``SCORE_ENGINE = "module:function"``: a string, so the core
never imports Dask or PySpark until the engine is used. The function is called as
``score(model, data, output, *, scheduler, columns, top)`` and returns the summary ``pynomaly score`` prints.
``output`` is a :class:`~pathlib.Path`, or the string itself when it is a URL with a scheme (``s3://…``); an engine
that reads and writes such URLs also takes ``storage_options`` (a dict, from ``--storage-option key=value``).
The allow and block lists of plugins (``PYNOMALY_LOAD_PLUGINS``, ``PYNOMALY_DISABLE_PLUGINS``) apply to engines too.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pynomaly_core.errors import InputError
from pynomaly_core.specs import resolve_target

#: The first-party engines and the extra of the core that installs each (for the message when one is missing).
EXTRAS = {"dask": "dask", "spark": "spark"}
LOCAL = "local"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


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


def is_url(path: object) -> bool:
    """Whether ``path`` is a URL with a scheme (``s3://bucket/key``), not a local path."""
    return isinstance(path, str) and bool(_URL.match(path))


def engine_output(output: str | None) -> Path | str | None:
    """``--output`` for an engine: a URL with a scheme stays a string (``Path`` would fold its ``//``)."""
    if output is None:
        return None
    return output if is_url(output) else Path(output)


def engine_storage_options(name: str, run: Callable[..., Any], output: Path | str | None,
                           items: list[str] | None) -> dict[str, Any]:
    """``{"storage_options": {...}}`` from ``--storage-option`` items for an engine that takes them, else ``{}``;
    :class:`InputError` when the engine does not take them and they, or an output URL, were given."""
    from pynomaly_core.cli.params import parse_params

    if "storage_options" in inspect.signature(run).parameters:
        return {"storage_options": parse_params(items, flag="--storage-option")} if items else {}
    if items:
        raise InputError(f"--engine {name} does not take --storage-option")
    if isinstance(output, str):
        raise InputError(f"{output}: --engine {name} writes to local paths only")
    return {}


@contextlib.contextmanager
def staged_directory(output: Path | None, leftovers: str | None = None) -> Iterator[Path | None]:
    """For an engine's Parquet dataset: a directory next to ``output`` that the tasks write into and that replaces
    ``output`` only when the block ends without an error (else it is removed and ``output`` is left as it was).
    ``leftovers``: a glob of files in it to delete first (a retried task's partial files)."""
    if output is None:
        yield None
        return
    output = Path(output).absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        yield staging
        for leftover in staging.glob(leftovers) if leftovers else ():
            leftover.unlink()
        if output.exists():
            shutil.rmtree(output) if output.is_dir() else output.unlink()
        os.replace(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
