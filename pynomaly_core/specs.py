"""Contribution specs: the static description of what a plugin offers.

A spec says everything the registry and ``pynomaly plugins list`` need to know (name, summary, data kinds,
capabilities, parameters and their defaults) and points at the code with a ``"module:attr"`` string that is
imported only when an object is created.
"""

from __future__ import annotations

import importlib
import json
import keyword
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from pynomaly_core.errors import InvalidSpecError

DATA_KINDS = frozenset({"tabular", "graph", "timeseries"})

CAPABILITIES = {
    "partial_fit": "can be updated with new batches through partial_fit",
    "online": "learns one record at a time (learn_one/score_one, vectorised learn_many/score_many); scoring "
              "changes nothing",
    "gpu": "can run on a GPU when one is visible",
    "save": "fitted state can be saved and loaded in a safe format",
    "pickle_save": "fitted state is saved with pickle: loading needs trust=True",
    "deterministic_with_seed": "the same random_state gives the same scores",
    "supervised": "uses labels y in fit",
    "progress": "shows a training progress bar on stderr with verbose=True (the CLI turns it on)",
    "batch_dependent": "the score of a row depends on the other rows scored with it: score data whole, not in "
                       "batches (out-of-core scoring refuses it)",
    "transductive": "scores only the rows it was fitted on (decision_scores_ after fit); new rows need a new fit",
    "single_feature": "fits data with exactly one feature",
    "mergeable": "trains on partitions of the data whose states merge (pynomaly_core.merging; Dask and Spark train it "
                 "distributed): exactly, or for quantile sketches within the model's stated merge_bound_",
    "float32": "computes in float32: scores agree across runs, batches and devices to float32 precision (about 1e-7 "
               "relative), not bit for bit",
}

#: What a detector spec's ``presets`` may name: roles in which the core uses a detector without the user naming it.
PRESETS = {
    "default_ensemble": "a member of builtin.ensemble's default members, with these parameters",
    "automl": "a candidate of AutoML's pool (unsupervised selection, and the first round of the supervised "
              "search), with these parameters",
    "quick": "small settings (fewer epochs, members or components) that keep tests and smoke runs fast; they check "
             "behaviour, not accuracy",
}

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TARGET_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


@dataclass(frozen=True)
class Spec:
    """Common fields of every contribution.

    ``name`` is short (``ecod``); the registry qualifies it with the plugin's name (``builtin.ecod``).
    ``params`` maps each constructor parameter to its default (JSON-serialisable values only).
    """

    kind: ClassVar[str] = "contribution"

    name: str
    summary: str
    target: str
    data_kinds: frozenset[str] = frozenset({"tabular"})
    capabilities: frozenset[str] = frozenset()
    params: Any = field(default_factory=dict)
    plugin: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_kinds", frozenset(_as_set(self.data_kinds)))
        object.__setattr__(self, "capabilities", frozenset(_as_set(self.capabilities)))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        self.validate()

    @property
    def qualified_name(self) -> str:
        return f"{self.plugin}.{self.name}" if self.plugin else self.name

    def validate(self) -> None:
        """Raise :class:`InvalidSpecError` naming the first field that is wrong."""
        what = f"{self.kind} spec {self.name!r}"
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise InvalidSpecError(f"{what}: name must match [a-z][a-z0-9_]*")
        if not isinstance(self.summary, str) or not self.summary.strip() or "\n" in self.summary.strip():
            raise InvalidSpecError(f"{what}: summary must be one non-empty line")
        if not isinstance(self.target, str) or not _TARGET_RE.match(self.target):
            raise InvalidSpecError(f"{what}: target must be a 'module:attr' string, got {self.target!r}")
        unknown_kinds = self.data_kinds - DATA_KINDS
        if not self.data_kinds or unknown_kinds:
            raise InvalidSpecError(
                f"{what}: data_kinds must be a non-empty subset of {sorted(DATA_KINDS)}, "
                f"got {sorted(self.data_kinds)}"
            )
        unknown_caps = self.capabilities - set(CAPABILITIES)
        if unknown_caps:
            raise InvalidSpecError(
                f"{what}: unknown capabilities {sorted(unknown_caps)}; known: {sorted(CAPABILITIES)}"
            )
        for pname, default in self.params.items():
            if not isinstance(pname, str) or not pname.isidentifier() or keyword.iskeyword(pname):
                raise InvalidSpecError(f"{what}: parameter name {pname!r} is not an identifier")
            try:
                json.dumps(default)
            except (TypeError, ValueError):
                raise InvalidSpecError(
                    f"{what}: default of parameter {pname!r} is not JSON-serialisable: {default!r}"
                ) from None

    def load(self) -> Any:
        """Import and return the object named by ``target`` (this is where a framework gets imported)."""
        return resolve_target(self.target)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (used by ``--json`` listings)."""
        return {
            "name": self.qualified_name,
            "short_name": self.name,
            "plugin": self.plugin,
            "kind": self.kind,
            "summary": self.summary,
            "data_kinds": sorted(self.data_kinds),
            "capabilities": sorted(self.capabilities),
            "params": dict(self.params),
            "target": self.target,
        }


@dataclass(frozen=True)
class DetectorSpec(Spec):
    """A detector: ``target`` is a class following the detector contract (see :mod:`pynomaly_core.base`).

    ``presets`` maps a role of :data:`PRESETS` (``default_ensemble``, ``automl``) to the parameters the detector
    takes in it (``{}``: its defaults), so each plugin contributes its own ensemble members and AutoML candidates and
    the core names none. ``search_space`` maps parameters to the values AutoML's supervised search tries.
    """

    kind: ClassVar[str] = "detector"

    presets: Any = field(default_factory=dict)
    search_space: Any = field(default_factory=dict)

    def validate(self) -> None:
        super().validate()
        what = f"detector spec {self.name!r}"
        if not isinstance(self.presets, dict | MappingProxyType) or not all(
                isinstance(v, dict | MappingProxyType) for v in self.presets.values()):
            raise InvalidSpecError(f"{what}: presets must map a role to a dict of parameters")
        unknown = sorted(set(self.presets) - set(PRESETS))
        if unknown:
            raise InvalidSpecError(f"{what}: unknown preset {unknown[0]!r}; known: {', '.join(sorted(PRESETS))}")
        for role, params in self.presets.items():
            self._check_params_of(f"preset {role!r}", dict(params))
        if not isinstance(self.search_space, dict | MappingProxyType):
            raise InvalidSpecError(f"{what}: search_space must map parameters to lists of values")
        for pname, values in self.search_space.items():
            if not isinstance(values, list | tuple) or not values:
                raise InvalidSpecError(f"{what}: search_space[{pname!r}] must be a non-empty list of values")
            self._check_params_of(f"search_space[{pname!r}]", {pname: list(values)})
        object.__setattr__(self, "presets", MappingProxyType(
            {role: MappingProxyType(dict(params)) for role, params in self.presets.items()}))
        object.__setattr__(self, "search_space", MappingProxyType(
            {pname: tuple(values) for pname, values in self.search_space.items()}))

    def _check_params_of(self, where: str, params: dict[str, Any]) -> None:
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise InvalidSpecError(f"detector spec {self.name!r}: {where} names unknown parameter {unknown[0]!r}")
        try:
            json.dumps(params)
        except (TypeError, ValueError):
            raise InvalidSpecError(f"detector spec {self.name!r}: {where} is not JSON-serialisable") from None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "presets": {role: dict(p) for role, p in self.presets.items()},
                "search_space": {pname: list(v) for pname, v in self.search_space.items()}}


@dataclass(frozen=True)
class LoaderSpec(Spec):
    """A data loader: ``target`` is a callable ``load(source, **options) -> Dataset``.

    ``suffixes`` (``".csv"``) and ``schemes`` (``"postgresql"``) say which sources it handles when the user does
    not name a loader. An optional ``iter_target`` points at ``iter_batches(source, rows, **options)``; an optional
    ``sniff_target`` at ``sniff(source) -> bool``, which tells a file this loader reads from others with the same
    suffix (a graph ``.npz`` from a table ``.npz``): among loaders of one suffix, one whose sniffer accepts the file
    wins, then one without a sniffer.
    """

    kind: ClassVar[str] = "loader"

    suffixes: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ()
    iter_target: str | None = None
    sniff_target: str | None = None

    def validate(self) -> None:
        super().validate()
        object.__setattr__(self, "suffixes", tuple(s.lower() for s in self.suffixes))
        object.__setattr__(self, "schemes", tuple(s.lower() for s in self.schemes))
        for suffix in self.suffixes:
            if not suffix.startswith("."):
                raise InvalidSpecError(f"loader spec {self.name!r}: suffix {suffix!r} must start with '.'")
        for name in ("iter_target", "sniff_target"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and _TARGET_RE.match(value)):
                raise InvalidSpecError(f"loader spec {self.name!r}: {name} must be a 'module:attr' string")

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "suffixes": list(self.suffixes), "schemes": list(self.schemes),
                "chunked": self.iter_target is not None}


@dataclass(frozen=True)
class ExplainerSpec(Spec):
    """An explainer: ``target`` is a class ``Explainer(detector, **params)`` with
    ``explain(X, background=None) -> Explanation`` (``background``: reference rows, e.g. the training data)."""

    kind: ClassVar[str] = "explainer"


@dataclass(frozen=True)
class DriftTestSpec(Spec):
    """A drift test: ``target`` is a class ``Test(**params)`` with ``run(reference, current) -> DriftReport``."""

    kind: ClassVar[str] = "drift_test"


@dataclass(frozen=True)
class ConnectorSpec(Spec):
    """A stream connector (``pynomaly stream``): ``target`` is a class with class methods ``source(url, *, credit,
    **options)`` and ``sink(url, **options)`` following :mod:`pynomaly_core.stream.contract`.

    ``schemes`` (``"amqp"``) and ``suffixes`` (``".jsonl"``) say which URLs it handles; ``roles`` whether it reads
    (``source``), writes (``sink``) or both.
    """

    kind: ClassVar[str] = "connector"

    schemes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    roles: frozenset[str] = frozenset({"source", "sink"})

    def validate(self) -> None:
        super().validate()
        object.__setattr__(self, "schemes", tuple(s.lower() for s in self.schemes))
        object.__setattr__(self, "suffixes", tuple(s.lower() for s in self.suffixes))
        object.__setattr__(self, "roles", frozenset(_as_set(self.roles)))
        if not self.roles or self.roles - {"source", "sink"}:
            raise InvalidSpecError(f"connector spec {self.name!r}: roles must be a non-empty subset of "
                                   f"['sink', 'source'], got {sorted(self.roles)}")
        if not self.schemes and not self.suffixes:
            raise InvalidSpecError(f"connector spec {self.name!r}: give the URL schemes or file suffixes it handles")

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "schemes": list(self.schemes), "suffixes": list(self.suffixes),
                "roles": sorted(self.roles)}


def resolve_target(target: str) -> Any:
    """Import the module of a ``"module:attr.path"`` string and return the attribute it names."""
    module_name, _, attr_path = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for attr in attr_path.split("."):
        obj = getattr(obj, attr)
    return obj


def _as_set(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    return set(value)
