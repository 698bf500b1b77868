"""Candidate detectors for AutoML: the ones installed, from a fixed pool (no framework imported to list them)."""

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


#: Default-parameter detectors for unsupervised selection: fast and diverse (density, distance, isolation,
#: clustering, covariance); the PyOD ones are used only when that plugin is installed. Models whose defaults depend
#: on the feature scale (OCSVM's gamma, PCA's components, LODA's bins) are left to the supervised search: with raw
#: features they often give constant scores, which then dilute the consensus (measured in
#: ``benchmarks/bench_ensemble_automl.py``).
UNSUPERVISED_POOL: tuple[Candidate, ...] = tuple(Candidate(n) for n in (
    "builtin.ecod", "builtin.hbos", "builtin.mahalanobis", "pyod.iforest", "pyod.inne", "pyod.copod", "pyod.knn",
    "pyod.lof", "pyod.gmm", "pyod.cblof",
))

#: Grid for the supervised search: defaults first (so a short budget still covers every family), then variants.
SUPERVISED_GRID: tuple[Candidate, ...] = (
    *UNSUPERVISED_POOL,
    *(Candidate(n) for n in ("pyod.ocsvm", "pyod.pca", "pyod.loda", "builtin.robust_zscore")),
    Candidate("builtin.ensemble"),
    *(Candidate("builtin.hbos", {"n_bins": b}) for b in (5, 20, 50)),
    Candidate("builtin.robust_zscore", {"aggregate": "mean"}),
    *(Candidate("pyod.knn", {"n_neighbors": k, "method": m}) for k in (10, 20, 50) for m in ("largest", "mean")),
    *(Candidate("pyod.lof", {"n_neighbors": k}) for k in (10, 50)),
    *(Candidate("pyod.iforest", {"n_estimators": n, "max_features": f}) for n in (300,) for f in (0.5, 1.0)),
    *(Candidate("pyod.ocsvm", {"nu": nu}) for nu in (0.1, 0.9)),
    *(Candidate("builtin.ensemble", {"normalization": nm, "combination": c})
      for nm in ("rank", "zscore") for c in ("average", "maximum", "aom") if (nm, c) != ("zscore", "average")),
)


def installed(candidates: tuple[Candidate, ...] | list[Candidate]) -> list[Candidate]:
    """The candidates whose detector is registered (with a registered plugin, not a broken one)."""
    from pynomaly_core.registry import get_registry

    registry = get_registry()
    names = {spec.qualified_name for spec in registry.detectors()}
    return [c for c in candidates if c.name in names]


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
