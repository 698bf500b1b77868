"""Every role × key tenant × requested tenant × action × object through the REST API of a real server, on SQLite
and on PostgreSQL: each decision must be exactly right (no access across tenants, no action above the role), and
listings, scoring and model files must stay within the tenant.

The expected decisions come from the table below, written from the issue's role definitions (not from the
server's policy code). Requests that a role may make are shaped so that they change nothing (a version that
does not exist, a transition the state machine refuses, a body that fails validation), so the cases are
independent and run against one server per backend.
"""

from __future__ import annotations

import itertools
import sys
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from server_testkit import start_server, stop_server

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests"))
from modelstore_support import POSTGRES_URL, postgres_problem

TENANTS = ("default", "acme")
_VIEW = {"registry.read", "metrics.read", "model.read", "model.history"}
_SCORE = _VIEW | {"model.score", "data.detect", "data.drift", "data.explain"}
_ALL = _SCORE | {"model.create", "model.submit", "model.approve", "model.reject", "model.deploy", "model.retire",
                 "model.alias", "model.delete", "audit.read"}
EXPECTED_ROLES = {
    "viewer": _VIEW, "scorer": _SCORE, "trainer": _SCORE | {"model.create", "model.submit"},
    "reviewer": _SCORE | {"model.approve", "model.reject"}, "admin": _ALL, "read": _VIEW, "score": _SCORE,
}
OBJECTS = {"own_default": "default", "own_acme": "acme"}  # model name → the tenant it exists in


def _case_requests():
    """(action, object or None, method, path, json body, status when allowed and visible)."""
    yield "registry.read", None, "GET", "/v1/detectors/hbos", None, 200
    yield "metrics.read", None, "GET", "/metrics", None, 200
    yield "model.read", None, "GET", "/v1/models", None, 200
    yield "audit.read", None, "GET", "/v1/audit?limit=20", None, 200
    yield "data.detect", None, "POST", "/v1/detect", {}, 422
    yield "data.drift", None, "POST", "/v1/drift", {}, 422
    yield "data.explain", None, "POST", "/v1/explain", {}, 422
    yield "model.create", None, "POST", "/v1/models", {"name": "never"}, 422
    for obj in OBJECTS:
        yield "model.read", obj, "GET", f"/v1/models/{obj}", None, 200
        yield "model.history", obj, "GET", f"/v1/models/{obj}/history", None, 200
        yield "model.score", obj, "POST", f"/v1/models/{obj}/score", {"data": [[0.0, 0.0, 0.0]]}, 200
        yield "model.submit", obj, "POST", f"/v1/models/{obj}/versions/99/submit", {}, 404
        for action in ("approve", "reject", "deploy", "retire"):  # a draft: the state machine refuses (409)
            yield f"model.{action}", obj, "POST", f"/v1/models/{obj}/versions/1/{action}", {"reason": "r"}, 409
        yield "model.alias", obj, "PUT", f"/v1/models/{obj}/aliases/champion", {"version": 1}, 409
        yield "model.delete", obj, "DELETE", f"/v1/models/{obj}?version=99", None, 404


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment(request, tmp_path_factory):
    """A server with a key per (role, tenant), a global admin, and models in both tenants."""
    from pynomaly_server.keys import KeyStore

    from pynomaly_core.builtin.hbos import HBOS
    from pynomaly_core.modelstore import ModelStore

    home = tmp_path_factory.mktemp(f"tenancy-{request.param}")
    env: dict[str, str] = {}
    url, keys_url, schema = f"sqlite:///{home / 'store.db'}", f"sqlite:///{home / 'server.db'}", None
    if request.param == "postgresql":
        problem = postgres_problem()
        if problem is not None:
            pytest.skip(f"PostgreSQL at {POSTGRES_URL} not usable: {problem}")
        url = keys_url = POSTGRES_URL
        schema = f"pynomaly_test_{uuid.uuid4().hex[:12]}"
        env.update(PYNOMALY_DATABASE_URL=url, PYNOMALY_DATABASE_SCHEMA=schema)
    store = ModelStore(url=url, home=home, schema=schema)
    rng = np.random.default_rng(0)
    for tenant in TENANTS:
        view = store.view(tenant=tenant, actor="author")
        view.register(f"own_{tenant}", HBOS(n_bins=5).fit(rng.normal(size=(50, 3))))
        view.register("shared", HBOS(n_bins=6 if tenant == "acme" else 7).fit(rng.normal(size=(50, 3))))
    keys_store = KeyStore(keys_url, schema=schema)
    keys = {(role, tenant): keys_store.create(role, tenant=tenant, actor="test")[1]
            for role in EXPECTED_ROLES for tenant in TENANTS}
    keys[("global_admin", "*")] = keys_store.create("global_admin", tenant="*", actor="test")[1]
    keys_store.close()
    server = start_server(home, env=env)
    server.keys = keys
    yield server, store
    stop_server(server)
    store.close()
    if schema is not None:
        import sqlalchemy as sa

        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def _expected(role: str, key_tenant: str, tenant: str, action: str, obj: str | None, allowed_status: int) -> int:
    permitted = role == "global_admin" or (tenant == key_tenant and action in EXPECTED_ROLES[role])
    if not permitted:
        return 403
    if obj is not None and OBJECTS[obj] != tenant:
        return 404  # another tenant's model does not exist here
    return allowed_status


def test_every_role_tenant_action_and_object_is_decided_correctly(deployment):
    server, store = deployment
    wrong: list[str] = []
    decisions = 0
    key_list = [(role, tenant) for role, tenant in server.keys]
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for (role, key_tenant), asked, case in itertools.product(key_list, (None, *TENANTS), list(_case_requests())):
            action, obj, method, path, body, allowed_status = case
            headers = {"Authorization": f"Bearer {server.keys[(role, key_tenant)]}"}
            if asked is not None:
                headers["X-Pynomaly-Tenant"] = asked
            tenant = asked or ("default" if key_tenant == "*" else key_tenant)
            expected = _expected(role, key_tenant, tenant, action, obj, allowed_status)
            response = client.request(method, path, headers=headers, json=body)
            decisions += 1
            label = f"{role}@{key_tenant} on {tenant}: {action} {obj or ''} ({method} {path})"
            if response.status_code != expected:
                wrong.append(f"{label}: got {response.status_code}, expected {expected}: {response.text[:200]}")
                continue
            if expected == 403:
                assert response.json()["code"] == "forbidden"
            elif expected == 200 and path == "/v1/models":
                refs = {(m["tenant"], m["name"]) for m in response.json()["models"]}
                if not refs or {t for t, _ in refs} != {tenant}:
                    wrong.append(f"{label}: listing crossed tenants: {sorted(refs)}")
            elif expected == 200 and path.startswith("/v1/audit"):
                if {e["tenant"] for e in response.json()["entries"]} - {tenant}:
                    wrong.append(f"{label}: audit entries of another tenant")
            elif (expected == 404 and obj is not None and OBJECTS[obj] != tenant
                  and "no model named" not in response.json()["message"]):
                wrong.append(f"{label}: {response.json()['message']}")
    print(f"\n{decisions} decisions, {decisions - len(wrong)} correct")
    assert not wrong, f"{len(wrong)} of {decisions} decisions wrong:\n" + "\n".join(wrong[:30])
    assert decisions >= 700
    # nothing changed: every model is still version 1, draft, in its tenant
    for tenant in TENANTS:
        listed = {(v.name, v.version, v.stage) for v in store.view(tenant=tenant).list()}
        assert listed == {(f"own_{tenant}", 1, "draft"), ("shared", 1, "draft")}


def test_same_name_in_two_tenants_scores_each_tenants_own_model_and_files_stay_apart(deployment):
    server, store = deployment
    X = [[0.1, 0.2, 0.3], [5.0, -3.0, 1.0]]
    with httpx.Client(base_url=server.url, timeout=60) as client:
        results = {}
        for tenant in TENANTS:
            response = client.post("/v1/models/shared/score", json={"data": X},
                                   headers={"Authorization": f"Bearer {server.keys[('scorer', tenant)]}"})
            assert response.status_code == 200, response.text
            expected = store.view(tenant=tenant).load("shared").decision_function(np.asarray(X))
            np.testing.assert_allclose(response.json()["scores"], expected, rtol=1e-12)
            results[tenant] = response.json()["scores"]
        assert results["default"] != results["acme"]
    acme = store.view(tenant="acme").get("shared")
    default = store.view(tenant="default").get("shared")
    assert acme.tenant == "acme" and acme.path.is_relative_to(server.home / "tenants" / "acme" / "models")
    assert default.path.is_relative_to(server.home / "models")


def _sample(text: str, prefix: str) -> float:
    """The value of the /metrics sample line that starts with ``prefix`` (0 when there is none)."""
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)]
    assert len(values) <= 1, f"{prefix} matches {len(values)} samples"
    return values[0] if values else 0.0


def test_metrics_never_cross_tenants(deployment):
    """Each tenant's /metrics counts its own rows and requests only; a global administrator sees every tenant,
    each sample labelled with it; a key naming another tenant is refused."""
    server, _ = deployment
    rows = 'pynomaly_rows_scored_total{route="/v1/models/{name}/score"}'
    requests = 'pynomaly_http_requests_total{method="POST",route="/v1/models/{name}/score",status="200"}'

    def metrics(key: tuple[str, str], tenant: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {server.keys[key]}"}
        if tenant is not None:
            headers["X-Pynomaly-Tenant"] = tenant
        return client.get("/metrics", headers=headers)

    with httpx.Client(base_url=server.url, timeout=60) as client:
        before = {t: metrics(("viewer", t)).text for t in TENANTS}
        for _ in range(3):
            response = client.post("/v1/models/own_acme/score", json={"data": [[0.0, 0.0, 0.0]] * 7},
                                   headers={"Authorization": f"Bearer {server.keys[('scorer', 'acme')]}"})
            assert response.status_code == 200, response.text
        after = {t: metrics(("viewer", t)).text for t in TENANTS}
        assert _sample(after["acme"], rows) - _sample(before["acme"], rows) == 21
        assert _sample(after["acme"], requests) - _sample(before["acme"], requests) == 3
        assert _sample(after["default"], rows) == _sample(before["default"], rows)
        assert _sample(after["default"], requests) == _sample(before["default"], requests)
        assert "acme" not in after["default"] and 'tenant="' not in after["acme"]
        assert metrics(("viewer", "default"), "acme").status_code == 403
        everything = metrics(("global_admin", "*")).text
        labelled = 'pynomaly_rows_scored_total{tenant="acme",route="/v1/models/{name}/score"}'
        assert _sample(everything, labelled) == _sample(after["acme"], rows)
        assert everything.count("# TYPE pynomaly_rows_scored_total counter") == 1
        assert _sample(metrics(("global_admin", "*"), "acme").text, rows) == _sample(after["acme"], rows)
