"""Latency of ``POST /v1/models/{name}/score`` on a real uvicorn server, next to the SDK call in the same run.

Starts ``pynomaly serve`` in a subprocess on a free loopback port (fresh ``PYNOMALY_HOME``), registers an ECOD
model through the API, then for 1 row and 1,000 rows runs 8 concurrent keep-alive clients for ``--seconds``
(default 30) each and prints p50/p99 latency, throughput and the error count; the reference is
``model.decision_function`` on the same fitted model, in-process. Goal: 1-row p99 <= 10 ms with zero errors.

    python benchmarks/bench_server_latency.py [--seconds 30] [--concurrency 8] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TRAIN_ROWS, FEATURES = 5_000, 8
GOAL_P99_MS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(port: int, method: str, path: str, body: bytes, key: str) -> tuple[int, bytes]:
    """One request on a fresh connection (set-up only)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request(method, path, body=body, headers={"Authorization": f"Bearer {key}",
                                                   "Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


async def client(port: int, request: bytes, stop_at: float, warm_until: float, latencies: list[float],
                 errors: list[str]) -> None:
    """One keep-alive connection sending ``request`` back to back until ``stop_at``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            start = time.perf_counter()
            if start >= stop_at:
                return
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            elapsed = time.perf_counter() - start
            if status != 200:
                errors.append(f"{status} {body[:120]!r}")
            elif start >= warm_until:
                latencies.append(elapsed)
    except (OSError, asyncio.IncompleteReadError) as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        writer.close()


async def load(port: int, request: bytes, seconds: float, concurrency: int,
               warmup: float) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    now = time.perf_counter()
    warm_until, stop_at = now + warmup, now + warmup + seconds
    await asyncio.gather(*(client(port, request, stop_at, warm_until, latencies, errors) for _ in range(concurrency)))
    return latencies, errors, seconds


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its direct children (uvicorn workers); NaN off Linux."""
    total = 0.0
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry) == pid or int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, ValueError):
        return float("nan")
    return total


def percentiles(values: list[float]) -> tuple[float, float]:
    array = np.asarray(values) * 1000
    return float(np.percentile(array, 50)), float(np.percentile(array, 99))


def sdk_latency(model, X: np.ndarray, seconds: float) -> tuple[float, float, int]:
    times = []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        start = time.perf_counter()
        model.decision_function(X)
        times.append(time.perf_counter() - start)
    p50, p99 = percentiles(times)
    return p50, p99, len(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per case (default 30)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent keep-alive clients (default 8)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each case")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="pynomaly-bench-server-"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYNOMALY_DATABASE_URL", "PYNOMALY_SERVER_DATABASE_URL")}
    env["PYNOMALY_HOME"] = str(home)
    os.environ.update(PYNOMALY_HOME=str(home))
    os.environ.pop("PYNOMALY_DATABASE_URL", None)
    from pynomaly_server.keys import KeyStore

    key = KeyStore(f"sqlite:///{home / 'server.db'}").create("admin", name="bench", actor="bench")[1]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "pynomaly_core.cli.app", "serve", "--port", str(port),
                               "--workers", str(args.workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if http(port, "GET", "/healthz", b"", key)[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"server did not start: {server.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.2)
        rng = np.random.default_rng(0)
        train = rng.normal(size=(TRAIN_ROWS, FEATURES))
        status, body = http(port, "POST", "/v1/models", json.dumps(
            {"name": "bench", "detector": "ecod", "data": train.tolist()}).encode(), key)
        assert status == 201, body
        from pynomaly_core.modelstore import ModelStore

        model = ModelStore.from_env().load("bench")
        import platform

        print(f"server latency benchmark: ECOD fitted on {TRAIN_ROWS} x {FEATURES}, {args.workers} server worker(s), "
              f"{args.concurrency} keep-alive "
              f"clients, {args.seconds:g} s per case (+{args.warmup:g} s warm-up); python {platform.python_version()}, "
              f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}")
        print(f"{'case':<10} {'path':<8} {'p50 ms':>9} {'p99 ms':>9} {'req/s':>9} {'requests':>9} {'errors':>7}")
        results = {}
        for rows in (1, 1000):
            X = rng.normal(size=(rows, FEATURES))
            payload = json.dumps({"data": X.tolist()}).encode()
            request = (f"POST /v1/models/bench/score HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                       f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
                       f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload
            cpu_before = cpu_seconds(server.pid)
            latencies, errors, seconds = asyncio.run(load(port, request, args.seconds, args.concurrency, args.warmup))
            cpu_ms = (cpu_seconds(server.pid) - cpu_before) * 1000 / max(len(latencies), 1)
            p50, p99 = percentiles(latencies) if latencies else (float("nan"), float("nan"))
            sdk50, sdk99, sdk_n = sdk_latency(model, X, min(5.0, args.seconds))
            results[rows] = (p50, p99, len(errors))
            print(f"{rows:>4} rows  {'server':<8} {p50:>9.3f} {p99:>9.3f} {len(latencies) / seconds:>9.0f} "
                  f"{len(latencies):>9} {len(errors):>7}")
            print(f"{rows:>4} rows  {'sdk':<8} {sdk50:>9.3f} {sdk99:>9.3f} {1000 / sdk50:>9.0f} {sdk_n:>9} {0:>7}")
            print(f"{'':<10} server/sdk p50 ratio {p50 / sdk50:.1f}x; server CPU per request {cpu_ms:.3f} ms "
                  f"(all processes of the server, warm-up included)")
            for error in errors[:3]:
                print(f"  error: {error}")
        p50, p99, n_errors = results[1]
        verdict = "met" if p99 <= GOAL_P99_MS and n_errors == 0 else "NOT met"
        print(f"goal (1-row p99 <= {GOAL_P99_MS:g} ms, zero errors): {verdict} (p99 {p99:.3f} ms, {n_errors} errors); "
              f"load average at end {os.getloadavg()[0]:.2f}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
