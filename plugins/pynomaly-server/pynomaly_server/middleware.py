"""One pure-ASGI middleware: request body size limit (413), request timeout (504), metrics, security headers, a
request id (``X-Request-ID``: the client's when it is a short token, else a new one) and the audit record of
every authenticated request (left in the scope by :mod:`pynomaly_server.auth`)."""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import time
from typing import Any

from pynomaly_server.auth import AUDIT_SCOPE_KEY
from pynomaly_server.errors import error_body
from pynomaly_server.metrics import Metrics

REQUEST_ID_KEY = "pynomaly.request_id"
_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")

Scope = dict[str, Any]

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
#: The UI loads every asset from the server itself (no CDN); ECharts sets inline styles, Swagger UI is exempt.
_CSP = (b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


class BodyTooLarge(Exception):
    pass


class ServerMiddleware:
    """Wraps the app: rejects bodies over ``max_body_bytes`` (by Content-Length up front, else while reading),
    answers 504 when a request runs past ``timeout_s``, and records count and latency per route template."""

    def __init__(self, app: Any, *, metrics: Metrics, max_body_bytes: int, timeout_s: float, audit: Any = None):
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.timeout_s = timeout_s
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        state = {"status": 500, "started": False}
        path = scope.get("path", "")
        request_id = _request_id(scope)
        scope[REQUEST_ID_KEY] = request_id

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                headers = list(message.get("headers", []))
                headers.extend(_SECURITY_HEADERS)
                headers.append((b"x-request-id", request_id.encode()))
                if not path.startswith("/docs"):
                    headers.append(_CSP)
                message = {**message, "headers": headers}
            await send(message)

        try:
            length = _content_length(scope)
            if length is not None and length > self.max_body_bytes:
                await self._error(send_wrapper, 413, "body_too_large",
                                  f"request body of {length} bytes exceeds the limit of {self.max_body_bytes} bytes")
                return
            received = 0

            async def receive_wrapper() -> dict[str, Any]:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body_bytes:
                        raise BodyTooLarge
                return message

            try:
                await _with_timeout(self.app(scope, receive_wrapper, send_wrapper), self.timeout_s)
            except BodyTooLarge:
                if not state["started"]:
                    await self._error(send_wrapper, 413, "body_too_large",
                                      f"request body exceeds the limit of {self.max_body_bytes} bytes")
            except asyncio.TimeoutError:
                if not state["started"]:
                    await self._error(send_wrapper, 504, "timeout",
                                      f"the request took longer than {self.timeout_s:g} s and was abandoned")
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or ("/static" if path.startswith("/static/") else "(unmatched)")
            decided = scope.get(AUDIT_SCOPE_KEY)
            self.metrics.observe_request(scope.get("method", ""), template, state["status"],
                                         time.perf_counter() - start, None if decided is None else decided[1])
            if decided is not None and self.audit is not None:  # a tuple now; the writer thread makes the row
                key, tenant, action = decided
                self.audit.add((time.time(), key.actor, action, f"{scope.get('method', '')} {path}", tenant,
                                state["status"], request_id))

    @staticmethod
    async def _error(send: Any, status: int, code: str, message: str) -> None:
        body = error_body(code, message)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


_PREFIX = secrets.token_hex(4)
_COUNTER = itertools.count(1)


def _request_id(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is a short token, else ``<random per process>-<counter>``."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id" and _REQUEST_ID.match(value):
            return value.decode()
    return f"{_PREFIX}-{next(_COUNTER):x}"


async def _with_timeout(awaitable: Any, seconds: float) -> None:
    """``asyncio.timeout`` (no extra task per request) where available, else ``asyncio.wait_for``."""
    if hasattr(asyncio, "timeout"):
        async with asyncio.timeout(seconds):
            await awaitable
    else:  # Python 3.10
        await asyncio.wait_for(awaitable, seconds)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
