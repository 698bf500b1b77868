"""Shared helpers of the server tests: a real ``pynomaly serve`` subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

#: Body limit of the test server (small, so the 413 test stays cheap).
MAX_BODY = 256 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYNOMALY_DATABASE_URL", "PYNOMALY_SERVER_DATABASE_URL", "PYNOMALY_LOAD_PLUGINS")}
    env.update(PYNOMALY_HOME=str(home), PYNOMALY_SERVER_KEY_RECHECK="0.5", PYTHONUNBUFFERED="1")
    return env


@dataclass
class Server:
    """A running server: its URL, one key per role, its home folder and process."""

    url: str
    home: Path
    process: subprocess.Popen
    keys: dict[str, str] = field(default_factory=dict)
    log: Path | None = None

    def client(self, role: str | None = "admin", headers: dict[str, str] | None = None, **kwargs) -> httpx.Client:
        base = {"Authorization": f"Bearer {self.keys[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers={**base, **(headers or {})}, timeout=60, **kwargs)

    def metric(self, line_prefix: str) -> float:
        """The value of the first /metrics sample whose line starts with ``line_prefix`` (0 when absent)."""
        text = self.client("read").get("/metrics").text
        for line in text.splitlines():
            if line.startswith(line_prefix):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


def start_server(home: Path, *extra: str, env: dict[str, str] | None = None) -> Server:
    port = free_port()
    log = home / f"server-{port}.log"
    handle = open(log, "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "pynomaly_core.cli.app", "serve", "--port", str(port), "--max-body", str(MAX_BODY),
         *extra],
        env={**server_env(home), **(env or {})}, stdout=handle, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(url, home, process, log=log)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not answer /healthz within 60 s: {log.read_text()[-2000:]}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
