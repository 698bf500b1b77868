"""Units of the server without a server: the model cache, metrics text, body parsing, key hashing."""

from __future__ import annotations

import threading
import time

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def test_model_cache_is_lru_bounded_and_loads_once():
    from pynomaly_server.cache import ModelCache

    loads: list[tuple[str, int]] = []
    cache = ModelCache(2, on_load=lambda: None)

    def get(key):
        return cache.get(key, lambda: loads.append(key) or f"model {key}")

    assert get(("a", 1)) == "model ('a', 1)"
    get(("b", 1))
    get(("a", 1))  # a is now the most recently used
    get(("c", 1))  # evicts b
    assert cache.keys() == [("a", 1), ("c", 1)] and len(cache) == 2
    get(("b", 1))
    assert loads == [("a", 1), ("b", 1), ("c", 1), ("b", 1)]
    cache.discard("b")
    assert cache.peek(("b", 1)) is None and cache.peek(("c", 1)) == "model ('c', 1)"


def test_model_cache_loads_once_under_concurrency():
    from pynomaly_server.cache import ModelCache

    calls = []
    loaded = []
    cache = ModelCache(4, on_load=lambda: loaded.append(1))

    def slow_load():
        calls.append(1)
        time.sleep(0.05)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(("m", 1), slow_load))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(loaded) == 1 and len({id(r) for r in results}) == 1
    with pytest.raises(ValueError, match="capacity"):
        ModelCache(0)


def test_metrics_histogram_is_cumulative():
    from pynomaly_server.metrics import Metrics

    metrics = Metrics(models_loaded=lambda: 3)
    for seconds in (0.0005, 0.003, 0.003, 2.0, 100.0):
        metrics.observe_request("POST", "/v1/x", 200, seconds)
    metrics.add_rows("/v1/x", 7)
    metrics.add_model_load()
    lines = dict(line.rsplit(" ", 1) for line in metrics.render().splitlines() if not line.startswith("#"))
    bucket = 'pynomaly_http_request_duration_seconds_bucket{method="POST",route="/v1/x",le="%s"}'
    assert lines[bucket % "0.001"] == "1" and lines[bucket % "0.005"] == "3" and lines[bucket % "2.5"] == "4"
    assert lines[bucket % "+Inf"] == "5"
    assert lines['pynomaly_http_request_duration_seconds_count{method="POST",route="/v1/x"}'] == "5"
    assert float(lines['pynomaly_http_request_duration_seconds_sum{method="POST",route="/v1/x"}']) == pytest.approx(
        102.0065)
    assert lines['pynomaly_http_requests_total{method="POST",route="/v1/x",status="200"}'] == "5"
    assert lines['pynomaly_rows_scored_total{route="/v1/x"}'] == "7"
    assert lines["pynomaly_model_loads_total"] == "1" and lines["pynomaly_models_loaded"] == "3"


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20), st.integers(1, 6), st.data())
def test_rows_round_trip_through_json(n_rows, n_cols, data):
    from pynomaly_server.payload import rows

    values = data.draw(st.lists(st.lists(st.floats(-1e12, 1e12, allow_nan=False) | st.integers(-10**6, 10**6),
                                         min_size=n_cols, max_size=n_cols), min_size=n_rows, max_size=n_rows))
    array = rows(orjson.loads(orjson.dumps(values)))
    assert array.dtype == np.float64 and array.shape == (n_rows, n_cols)
    np.testing.assert_array_equal(array, np.asarray(values, dtype=np.float64))


@pytest.mark.parametrize(("value", "message"), [
    ([[1, 2], [3]], "row 1 has 1 values, expected 2"),
    ([[1, None]], "row 0, column 1 is not a number (null)"),
    ([[1], 2], "row 1 is not an array"),
    ([[]], "row 0 is empty"),
    ({"a": 1}, "expected a non-empty array of rows"),
    ([[1, 2**70]], "row 0, column 1 is too large"),
])
def test_rows_errors_name_row_and_column(value, message):
    from pynomaly_server.errors import ApiError
    from pynomaly_server.payload import rows

    with pytest.raises(ApiError) as info:
        rows(value)
    assert info.value.status == 422 and message in info.value.message


def test_keys_are_salted_and_verified(tmp_path):
    from pynomaly_server.keys import KeyStore

    store = KeyStore(f"sqlite:///{tmp_path / 'k.db'}", recheck_s=0.0)
    key_a, secret_a = store.create("read", name="a", actor="test")
    key_b, secret_b = store.create("read", name="b", actor="test")
    assert secret_a != secret_b and secret_a.startswith(f"pyn_{key_a.key_id}_")
    assert store.verify(secret_a).key_id == key_a.key_id
    assert store.verify(secret_a[:-1] + ("A" if secret_a[-1] != "A" else "B")) is None
    assert store.verify(f"pyn_{key_a.key_id}_{secret_b.split('_', 2)[2]}") is None  # b's secret under a's id
    assert store.verify("not-a-key") is None
    store.revoke(key_a.key_id, actor="test")
    assert store.verify(secret_a) is None and store.verify(secret_b).key_id == key_b.key_id
    assert [e["action"] for e in store.audit_entries()] == ["key.create", "key.create", "key.revoke"]
    assert not key_b.allows("score") and store.get(key_b.key_id).allows("read")


def test_registering_the_plugin_imports_no_web_framework():
    import json
    import subprocess
    import sys

    probe = ("import sys, json\nfrom pynomaly_core.cli.app import build_app\nbuild_app()\n"
             "print(json.dumps(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'sqlalchemy', 'jinja2', "
             "'orjson', 'pydantic') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_keys_and_append_only_audit_log_on_postgresql():
    import os

    import sqlalchemy as sa
    from pynomaly_server.keys import KeyStore

    url = os.environ.get("PYNOMALY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # no driver or no server
        pytest.skip(f"PostgreSQL not reachable at {url}: {type(exc).__name__}")
    store = KeyStore(url, recheck_s=0.0)
    try:
        key, secret = store.create("score", name="pg", actor="test")
        assert store.verify(secret).role == "score"
        store.revoke(key.key_id, actor="test")
        assert store.verify(secret) is None
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM pynomaly_audit_log")
        assert [e["action"] for e in store.audit_entries(1000) if e["target"] == key.key_id] == [
            "key.create", "key.revoke"]
    finally:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS pynomaly_audit_log")
            conn.exec_driver_sql("DROP TABLE IF EXISTS pynomaly_api_keys")
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS pynomaly_audit_log_append_only()")
            conn.exec_driver_sql("DROP TABLE IF EXISTS pynomaly_audit_heads")
            conn.exec_driver_sql("DROP TABLE IF EXISTS pynomaly_policy")
        store.close()


def test_score_histogram_of_scores_a_few_ulps_apart():
    """Scores equal up to rounding (a constant feature, say) still chart: NumPy alone refuses to bin them."""
    from pynomaly_server.service import histogram

    chart = histogram(np.array([1.0, 1.0 + 2 * np.finfo(np.float64).eps, 1.0]), bins=30)
    assert sum(chart["counts"]) == 3 and len(chart["edges"]) == 31


def test_batched_api_call_records_are_chained_listed_one_by_one_and_tamper_evident(tmp_path):
    import sqlite3
    import time

    from pynomaly_server.audit_writer import AuditWriter
    from pynomaly_server.keys import KeyStore

    store = KeyStore(f"sqlite:///{tmp_path / 'k.db'}")
    writer = AuditWriter(store, interval_s=3600)
    for i in range(250):
        writer.add((time.time(), f"key:k{i % 3}", "model.score", "POST /v1/models/m/score",
                    "acme" if i % 5 == 0 else "default", 200, f"r{i}"))
    writer.close()
    assert store.verify_audit().ok
    acme = store.audit_entries(1000, tenant="acme")
    assert [e["request_id"] for e in acme] == [f"r{i}" for i in range(0, 250, 5)]
    assert {e["outcome"] for e in acme} == {"200"} and len(store.audit_entries(1000)) == 250
    with sqlite3.connect(tmp_path / "k.db") as db:
        db.execute("DROP TRIGGER pynomaly_audit_log_no_update")
        db.execute("UPDATE pynomaly_audit_log SET details = replace(details, 'r5\"', 'r6\"') WHERE seq = 1")
    problems = store.verify_audit().problems
    assert len(problems) == 1 and "record seq 1 (id 1) was edited or reordered" in problems[0]
    store.close()
