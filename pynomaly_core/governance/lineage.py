"""OpenLineage run events for training, scoring and streaming runs.

A run emits ``START``, then ``COMPLETE`` (or ``FAIL`` with the error) with the job (``pynomaly.train``,
``pynomaly.score``, ``pynomaly.stream``), a run id, and input and output datasets whose facets carry the data
fingerprints pynomaly already computes (schema, row count, SHA-256). Events go to ``$PYNOMALY_LINEAGE_URL``: a
file path (JSON Lines, appended) or an ``http(s)://`` endpoint (an OpenLineage collector such as Marquez, one POST
per event); nothing is emitted when it is unset. A failing endpoint never fails the run: the error is logged.
The events validate against the OpenLineage JSON Schema vendored in ``schemas/OpenLineage.json``.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

LINEAGE_ENV = "PYNOMALY_LINEAGE_URL"
NAMESPACE_ENV = "PYNOMALY_LINEAGE_NAMESPACE"
PRODUCER = "https://github.com/pynomaly/pynomaly"
SCHEMA_URL = "https://openlineage.io/spec/1-0-5/OpenLineage.json#/definitions/RunEvent"
FACET_SCHEMA = "https://openlineage.io/spec/facets/1-0-0/{name}.json"
log = logging.getLogger("pynomaly.lineage")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _facet(name: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": FACET_SCHEMA.format(name=name), **fields}


def dataset(name: str, fingerprint: dict[str, Any] | None = None, *, namespace: str | None = None,
            model: dict[str, Any] | None = None) -> dict[str, Any]:
    """An OpenLineage dataset: ``fingerprint`` (see :func:`pynomaly_core.modelstore.fingerprint`) becomes the
    ``schema`` facet and the ``pynomaly_fingerprint`` facet; ``model`` (a model version's ref, tenant, stage)
    the ``pynomaly_model`` facet."""
    facets: dict[str, Any] = {}
    fp = fingerprint or {}
    if fp:
        columns = fp.get("columns") or [f"x{j}" for j in range(int(fp.get("n_features") or 0))]
        facets["schema"] = _facet("SchemaDatasetFacet", fields=[{"name": str(c), "type": "float64"} for c in columns])
        facets["pynomaly_fingerprint"] = _facet("PynomalyFingerprintDatasetFacet", sha256=fp.get("sha256"),
                                                rows=fp.get("n_rows"), features=fp.get("n_features"),
                                                source=fp.get("source"))
    if model:
        facets["pynomaly_model"] = _facet("PynomalyModelDatasetFacet", **model)
    return {"namespace": namespace or default_namespace(), "name": name, "facets": facets}


def default_namespace() -> str:
    return os.environ.get(NAMESPACE_ENV) or "pynomaly"


def event(event_type: str, run_id: str, job: str, *, inputs: list[dict[str, Any]] = (),  # type: ignore[assignment]
          outputs: list[dict[str, Any]] = (), run_facets: dict[str, Any] | None = None,  # type: ignore[assignment]
          namespace: str | None = None) -> dict[str, Any]:
    """One OpenLineage ``RunEvent``."""
    return {"eventType": event_type, "eventTime": _now(), "producer": PRODUCER, "schemaURL": SCHEMA_URL,
            "run": {"runId": run_id, "facets": run_facets or {}},
            "job": {"namespace": namespace or default_namespace(), "name": job, "facets": {}},
            "inputs": list(inputs), "outputs": list(outputs)}


class Emitter:
    """Sends events to a JSON Lines file or an HTTP endpoint (``target``)."""

    def __init__(self, target: str, *, timeout_s: float = 5.0):
        self.target = target
        self.timeout_s = timeout_s

    @classmethod
    def from_env(cls) -> Emitter | None:
        target = os.environ.get(LINEAGE_ENV, "").strip()
        return cls(target) if target else None

    def emit(self, payload: dict[str, Any]) -> None:
        text = json.dumps(payload, sort_keys=True, default=str)
        try:
            if self.target.startswith(("http://", "https://")):
                import urllib.request

                request = urllib.request.Request(self.target, data=text.encode(), method="POST",
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    response.read()
            else:
                with open(self.target, "a", encoding="utf-8") as handle:
                    handle.write(text + "\n")
        except Exception as exc:  # lineage is a side channel: never fail the run over it
            log.warning("could not send an OpenLineage event to %s: %s", self.target, exc)


@dataclass
class Run:
    """A run in progress: add input and output datasets; the context manager emits the events."""

    job: str
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    facets: dict[str, Any] = field(default_factory=dict)


_CURRENT: contextvars.ContextVar[Run | None] = contextvars.ContextVar("pynomaly_lineage_run", default=None)


def current() -> Run | None:
    """The run in progress in this context (code deeper down adds its datasets to it instead of starting one)."""
    return _CURRENT.get()


@contextlib.contextmanager
def run(job: str, *, inputs: list[dict[str, Any]] | None = None, emitter: Emitter | None = None) -> Iterator[Run]:
    """``with lineage.run("pynomaly.train", inputs=[...]) as r: ...; r.outputs.append(...)``: START now, COMPLETE
    at the end (FAIL with the error message when the block raises). A no-op without an emitter."""
    emitter = emitter or Emitter.from_env()
    current = Run(job, inputs=list(inputs or []))
    if emitter is None:
        yield current
        return
    emitter.emit(event("START", current.run_id, job, inputs=current.inputs, run_facets=current.facets))
    token = _CURRENT.set(current)
    try:
        yield current
    except BaseException as exc:
        _CURRENT.reset(token)
        failure = {"errorMessage": _facet("ErrorMessageRunFacet", message=str(exc).splitlines()[0] if str(exc)
                                          else type(exc).__name__, programmingLanguage="python")}
        emitter.emit(event("FAIL", current.run_id, job, inputs=current.inputs, outputs=current.outputs,
                           run_facets={**current.facets, **failure}))
        raise
    _CURRENT.reset(token)
    emitter.emit(event("COMPLETE", current.run_id, job, inputs=current.inputs, outputs=current.outputs,
                       run_facets=current.facets))


def model_dataset(model_version: Any) -> dict[str, Any]:
    """A registered model version as an OpenLineage dataset (``models/<tenant>/<name>``, version in a facet)."""
    return dataset(f"models/{model_version.tenant}/{model_version.name}", None, model={
        "ref": model_version.ref, "version": model_version.version, "tenant": model_version.tenant,
        "stage": model_version.stage, "detector": model_version.detector, "parent": model_version.parent,
        "code": {k: v for k, v in model_version.versions.items() if k == "pynomaly" or k.startswith("plugin:")}})


def training_facet(**fields: Any) -> dict[str, Any]:
    """The ``pynomaly_training`` run facet (training time, metrics, who registered it, tenant)."""
    return _facet("PynomalyTrainingRunFacet", **fields)


class Scoring:
    """What a scoring run learns on the way: the scored data (fingerprinted only when lineage is on)."""

    def __init__(self, current: Run | None, source: str):
        self.current = current
        self.source = source

    def data(self, data: Any) -> None:
        if self.current is None:
            return
        from pynomaly_core.modelstore.fingerprints import fingerprint

        self.current.inputs.append(dataset(self.source, fingerprint(data, source=self.source)))

    def source_only(self) -> None:
        """The scored data, named but not fingerprinted (it is streamed in batches, never held whole)."""
        if self.current is not None:
            self.current.inputs.append(dataset(self.source))


@contextlib.contextmanager
def scoring_run(job: str, resolved: Any, source: str, output: Any = None) -> Iterator[Scoring]:
    """A scoring (``pynomaly.score``) or streaming (``pynomaly.stream``) run of the model ``resolved`` (a
    :class:`pynomaly_core.model_ref.ResolvedModel`) over ``source``, writing to ``output``."""
    emitter = Emitter.from_env()
    if emitter is None:
        yield Scoring(None, source)
        return
    model = (model_dataset(resolved.version) if resolved.version is not None
             else dataset(str(resolved.path), resolved.fingerprint))
    with run(job, inputs=[model], emitter=emitter) as current:
        if output is not None:
            current.outputs.append(dataset(str(output)))
        yield Scoring(current, str(source))
