"""API keys: 401/403 that say what is missing, roles per route, revocation, the CLI and the audit log."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import pytest
from server_testkit import server_env

ROUTES = [  # (method, path, role needed)
    ("GET", "/metrics", "read"), ("GET", "/v1/plugins", "read"), ("GET", "/v1/detectors", "read"),
    ("GET", "/v1/models", "read"), ("POST", "/v1/detect", "score"), ("POST", "/v1/models/x/score", "score"),
    ("POST", "/v1/drift", "score"), ("POST", "/v1/explain", "score"), ("POST", "/v1/models", "admin"),
    ("DELETE", "/v1/models/x", "admin"), ("GET", "/v1/audit", "admin"),
]


@pytest.mark.parametrize(("method", "path", "role"), ROUTES)
def test_missing_key_is_401_saying_how_to_send_one(server, method, path, role):
    response = server.client(None).request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["code"] == "unauthorized"
    assert "missing API key" in body["message"] and "Authorization: Bearer" in body["message"]


@pytest.mark.parametrize(("method", "path", "role"), ROUTES)
def test_roles_are_enforced_per_route(server, method, path, role):
    order = ["read", "score", "admin"]
    for held in order:
        response = server.client(held).request(method, path, json={})
        if order.index(held) < order.index(role):
            assert response.status_code == 403, (held, response.text)
            message = response.json()["message"]
            assert f"needs role {role!r}" in message and f"has role {held!r}" in message
        else:
            assert response.status_code not in (401, 403), (held, response.text)


def test_invalid_key_and_header_forms(server):
    wrong = server.client(None, headers={"Authorization": "Bearer pyn_abc_def"}).get("/v1/plugins")
    assert wrong.status_code == 401 and wrong.json()["message"] == "invalid or revoked API key"
    forged = server.keys["read"][:-4] + "AAAA"
    assert server.client(None, headers={"X-API-Key": forged}).get("/v1/plugins").status_code == 401
    basic = server.client(None, headers={"Authorization": "Basic dXNlcjpwYXNz"}).get("/v1/plugins")
    assert basic.status_code == 401 and "unsupported Authorization header" in basic.json()["message"]
    via_header = server.client(None, headers={"X-API-Key": server.keys["read"]}).get("/v1/plugins")
    assert via_header.status_code == 200


def _cli(server, *args: str) -> subprocess.CompletedProcess:
    env = {**server_env(server.home), "PYNOMALY_LOAD_PLUGINS": "server"}  # built-ins + this plugin: fast start
    return subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_keys_cli_create_list_revoke_and_audit(server):
    created = _cli(server, "keys", "create", "--role", "score", "--name", "ci")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("pyn_")
    key_id = key.split("_")[1]
    client = server.client(None, headers={"Authorization": f"Bearer {key}"})
    assert client.post("/v1/drift", json={"reference": [[1.0], [2.0], [3.0]],
                                          "current": [[1.5], [2.5], [3.5]]}).status_code == 200
    listed = _cli(server, "keys", "list", "--json")
    assert key_id in listed.stdout and key not in listed.stdout  # the secret is never shown again
    revoked = _cli(server, "keys", "revoke", key_id)
    assert revoked.returncode == 0 and f"revoked key {key_id}" in revoked.stdout
    time.sleep(0.7)  # the test server re-reads revocations every 0.5 s
    after = client.get("/v1/plugins")
    assert after.status_code == 401 and after.json()["message"] == "invalid or revoked API key"
    again = _cli(server, "keys", "revoke", key_id)
    assert again.returncode == 2 and "already revoked" in again.stderr and "Traceback" not in again.stderr
    bad_role = _cli(server, "keys", "create", "--role", "root")
    assert bad_role.returncode == 2 and "unknown role 'root'" in bad_role.stderr
    audit = _cli(server, "keys", "audit", "--json")
    actions = [line for line in audit.stdout.splitlines() if key_id in line]
    assert actions, audit.stdout
    entries = server.client("admin").get("/v1/audit", params={"limit": 1000}).json()["entries"]
    assert [e["action"] for e in entries if e["target"] == key_id] == ["key.create", "key.revoke"]


def test_database_holds_no_secret_and_the_audit_log_is_append_only(server):
    with sqlite3.connect(server.home / "server.db") as db:
        rows = db.execute("SELECT key_id, hash, salt FROM pynomaly_api_keys").fetchall()
        stored = b"".join(bytes(h) + bytes(s) + k.encode() for k, h, s in rows)
        for key in server.keys.values():
            secret = key.split("_", 2)[2]
            assert secret.encode() not in stored
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("UPDATE pynomaly_audit_log SET actor = 'someone else'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            db.execute("DELETE FROM pynomaly_audit_log")


@pytest.mark.parametrize(("args", "message"), [
    (["serve", "--workers", "0"], "error: --workers must be >= 1, got 0"),
    (["serve", "--port", "70000"], "error: --port must be in 1..65535, got 70000"),
    (["serve", "--max-body", "-5"], "error: --max-body must be > 0, got -5"),
])
def test_serve_rejects_bad_options_in_one_line(server, args, message):
    done = _cli(server, *args)
    assert done.returncode == 2 and done.stderr.strip() == message
