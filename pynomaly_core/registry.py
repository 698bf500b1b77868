"""The registry: every contribution of every working plugin, addressed by qualified name.

Names: ``<plugin>.<name>`` always works (``builtin.ecod``, ``pyod.iforest``). A short name (``ecod``) resolves
when exactly one plugin has it, or when the built-in plugin is one of them, so ``ecod`` stays the fast built-in
even with PyOD installed. Anything else is an :class:`UnknownNameError` listing the candidates or close matches.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable
from typing import Any

from pynomaly_core.errors import PluginLoadError, UnknownNameError
from pynomaly_core.kinds import KINDS, ContributionKind, kind_of
from pynomaly_core.plugins import (
    BUILTIN_PLUGIN,
    PluginRecord,
    PluginSource,
    call_command_hooks,
    discover,
    load_plugin,
    new_plugin_manager,
)
from pynomaly_core.specs import Spec


class Registry:
    """Plugins and their contributions. Build one with :meth:`from_sources` or use :func:`get_registry`."""

    def __init__(self) -> None:
        self.plugin_manager = new_plugin_manager()
        self.plugins: dict[str, PluginRecord] = {}
        self._specs: dict[str, dict[str, Spec]] = {kind.key: {} for kind in KINDS}

    @classmethod
    def from_sources(cls, sources: Iterable[PluginSource]) -> Registry:
        registry = cls()
        for source in sources:
            registry.add_source(source)
        return registry

    def add_source(self, source: PluginSource) -> PluginRecord:
        """Load one plugin in isolation and add its contributions (or its error)."""
        record, specs = load_plugin(self.plugin_manager, source, taken=set(self.plugins))
        key = source.name if source.name not in self.plugins else f"{source.name} ({source.distribution})"
        self.plugins[key] = record
        for spec in specs:
            self._specs[spec.kind][spec.qualified_name] = spec
        return record

    def add_plugin(self, plugin: object, name: str, distribution: str = "(in-process)",
                   version: str = "0") -> PluginRecord:
        """Register a plugin object or module directly (tests, notebooks)."""
        return self.add_source(PluginSource(name, distribution, version, lambda: plugin))

    # -- queries (``detectors()``/``detector(name)``, ``loaders()``/``loader(name)``, …: one pair per kind) ----------
    def specs(self, kind: str, plugin: str | None = None, data_kind: str | None = None) -> list[Spec]:
        """The contributions of ``kind`` (a :data:`~pynomaly_core.kinds.KINDS` key), sorted by qualified name."""
        found = self._specs[kind_of(kind).key].values()
        return sorted(
            (s for s in found if (plugin is None or s.plugin == plugin)
             and (data_kind is None or data_kind in s.data_kinds)),
            key=lambda s: s.qualified_name,
        )

    def spec_of_class(self, cls: type) -> Spec | None:
        """The detector spec whose ``target`` is ``cls`` (``module:QualName``), or ``None``."""
        target = f"{cls.__module__}:{cls.__qualname__}"
        return next((spec for spec in self._specs["detector"].values() if spec.target == target), None)

    def spec_of(self, detector: Any) -> Spec | None:
        """The detector spec an instance was created from: by the ``qualified_name`` its class declares, else by
        its class path; ``None`` for a class that is not registered."""
        declared = declared_name(type(detector))
        if declared and declared in self._specs["detector"]:
            return self._specs["detector"][declared]
        return self.spec_of_class(type(detector))

    def broken(self) -> list[PluginRecord]:
        return [record for record in self.plugins.values() if not record.ok]

    def raise_if_broken(self) -> None:
        """Strict mode: fail when any plugin is broken."""
        broken = self.broken()
        if broken:
            details = "; ".join(f"{r.name}: {r.error}" for r in broken)
            raise PluginLoadError(f"{len(broken)} broken plugin(s): {details}")

    def resolve(self, kind: str, name: str) -> Spec:
        """Find the spec for a qualified or short name, or raise :class:`UnknownNameError`."""
        label = kind_of(kind).label
        key = name.strip().lower()
        specs = self._specs[kind_of(kind).key]
        if key in specs:
            return specs[key]
        candidates = [spec for spec in specs.values() if spec.name == key]
        if len(candidates) == 1:
            return candidates[0]
        builtin = [spec for spec in candidates if spec.plugin == BUILTIN_PLUGIN]
        if builtin:
            return builtin[0]
        if candidates:
            names = sorted(spec.qualified_name for spec in candidates)
            raise UnknownNameError(f"{label} name {name!r} is ambiguous: use one of {', '.join(names)}", names)
        everything = list(specs) + sorted({spec.name for spec in specs.values()})
        close = difflib.get_close_matches(key, everything, n=5, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; see `pynomaly {label.replace(' ', '-')}s list`"
        broken = [r.name for r in self.broken() if key.split(".")[0] == r.name]
        if broken:
            hint += f" (plugin {broken[0]!r} failed to load: {self.plugins[broken[0]].error})"
        raise UnknownNameError(f"unknown {label} {name!r}{hint}", close)

    def add_commands(self, cli: Any) -> None:
        """Call every plugin's ``register_commands`` hook on the root Typer app."""
        call_command_hooks(self.plugin_manager, self.plugins.values(), cli)


def declared_name(cls: type) -> str:
    """The ``qualified_name`` string a detector class (or a base) sets, ``""`` when none does."""
    for klass in cls.__mro__:
        value = klass.__dict__.get("qualified_name")
        if isinstance(value, str):
            return value
    return ""


def _lister(kind: ContributionKind) -> Any:
    def specs(self: Registry, plugin: str | None = None, data_kind: str | None = None) -> list[Spec]:
        return self.specs(kind.key, plugin, data_kind)

    specs.__name__ = specs.__qualname__ = kind.plural
    specs.__doc__ = f"The registered {kind.plural.replace('_', ' ')}, optionally of one plugin or data kind."
    return specs


def _resolver(kind: ContributionKind) -> Any:
    def resolve(self: Registry, name: str) -> Spec:
        return self.resolve(kind.key, name)

    resolve.__name__ = resolve.__qualname__ = kind.key
    resolve.__doc__ = f"The {kind.label} a qualified or short name names (see :meth:`Registry.resolve`)."
    return resolve


for _kind in KINDS:
    setattr(Registry, _kind.plural, _lister(_kind))
    setattr(Registry, _kind.key, _resolver(_kind))

_lock = threading.Lock()
_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, built on first use from the installed entry points."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = Registry.from_sources(discover())
        return _registry


def set_registry(registry: Registry | None) -> Registry | None:
    """Replace the process-wide registry (``None`` rebuilds it on next use); returns the previous one."""
    global _registry
    with _lock:
        previous, _registry = _registry, registry
        return previous
