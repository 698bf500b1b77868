"""The kinds of contribution a plugin can make, in one table.

Everything that differs between kinds derives from its row: the registration hook and its spec type
(:mod:`pynomaly_core.hookspecs`), the registry's accessors (``registry.detectors()``, ``registry.detector(name)``),
the columns of ``pynomaly plugins list`` and the count fields of its JSON. A new kind is one row here and its spec
class in :mod:`pynomaly_core.specs`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pynomaly_core.specs import ConnectorSpec, DetectorSpec, DriftTestSpec, ExplainerSpec, LoaderSpec, Spec


@dataclass(frozen=True)
class ContributionKind:
    """One kind of contribution.

    ``key`` is the spec's ``kind`` and the registry's singular accessor (``detector``); ``plural`` names the
    registration hook (``register_<plural>``), the registry's listing accessor and the JSON count field;
    ``label`` is how messages say it (``drift test``).
    """

    key: str
    plural: str
    label: str
    spec_type: type[Spec]

    @property
    def hook(self) -> str:
        return f"register_{self.plural}"

    @property
    def column(self) -> str:
        """The column header of ``pynomaly plugins list``."""
        return self.plural.replace("_", " ")


KINDS: tuple[ContributionKind, ...] = (
    ContributionKind("detector", "detectors", "detector", DetectorSpec),
    ContributionKind("loader", "loaders", "loader", LoaderSpec),
    ContributionKind("explainer", "explainers", "explainer", ExplainerSpec),
    ContributionKind("drift_test", "drift_tests", "drift test", DriftTestSpec),
    ContributionKind("connector", "connectors", "stream connector", ConnectorSpec),
)

BY_KEY: dict[str, ContributionKind] = {kind.key: kind for kind in KINDS}


def kind_of(key: str) -> ContributionKind:
    """The row of ``key`` (``"detector"``); ``KeyError`` naming the known keys otherwise."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown contribution kind {key!r}; known: {', '.join(BY_KEY)}") from None
