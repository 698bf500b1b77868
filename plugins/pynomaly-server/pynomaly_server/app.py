"""The FastAPI application: API routes, web UI, static assets, JSON errors and the ASGI middleware."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from pynomaly_core.errors import PynomalyError
from pynomaly_server import __version__
from pynomaly_server.config import Settings
from pynomaly_server.errors import ApiError, error_body, from_pynomaly
from pynomaly_server.middleware import ServerMiddleware
from pynomaly_server.scoring import ScoreFastPath
from pynomaly_server.state import ServerState

PACKAGE = Path(__file__).parent
log = logging.getLogger("pynomaly.server")

DESCRIPTION = """Anomaly detection over the pynomaly registry.

Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>`; create keys with
`pynomaly keys create --role ROLE [--tenant T]`. Every key belongs to a tenant and sees only that tenant's
models (`X-Pynomaly-Tenant` picks one for a `global_admin` key). Roles (a policy table the operator can extend):
**viewer** (listings, models, history, metrics) < **scorer** (+ detect, score, drift, explain) < **trainer**
(+ create, submit) / **reviewer** (+ approve, reject) < **admin** (+ deploy, retire, aliases, delete, audit);
the first keys' **read**, **score** and **admin** keep working. Errors are JSON `{"code", "message"}`; every
response carries `X-Request-ID`.
"""


def create_app(settings: Settings | None = None, *, keys: Any = None, store: Any = None) -> FastAPI:
    """Build the app; ``keys`` (a :class:`KeyStore`) and ``store`` (a ``ModelStore``) default to the configured ones."""
    from pynomaly_server import api, ui

    settings = settings or Settings.from_env()
    state = ServerState(settings, keys=keys, store=store)
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()  # writes the API-call audit records still queued

    app = FastAPI(title="pynomaly", version=__version__, description=DESCRIPTION, docs_url=None,
                  redoc_url=None, openapi_url="/openapi.json", lifespan=lifespan)
    app.state.server = state
    app.include_router(api.router)
    app.include_router(ui.router)
    app.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")
    _add_error_handlers(app)
    _add_docs(app)
    app.add_middleware(ScoreFastPath, state=state)  # inside ServerMiddleware: limits, timeout, metrics still apply
    app.add_middleware(ServerMiddleware, metrics=state.metrics, max_body_bytes=settings.max_body_bytes,
                       timeout_s=settings.request_timeout_s, audit=state.audit)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory pynomaly_server.app:create_app_from_env`` (each worker process)."""
    from pynomaly_server.cli import settle_heap

    app = create_app()
    settle_heap()
    return app


def _add_docs(app: FastAPI) -> None:
    """Swagger UI at /docs with its assets served locally (works offline)."""
    from fastapi.openapi.docs import get_swagger_ui_html

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="pynomaly API",
                                   swagger_js_url="/static/vendor/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg")


def _json_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(error_body(code, message), status_code=status, media_type="application/json", headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _json_error(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(PynomalyError)
    async def pynomaly_error(request: Request, exc: PynomalyError) -> Response:
        error = from_pynomaly(exc)
        return _json_error(error.status, error.code, error.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg', 'invalid value')}" if where else first.get("msg", "invalid request")
        return _json_error(422, "invalid_input", message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed"}
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no route {request.method} {request.url.path}; see /docs"
        return _json_error(exc.status_code, codes.get(exc.status_code, "http_error"), message,
                           dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _json_error(500, "internal_error",
                           f"internal error ({type(exc).__name__}); the server log has the details")
