"""The lifecycle over REST (the same implementation as the CLI and the SDK), aliases in scoring, request ids in the
audit records of the model store, and the server's hash-chained log of API calls (``pynomaly audit verify``)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
from server_testkit import server_env


@pytest.fixture(scope="module")
def people(server):
    from pynomaly_server.keys import KeyStore

    store = KeyStore(f"sqlite:///{server.home / 'server.db'}")
    keys = {role: store.create(role, name=f"gov {role}", actor="test")[1] for role in ("trainer", "reviewer")}
    store.close()
    return keys


def _client(server, secret):
    import httpx

    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=60)


def test_lifecycle_over_rest_and_scoring_the_champion(server, people, blobs):
    train, test = blobs
    trainer, reviewer, admin = _client(server, people["trainer"]), _client(server, people["reviewer"]), \
        server.client("admin")
    trainer_id = people["trainer"].split("_")[1]
    created = trainer.post("/v1/models", json={"name": "gov", "detector": "hbos", "data": train.tolist()})
    assert created.status_code == 201, created.text
    assert created.json()["stage"] == "draft" and created.json()["created_by"] == f"key:{trainer_id}"
    submitted = trainer.post("/v1/models/gov/versions/1/submit", json={})
    assert submitted.status_code == 200 and submitted.json()["stage"] == "pending_review"
    forbidden = trainer.post("/v1/models/gov/versions/1/approve", json={})
    assert forbidden.status_code == 403 and "needs role 'reviewer'" in forbidden.json()["message"]
    no_reason = reviewer.post("/v1/models/gov/versions/1/reject", json={})
    assert no_reason.status_code == 409 and no_reason.json() == {
        "code": "invalid_transition", "message": "cannot reject gov@1: a reason is required (--reason)"}
    approved = reviewer.post("/v1/models/gov/versions/1/approve", json={"reason": "ok"})
    assert approved.status_code == 200 and approved.json()["stage"] == "approved"
    early = server.client("score").post("/v1/models/gov@champion/score", json={"data": test.tolist()})
    assert early.status_code == 404 and "has no alias 'champion'" in early.json()["message"]
    deployed = admin.post("/v1/models/gov/versions/1/deploy", json={"alias": "champion"})
    assert deployed.status_code == 200 and deployed.json()["stage"] == "deployed"
    request_id = deployed.headers["x-request-id"]
    scorer = server.client("score")
    by_path = scorer.post("/v1/models/gov@champion/score", json={"data": test.tolist()}).json()
    by_query = scorer.post("/v1/models/gov/score", params={"alias": "champion"}, json={"data": test.tolist()}).json()
    import pynomaly_core as pn

    expected = pn.create_detector("hbos").fit(train).decision_function(test)
    np.testing.assert_allclose(by_path["scores"], expected, rtol=1e-12)
    assert by_path["alias"] == by_query["alias"] == "champion" and by_path["version"] == 1
    assert admin.get("/v1/models/gov").json()["aliases"] == {"champion": 1}
    events = admin.get("/v1/models/gov/history").json()["events"]
    assert [(e["action"], e["to"]) for e in events] == [("register", "draft"), ("submit", "pending_review"),
                                                        ("approve", "approved"), ("deploy", "deployed")]
    store_audit = admin.get("/v1/audit/store", params={"limit": 1000}).json()["entries"]
    deploy = [e for e in store_audit if e["action"] == "model.deploy" and e["object"] == "gov@1"]
    assert len(deploy) == 1 and deploy[0]["request_id"] == request_id
    assert deploy[0]["actor"] == f"key:{server.keys['admin'].split('_')[1]}"
    refused = [e for e in store_audit if e["outcome"] == "refused" and e["object"] == "gov@1"]
    assert [e["action"] for e in refused] == ["model.reject"]


def test_every_authenticated_call_is_in_the_chained_log_and_verify_passes(server, people):
    client = server.client("read")
    response = client.get("/v1/models", headers={"X-Request-ID": "trace-123"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "trace-123"
    denied = client.post("/v1/drift", json={}, headers={"X-Request-ID": "trace-456"})
    assert denied.status_code == 403
    deadline, found = time.monotonic() + 10, {}
    while time.monotonic() < deadline and len(found) < 2:
        entries = server.client("admin").get("/v1/audit", params={"limit": 10_000}).json()["entries"]
        found = {e["request_id"]: e for e in entries if e["request_id"] in ("trace-123", "trace-456")}
        time.sleep(0.2)
    read_id = server.keys["read"].split("_")[1]
    assert found["trace-123"]["actor"] == f"key:{read_id}" and found["trace-123"]["outcome"] == "200"
    assert found["trace-123"]["target"] == "GET /v1/models" and found["trace-123"]["tenant"] == "default"
    assert found["trace-456"]["outcome"] == "403" and found["trace-456"]["action"] == "data.drift"
    env = {**server_env(server.home), "PYNOMALY_LOAD_PLUGINS": "server"}
    done = subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", "audit", "verify"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "model store audit log" in done.stdout and "server audit log" in done.stdout
    assert done.stdout.count(": intact") == 2


def test_web_ui_shows_history_and_lets_a_reviewer_approve(server, people, blobs):
    import httpx

    train, _ = blobs
    trainer = _client(server, people["trainer"])
    assert trainer.post("/v1/models", json={"name": "uirev", "detector": "hbos", "data": train.tolist()}
                        ).status_code == 201
    assert trainer.post("/v1/models/uirev/versions/1/submit", json={}).status_code == 200
    viewer = httpx.Client(base_url=server.url, timeout=60)
    assert viewer.post("/ui/login", data={"key": server.keys["read"]}).status_code == 303
    page = viewer.get("/ui/models/uirev")
    assert page.status_code == 200 and "pending_review" in page.text and "Approve" not in page.text
    reviewer = httpx.Client(base_url=server.url, timeout=60)
    assert reviewer.post("/ui/login", data={"key": people["reviewer"]}).status_code == 303
    page = reviewer.get("/ui/models/uirev")
    assert 'value="approve"' in page.text and "draft → pending_review" in page.text
    done = reviewer.post("/ui/models/uirev/1/review", data={"action": "approve", "reason": "fine"})
    assert done.status_code == 303 and done.headers["location"] == "/ui/models/uirev"
    page = reviewer.get("/ui/models/uirev")
    assert "pending_review → approved" in page.text and "fine" in page.text and 'value="approve"' not in page.text
    trainer_ui = httpx.Client(base_url=server.url, timeout=60)
    trainer_ui.post("/ui/login", data={"key": people["trainer"]})
    refused = trainer_ui.post("/ui/models/uirev/1/review", data={"action": "reject", "reason": "x"})
    assert refused.status_code == 403


def test_the_operator_extends_the_policy_table(server):
    import httpx

    env = {**server_env(server.home), "PYNOMALY_LOAD_PLUGINS": "server"}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    refused = cli("keys", "create", "--role", "auditor")
    assert refused.returncode == 2 and "unknown role 'auditor'" in refused.stderr
    granted = cli("keys", "policy", "--grant", "auditor:audit.read", "--json")
    assert granted.returncode == 0, granted.stderr
    assert {"tenant": "*", "role": "auditor", "action": "audit.read"} in json.loads(granted.stdout)
    created = cli("keys", "create", "--role", "auditor", "--name", "compliance")
    assert created.returncode == 0, created.stderr
    auditor = httpx.Client(base_url=server.url, timeout=60,
                           headers={"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"})
    deadline = time.monotonic() + 10
    while auditor.get("/v1/audit").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.3)  # the server re-reads the policy table in the background
    assert auditor.get("/v1/audit").status_code == 200
    assert auditor.get("/v1/models").status_code == 403  # nothing else was granted
    bad = cli("keys", "policy", "--grant", "auditor")
    assert bad.returncode == 2 and "expected ROLE:ACTION" in bad.stderr
