"""``ensemble``: any registered detectors fitted on the same data, scores normalised and combined.

Members are names (``"ecod"``, ``"pyod.inne"``) or ``{"name": ..., "params": {...}, "optional": bool}``. They are
created through the registry, so anything usable by name can be a member. An *optional* member whose plugin is not
installed is skipped with an :class:`EnsembleMemberWarning`; a missing required member is an error.

``detectors=None`` (the default) takes the *default members*: every installed detector whose spec declares the
``default_ensemble`` preset, with that preset's parameters. Each plugin contributes its own (the core names none);
``pynomaly detectors show ensemble`` lists what they resolve to. The presets shipped by the core and the first-party
plugins were chosen by cross-validation over datasets (``benchmarks/bench_defaults.py``). A default member that cannot
fit the data at hand (too few rows for its neighbourhood, a constant column) is left out with an
:class:`EnsembleMemberWarning`; a member the user named is never dropped silently.

Normalisation statistics come from each member's training scores: ``zscore`` (mean, standard deviation),
``minmax`` (minimum, maximum) or ``rank`` (the empirical CDF of the training scores, mid-ranks for ties).
Combination: ``average``, ``maximum``, ``aom`` (average of the maxima of ``n_buckets`` random buckets of members)
and ``moa`` (maximum of the bucket averages) (Aggarwal & Sathe, 2015).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.base import BaseDetector
from pynomaly_core.errors import InputError, IntegrityError, PynomalyError, UnknownNameError
from pynomaly_core.pipeline import qualified_name_of

PRESET = "default_ensemble"
NORMALIZATIONS = ("zscore", "rank", "minmax")
COMBINATIONS = ("average", "maximum", "aom", "moa")
MEMBERS_FILE = "members.json"
STATE_FILE = "ensemble.npz"


class EnsembleMemberWarning(UserWarning):
    """An optional ensemble member is not installed, or a default member cannot fit the data: it was skipped."""


def default_members(registry: Any = None) -> list[dict[str, Any]]:
    """The default members: ``{"name", "params"}`` of every registered detector with the ``default_ensemble``
    preset, by qualified name."""
    if registry is None:
        from pynomaly_core.registry import get_registry

        registry = get_registry()
    return [{"name": spec.qualified_name, "params": dict(spec.presets[PRESET])}
            for spec in registry.detectors() if PRESET in spec.presets]


def parse_member(item: Any, position: int) -> tuple[str, dict[str, Any], bool]:
    """``(name, params, optional)`` of one entry of ``detectors``."""
    if isinstance(item, str):
        return item, {}, False
    if isinstance(item, dict) and isinstance(item.get("name"), str):
        unknown = set(item) - {"name", "params", "optional"}
        params = item.get("params") or {}
        if unknown or not isinstance(params, dict):
            raise InputError(f"ensemble: detectors[{position}] may only have keys name, params (a dict), optional")
        return item["name"], dict(params), bool(item.get("optional", False))
    raise InputError(f"ensemble: detectors[{position}] must be a name or {{'name': ..., 'params': {{...}}}}, "
                     f"got {item!r}")


def normalize(scores: np.ndarray, method: str, stats: np.ndarray) -> np.ndarray:
    """Scores mapped with statistics from :func:`fit_normalization` (``stats``: sorted training scores for rank)."""
    if method == "zscore":
        return (scores - stats[0]) / stats[1]
    if method == "minmax":
        return (scores - stats[0]) / stats[1]
    below = np.searchsorted(stats, scores, side="left")
    at_or_below = np.searchsorted(stats, scores, side="right")
    return (below + at_or_below) / (2.0 * stats.size)


def fit_normalization(train_scores: np.ndarray, method: str) -> np.ndarray:
    """Statistics of ``method`` from training scores (a zero spread is replaced by 1)."""
    if method == "zscore":
        spread = float(np.std(train_scores))
        return np.array([float(np.mean(train_scores)), spread if spread > 0 else 1.0])
    if method == "minmax":
        low, high = float(np.min(train_scores)), float(np.max(train_scores))
        return np.array([low, high - low if high > low else 1.0])
    return np.sort(train_scores)


def combine(matrix: np.ndarray, method: str, buckets: np.ndarray) -> np.ndarray:
    """Combine normalised scores (rows × members); ``buckets[j]`` is member ``j``'s bucket (AOM/MOA)."""
    if method == "average":
        return matrix.mean(axis=1)
    if method == "maximum":
        return matrix.max(axis=1)
    groups = [matrix[:, buckets == b] for b in np.unique(buckets)]
    if method == "aom":
        return np.mean([g.max(axis=1) for g in groups], axis=0)
    return np.max([g.mean(axis=1) for g in groups], axis=0)


class Ensemble(BaseDetector):
    """Score-normalising combination of registered detectors (see the module docstring)."""

    qualified_name = "builtin.ensemble"

    def __init__(self, detectors: list[Any] | None = None, normalization: str = "zscore",
                 combination: str = "average", n_buckets: int = 2, contamination: float = 0.1,
                 random_state: int | None = None):
        self.detectors = detectors
        self.normalization = normalization
        self.combination = combination
        self.n_buckets = n_buckets
        self.contamination = contamination
        self.random_state = random_state

    @classmethod
    def describe_defaults(cls) -> dict[str, Any]:
        """What ``detectors=None`` resolves to with the plugins installed now (``pynomaly detectors show``)."""
        return {"detectors": default_members()}

    def _members(self) -> list[tuple[Any, bool]]:
        """Unfitted members with whether the user named them (optional ones not installed are skipped with a
        warning)."""
        from pynomaly_core.registry import get_registry
        from pynomaly_core.sdk import create_detector

        if self.normalization not in NORMALIZATIONS:
            raise InputError(f"ensemble: normalization must be one of {', '.join(NORMALIZATIONS)}, "
                             f"got {self.normalization!r}")
        if self.combination not in COMBINATIONS:
            raise InputError(f"ensemble: combination must be one of {', '.join(COMBINATIONS)}, "
                             f"got {self.combination!r}")
        named = self.detectors is not None
        items = self.detectors if named else default_members()
        if isinstance(items, str | dict) or not items:
            raise InputError("ensemble: detectors must be a non-empty list of detector names" if named else
                             "ensemble: no installed detector declares the default_ensemble preset; name the members")
        members = []
        for position, item in enumerate(items):
            name, params, optional = parse_member(item, position)
            try:
                spec = get_registry().detector(name)
            except UnknownNameError as exc:
                if not optional:
                    raise InputError(f"ensemble: detectors[{position}]: {exc}") from None
                warnings.warn(f"ensemble: optional member {name!r} is not installed; skipped",
                              EnsembleMemberWarning, stacklevel=3)
                continue
            if spec.qualified_name == self.qualified_name:
                raise InputError(f"ensemble: detectors[{position}] cannot be an ensemble itself")
            if "random_state" in spec.params and "random_state" not in params and self.random_state is not None:
                params["random_state"] = self.random_state
            members.append((create_detector(spec.qualified_name, **params), named))
        if not members:
            raise InputError("ensemble: none of the members is installed")
        return members

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        candidates = self._members()
        if not isinstance(self.n_buckets, int) or self.n_buckets < 1:
            raise InputError(f"ensemble: n_buckets must be a positive integer, got {self.n_buckets!r}")
        members = []
        for member, named in candidates:
            try:
                member.fit(X)
            except PynomalyError as exc:
                if named:
                    raise
                warnings.warn(f"ensemble: default member {qualified_name_of(member)} cannot fit this data, skipped "
                              f"({str(exc).splitlines()[0][:200]})", EnsembleMemberWarning, stacklevel=3)
                continue
            members.append(member)
        if not members:
            raise InputError(f"ensemble: none of the default members can fit data of shape {X.shape}")
        self.members_ = members
        self.stats_ = [fit_normalization(m.decision_scores_, self.normalization) for m in members]
        n_buckets = min(self.n_buckets, len(members))
        order = np.random.default_rng(self.random_state).permutation(len(members))
        self.buckets_ = np.empty(len(members), dtype=np.int64)
        self.buckets_[order] = np.arange(len(members)) % n_buckets
        return self._combined([m.decision_scores_ for m in members])

    def _score(self, X: np.ndarray) -> np.ndarray:
        return self._combined([m.decision_function(X) for m in self.members_])

    def _combined(self, member_scores: list[np.ndarray]) -> np.ndarray:
        matrix = np.column_stack([normalize(np.asarray(s, dtype=np.float64), self.normalization, stats)
                                  for s, stats in zip(member_scores, self.stats_, strict=True)])
        return combine(matrix, self.combination, self.buckets_)

    @property
    def member_names_(self) -> list[str]:
        """Qualified names of the fitted members."""
        return [qualified_name_of(m) for m in self.members_]

    # -- persistence: each member is a saved sub-model; its manifest's hash is kept in members.json -----------
    def _save_artefacts(self, directory: Path) -> dict[str, str]:
        from pynomaly_core.persistence import MANIFEST, save, sha256_of

        entries = []
        for index, member in enumerate(self.members_):
            folder = f"member_{index}"
            save(member, directory / folder)
            entries.append({"detector": self.member_names_[index], "folder": folder,
                            "manifest_sha256": sha256_of(directory / folder / MANIFEST)})
        (directory / MEMBERS_FILE).write_text(json.dumps(entries, indent=2) + "\n")
        arrays = {f"stats_{i}": s for i, s in enumerate(self.stats_)}
        with open(directory / STATE_FILE, "wb") as handle:
            np.savez(handle, buckets=self.buckets_, decision_scores=self.decision_scores_,
                     threshold=np.asarray(self.threshold_), **arrays)
        return {MEMBERS_FILE: "json", STATE_FILE: "npz"}

    def _load_artefacts(self, directory: Path, artefacts: dict[str, str], trust: bool) -> None:
        from pynomaly_core.persistence import MANIFEST, load, sha256_of

        entries = json.loads((directory / MEMBERS_FILE).read_text())
        members = []
        for entry in entries:
            folder = directory / str(entry["folder"])
            if Path(entry["folder"]).name != entry["folder"] or not (folder / MANIFEST).is_file():
                raise IntegrityError(f"{directory}: ensemble member {entry['folder']!r} is missing")
            if sha256_of(folder / MANIFEST) != entry["manifest_sha256"]:
                raise IntegrityError(f"{folder / MANIFEST}: sha256 mismatch, the member was modified after saving")
            members.append(load(folder, trust=trust))
        with np.load(directory / STATE_FILE, allow_pickle=False) as data:
            self.stats_ = [data[f"stats_{i}"] for i in range(len(members))]
            self.buckets_ = data["buckets"]
            self.decision_scores_ = data["decision_scores"]
            threshold = float(data["threshold"])
        self.members_ = members
        self._set_threshold(self.decision_scores_, threshold=threshold)
