"""The hash-chained audit log on SQLite and PostgreSQL: editing, deleting or reordering any single record of a
10,000-record log is named by the verifier (and by ``pynomaly audit verify``, exit 1); a process killed between
a change and its audit record leaves neither (same transaction); export as JSON Lines."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time

import pytest

from pynomaly_core.governance import audit

from .modelstore_support import backend_fixture, fitted_hbos

backend = backend_fixture()
FORK = multiprocessing.get_context("fork")
RECORDS = 10_000


def _fill(store, n: int = RECORDS) -> None:
    """``n`` audit records (in batches, as a busy store would have written them over time)."""
    store._connect()
    t = store._t
    for start in range(0, n, 2500):
        batch = [{"at": audit.utc_now(), "tenant": "default" if i % 3 else "acme", "actor": f"user{i % 7}",
                  "action": "model.register", "object": f"m{i}@1", "outcome": "ok", "request_id": f"r{i}",
                  "details": json.dumps({"i": i})} for i in range(start, min(n, start + 2500))]
        with store._write_engine.begin() as connection:
            audit.append(connection, t.audit_table, t.heads_table, batch, lock_key=store.schema or "",
                         schema=store.schema)


def _unlock(connection, schema) -> None:
    """Drop the append-only triggers inside the tampering transaction (rolled back afterwards, unless meant)."""
    if connection.dialect.name == "sqlite":
        for op in ("update", "delete"):
            connection.exec_driver_sql(f"DROP TRIGGER pynomaly_store_audit_no_{op}")
    else:
        connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
        connection.exec_driver_sql("ALTER TABLE pynomaly_store_audit DISABLE TRIGGER USER")


TAMPER = {
    "edit": ["UPDATE pynomaly_store_audit SET actor = 'mallory' WHERE seq = {k}"],
    "edit-details": ["UPDATE pynomaly_store_audit SET details = '{{}}' WHERE seq = {k}"],
    "delete": ["DELETE FROM pynomaly_store_audit WHERE seq = {k}"],
    "reorder": ["UPDATE pynomaly_store_audit SET seq = -1 WHERE seq = {k}",
                "UPDATE pynomaly_store_audit SET seq = {k} WHERE seq = {k} + 1",
                "UPDATE pynomaly_store_audit SET seq = {k} + 1 WHERE seq = -1"],
}


def _verify_in(connection, store) -> audit.Report:
    t = store._t
    head = audit.read_head(connection, t.audit_table, t.heads_table, store.schema)
    return audit.verify(audit.rows_in_order(connection, t.audit_table), head, log="log")


def test_any_single_edit_delete_or_reorder_of_10000_records_is_named(backend):
    store = backend.store()
    _fill(store)
    report = store.verify_audit()
    assert report.ok and report.records == RECORDS, report.problems
    ends = [1, 2, RECORDS // 2 + random.Random(7).randrange(-99, 99), RECORDS - 1, RECORDS]
    positions = {"edit": ends, "delete": ends, "reorder": [1, RECORDS // 3, RECORDS - 1], "edit-details": [4321]}
    checked = 0
    for kind, statements in TAMPER.items():
        for k in positions[kind]:
            connection = store._write_engine.connect()
            transaction = connection.begin()
            try:
                _unlock(connection, store.schema)
                for statement in statements:
                    connection.exec_driver_sql(statement.format(k=k))
                report = _verify_in(connection, store)
            finally:
                transaction.rollback()
                connection.close()
            assert not report.ok, (kind, k)
            named = f"record seq {k} " if kind != "delete" else f"record seq {k} is missing"
            assert any(named in problem for problem in report.problems), (kind, k, report.problems)
            checked += 1
    assert checked == 14
    assert store.verify_audit().ok  # every tampering was rolled back


def test_audit_verify_cli_exit_codes_and_export(backend, cli, monkeypatch, tmp_path):
    for key, value in backend.env().items():
        monkeypatch.setenv(key, value)
    if backend.schema is None:
        monkeypatch.delenv("PYNOMALY_DATABASE_SCHEMA", raising=False)
    store = backend.store()
    store.register("m", fitted_hbos())
    store.submit("m", 1)
    _fill(store, 500)
    code, out, err = cli("audit", "verify")
    assert code == 0, err
    assert "502 records: intact" in out
    code, out, err = cli("audit", "export", "-o", str(tmp_path / "audit.jsonl"))
    assert code == 0, err
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert len(lines) == 502 and [r["seq"] for r in lines] == list(range(1, 503))
    assert lines[0]["action"] == "model.register" and lines[1]["action"] == "model.submit"
    assert all(audit.record_hash(r["prev_hash"], r) == r["hash"] for r in lines)
    with store._write_engine.begin() as connection:  # tampering that persists
        _unlock(connection, store.schema)
        connection.exec_driver_sql("UPDATE pynomaly_store_audit SET outcome = 'refused' WHERE seq = 2")
        connection.exec_driver_sql("DELETE FROM pynomaly_store_audit WHERE seq = 300")
    code, out, err = cli("audit", "verify")
    assert code == 1
    assert "record seq 2 (id" in err and "was edited or reordered" in err
    assert "record seq 300 is missing (deleted?)" in err and "Traceback" not in err
    code, out, _ = cli("audit", "verify", "--json")
    assert code == 1 and json.loads(out)[0]["ok"] is False


def _transition_then_block(url, home, schema, signal_path):
    """Child: approve m@1, but block inside the transaction right before its audit record is written."""
    from pynomaly_core.governance import audit as audit_module
    from pynomaly_core.modelstore import ModelStore

    real = audit_module.append

    def blocked_append(connection, *args, **kwargs):
        with open(signal_path + ".tmp", "w") as handle:
            handle.write("in transaction")
        os.replace(signal_path + ".tmp", signal_path)
        time.sleep(300)  # until killed
        return real(connection, *args, **kwargs)

    audit_module.append = blocked_append
    ModelStore(url=url, home=home, schema=schema, actor="bob").approve("m", 1)


def test_sigkill_between_a_change_and_its_audit_record_leaves_neither(backend, tmp_path):
    store = backend.store()
    store.view(actor="alice").register("m", fitted_hbos())
    store.view(actor="alice").submit("m", 1)
    before = store.verify_audit()
    signal_path = str(tmp_path / "blocked")
    worker = FORK.Process(target=_transition_then_block, args=(*backend.args(), signal_path))
    worker.start()
    deadline = time.monotonic() + 60
    while not os.path.exists(signal_path):
        assert worker.is_alive() and time.monotonic() < deadline, "the worker never reached the audit write"
        time.sleep(0.02)
    os.kill(worker.pid, signal.SIGKILL)  # the stage UPDATE and the event INSERT are done, the audit record not
    worker.join(30)
    assert worker.exitcode == -signal.SIGKILL
    assert store.get("m", 1).stage == "pending_review"  # the change died with its transaction
    assert [e["action"] for e in store.history("m", 1)] == ["register", "submit"]
    after = store.verify_audit()
    assert after.ok and after.records == before.records
    assert store.view(actor="bob").approve("m", 1).stage == "approved"  # nothing left locked
    assert store.verify_audit().records == before.records + 1


@pytest.mark.parametrize("edit", ["drop-head"])
def test_a_missing_head_is_reported(backend, edit):
    store = backend.store()
    _fill(store, 3)
    with store._write_engine.begin() as connection:
        if store.schema:
            connection.exec_driver_sql(f'SET LOCAL search_path TO "{store.schema}"')
        connection.exec_driver_sql("DELETE FROM pynomaly_audit_heads")
    assert store.verify_audit().problems[-1].endswith("the head record is missing")
