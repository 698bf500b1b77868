"""Candidate detectors for AutoML, from the presets and search spaces the plugins declare (nothing is imported to
list them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Candidate:
    """A detector name with parameters; ``label`` is how the leaderboard shows it."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}(" + ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items())) + ")"

    def as_member(self) -> Any:
        """The entry of an ensemble's ``detectors`` list for this candidate."""
        return {"name": self.name, "params": dict(self.params)} if self.params else self.name


PRESET = "automl"


def unsupervised_pool(registry: Any = None) -> list[Candidate]:
    """Every registered tabular detector whose spec declares the ``automl`` preset, with its parameters, by name.

    Each plugin declares its own candidates (the core names none). The first-party presets leave out models whose
    defaults depend on the feature scale (OCSVM's gamma, PCA's components, LODA's bins): with raw features they often
    give constant scores, which dilute the consensus; they take part in the supervised search through their
    ``search_space``.
    """
    registry = _registry(registry)
    return [Candidate(spec.qualified_name, dict(spec.presets[PRESET]))
            for spec in registry.detectors(data_kind="tabular") if PRESET in spec.presets]


def supervised_grid(registry: Any = None) -> list[Candidate]:
    """The supervised search's candidates: the unsupervised pool first (so a short budget still covers every family),
    then, for every tabular detector with a ``search_space``, its preset (or defaults) and each one-parameter change
    of it to a listed value."""
    registry = _registry(registry)
    grid = unsupervised_pool(registry)
    seen = {c.label for c in grid}
    for spec in registry.detectors(data_kind="tabular"):
        if not spec.search_space:
            continue
        base = dict(spec.presets.get(PRESET, {}))
        variants = [Candidate(spec.qualified_name, base)]
        for pname, values in spec.search_space.items():
            variants += [Candidate(spec.qualified_name, {**base, pname: value}) for value in values
                         if value != base.get(pname, spec.params[pname])]
        for candidate in variants:
            if candidate.label not in seen:
                seen.add(candidate.label)
                grid.append(candidate)
    return grid


def _registry(registry: Any) -> Any:
    if registry is None:
        from pynomaly_core.registry import get_registry

        registry = get_registry()
    return registry


def parse_candidates(items: list[Any]) -> list[Candidate]:
    """Candidates from user input: names or ``{"name": ..., "params": {...}}``."""
    from pynomaly_core.errors import InputError
    from pynomaly_core.registry import get_registry

    registry = get_registry()
    result = []
    for position, item in enumerate(items):
        if isinstance(item, Candidate):
            result.append(item)
            continue
        if isinstance(item, str):
            name, params = item, {}
        elif isinstance(item, dict) and isinstance(item.get("name"), str):
            name, params = item["name"], dict(item.get("params") or {})
        else:
            raise InputError(f"automl: candidate {position} must be a detector name or {{'name', 'params'}}")
        result.append(Candidate(registry.detector(name).qualified_name, params))
    if not result:
        raise InputError("automl: no candidates")
    return result
