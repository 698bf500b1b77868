"""Between pynomaly's model store and the MLflow model registry, with lineage kept as tags.

:func:`publish` logs a store version as an MLflow run with the ``pynomaly`` flavour, registers it and points an
alias at it (aliases, not the deprecated stages); :func:`fetch` registers an MLflow version back into the store.
Only the store's public methods are used (``resolve``, ``load``, ``register``).
"""

from __future__ import annotations

import json
from typing import Any

import mlflow
from mlflow import MlflowClient

from pynomaly_mlflow.flavour import load_model, log_model

TAG = "pynomaly."
#: MLflow keeps tag values up to this many characters.
_MAX_TAG = 5000


def lineage_tags(version: Any) -> dict[str, str]:
    """The store version's identity and lineage: ref, detector, parent, training-data fingerprint (and its sha256)."""
    fingerprint = version.fingerprint or {}
    text = json.dumps(fingerprint, sort_keys=True)
    tags = {"ref": version.ref, "detector": version.detector, "parent": version.parent or "",
            "data_sha256": str(fingerprint.get("sha256", "")), "created_by": version.created_by,
            "fingerprint": text if len(text) <= _MAX_TAG else ""}
    return {TAG + key: value for key, value in tags.items()}


def publish(store: Any, ref: str, *, name: str | None = None, alias: str | None = "champion",
            client: MlflowClient | None = None) -> Any:
    """Publish the store version ``ref`` (``NAME``, ``NAME@VERSION`` or ``NAME@ALIAS``) as a new version of the
    registered model ``name`` (default: the store's name); returns the MLflow ``ModelVersion``."""
    version = store.resolve(ref)
    detector = store.load(version.name, version.version)
    registered = name or version.name
    tags = lineage_tags(version)
    with mlflow.start_run(run_name=f"pynomaly {version.ref}", tags=tags):
        mlflow.log_params({k: json.dumps(v)[:500] for k, v in version.params.items()})
        if version.metrics:
            mlflow.log_metrics(version.metrics)
        info = log_model(detector, name="model", registered_model_name=registered)
    client = client or MlflowClient()
    number = str(info.registered_model_version)
    for key, value in tags.items():
        client.set_model_version_tag(registered, number, key, value)
    if alias:
        client.set_registered_model_alias(registered, alias, number)
    return client.get_model_version(registered, number)


def fetch(store: Any, name: str, *, version: int | str | None = None, alias: str | None = None,
          store_name: str | None = None, client: MlflowClient | None = None, trust: bool = False) -> Any:
    """Register MLflow's ``name`` (at ``alias``, or ``version``, default the latest) in ``store`` as the next version
    of ``store_name`` (default ``name``), with the fingerprint and parent its tags recorded; returns the store's
    new version."""
    client = client or MlflowClient()
    if alias is not None:
        source = client.get_model_version_by_alias(name, alias)
    elif version is not None:
        source = client.get_model_version(name, str(version))
    else:
        source = max(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version))
    detector = load_model(f"models:/{name}/{source.version}", trust=trust)
    tags = dict(source.tags or {})
    fingerprint = json.loads(tags[TAG + "fingerprint"]) if tags.get(TAG + "fingerprint") else None
    parent = tags.get(TAG + "ref") or None
    if parent is not None:
        try:
            store.resolve(parent)
        except Exception:  # the version it came from is not in this store: lineage stays in MLflow's tags
            parent = None
    return store.register(store_name or name, detector, data_fingerprint=fingerprint, parent=parent)
