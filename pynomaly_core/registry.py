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
from pynomaly_core.plugins import (
    BUILTIN_PLUGIN,
    PluginRecord,
    PluginSource,
    call_command_hooks,
    discover,
    load_plugin,
    new_plugin_manager,
)
from pynomaly_core.specs import DetectorSpec, DriftTestSpec, ExplainerSpec, LoaderSpec, Spec

KINDS = ("detector", "loader", "explainer", "drift_test")
_KIND_LABELS = {"detector": "detector", "loader": "loader", "explainer": "explainer", "drift_test": "drift test"}


class Registry:
    """Plugins and their contributions. Build one with :meth:`from_sources` or use :func:`get_registry`."""

    def __init__(self) -> None:
        self.plugin_manager = new_plugin_manager()
        self.plugins: dict[str, PluginRecord] = {}
        self._specs: dict[str, dict[str, Spec]] = {kind: {} for kind in KINDS}

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

    # -- queries ---------------------------------------------------------------------------------------------
    def specs(self, kind: str, plugin: str | None = None, data_kind: str | None = None) -> list[Spec]:
        found = self._specs[kind].values()
        return sorted(
            (s for s in found if (plugin is None or s.plugin == plugin)
             and (data_kind is None or data_kind in s.data_kinds)),
            key=lambda s: s.qualified_name,
        )

    def detectors(self, plugin: str | None = None, data_kind: str | None = None) -> list[DetectorSpec]:
        return self.specs("detector", plugin, data_kind)  # type: ignore[return-value]

    def loaders(self) -> list[LoaderSpec]:
        return self.specs("loader")  # type: ignore[return-value]

    def explainers(self) -> list[ExplainerSpec]:
        return self.specs("explainer")  # type: ignore[return-value]

    def drift_tests(self) -> list[DriftTestSpec]:
        return self.specs("drift_test")  # type: ignore[return-value]

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
        label = _KIND_LABELS[kind]
        key = name.strip().lower()
        specs = self._specs[kind]
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

    def detector(self, name: str) -> DetectorSpec:
        return self.resolve("detector", name)  # type: ignore[return-value]

    def add_commands(self, cli: Any) -> None:
        """Call every plugin's ``register_commands`` hook on the root Typer app."""
        call_command_hooks(self.plugin_manager, self.plugins.values(), cli)


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
