"""The model lifecycle on SQLite and PostgreSQL: the state machine (every forbidden transition refused with a clear
message, nothing changed), the two-person rule with one and two required approvers, reasons, aliases that
serving resolves (``NAME@champion``), tenants, history, and the schema migration of a version-1 store."""

from __future__ import annotations

import itertools

import pytest

from pynomaly_core.governance import lifecycle
from pynomaly_core.governance.errors import TransitionError
from pynomaly_core.modelstore import ModelNotFoundError
from pynomaly_core.modelstore import schema as schema_module

from .modelstore_support import backend_fixture, fitted_hbos, training_data

backend = backend_fixture()

#: The actions that bring a fresh draft to each stage (author alice, reviewer bob).
PATH_TO = {
    "draft": [],
    "pending_review": [("alice", "submit")],
    "approved": [("alice", "submit"), ("bob", "approve")],
    "rejected": [("alice", "submit"), ("bob", "reject")],
    "deployed": [("alice", "submit"), ("bob", "approve"), ("carol", "deploy")],
    "retired": [("alice", "submit"), ("bob", "approve"), ("carol", "retire")],
}


def _at_stage(store, name, stage):
    version = store.view(actor="alice").register(name, fitted_hbos()).version
    for actor, action in PATH_TO[stage]:
        store.view(actor=actor).transition(name, version, action, reason="because")
    assert store.get(name, version).stage == stage
    return version


def test_happy_path_two_person_rule_aliases_and_history(backend):
    store = backend.store()
    alice, bob, carol = (store.view(actor=who) for who in ("alice", "bob", "carol"))
    v1 = alice.register("fraud", fitted_hbos(0))
    assert v1.stage == "draft" and v1.tenant == "default" and v1.created_by == "alice"
    assert alice.submit("fraud", 1).stage == "pending_review"
    with pytest.raises(TransitionError, match=r"cannot approve fraud@1: alice is its author; the two-person rule"):
        alice.approve("fraud", 1)
    assert bob.approve("fraud", 1, reason="looks right").stage == "approved"
    deployed = carol.deploy("fraud", 1)
    assert deployed.stage == "deployed" and store.resolve("fraud@champion").version == 1
    alice.register("fraud", fitted_hbos(1))
    alice.submit("fraud", 2)
    bob.approve("fraud", 2)
    carol.set_alias("fraud", "challenger", 2)
    assert store.aliases("fraud") == {"fraud": {"champion": 1, "challenger": 2}}
    assert store.resolve("fraud").version == 2 and store.resolve("fraud@challenger").version == 2
    model = store.load("fraud", store.resolve("fraud@champion").version)  # serving the champion
    import pynomaly_core as pn

    X = training_data(5)
    assert (pn.load("fraud@champion", store=store).decision_function(X) == model.decision_function(X)).all()
    with pytest.raises(TransitionError, match=r"cannot retire fraud@1: a reason is required"):
        carol.retire("fraud", 1, reason="  ")
    assert carol.retire("fraud", 1, reason="replaced by v2").stage == "retired"
    assert store.aliases("fraud") == {"fraud": {"challenger": 2}}
    with pytest.raises(ModelNotFoundError, match=r"model 'fraud' has no alias 'champion' in tenant 'default'; "
                                                 r"aliases: challenger"):
        store.resolve("fraud@champion")
    history = store.history("fraud", 1)
    assert [(e["action"], e["from"], e["to"], e["actor"]) for e in history] == [
        ("register", None, "draft", "alice"), ("submit", "draft", "pending_review", "alice"),
        ("approve", "pending_review", "approved", "bob"), ("deploy", "approved", "deployed", "carol"),
        ("retire", "deployed", "retired", "carol")]
    assert history[-1]["reason"] == "replaced by v2"
    report = store.verify_audit()
    assert report.ok and report.records >= 10
    refused = [e for e in store.audit_entries(1000) if e["outcome"] == "refused"]
    assert [(e["action"], e["object"]) for e in refused] == [("model.approve", "fraud@1"), ("model.retire", "fraud@1")]


FORBIDDEN = [(stage, action) for stage, action in itertools.product(lifecycle.STAGES, lifecycle.ACTIONS)
             if stage not in lifecycle.TRANSITIONS[action][0]]


def test_every_forbidden_transition_is_refused_with_a_clear_message_and_changes_nothing(backend):
    store = backend.store()
    assert len(FORBIDDEN) == 30 - 7  # 6 stages x 5 actions, 7 allowed pairs
    versions = {stage: _at_stage(store, f"m-{stage}", stage) for stage in lifecycle.STAGES}
    dave = store.view(actor="dave")
    for stage, action in FORBIDDEN:
        name, version = f"m-{stage}", versions[stage]
        before = store.history(name, version)
        with pytest.raises(TransitionError) as info:
            dave.transition(name, version, action, reason="any")
        message = str(info.value)
        sources = " or ".join(lifecycle.TRANSITIONS[action][0])
        assert message.startswith(f"cannot {action} {name}@{version}: it is {stage}; {action} needs a version "
                                  f"that is {sources}"), message
        assert "\n" not in message
        assert store.get(name, version).stage == stage and store.history(name, version) == before
    for stage in set(lifecycle.STAGES) - set(lifecycle.SERVABLE):
        with pytest.raises(TransitionError, match=rf"cannot point m-{stage}@champion at m-{stage}@1: it is {stage}; "
                                                  "only approved or deployed versions take an alias"):
            dave.set_alias(f"m-{stage}", "champion", versions[stage])
    assert store.verify_audit().ok


def test_reasons_and_approvers(backend):
    store = backend.store()
    version = _at_stage(store, "r", "pending_review")
    with pytest.raises(TransitionError, match=r"cannot reject r@1: a reason is required \(--reason\)"):
        store.view(actor="bob").reject("r", version, reason="")
    strict = backend.store()
    strict.required_approvals = 2
    alice, bob, carol, erin = (strict.view(actor=who) for who in ("alice", "bob", "carol", "erin"))
    alice.register("two", fitted_hbos())
    erin.submit("two", 1)  # a submitter other than the author cannot approve either
    with pytest.raises(TransitionError, match=r"erin submitted it; the two-person rule"):
        erin.approve("two", 1)
    assert bob.approve("two", 1).stage == "pending_review"  # 1 of 2
    with pytest.raises(TransitionError, match=r"bob has already approved it \(1 of 2 approvals\)"):
        bob.approve("two", 1)
    with pytest.raises(TransitionError, match=r"cannot deploy two@1: it is pending_review"):
        carol.deploy("two", 1)
    assert carol.approve("two", 1).stage == "approved"
    # a rejection resets the approvals of the next round
    alice.register("three", fitted_hbos())
    alice.submit("three", 1)
    bob.approve("three", 1)
    carol.reject("three", 1, reason="threshold too low")
    alice.submit("three", 1)
    assert bob.approve("three", 1).stage == "pending_review"
    with pytest.raises(TransitionError, match=r"alias 'Champion!' is invalid"):
        carol.set_alias("three", "Champion!", 1)
    with pytest.raises(Exception, match=r"approve needs an explicit version"):
        bob.approve("three", None)


def test_tenants_never_see_each_others_models(backend):
    store = backend.store()
    acme, globex = store.view(tenant="acme", actor="a"), store.view(tenant="globex", actor="g")
    acme.register("m", fitted_hbos(0))
    acme.register("m", fitted_hbos(1))
    globex.register("m", fitted_hbos(2))
    assert [v.ref for v in acme.list()] == ["m@2", "m@1"] and [v.ref for v in globex.list()] == ["m@1"]
    assert store.list() == []  # the default tenant
    with pytest.raises(ModelNotFoundError, match=r"the model store at .* is empty|no model named 'm'"):
        store.get("m")
    with pytest.raises(ModelNotFoundError, match=r"model 'm' has no version 2; versions: 1"):
        globex.get("m", 2)
    with pytest.raises(ModelNotFoundError):
        globex.delete("m", 2)
    assert acme.get("m", 2).path.is_relative_to(backend.home / "tenants" / "acme" / "models" / "m")
    assert {e["tenant"] for e in acme.audit_entries()} == {"acme"}
    assert store.verify_audit().ok


def test_a_version_1_store_migrates_keeping_every_version(backend, monkeypatch):
    import sqlalchemy as sa

    current = list(schema_module.MIGRATIONS)
    monkeypatch.setattr(schema_module, "MIGRATIONS", current[:1])
    monkeypatch.setattr(schema_module, "versions_table", schema_module._define_v1(sa.MetaData())[2])
    old = backend.store()

    old._connect()
    from pynomaly_core.modelstore import paths

    v1 = schema_module.versions_table
    with old._write_engine.begin() as connection:  # what pynomaly with schema version 1 wrote
        models = sa.Table(schema_module.MODELS_TABLE, sa.MetaData(), autoload_with=connection)
        connection.execute(sa.insert(models).values(name="legacy", last_version=1, created_at="2026-01-01T00:00:00"))
        connection.execute(sa.insert(v1).values(
            name="legacy", version=1, status="ready", detector="builtin.hbos", plugin="builtin", params={},
            versions={}, fingerprint=None, metrics={}, training_s=None, created_at="2026-01-01T00:00:00+00:00",
            created_by="old", parent_name=None, parent_version=None, path=f"{paths.MODELS_DIR}/legacy/1-abc",
            token="a" * 32, owner_host="h", owner_pid=1))
    old.close()
    monkeypatch.undo()
    new = backend.store()
    found = new.get("legacy")
    assert (found.ref, found.tenant, found.stage, found.created_by) == ("legacy@1", "default", "draft", "old")
    assert new.register("legacy", fitted_hbos()).version == 2  # the counter survived
    with new._engine.connect() as connection:
        assert schema_module.schema_version(connection, backend.schema) == current[-1].version
    assert new.verify_audit().ok


def test_the_sdk_uses_the_same_lifecycle(backend):
    import pynomaly_core as pn

    store = backend.store()
    store.view(actor="alice").register("sdk", fitted_hbos())
    assert pn.transition_model("sdk@1", "submit", store=store.view(actor="alice")).stage == "pending_review"
    with pytest.raises(TransitionError, match="alice is its author"):
        pn.transition_model("sdk@1", "approve", store=store.view(actor="alice"))
    pn.transition_model("sdk@1", "approve", store=store.view(actor="bob"))
    assert pn.transition_model("sdk@1", "deploy", store=store).stage == "deployed"
    assert pn.get_model("sdk@champion", store=store).version == 1
    assert [e["action"] for e in pn.model_history("sdk", store=store)] == ["register", "submit", "approve", "deploy"]
