"""``pynomaly models submit|approve|reject|deploy|retire|alias|history|lineage`` and ``pynomaly score
NAME@champion`` on SQLite and PostgreSQL: one-line refusals with exit code 2, tenants from ``PYNOMALY_TENANT``."""

from __future__ import annotations

import json

import pytest

from .conftest import EXAMPLES
from .modelstore_support import backend_fixture

SENSORS = str(EXAMPLES / "sensors.csv")
backend = backend_fixture()


@pytest.fixture
def as_user(backend, monkeypatch):
    for key, value in backend.env().items():
        monkeypatch.setenv(key, value)
    if backend.schema is None:
        monkeypatch.delenv("PYNOMALY_DATABASE_SCHEMA", raising=False)

    def switch(actor: str, tenant: str | None = None) -> None:
        monkeypatch.setenv("PYNOMALY_ACTOR", actor)
        if tenant is None:
            monkeypatch.delenv("PYNOMALY_TENANT", raising=False)
        else:
            monkeypatch.setenv("PYNOMALY_TENANT", tenant)

    return switch


def test_lifecycle_from_the_command_line(cli, as_user, tmp_path):
    as_user("alice")
    code, out, err = cli("train", SENSORS, "--labels", "label", "-d", "hbos", "--name", "fraud")
    assert code == 0, err
    code, out, err = cli("models", "submit", "fraud@1")
    assert code == 0 and out.strip() == "submit: fraud@1 is now pending_review", err
    code, out, err = cli("models", "approve", "fraud@1")
    assert code == 2 and err.strip() == ("error: cannot approve fraud@1: alice is its author; the two-person rule "
                                         "needs another reviewer")
    code, out, err = cli("models", "deploy", "fraud@1")
    assert code == 2 and "cannot deploy fraud@1: it is pending_review" in err and "Traceback" not in err
    code, out, err = cli("models", "approve", "fraud")
    assert code == 2 and "approve needs an explicit version, as fraud@VERSION" in err
    as_user("bob")
    assert cli("models", "approve", "fraud@1", "--reason", "reviewed")[0] == 0
    code, out, err = cli("models", "deploy", "fraud@1", "--json")
    assert code == 0 and json.loads(out)["stage"] == "deployed", err
    code, out, err = cli("score", "fraud@champion", SENSORS, "--labels", "label", "--json")
    assert code == 0, err
    assert json.loads(out)["detector"] == "builtin.hbos"
    code, out, err = cli("score", "fraud@challenger", SENSORS)
    assert code == 2 and "model 'fraud' has no alias 'challenger' in tenant 'default'; aliases: champion" in err
    code, out, err = cli("models", "retire", "fraud@1")
    assert code == 2 and err.strip() == "error: cannot retire fraud@1: a reason is required (--reason)"
    code, out, err = cli("models", "history", "fraud", "--json")
    assert code == 0, err
    assert [(e["action"], e["actor"]) for e in json.loads(out)] == [
        ("register", "alice"), ("submit", "alice"), ("approve", "bob"), ("deploy", "bob")]
    code, out, err = cli("models", "history", "fraud")
    assert code == 0 and "pending_review -> approved" in out
    code, out, err = cli("models", "lineage", "fraud@champion", "--json")
    assert code == 0, err
    lineage = json.loads(out)
    assert lineage["model"] == "fraud@1" and lineage["data"]["n_rows"] == 1000 and lineage["data"]["sha256"]
    assert "pynomaly" in lineage["code"] and "python" in lineage["libraries"] and lineage["parents"] == []
    as_user("carol", tenant="acme")  # another tenant sees nothing of it
    code, out, err = cli("models", "list", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, err = cli("score", "fraud@champion", SENSORS)
    assert code == 2 and "fraud" in err
    code, out, err = cli("audit", "list", "--json")
    assert code == 0 and json.loads(out) == []
    as_user("carol", tenant="Bad Tenant")
    code, out, err = cli("models", "list")
    assert code == 2 and "tenant 'Bad Tenant' is invalid" in err
