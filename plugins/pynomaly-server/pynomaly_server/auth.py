"""Authentication and role checks: ``Authorization: Bearer <key>``, ``X-API-Key: <key>`` or the UI's cookie."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from pynomaly_server.errors import ApiError
from pynomaly_server.keys import ROLES, ApiKey, KeyStore

COOKIE = "pynomaly_key"
_HOW = "send 'Authorization: Bearer <key>' or 'X-API-Key: <key>' (create one with `pynomaly keys create`)"


def token_of(headers: Any, cookies: Any | None = None) -> str | None:
    """The API key a request carries, if any."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(401, "unauthorized", f"unsupported Authorization header: {_HOW}",
                           {"WWW-Authenticate": "Bearer"})
        return value.strip()
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    if cookies is not None:
        return cookies.get(COOKIE) or None
    return None


def authenticate(keys: KeyStore, role: str, headers: Any, cookies: Any | None = None) -> ApiKey:
    """The key of the request if it has ``role`` (or a higher one); 401 without a valid key, 403 without the role.
    Blocking (a first sight of a key runs scrypt): call it from a thread, or use :func:`authenticate_async`."""
    token = _require_token(headers, cookies)
    return _check(keys.verify(token), role)


async def authenticate_async(keys: KeyStore, role: str, headers: Any, cookies: Any | None = None) -> ApiKey:
    """:func:`authenticate` for the event loop: a recently verified key costs a dict lookup, the scrypt check of
    a new one runs in a worker thread."""
    token = _require_token(headers, cookies)
    key = keys.cached(token)
    if key is None:
        from pynomaly_server.responses import in_thread

        key = await in_thread(keys.verify, token)
    return _check(key, role)


def _require_token(headers: Any, cookies: Any | None) -> str:
    token = token_of(headers, cookies)
    if token is None:
        raise ApiError(401, "unauthorized", f"missing API key: {_HOW}", {"WWW-Authenticate": "Bearer"})
    return token


def _check(key: ApiKey | None, role: str) -> ApiKey:
    if key is None:
        raise ApiError(401, "unauthorized", "invalid or revoked API key", {"WWW-Authenticate": "Bearer"})
    if not key.allows(role):
        allowed = ", ".join(ROLES[ROLES.index(role):])
        raise ApiError(403, "forbidden",
                       f"this route needs role {role!r} (or {allowed}); key {key.key_id!r} has role {key.role!r}")
    return key


def requires(role: str) -> Callable[..., Any]:
    """A FastAPI dependency that authenticates the request for ``role``."""

    async def dependency(request: Request) -> ApiKey:
        return await authenticate_async(request.app.state.server.keys, role, request.headers, request.cookies)

    dependency.__name__ = f"requires_{role}"
    return dependency
