"""Scoring with a registered model: the one code path behind ``POST /v1/models/{name}/score``.

:class:`ScoreFastPath` answers that route straight from ASGI, before FastAPI's router and dependency injection
(which cost more than scoring one row); the FastAPI route calls the same :func:`score_model`, so the OpenAPI
document, the behaviour and the errors are the same either way.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qs, unquote

import numpy as np
import orjson

from pynomaly_core.errors import PynomalyError
from pynomaly_core.pipeline import score_detector
from pynomaly_server import payload
from pynomaly_server.auth import authenticate_async, tenant_of
from pynomaly_server.errors import ApiError, error_body, from_pynomaly
from pynomaly_server.responses import in_thread

ROUTE = "/v1/models/{name}/score"
#: Requests with at most this many rows are scored on the event loop (no thread hop); larger ones in a thread.
INLINE_ROWS = 2000
_PATH = re.compile(r"^/v1/models/([^/]+)/score/?$")
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
log = logging.getLogger("pynomaly.server")


async def score_model(state: Any, name: str, version: int | None, headers: Any, cookies: Any,
                      body: bytes, scope: dict[str, Any] | None = None, alias: str | None = None) -> dict[str, Any]:
    """Authenticate (action ``model.score`` in the request's tenant), parse ``{"data": [[...]]}``, score with the
    cached model of that tenant. ``name`` may be ``NAME@ALIAS`` (``champion``, ``challenger``)."""
    key = await authenticate_async(state.keys, "model.score", headers, cookies, scope)
    if "@" in name:
        name, _, alias = name.partition("@")
    if alias is not None and version is not None:
        raise ApiError(422, "invalid_input", "give either a version or an alias, not both")
    X = payload.rows(payload.json_object(body).get("data"))
    tenant = tenant_of(key, headers)
    mv = state.version(tenant, name, version, _alias(alias))
    if alias == "champion" and state.settings.ab_share > 0:
        challenger = state.challenger(tenant, name)
        if challenger is not None and challenger.version != mv.version:
            return await _ab_split(state, mv, challenger, X, (scope or {}).get("pynomaly.request_id") or "")
    model = await _model(state, mv)
    if X.shape[0] <= INLINE_ROWS:
        scores, labels = _score(model, X)
    else:
        scores, labels = await in_thread(_score, model, X)
    state.metrics.add_rows(ROUTE, X.shape[0], mv.tenant)
    result = {"model": mv.name, "version": mv.version, "threshold": float(model.threshold_),
              "scores": scores, "labels": labels}
    if alias is not None:
        result["alias"] = alias
    return result


async def _model(state: Any, mv: Any) -> Any:
    model = state.cache.peek((mv.tenant, mv.name, mv.version))
    return model if model is not None else await in_thread(state.model, mv)


async def _ab_split(state: Any, champion: Any, challenger: Any, X: np.ndarray, request_id: str) -> dict[str, Any]:
    """Score with both arms, answer with the one the request id falls to, record both (see :mod:`ab`)."""
    from pynomaly_server.ab import arm_of, feature_names

    models = {"champion": await _model(state, champion), "challenger": await _model(state, challenger)}
    if X.shape[0] <= INLINE_ROWS:
        results = {arm: _score(model, X) for arm, model in models.items()}
    else:
        results = {arm: await in_thread(_score, model, X) for arm, model in models.items()}
    arm = arm_of(request_id, state.settings.ab_share)
    served = champion if arm == "champion" else challenger
    state.traffic.add(champion.tenant, champion.name, feature_names(models["champion"], X.shape[1]), X,
                      results["champion"][0], results["challenger"][0], arm, (champion.version, challenger.version),
                      request_id)
    state.metrics.add_rows(ROUTE, X.shape[0], champion.tenant)
    scores, labels = results[arm]
    return {"model": served.name, "version": served.version, "threshold": float(models[arm].threshold_),
            "scores": scores, "labels": labels, "alias": arm, "ab_share": state.settings.ab_share}


def _alias(alias: str | None) -> str | None:
    if alias is None or alias == "latest":
        return None
    from pynomaly_core.governance.lifecycle import check_alias

    return check_alias(alias)


def _score(model: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    result = score_detector(model, X)
    return result.scores, result.labels


class _Route:
    """Stands in for the matched route in ``scope["route"]`` (the metrics label requests by route template)."""

    path = ROUTE


class ScoreFastPath:
    """ASGI middleware answering ``POST /v1/models/{name}/score`` itself; everything else goes to the app."""

    def __init__(self, app: Any, *, state: Any):
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        match = _PATH.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = _Route
        try:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            cookies = _cookies(headers.get("cookie"))
            version, alias = _version(scope.get("query_string", b""))
            body = await _read(receive)
            result = await score_model(self.state, unquote(match.group(1)), version, headers, cookies, body, scope,
                                       alias)
            await _respond(send, 200, orjson.dumps(result, option=_OPTIONS))
        except ApiError as exc:
            await _respond(send, exc.status, error_body(exc.code, exc.message), exc.headers)
        except PynomalyError as exc:
            error = from_pynomaly(exc)
            await _respond(send, error.status, error_body(error.code, error.message))
        except Exception as exc:
            if type(exc).__name__ in ("BodyTooLarge", "CancelledError"):
                raise
            log.exception("unexpected error on POST %s", scope["path"])
            await _respond(send, 500, error_body("internal_error", f"internal error ({type(exc).__name__}); "
                                                                   "the server log has the details"))


def _version(query_string: bytes) -> tuple[int | None, str | None]:
    query = parse_qs(query_string.decode("latin-1"))
    aliases = query.get("alias")
    alias = aliases[-1] if aliases else None
    values = query.get("version")
    if not values:
        return None, alias
    try:
        version = int(values[-1])
    except ValueError:
        version = 0
    if version < 1:
        raise ApiError(422, "invalid_input", f"query.version: must be an integer >= 1, got {values[-1]!r}")
    return version, alias


def _cookies(header: str | None) -> dict[str, str] | None:
    if not header:
        return None
    from starlette.requests import cookie_parser

    return cookie_parser(header)


async def _read(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, "malformed_json", "the client disconnected before sending the whole body")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Any, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
