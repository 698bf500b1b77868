"""The metadata of one registered model version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ModelVersion:
    """One version of a named model: what was fitted, on which data, by whom, and where its artefacts are.

    ``parent`` is the ``name@version`` this model was derived from (lineage), or ``None``; ``fingerprint``
    describes the training data (see :func:`pynomaly_core.modelstore.fingerprint`); ``metrics`` holds ROC-AUC
    and average precision on the training data when labels were given.
    """

    name: str
    version: int
    detector: str
    params: dict[str, Any]
    plugin: str
    versions: dict[str, str]
    fingerprint: dict[str, Any] | None
    metrics: dict[str, float]
    training_s: float | None
    created_at: str
    created_by: str
    parent: str | None
    path: Path
    #: The tenant the version belongs to and its lifecycle stage (``draft`` … ``retired``).
    tenant: str = "default"
    stage: str = "draft"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "name": self.name,
            "version": self.version,
            "detector": self.detector,
            "params": dict(self.params),
            "plugin": self.plugin,
            "versions": dict(self.versions),
            "fingerprint": None if self.fingerprint is None else dict(self.fingerprint),
            "metrics": dict(self.metrics),
            "training_s": self.training_s,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "parent": self.parent,
            "path": str(self.path),
            "tenant": self.tenant,
            "stage": self.stage,
        }
