"""Every route of the REST API against a real uvicorn server: results equal the SDK's, errors are JSON."""

from __future__ import annotations

import numpy as np
import pytest

import pynomaly_core as pn


def test_healthz_needs_no_key(server):
    response = server.client(None).get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["plugins"] >= 1 and "server" not in body["broken_plugins"]


def test_plugins_and_detectors_mirror_the_registry(server):
    from pynomaly_core.registry import get_registry

    client = server.client("read")
    plugins = client.get("/v1/plugins").json()
    names = {p["name"] for p in plugins["plugins"]}
    assert {"builtin", "server"} <= names
    assert names == set(get_registry().plugins)
    assert any(t["name"] == "builtin.ks" for t in plugins["drift_tests"])
    detectors = client.get("/v1/detectors", params={"plugin": "builtin"}).json()["detectors"]
    assert {d["name"] for d in detectors} == {s.qualified_name for s in get_registry().detectors(plugin="builtin")}
    one = client.get("/v1/detectors/hbos").json()
    assert one["name"] == "builtin.hbos" and one["params"]["n_bins"] == 10
    missing = client.get("/v1/detectors/hbosx")
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_name"
    assert "did you mean" in missing.json()["message"]


def test_detect_json_equals_the_sdk(server, blobs):
    train, _ = blobs
    response = server.client("score").post("/v1/detect", json={
        "detector": "hbos", "params": {"n_bins": 12}, "data": train.tolist(), "feature_names": ["a", "b", "c"],
        "top": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = pn.detect(train, "hbos", n_bins=12)
    np.testing.assert_allclose(body["scores"], expected.scores, rtol=1e-12)
    assert body["labels"] == expected.labels.tolist()
    assert body["threshold"] == pytest.approx(expected.threshold)
    assert [t["row"] for t in body["top"]] == expected.top(5).tolist()
    assert body["feature_names"] == ["a", "b", "c"] and body["rows"] == 300 and body["params"]["n_bins"] == 12


def test_detect_csv_upload_with_labels(server):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 2))
    X[:6] += 8
    y = np.zeros(120, dtype=int)
    y[:6] = 1
    lines = ["x,y,label"] + [f"{a},{b},{t}" for (a, b), t in zip(X, y, strict=True)]
    response = server.client("score").post(
        "/v1/detect", files={"file": ("points.csv", "\n".join(lines).encode(), "text/csv")},
        data={"detector": "ecod", "labels": "label", "top": "6", "params": '{"contamination": 0.05}'})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["feature_names"] == ["x", "y"]
    assert body["metrics"]["roc_auc"] > 0.99
    assert sorted(t["row"] for t in body["top"]) == list(range(6))
    assert body["params"]["contamination"] == 0.05


@pytest.mark.parametrize(("content", "message"), [
    (b"a,b\n1,2\n3,oops\n", "points.csv: non-numeric value 'oops' at line 3, column 'b'"),
    (b"a,b\n1,2\n3\n", "points.csv: line 3 has 1 fields, expected 2"),
    (b"   \n", "points.csv: the file is empty"),
])
def test_malformed_csv_is_a_422_naming_line_and_column(server, content, message):
    response = server.client("score").post("/v1/detect", files={"file": ("points.csv", content, "text/csv")})
    assert response.status_code == 422
    assert response.json() == {"code": "invalid_csv", "message": message}


@pytest.mark.parametrize(("body", "status", "code", "fragment"), [
    (b'{"data": [[1, 2], [3, 4]', 400, "malformed_json", "malformed JSON"),
    (b"", 400, "malformed_json", "empty"),
    (b"[1, 2]", 422, "invalid_input", "must be a JSON object"),
    (b'{"data": [[1, 2], [3]]}', 422, "invalid_input", "row 1 has 1 values, expected 2"),
    (b'{"data": [[1, 2], [3, "x"]]}', 422, "invalid_input", "row 1, column 1 is not a number"),
    (b'{"data": []}', 422, "invalid_input", "non-empty array of rows"),
    (b'{"data": [[1, 2]], "detector": "nope"}', 404, "unknown_name", "unknown detector 'nope'"),
    (b'{"data": [[1, 2], [2, 3]], "params": {"bins": 3}, "detector": "hbos"}', 422, "invalid_input",
     "unknown parameter(s) bins"),
    (b'{"data": [[1, 2]], "top": "ten"}', 422, "invalid_input", "field 'top': expected an integer"),
])
def test_malformed_json_is_a_json_error(server, body, status, code, fragment):
    response = server.client("score").post("/v1/detect", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == code and fragment in response.json()["message"]
    assert "Traceback" not in response.text


def test_unknown_route_is_a_json_404(server):
    response = server.client("read").get("/v1/nothing")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "no route GET /v1/nothing; see /docs"}


def test_model_lifecycle_score_equals_the_sdk_and_is_audited(server, blobs):
    train, test = blobs
    admin = server.client("admin")
    created = admin.post("/v1/models", json={"name": "life", "detector": "mahalanobis", "data": train.tolist(),
                                             "feature_names": ["a", "b", "c"]})
    assert created.status_code == 201, created.text
    first = created.json()
    assert first["ref"] == "life@1" and first["detector"] == "builtin.mahalanobis" and "path" not in first
    assert first["fingerprint"]["n_rows"] == 300 and first["fingerprint"]["columns"] == ["a", "b", "c"]
    second = admin.post("/v1/models", json={"name": "life", "detector": "ecod", "data": (train * 2).tolist()}).json()
    assert second["version"] == 2

    scorer = server.client("score")
    latest = scorer.post("/v1/models/life/score", json={"data": test.tolist()}).json()
    expected = pn.create_detector("ecod").fit(train * 2)
    np.testing.assert_allclose(latest["scores"], expected.decision_function(test), rtol=1e-12)
    assert latest["version"] == 2 and latest["labels"] == expected.predict(test).tolist()
    v1 = scorer.post("/v1/models/life/score", params={"version": 1}, json={"data": test.tolist()}).json()
    reference = pn.create_detector("mahalanobis").fit(train)
    np.testing.assert_allclose(v1["scores"], reference.decision_function(test), rtol=1e-10)
    assert int(np.argmax(v1["scores"])) == 0

    listed = server.client("read").get("/v1/models").json()["models"]
    assert {m["ref"] for m in listed} >= {"life@1", "life@2"}
    one = server.client("read").get("/v1/models/life").json()
    assert one["version"] == 2 and one["all_versions"] == [2, 1]

    wrong_width = scorer.post("/v1/models/life/score", json={"data": [[1.0, 2.0]]})
    assert wrong_width.status_code == 422 and "feature" in wrong_width.json()["message"]

    deleted = admin.delete("/v1/models/life", params={"version": 1})
    assert deleted.status_code == 200 and deleted.json()["deleted_versions"] == [1]
    gone = scorer.post("/v1/models/life/score", params={"version": 1}, json={"data": test.tolist()})
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"
    assert admin.delete("/v1/models/life").json()["deleted_versions"] == [2]
    assert server.client("read").get("/v1/models/life").status_code == 404

    entries = admin.get("/v1/audit").json()["entries"]
    actions = [(e["action"], e["target"]) for e in entries if e["target"].startswith("life@")]
    assert actions == [("model.create", "life@1"), ("model.create", "life@2"), ("model.delete", "life@1"),
                       ("model.delete", "life@2")]
    admin_id = server.keys["admin"].split("_")[1]
    assert all(e["actor"] == f"key:{admin_id}" for e in entries if e["target"].startswith("life@"))


def test_invalid_model_name_and_missing_model(server, blobs):
    train, _ = blobs
    bad = server.client("admin").post("/v1/models", json={"name": "../etc", "data": train[:20].tolist()})
    assert bad.status_code == 422 and "model name '../etc' is invalid" in bad.json()["message"]
    missing = server.client("score").post("/v1/models/absent/score", json={"data": [[1.0]]})
    assert missing.status_code == 404 and "absent" in missing.json()["message"]


def test_repeated_scoring_loads_the_model_once(server, blobs):
    train, test = blobs
    assert server.client("admin").post("/v1/models", json={"name": "cached", "data": train.tolist()}).status_code == 201
    loads_before = server.metric("pynomaly_model_loads_total")
    rows_before = server.metric('pynomaly_rows_scored_total{route="/v1/models/{name}/score"}')
    scorer = server.client("score")
    results = [scorer.post("/v1/models/cached/score", json={"data": test.tolist()}).json()["scores"] for _ in range(5)]
    assert all(r == results[0] for r in results)
    assert server.metric("pynomaly_model_loads_total") == loads_before + 1
    assert server.metric('pynomaly_rows_scored_total{route="/v1/models/{name}/score"}') == rows_before + 5 * len(test)
    assert server.metric("pynomaly_models_loaded") >= 1


def test_drift_detects_a_shift_and_not_its_absence(server):
    rng = np.random.default_rng(5)
    reference = rng.normal(size=(200, 2))
    shifted = rng.normal(size=(200, 2)) + np.array([0.0, 1.5])
    client = server.client("score")
    report = client.post("/v1/drift", json={"reference": reference.tolist(), "current": shifted.tolist(),
                                            "feature_names": ["f0", "f1"]}).json()
    assert report["test"] == "builtin.ks" and report["drift"] is True
    verdicts = {f["feature"]: f["drift"] for f in report["features"]}
    assert verdicts == {"f0": False, "f1": True}
    same = client.post("/v1/drift", json={"reference": reference.tolist(),
                                          "current": rng.normal(size=(200, 2)).tolist()}).json()
    assert same["drift"] is False
    mismatch = client.post("/v1/drift", json={"reference": reference.tolist(), "current": [[1.0, 2.0, 3.0]]})
    assert mismatch.status_code == 422 and "features" in mismatch.json()["message"]


def test_explain_blames_the_shifted_feature(server, blobs):
    train, test = blobs
    client = server.client("score")
    body = client.post("/v1/explain", json={"detector": "robust_zscore", "background": train.tolist(),
                                            "data": test[:3].tolist(), "feature_names": ["a", "b", "c"],
                                            "k": 2}).json()
    assert body["explainer"] == "builtin.permutation" and body["detector"] == "builtin.robust_zscore"
    assert len(body["rows"]) == 3 and len(body["rows"][0]["top_features"]) == 2
    assert body["rows"][0]["top_features"][0]["feature"] == "c"
    assert body["rows"][0]["top_features"][0]["value"] == 12.0
    created = server.client("admin").post("/v1/models", json={"name": "explained", "data": train.tolist()})
    assert created.status_code == 201
    by_model = client.post("/v1/explain", json={"model": "explained", "data": test[:1].tolist(),
                                                "background": train[:100].tolist()}).json()
    assert by_model["model"] == "explained" and by_model["rows"][0]["top_features"][0]["feature"] == "x2"


def test_metrics_are_prometheus_text(server):
    server.client("read").get("/v1/detectors")
    response = server.client("read").get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE pynomaly_http_requests_total counter" in text
    assert 'pynomaly_http_requests_total{method="GET",route="/v1/detectors",status="200"}' in text
    assert 'pynomaly_http_request_duration_seconds_bucket{method="GET",route="/v1/detectors",le="+Inf"}' in text
    assert "# TYPE pynomaly_models_loaded gauge" in text
    for line in text.splitlines():
        if line and not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])


def test_openapi_documents_every_route(server):
    schema = server.client(None).get("/openapi.json").json()
    paths = schema["paths"]
    for path, method in [("/v1/plugins", "get"), ("/v1/detectors", "get"), ("/v1/detect", "post"),
                         ("/v1/models", "post"), ("/v1/models", "get"), ("/v1/models/{name}", "get"),
                         ("/v1/models/{name}/score", "post"), ("/v1/drift", "post"), ("/v1/explain", "post"),
                         ("/healthz", "get"), ("/metrics", "get")]:
        assert method in paths[path], (path, method)
    detect_body = paths["/v1/detect"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(detect_body)
    docs = server.client(None).get("/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower() and "http" not in docs.text.replace("http-equiv", "")
    assert server.client(None).get("/static/vendor/swagger-ui-bundle.js").status_code == 200


def test_ui_login_cookie_and_escaped_error_fragment(server):
    client = server.client(None)
    page = client.get("/ui", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/ui/login"
    bad = client.post("/ui/login", data={"key": "pyn_nope_nope"})
    assert bad.status_code == 401 and "invalid or revoked API key" in bad.text
    login = client.post("/ui/login", data={"key": server.keys["read"]}, follow_redirects=False)
    assert login.status_code == 303
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/ui").status_code == 200
    denied = client.post("/ui/detect", files={"file": ("x.csv", b"a\n1\n", "text/csv")})
    assert denied.status_code == 403 and "role &#39;score&#39;" in denied.text
    scorer = server.client(None)
    scorer.post("/ui/login", data={"key": server.keys["score"]})
    response = scorer.post("/ui/detect", files={"file": ("<b>x.csv", b"a,b\n1,2\n3,<i>\n", "text/csv")})
    assert response.status_code == 422
    assert "&lt;b&gt;x.csv: non-numeric value &#39;&lt;i&gt;&#39; at line 3" in response.text
    assert "<b>" not in response.text and "<i>" not in response.text
    assert "content-security-policy" in response.headers and "script-src 'self'" in response.headers[
        "content-security-policy"]


def test_pickled_models_need_trust_to_be_served(server, blobs):
    from pynomaly_core.registry import get_registry

    if not any(s.qualified_name == "sklearn.iforest" for s in get_registry().detectors(plugin="sklearn")):
        pytest.skip("the sklearn plugin is not installed")
    train, test = blobs
    created = server.client("admin").post("/v1/models", json={
        "name": "pickled", "detector": "sklearn.iforest", "params": {"n_estimators": 10, "random_state": 0},
        "data": train[:100].tolist()})
    assert created.status_code == 201, created.text
    response = server.client("score").post("/v1/models/pickled/score", json={"data": test.tolist()})
    assert response.status_code == 409 and response.json()["code"] == "untrusted_model"
