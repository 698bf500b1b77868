"""The web UI: server-rendered Jinja2 pages and HTMX fragments, every asset served from ``/static``."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import orjson
from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from pynomaly_core.errors import PynomalyError
from pynomaly_server import payload, service
from pynomaly_server.auth import COOKIE, authenticate, authenticate_async, tenant_of
from pynomaly_server.errors import ApiError, from_pynomaly
from pynomaly_server.keys import ApiKey
from pynomaly_server.responses import in_thread

router = APIRouter(include_in_schema=False)
log = logging.getLogger("pynomaly.server")
templates = Jinja2Templates(directory=str(__import__("pathlib").Path(__file__).parent / "templates"))
#: Points drawn in the scatter (a random sample beyond this, always including the top anomalies).
MAX_POINTS = 5000
TOP_EXPLAINED = 10


def _static(name: str) -> str:
    from pynomaly_server import __version__

    return f"/static/{name}?v={__version__}"


templates.env.globals["static"] = _static


def _key(request: Request, role: str) -> ApiKey | None:
    try:
        return authenticate(request.app.state.server.keys, role, request.headers, request.cookies, request.scope)
    except ApiError:
        return None


async def _akey(request: Request, role: str) -> ApiKey | None:
    try:
        return await authenticate_async(request.app.state.server.keys, role, request.headers, request.cookies,
                                        request.scope)
    except ApiError:
        return None


def _page(request: Request, name: str, key: ApiKey, page: str, **context: Any) -> Response:
    return templates.TemplateResponse(request, name, {"key": key, "page": page, **context})


def _fragment_error(request: Request, status: int, message: str, title: str = "Error") -> Response:
    return templates.TemplateResponse(request, "_error.html", {"message": message, "title": title},
                                      status_code=status)


@router.get("/")
def root() -> Response:
    return RedirectResponse("/ui", status_code=303)


@router.get("/ui/login")
def login_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"key": None, "page": "login", "error": None})


@router.post("/ui/login")
async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=5)
    token = str(form.get("key") or "").strip()
    key = await in_thread(request.app.state.server.keys.verify, token) if token else None
    if key is None:
        return templates.TemplateResponse(request, "login.html", {"key": None, "page": "login",
                                                                  "error": "invalid or revoked API key"},
                                          status_code=401)
    response = RedirectResponse("/ui", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=12 * 3600, path="/")
    return response


@router.post("/ui/logout")
def logout() -> Response:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/ui")
def detect_page(request: Request) -> Response:
    key = _key(request, "read")
    if key is None:
        return RedirectResponse("/ui/login", status_code=303)
    from pynomaly_core.registry import get_registry

    registry = get_registry()
    specs = registry.detectors(data_kind="tabular")
    selected = "builtin.ecod" if any(s.qualified_name == "builtin.ecod" for s in specs) else specs[0].qualified_name
    return _page(request, "detect.html", key, "detect", detectors=specs, selected=selected,
                 spec=registry.detector(selected))


@router.get("/ui/params")
def params_fragment(request: Request, detector: str = "") -> Response:
    if _key(request, "read") is None:
        return _fragment_error(request, 401, "sign in again: the session's API key is missing or revoked")
    from pynomaly_core.registry import get_registry

    try:
        spec = get_registry().detector(detector)
    except PynomalyError as exc:
        return _fragment_error(request, 404, str(exc))
    return templates.TemplateResponse(request, "_params.html", {"spec": spec})


@router.post("/ui/detect")
async def detect_fragment(request: Request) -> Response:
    key = await _akey(request, "score")
    if key is None:
        return _fragment_error(request, 403, "running a detector needs an API key with role 'score' or 'admin'")
    try:
        form = await request.form(max_files=1, max_fields=100,
                                  max_part_size=request.app.state.server.settings.max_body_bytes)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ApiError(422, "invalid_input", "choose a CSV file first")
        content = await upload.read()
        labels = str(form.get("labels") or "").strip() or None
        detector = str(form.get("detector") or "ecod")
        params = _form_params(form)
        result = await in_thread(lambda: _run(content, upload.filename, labels, detector, params))
    except ApiError as exc:
        return _fragment_error(request, exc.status, exc.message)
    except PynomalyError as exc:
        error = from_pynomaly(exc)
        return _fragment_error(request, error.status, error.message)
    except Exception as exc:  # a detector failing in a way nobody foresaw: say so, keep the details in the log
        log.exception("unexpected error in the UI's detect")
        return _fragment_error(request, 500, f"internal error ({type(exc).__name__}); the server log has the details")
    request.app.state.server.metrics.add_rows("/ui/detect", result["r"]["rows"], tenant_of(key, request.headers))
    return templates.TemplateResponse(request, "_result.html", {**result, "filename": upload.filename})


def _form_params(form: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in form.multi_items():
        if not name.startswith("param.") or not isinstance(value, str) or not value.strip():
            continue
        try:
            params[name[len("param."):]] = orjson.loads(value)
        except orjson.JSONDecodeError:
            params[name[len("param."):]] = value.strip()
    return params


def _run(content: bytes, filename: str, labels: str | None, detector: str, params: dict[str, Any]) -> dict[str, Any]:
    dataset = payload.csv_dataset(content, filename, labels=labels)
    X, names = dataset.X, dataset.feature_names
    summary, model = service.detect(X, detector, params, names=names, y=dataset.y, top=TOP_EXPLAINED)
    top_rows = np.array([t["row"] for t in summary["top"]], dtype=np.int64)
    rng = np.random.default_rng(0)
    background = X if X.shape[0] <= 500 else X[rng.choice(X.shape[0], 500, replace=False)]
    explained = service.explain(model, X, top_rows, explainer="permutation", params={"n_repeats": 5},
                                background=background, names=names)
    if X.shape[0] > MAX_POINTS:
        shown = np.union1d(rng.choice(X.shape[0], MAX_POINTS - top_rows.size, replace=False), top_rows)
    else:
        shown = np.arange(X.shape[0])
    chart = {
        "histogram": service.histogram(summary["scores"]),
        "threshold": summary["threshold"],
        "feature_names": summary["feature_names"],
        "points": X[shown],
        "point_rows": shown,
        "point_labels": summary["labels"][shown],
    }
    chart_json = orjson.dumps(chart, option=orjson.OPT_SERIALIZE_NUMPY).decode().replace("</", "<\\/")
    return {"r": summary, "explained": explained, "chart_json": chart_json}


@router.get("/ui/models")
async def models_page(request: Request) -> Response:
    key = await _akey(request, "read")
    if key is None:
        return RedirectResponse("/ui/login", status_code=303)
    error = None
    try:
        store = request.app.state.server.store_for(tenant_of(key, request.headers))
        versions = await in_thread(store.list)
        models = [mv.to_dict() for mv in versions]
    except PynomalyError as exc:
        models, error = [], str(exc)
    return _page(request, "models.html", key, "models", models=models, error=error)


@router.get("/ui/models/{name}")
async def model_page(request: Request, name: str, error: str | None = None) -> Response:
    """A model's versions (stage, aliases), its lifecycle history, and approve / reject for a reviewer."""
    key = await _akey(request, "model.history")
    if key is None:
        return RedirectResponse("/ui/login", status_code=303)
    state = request.app.state.server
    tenant = tenant_of(key, request.headers)
    store = state.store_for(tenant)
    try:
        versions = await in_thread(lambda: store.list(name))
        history = await in_thread(lambda: store.history(name))
        aliases: dict[int, list[str]] = {}
        for alias, version in (await in_thread(lambda: store.aliases(name))).get(name, {}).items():
            aliases.setdefault(version, []).append(alias)
    except PynomalyError as exc:
        return _fragment_error(request, from_pynomaly(exc).status, str(exc))
    can_review = state.keys.policy().decide(key.role, key.tenant, "model.approve", tenant).allowed
    return _page(request, "model.html", key, "models", model=name, tenant=tenant, versions=versions,
                 history=history, aliases=aliases, can_review=can_review, error=error)


@router.post("/ui/models/{name}/{version}/review")
async def review(request: Request, name: str, version: int) -> Response:
    """Approve or reject a version pending review (the form of the model page)."""
    form = await request.form(max_files=0, max_fields=5)
    action = str(form.get("action") or "")
    if action not in ("approve", "reject"):
        return _fragment_error(request, 422, f"unknown review action {action!r}")
    key = await _akey(request, f"model.{action}")
    if key is None:
        return _fragment_error(request, 403, f"{action} needs an API key with role 'reviewer' or 'admin'")
    store = request.app.state.server.store_for(tenant_of(key, request.headers), key,
                                               request.scope.get("pynomaly.request_id"))
    reason = str(form.get("reason") or "").strip() or None
    try:
        await in_thread(lambda: getattr(store, action)(name, version, reason=reason))
    except PynomalyError as exc:
        return await model_page(request, name, error=str(exc))
    request.app.state.server.forget(name, tenant=store.tenant)
    return RedirectResponse(f"/ui/models/{name}", status_code=303)


@router.get("/ui/plugins")
def plugins_page(request: Request) -> Response:
    key = _key(request, "read")
    if key is None:
        return RedirectResponse("/ui/login", status_code=303)
    from pynomaly_core.registry import get_registry

    records = [record.to_dict() for record in get_registry().plugins.values()]
    return _page(request, "plugins.html", key, "plugins", plugins=records)
