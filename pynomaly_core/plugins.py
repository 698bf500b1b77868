"""Plugin discovery and loading: entry points of group ``pynomaly``, each loaded in isolation.

A plugin that fails to import, raises in a hook, returns an invalid spec or registers a name twice becomes a
:class:`PluginRecord` with an ``error``; its contributions are discarded and every other plugin keeps working.

Environment:
    ``PYNOMALY_LOAD_PLUGINS=a,b``   load only these plugins (entry-point or distribution names); empty: built-ins only
    ``PYNOMALY_DISABLE_PLUGINS=c``  never load these
    ``PYNOMALY_TRACE_PLUGINS=1``    print every hook call and the plugins it runs to stderr (pluggy's call monitoring)
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import pluggy

from pynomaly_core import hookspecs
from pynomaly_core.errors import InvalidSpecError
from pynomaly_core.hookspecs import HOOK_NAMES
from pynomaly_core.kinds import KINDS
from pynomaly_core.specs import Spec

ENTRY_POINT_GROUP = "pynomaly"
BUILTIN_PLUGIN = "builtin"
BUILTIN_MODULE = "pynomaly_core.builtin.plugin"
LOAD_ENV = "PYNOMALY_LOAD_PLUGINS"
DISABLE_ENV = "PYNOMALY_DISABLE_PLUGINS"
TRACE_ENV = "PYNOMALY_TRACE_PLUGINS"

_PLUGIN_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class PluginSource:
    """Where a plugin comes from: its name, distribution and a callable that imports it."""

    name: str
    distribution: str
    version: str
    load: Callable[[], Any]


@dataclass
class PluginRecord:
    """One row of ``pynomaly plugins list``: the plugin, what it contributed and whether it works."""

    name: str
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    load_time_s: float = 0.0
    error: str | None = None
    module: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> str:
        return "ok" if self.error is None else f"error: {self.error}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "distribution": self.distribution,
            "hooks": list(self.hooks),
            **{kind.plural: self.counts.get(kind.key, 0) for kind in KINDS},
            "load_time_ms": round(self.load_time_s * 1000, 2),
            "status": "ok" if self.error is None else "error",
            "error": self.error,
        }


def _env_names(var: str) -> set[str] | None:
    value = os.environ.get(var)
    if value is None:
        return None
    return {_normalise(part) for part in value.split(",") if part.strip()}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def discover() -> list[PluginSource]:
    """Plugins advertised through the ``pynomaly`` entry-point group, filtered by the environment lists."""
    from importlib.metadata import entry_points

    allow = _env_names(LOAD_ENV)
    block = _env_names(DISABLE_ENV) or set()
    sources: list[PluginSource] = []
    seen_builtin = False
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist
        dist_name = dist.metadata["Name"] if dist is not None else "unknown"
        version = dist.version if dist is not None else "unknown"
        keys = {_normalise(ep.name), _normalise(dist_name)}
        is_builtin = ep.name == BUILTIN_PLUGIN and ep.value == BUILTIN_MODULE
        seen_builtin = seen_builtin or is_builtin
        if keys & block:
            continue
        if allow is not None and not is_builtin and not keys & allow:
            continue
        sources.append(PluginSource(ep.name, dist_name, version, ep.load))
    if not seen_builtin and BUILTIN_PLUGIN not in block:
        # Running from a source tree without installed metadata: register the built-ins the same way.
        sources.insert(0, builtin_source())
    return sources


def builtin_source() -> PluginSource:
    """The built-in plugin as a source (used when its entry point is not installed, and by tests)."""
    import importlib

    from pynomaly_core import __version__

    return PluginSource(BUILTIN_PLUGIN, "pynomaly", __version__, lambda: importlib.import_module(BUILTIN_MODULE))


def new_plugin_manager() -> pluggy.PluginManager:
    """A plugin manager with pynomaly's hook specs (``PYNOMALY_TRACE_PLUGINS=1`` traces every hook call to stderr)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if os.environ.get(TRACE_ENV):
        pm.add_hookcall_monitoring(_trace_before, _trace_after)
    return pm


def _trace_before(hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
    plugins = ", ".join(dict.fromkeys(impl.plugin_name for impl in impls)) or "(none)"
    sys.stderr.write(f"pynomaly: hook {hook_name} -> {plugins}\n")


def _trace_after(outcome: Any, hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
    if outcome.exception is not None:
        sys.stderr.write(f"pynomaly: hook {hook_name} raised {type(outcome.exception).__name__}: "
                         f"{outcome.exception}\n")


def plugin_hook(pm: pluggy.PluginManager, plugin_name: str, hook_name: str) -> Any:
    """The hook ``hook_name`` restricted to one plugin's implementations: called through pluggy (ordering, wrappers
    and call monitoring apply), while an exception stays that plugin's own."""
    others = [plugin for name, plugin in pm.list_name_plugin() if name != plugin_name and plugin is not None]
    return pm.subset_hook_caller(hook_name, remove_plugins=others)


def load_plugin(pm: pluggy.PluginManager, source: PluginSource, taken: set[str]) -> tuple[PluginRecord, list[Spec]]:
    """Import one plugin, register it and collect its specs; any failure is recorded, never raised."""
    record = PluginRecord(source.name, source.distribution, source.version)
    specs: list[Spec] = []
    start = time.perf_counter()
    try:
        if not _PLUGIN_NAME_RE.match(source.name):
            raise InvalidSpecError(f"plugin name {source.name!r} must match [a-z][a-z0-9_]*")
        if source.name in taken:
            raise InvalidSpecError(f"plugin name {source.name!r} is already used by another distribution")
        module = source.load()
        _register(pm, module, source.name)
        record.module = module
        record.hooks = sorted(caller.name for caller in pm.get_hookcallers(module) or [])
        for kind in KINDS:
            if kind.hook in record.hooks:
                plugin_hook(pm, source.name, kind.hook)(register=_collector(source.name, kind.spec_type, specs))
    except Exception as exc:  # isolation: one broken plugin must not take the others down
        record.error = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        specs = []
        if pm.get_plugin(source.name) is not None:
            pm.unregister(name=source.name)
    record.load_time_s = time.perf_counter() - start
    for spec in specs:
        record.counts[spec.kind] = record.counts.get(spec.kind, 0) + 1
    return record, specs


def call_command_hooks(pm: pluggy.PluginManager, records: Iterable[PluginRecord], cli: Any) -> None:
    """Let every working plugin add CLI commands; a plugin that raises is marked broken."""
    for record in records:
        if not record.ok or "register_commands" not in record.hooks:
            continue
        try:
            plugin_hook(pm, record.name, "register_commands")(cli=cli)
        except Exception as exc:
            record.error = f"{type(exc).__name__} in register_commands: {exc}".splitlines()[0]


def _register(pm: pluggy.PluginManager, module: Any, name: str) -> None:
    """``pm.register`` then pluggy's ``check_pending``: an implementation of a hook that does not exist (a typo)
    is an :class:`InvalidSpecError` naming it, with the closest hook name."""
    try:
        pm.register(module, name=name)
    except pluggy.PluginValidationError as exc:
        raise InvalidSpecError(str(exc).splitlines()[0]) from None
    try:
        pm.check_pending()
    except pluggy.PluginValidationError:
        unknown = sorted(caller.name for caller in pm.get_hookcallers(module) or [] if caller.spec is None)
        close = difflib.get_close_matches(unknown[0], HOOK_NAMES, n=1) if unknown else []
        hint = f" (did you mean {close[0]!r}?)" if close else f"; hooks are {', '.join(HOOK_NAMES)}"
        raise InvalidSpecError(f"unknown hook {unknown[0] if unknown else '?'!r}{hint}") from None


def _collector(plugin: str, spec_type: type[Spec], out: list[Spec]) -> Callable[[Spec], None]:
    names: set[str] = set()

    def register(spec: Spec) -> None:
        if not isinstance(spec, spec_type):
            raise InvalidSpecError(
                f"expected a {spec_type.__name__}, got {type(spec).__name__}: {spec!r}"[:300]
            )
        if spec.name in names:
            raise InvalidSpecError(f"{spec.kind} {spec.name!r} is registered twice")
        names.add(spec.name)
        out.append(replace(spec, plugin=plugin))

    return register
