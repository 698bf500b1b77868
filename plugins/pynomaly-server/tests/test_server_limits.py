"""Request limits: oversized bodies get 413 (declared or streamed), slow requests 504, all as JSON."""

from __future__ import annotations

import asyncio
import json

from server_testkit import MAX_BODY


def test_declared_oversized_body_is_413_before_it_is_read(server):
    body = b'{"data": [' + b"[1.0, 2.0]," * (MAX_BODY // 10) + b"[1.0, 2.0]]}"
    response = server.client("score").post("/v1/detect", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"code": "body_too_large",
                               "message": f"request body of {len(body)} bytes exceeds the limit of {MAX_BODY} bytes"}


def test_streamed_oversized_body_is_413(server):
    def chunks():
        yield b'{"data": ['
        for _ in range(MAX_BODY // 1000 + 10):
            yield b"[1.0, 2.0]," * 100
        yield b"[1.0, 2.0]]}"

    response = server.client("score").post("/v1/models/x/score", content=chunks(),
                                           headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"


def test_oversized_upload_is_413(server):
    content = b"a,b\n" + b"1.0,2.0\n" * (MAX_BODY // 8 + 10)
    response = server.client("score").post("/v1/detect", files={"file": ("big.csv", content, "text/csv")})
    assert response.status_code == 413


def _run_asgi(middleware, body: bytes = b"") -> list[dict]:
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/detect",
             "headers": [(b"content-length", str(len(body)).encode())]}
    asyncio.run(middleware(scope, receive, send))
    return sent


def test_slow_request_is_a_504_json_error_and_counted():
    from pynomaly_server.metrics import Metrics
    from pynomaly_server.middleware import ServerMiddleware

    async def slow_app(scope, receive, send):
        await asyncio.sleep(5)

    metrics = Metrics()
    sent = _run_asgi(ServerMiddleware(slow_app, metrics=metrics, max_body_bytes=100, timeout_s=0.05))
    assert sent[0]["status"] == 504
    assert json.loads(sent[1]["body"]) == {"code": "timeout",
                                           "message": "the request took longer than 0.05 s and was abandoned"}
    assert metrics.requests[("POST", "(unmatched)", "504")] == 1


def test_body_counted_while_streaming_even_without_content_length():
    from pynomaly_server.metrics import Metrics
    from pynomaly_server.middleware import ServerMiddleware

    async def reading_app(scope, receive, send):
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    middleware = ServerMiddleware(reading_app, metrics=Metrics(), max_body_bytes=10, timeout_s=5)
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"x" * 11, "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(middleware({"type": "http", "method": "POST", "path": "/", "headers": []}, receive, send))
    assert sent[0]["status"] == 413
    ok = _run_asgi(ServerMiddleware(reading_app, metrics=Metrics(), max_body_bytes=10, timeout_s=5), b"x" * 10)
    assert ok[0]["status"] == 200
