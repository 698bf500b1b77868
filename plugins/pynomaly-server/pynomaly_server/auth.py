"""Authentication and permission checks: ``Authorization: Bearer <key>``, ``X-API-Key: <key>`` or the UI's cookie;
the key's role and tenant against the policy table (:class:`pynomaly_core.governance.policy.Policy`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from pynomaly_core.errors import InputError
from pynomaly_core.governance.tenants import ANY_TENANT, DEFAULT_TENANT, check_tenant
from pynomaly_server.errors import ApiError
from pynomaly_server.keys import ROLE_ACTIONS, ApiKey, KeyStore

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


TENANT_HEADER = "x-pynomaly-tenant"
#: Where the authorisation decision of a request is left for the middleware's audit record.
AUDIT_SCOPE_KEY = "pynomaly.audit"


def authenticate(keys: KeyStore, role: str, headers: Any, cookies: Any | None = None,
                 scope: dict[str, Any] | None = None) -> ApiKey:
    """The key of the request if it may do ``role`` (an action such as ``model.score``, or one of the first
    roles read/score/admin) on the request's tenant; 401 without a valid key, 403 otherwise. Blocking (a first
    sight of a key runs scrypt): call it from a thread, or use :func:`authenticate_async`."""
    token = _require_token(headers, cookies)
    return _check(keys, keys.verify(token), role, headers, scope)


async def authenticate_async(keys: KeyStore, role: str, headers: Any, cookies: Any | None = None,
                             scope: dict[str, Any] | None = None) -> ApiKey:
    """:func:`authenticate` for the event loop: a recently verified key costs a dict lookup, the scrypt check of
    a new one runs in a worker thread."""
    token = _require_token(headers, cookies)
    key = keys.cached(token)
    if key is None:
        from pynomaly_server.responses import in_thread

        key = await in_thread(keys.verify, token)
    return _check(keys, key, role, headers, scope)


def tenant_of(key: ApiKey, headers: Any) -> str:
    """The tenant a request acts on: the ``X-Pynomaly-Tenant`` header, else the key's own tenant."""
    asked = headers.get(TENANT_HEADER)
    if asked:
        return asked.strip()
    return DEFAULT_TENANT if key.tenant == ANY_TENANT else key.tenant


def _require_token(headers: Any, cookies: Any | None) -> str:
    token = token_of(headers, cookies)
    if token is None:
        raise ApiError(401, "unauthorized", f"missing API key: {_HOW}", {"WWW-Authenticate": "Bearer"})
    return token


def _check(keys: KeyStore, key: ApiKey | None, role: str, headers: Any, scope: dict[str, Any] | None) -> ApiKey:
    if key is None:
        raise ApiError(401, "unauthorized", "invalid or revoked API key", {"WWW-Authenticate": "Bearer"})
    action = ROLE_ACTIONS.get(role, role)
    tenant = tenant_of(key, headers)
    decision = keys.policy().decide(key.role, key.tenant, action, tenant, who=f"key {key.key_id!r}")
    if scope is not None:
        scope[AUDIT_SCOPE_KEY] = (key, tenant, action)
    if not decision.allowed:
        raise ApiError(403, "forbidden", decision.reason)
    try:
        check_tenant(tenant)
    except InputError as exc:
        raise ApiError(422, "invalid_input", f"header X-Pynomaly-Tenant: {exc}") from None
    return key


def requires(role: str) -> Callable[..., Any]:
    """A FastAPI dependency that authenticates the request for ``role`` (an action, or read/score/admin)."""

    async def dependency(request: Request) -> ApiKey:
        return await authenticate_async(request.app.state.server.keys, role, request.headers, request.cookies,
                                        request.scope)

    dependency.__name__ = f"requires_{role.replace('.', '_')}"
    return dependency
