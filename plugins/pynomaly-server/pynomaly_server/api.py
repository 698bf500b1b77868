"""The REST API (``/v1``), ``/healthz`` and ``/metrics``."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from pynomaly_core.errors import InputError
from pynomaly_core.governance.policy import GLOBAL_ADMIN
from pynomaly_core.governance.tenants import ANY_TENANT
from pynomaly_core.pipeline import qualified_name_of
from pynomaly_server import payload, schemas, service
from pynomaly_server.auth import TENANT_HEADER, requires, tenant_of
from pynomaly_server.errors import ApiError
from pynomaly_server.keys import ApiKey
from pynomaly_server.middleware import REQUEST_ID_KEY
from pynomaly_server.responses import JSON, in_thread
from pynomaly_server.scoring import score_model

router = APIRouter()
REGISTRY, METRICS = requires("registry.read"), requires("metrics.read")
MODEL_READ, MODEL_CREATE, MODEL_DELETE = requires("model.read"), requires("model.create"), requires("model.delete")
HISTORY, ALIAS, AUDIT = requires("model.history"), requires("model.alias"), requires("audit.read")
DETECT, DRIFT, EXPLAIN = requires("data.detect"), requires("data.drift"), requires("data.explain")
LIFECYCLE = {action: requires(f"model.{action}") for action in ("submit", "approve", "reject", "deploy", "retire")}


def _state(request: Request) -> Any:
    return request.app.state.server


def _actor(key: ApiKey) -> str:
    return key.actor


def _tenant(request: Request, key: ApiKey) -> str:
    return tenant_of(key, request.headers)


def _request_id(request: Request) -> str | None:
    return request.scope.get(REQUEST_ID_KEY)


def _store(request: Request, key: ApiKey) -> Any:
    """The model store as the request's tenant sees it, changes attributed to the request's key and id."""
    return _state(request).store_for(_tenant(request, key), key, _request_id(request))


@router.get("/healthz", tags=["service"], summary="Liveness: no key needed")
def healthz(request: Request) -> JSON:
    from pynomaly_core.registry import get_registry
    from pynomaly_server import __version__

    registry = get_registry()
    return JSON({"status": "ok", "version": __version__, "plugins": len(registry.plugins),
                 "broken_plugins": [r.name for r in registry.broken()],
                 "models_cached": len(_state(request).cache)})


@router.get("/metrics", tags=["service"], summary="Prometheus metrics of the key's tenant (role read)",
            responses={200: {"content": {"text/plain": {}}}, **schemas.errors(401, 403)})
def metrics(request: Request, key: ApiKey = Depends(METRICS)) -> Response:
    """The key's tenant only (or the tenant a global administrator names); a global administrator who names none
    gets every tenant, each sample labelled ``tenant``."""
    registry = _state(request).metrics
    every = (key.role == GLOBAL_ADMIN or key.tenant == ANY_TENANT) and not request.headers.get(TENANT_HEADER)
    text = registry.render_every_tenant() if every else registry.render(_tenant(request, key))
    return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get("/v1/plugins", tags=["registry"], summary="Installed plugins, as `pynomaly plugins list --json`",
            responses=schemas.errors(401, 403))
def plugins(key: ApiKey = Depends(REGISTRY)) -> JSON:
    from pynomaly_core.registry import get_registry

    registry = get_registry()
    return JSON({"plugins": [record.to_dict() for record in registry.plugins.values()],
                 "explainers": [s.to_dict() for s in registry.explainers()],
                 "drift_tests": [s.to_dict() for s in registry.drift_tests()],
                 "loaders": [s.to_dict() for s in registry.loaders()]})


@router.get("/v1/detectors", tags=["registry"], summary="Registered detectors (the live registry)",
            responses=schemas.errors(401, 403))
def detectors(plugin: str | None = Query(None, max_length=100), kind: str | None = Query(None, max_length=100),
              key: ApiKey = Depends(REGISTRY)) -> JSON:
    from pynomaly_core.sdk import list_detectors

    return JSON({"detectors": [spec.to_dict() for spec in list_detectors(plugin=plugin, kind=kind)]})


@router.get("/v1/detectors/{name}", tags=["registry"], summary="One detector by short or qualified name",
            responses=schemas.errors(401, 403, 404))
def detector(name: str, key: ApiKey = Depends(REGISTRY)) -> JSON:
    from pynomaly_core.registry import get_registry

    return JSON(get_registry().detector(name).to_dict())


@router.post("/v1/detect", tags=["detection"], summary="Fit a detector and score the same rows (JSON or CSV upload)",
             openapi_extra=schemas.body(schemas.DETECT_JSON, schemas.DETECT_FORM),
             responses=schemas.errors(400, 401, 403, 404, 413, 422, 504))
async def detect(request: Request, key: ApiKey = Depends(DETECT)) -> JSON:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        X, names, y, detector_name, params, top = await _detect_form(request)
    else:
        body = payload.json_object(await request.body())
        X = payload.rows(body.get("data"))
        names = payload.feature_names(body.get("feature_names"), X.shape[1])
        y = _labels(body.get("labels"), X.shape[0])
        detector_name = payload.field(body, "detector", str, "ecod")
        params = payload.params(body.get("params"))
        top = _top(payload.field(body, "top", int, 10))
    summary, _ = await in_thread(lambda: service.detect(X, detector_name, params, names=names, y=y, top=top))
    _state(request).metrics.add_rows("/v1/detect", X.shape[0], _tenant(request, key))
    return JSON(summary)


async def _detect_form(request: Request) -> tuple[Any, ...]:
    try:
        form = await request.form(max_files=1, max_fields=20,
                                  max_part_size=_state(request).settings.max_body_bytes)
    except Exception as exc:  # python-multipart / Starlette parse errors
        raise ApiError(400, "malformed_form", f"malformed multipart form: {str(exc).splitlines()[0]}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError(422, "invalid_input", "missing form field 'file' (a CSV upload)")
    content = await upload.read()
    labels = _form_text(form, "labels")
    dataset = await in_thread(lambda: payload.csv_dataset(content, upload.filename or "upload.csv", labels=labels))
    raw_params = _form_text(form, "params")
    params = payload.params(payload.parse_json(raw_params.encode())) if raw_params else {}
    raw_top = _form_text(form, "top")
    try:
        top = _top(int(raw_top)) if raw_top else 10
    except ValueError:
        raise ApiError(422, "invalid_input", f"form field 'top': expected an integer, got {raw_top!r}") from None
    return dataset.X, dataset.feature_names, dataset.y, _form_text(form, "detector") or "ecod", params, top


def _form_text(form: Any, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid_input", f"form field {name!r} must be text, not a file")
    return value.strip() or None


def _top(value: int) -> int:
    if value < 0:
        raise ApiError(422, "invalid_input", f"field 'top' must be >= 0, got {value}")
    return min(value, 10_000)


def _labels(value: Any, n_rows: int) -> np.ndarray | None:
    if value is None:
        return None
    if not isinstance(value, list) or any(v not in (0, 1) or isinstance(v, bool) for v in value):
        raise ApiError(422, "invalid_input", "field 'labels': expected an array of 0/1 integers")
    if len(value) != n_rows:
        raise ApiError(422, "invalid_input", f"field 'labels': {len(value)} labels for {n_rows} rows")
    return np.asarray(value, dtype=np.int64)


# -- models --------------------------------------------------------------------------------------------------
@router.post("/v1/models", tags=["models"], status_code=201, summary="Train a detector and register it (role admin)",
             openapi_extra=schemas.body(schemas.MODEL_CREATE),
             responses={201: {"description": "The registered model version"},
                        **schemas.errors(400, 401, 403, 404, 413, 422, 504)})
async def create_model(request: Request, key: ApiKey = Depends(MODEL_CREATE)) -> JSON:
    body = payload.json_object(await request.body())
    name = payload.field(body, "name", str)
    detector_name = payload.field(body, "detector", str, "ecod")
    params = payload.params(body.get("params"))
    X = payload.rows(body.get("data"))
    names = payload.feature_names(body.get("feature_names"), X.shape[1])
    state = _state(request)
    store, tenant = _store(request, key), _tenant(request, key)

    def train() -> Any:
        import time

        from pynomaly_core.modelstore import fingerprint
        from pynomaly_core.modelstore.paths import check_name

        check_name(name)
        model = service.create(detector_name, params)
        start = time.perf_counter()
        model.fit(service.with_names(X, names))
        training_s = time.perf_counter() - start
        mv = store.register(name, model, data_fingerprint=fingerprint(service.with_names(X, names)),
                            training_s=training_s)
        state.forget(name, tenant=tenant)
        state.keys.audit(_actor(key), "model.create", f"{mv.name}@{mv.version}",
                         {"detector": mv.detector, "rows": int(X.shape[0]), "features": int(X.shape[1])},
                         tenant=tenant, request_id=_request_id(request))
        return mv

    mv = await in_thread(train)
    return JSON(_model_dict(mv), status_code=201)


@router.get("/v1/models", tags=["models"], summary="Every registered model version", responses=schemas.errors(401, 403))
async def list_models(request: Request, key: ApiKey = Depends(MODEL_READ)) -> JSON:
    versions = await in_thread(_store(request, key).list)
    return JSON({"models": [_model_dict(mv) for mv in versions]})


@router.get("/v1/models/{name}", tags=["models"], summary="A model: its latest (or given) version and all versions",
            responses=schemas.errors(401, 403, 404, 422))
async def get_model(request: Request, name: str, version: int | None = Query(None, ge=1),
                    key: ApiKey = Depends(MODEL_READ)) -> JSON:
    store = _store(request, key)
    mv = await in_thread(lambda: store.get(name, version))
    versions = await in_thread(lambda: store.list(name))
    aliases = await in_thread(lambda: store.aliases(name).get(name, {}))
    return JSON({**_model_dict(mv), "all_versions": [v.version for v in versions], "aliases": aliases})


@router.delete("/v1/models/{name}", tags=["models"], summary="Delete one version, or every version (role admin)",
               responses=schemas.errors(401, 403, 404, 422))
async def delete_model(request: Request, name: str, version: int | None = Query(None, ge=1),
                       key: ApiKey = Depends(MODEL_DELETE)) -> JSON:
    state = _state(request)
    store, tenant = _store(request, key), _tenant(request, key)

    def delete() -> list[int]:
        targets = [store.get(name, version).version] if version is not None else \
            [mv.version for mv in store.list(name)]
        if not targets:
            store.get(name)  # raises ModelNotFoundError naming what exists
        for v in targets:
            store.delete(name, v)
            state.keys.audit(_actor(key), "model.delete", f"{name}@{v}", tenant=tenant,
                             request_id=_request_id(request))
        state.forget(name, tenant=tenant)
        return targets

    deleted = await in_thread(delete)
    return JSON({"name": name, "deleted_versions": deleted})


@router.post("/v1/models/{name}/score", tags=["models"], summary="Score rows with a registered model (role score)",
             openapi_extra=schemas.body(schemas.SCORE), responses=schemas.errors(400, 401, 403, 404, 409, 413, 422))
async def score(request: Request, name: str, version: int | None = Query(None, ge=1),
                alias: str | None = Query(None, max_length=32)) -> JSON:
    """Served by :class:`pynomaly_server.scoring.ScoreFastPath`; this route documents it and is the fallback.
    ``name`` may be ``NAME@ALIAS``; ``alias`` (``champion``, ``challenger``) is the same as a query parameter."""
    result = await score_model(request.app.state.server, name, version, request.headers, request.cookies,
                               await request.body(), request.scope, alias)
    return JSON(result)


# -- lifecycle -----------------------------------------------------------------------------------------------
def _lifecycle_route(action: str) -> None:
    async def route(request: Request, name: str, version: int, key: ApiKey = Depends(LIFECYCLE[action])) -> JSON:
        body = payload.json_object(await request.body()) if await request.body() else {}
        reason = payload.field(body, "reason", str, None)
        options: dict[str, Any] = {"reason": reason}
        if action == "deploy":
            options["alias"] = payload.field(body, "alias", str, "champion")
        store = _store(request, key)
        mv = await in_thread(lambda: getattr(store, action)(name, version, **options))
        _state(request).forget(name, tenant=store.tenant)
        return JSON(_model_dict(mv))

    router.add_api_route(f"/v1/models/{{name}}/versions/{{version}}/{action}", route, methods=["POST"],
                         tags=["lifecycle"], summary=f"{action.capitalize()} a model version (action model.{action})",
                         responses=schemas.errors(401, 403, 404, 409, 422), name=f"model_{action}")


for _action in LIFECYCLE:
    _lifecycle_route(_action)


@router.put("/v1/models/{name}/aliases/{alias}", tags=["lifecycle"],
            summary="Point NAME@ALIAS at an approved or deployed version: `{\"version\": N}`",
            responses=schemas.errors(401, 403, 404, 409, 422))
async def put_alias(request: Request, name: str, alias: str, key: ApiKey = Depends(ALIAS)) -> JSON:
    version = payload.field(payload.json_object(await request.body()), "version", int)
    store = _store(request, key)
    await in_thread(lambda: store.set_alias(name, alias, version))
    _state(request).forget(name, tenant=store.tenant)
    return JSON({"name": name, "alias": alias, "version": version})


@router.get("/v1/models/{name}/history", tags=["lifecycle"], summary="Every lifecycle event of a model",
            responses=schemas.errors(401, 403, 404, 422))
async def history(request: Request, name: str, version: int | None = Query(None, ge=1),
                  key: ApiKey = Depends(HISTORY)) -> JSON:
    store = _store(request, key)
    return JSON({"name": name, "events": await in_thread(lambda: store.history(name, version))})


def _model_dict(mv: Any) -> dict[str, Any]:
    data = service.jsonable(mv.to_dict())
    data.pop("path", None)  # a server-side path is nobody's business
    return data


# -- drift and explanations ----------------------------------------------------------------------------------
@router.post("/v1/drift", tags=["analysis"], summary="Two-sample drift test between reference and current rows",
             openapi_extra=schemas.body(schemas.DRIFT), responses=schemas.errors(400, 401, 403, 404, 413, 422, 504))
async def drift(request: Request, key: ApiKey = Depends(DRIFT)) -> JSON:
    body = payload.json_object(await request.body())
    reference = payload.rows(body.get("reference"), "reference")
    current = payload.rows(body.get("current"), "current")
    names = payload.feature_names(body.get("feature_names"), reference.shape[1])
    test = payload.field(body, "test", str, "ks")
    params = payload.params(body.get("params"))
    report = await in_thread(lambda: service.drift(reference, current, test, params, names))
    return JSON(report)


@router.post("/v1/explain", tags=["analysis"], summary="Per-row feature attributions for a model or a detector",
             openapi_extra=schemas.body(schemas.EXPLAIN),
             responses=schemas.errors(400, 401, 403, 404, 409, 413, 422, 504))
async def explain(request: Request, key: ApiKey = Depends(EXPLAIN)) -> JSON:
    body = payload.json_object(await request.body())
    X = payload.rows(body.get("data"))
    background = payload.rows(body["background"], "background") if body.get("background") is not None else None
    names = payload.feature_names(body.get("feature_names"), X.shape[1])
    explainer = payload.field(body, "explainer", str, "permutation")
    explainer_params = payload.params(body.get("explainer_params"), "explainer_params")
    k = payload.field(body, "k", int, 3)
    model_name = payload.field(body, "model", str, None)
    version = payload.field(body, "version", int, None)
    if background is not None and background.shape[1] != X.shape[1]:
        raise ApiError(422, "invalid_input", f"field 'background': {background.shape[1]} columns, "
                                             f"'data' has {X.shape[1]}")
    state = _state(request)
    tenant = _tenant(request, key)

    def run() -> dict[str, Any]:
        if model_name is not None:
            mv = state.version(tenant, model_name, version)
            model, source = state.model(mv), {"model": mv.name, "version": mv.version}
        else:
            detector_name = payload.field(body, "detector", str, "ecod")
            model = service.create(detector_name, payload.params(body.get("params")))
            model.fit(service.with_names(background if background is not None else X, names))
            source = {"detector": qualified_name_of(model)}
        if getattr(model, "n_features_in_", X.shape[1]) != X.shape[1]:
            raise InputError(f"field 'data': {X.shape[1]} columns, the model was fitted on {model.n_features_in_}")
        rows = np.arange(X.shape[0])
        return {**source, **service.explain(model, X, rows, explainer=explainer, params=explainer_params,
                                            background=background, k=k, names=names)}

    result = await in_thread(run)
    state.metrics.add_rows("/v1/explain", X.shape[0], tenant)
    return JSON(result)


@router.get("/v1/audit", tags=["service"], summary="The newest audit-log entries (role admin)",
            responses=schemas.errors(401, 403, 422))
def audit(request: Request, limit: int = Query(100, ge=1, le=10_000), key: ApiKey = Depends(AUDIT)) -> JSON:
    """The server's log (keys, API calls) of the request's tenant."""
    return JSON({"entries": _state(request).keys.audit_entries(limit, tenant=_tenant(request, key))})


@router.get("/v1/audit/store", tags=["service"], summary="The newest model store audit records (action audit.read)",
            responses=schemas.errors(401, 403, 422))
async def store_audit(request: Request, limit: int = Query(100, ge=1, le=10_000),
                      key: ApiKey = Depends(AUDIT)) -> JSON:
    store = _store(request, key)
    return JSON({"entries": await in_thread(lambda: store.audit_entries(limit))})
