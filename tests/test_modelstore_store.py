"""The model store on SQLite and PostgreSQL: register/list/get/load/delete, metadata, lineage, messages,
failures that must leave nothing behind, and schema migrations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pynomaly_core.errors import InputError, PynomalyError
from pynomaly_core.modelstore import ModelNotFoundError, ModelStore, ModelStoreError, fingerprint
from pynomaly_core.modelstore import schema as schema_module

from .modelstore_support import FailingHBOS, backend_fixture, fitted_hbos, training_data

backend = backend_fixture()


def test_register_list_get_load_round_trip(backend):
    store = backend.store()
    data = training_data(0)
    model = fitted_hbos(0)
    first = store.register("sensors", model, data_fingerprint=fingerprint(data, source="train.csv"),
                           metrics={"roc_auc": 0.91}, training_s=0.25)
    second = store.register("sensors", fitted_hbos(1), parent=first)
    other = store.register("pumps", fitted_hbos(2))
    assert (first.version, second.version, other.version) == (1, 2, 1)
    assert [v.ref for v in store.list()] == ["pumps@1", "sensors@2", "sensors@1"]
    assert [v.ref for v in store.list("sensors")] == ["sensors@2", "sensors@1"]
    assert store.list("nothing") == []
    assert store.get("sensors") == second and store.get("sensors", 1) == first
    got = store.get("sensors", 1)
    assert got.detector == "builtin.hbos" and got.plugin == "builtin"
    assert got.params == {"alpha": 0.1, "contamination": 0.1, "n_bins": 8, "tol": 0.5}
    assert got.fingerprint == {"source": "train.csv", "n_rows": 200, "n_features": 3, "columns": ["a", "b", "c"],
                               "sha256": fingerprint(data)["sha256"]}
    assert got.metrics == {"roc_auc": 0.91} and got.training_s == 0.25
    assert got.versions["pynomaly"] == "0.1.0" and got.versions["numpy"] == np.__version__
    assert got.created_at.endswith("+00:00") and got.created_by
    assert second.parent == "sensors@1" and first.parent is None
    loaded = store.load("sensors", 1)
    np.testing.assert_array_equal(loaded.decision_function(data), model.decision_function(data))
    assert list(loaded.feature_names_in_) == ["a", "b", "c"]
    manifest = json.loads((first.path / "manifest.json").read_text())
    assert manifest["store"] == {"name": "sensors", "version": 1, "parent": None}
    assert manifest["fingerprint"] == got.fingerprint
    assert first.path.parent == backend.home / "models" / "sensors"
    assert got.to_dict()["ref"] == "sensors@1" and got.to_dict()["path"] == str(first.path)


def test_unknown_names_and_versions_list_what_exists(backend):
    store = backend.store()
    with pytest.raises(ModelNotFoundError, match=r"no model named 'sensors': the model store at .* is empty"):
        store.get("sensors")
    store.register("sensors", fitted_hbos())
    store.register("sensors", fitted_hbos())
    with pytest.raises(ModelNotFoundError, match=r"^model 'sensors' has no version 7; versions: 1, 2$"):
        store.get("sensors", 7)
    with pytest.raises(ModelNotFoundError, match=r"^no model named 'sensor' \(did you mean 'sensors'\?\); "
                                                 r"registered: sensors$"):
        store.load("sensor")
    assert isinstance(ModelNotFoundError("x"), PynomalyError)
    with pytest.raises(ModelNotFoundError, match=r"^parent sensors@5: model 'sensors' has no version 5"):
        store.register("sensors", fitted_hbos(), parent="sensors@5")
    assert [v.version for v in store.list("sensors")] == [2, 1]


@pytest.mark.parametrize("name", ["", "a/b", "../x", "a@b", "-x", "x" * 101, "a b"])
def test_invalid_names_are_refused(tmp_path, name):
    store = ModelStore(url=f"sqlite:///{tmp_path / 'r.db'}", home=tmp_path)
    with pytest.raises(InputError, match="is invalid: use letters, digits"):
        store.register(name, fitted_hbos())
    assert not (tmp_path / "r.db").exists()


def test_delete_removes_row_and_artefacts_and_keeps_numbers_and_lineage(backend):
    store = backend.store()
    first = store.register("m", fitted_hbos())
    second = store.register("m", fitted_hbos(), parent="m@1")
    third = store.register("m", fitted_hbos(), parent=second)
    store.delete("m", 1)
    assert not first.path.exists() and second.path.exists()
    assert [v.version for v in store.list("m")] == [3, 2]
    assert store.lineage("m") == [{"ref": "m@3", "deleted": False}, {"ref": "m@2", "deleted": False},
                                  {"ref": "m@1", "deleted": True}]
    store.delete("m", 3)
    assert store.register("m", fitted_hbos()).version == 4  # numbers are never reused
    assert store.get("m", 2).parent == "m@1"
    with pytest.raises(ModelNotFoundError, match=r"model 'm' has no version 3; versions: 2, 4"):
        store.delete("m", 3)
    assert not third.path.exists()
    assert store.unfinished() == []


def test_failed_save_leaves_nothing(backend):
    store = backend.store()
    with pytest.raises(ModelStoreError, match=r"^cannot write the artefacts of m@1 under .*: disk full \(simulated\)$"):
        store.register("m", FailingHBOS(n_bins=8).fit(training_data()))
    assert store.list() == [] and store.unfinished() == []
    assert list((backend.home / "staging").iterdir()) == []
    assert not (backend.home / "models" / "m").exists() or list((backend.home / "models" / "m").iterdir()) == []
    assert store.register("m", fitted_hbos()).version == 2


def test_unfitted_and_unregistered_detectors_are_refused(tmp_path):
    from pynomaly_core.builtin.hbos import HBOS
    from pynomaly_core.errors import NotFittedError

    store = ModelStore(url=f"sqlite:///{tmp_path / 'r.db'}", home=tmp_path)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        store.register("m", HBOS())


def test_reads_do_not_create_a_sqlite_model_store(tmp_path):
    store = ModelStore(home=tmp_path / "home")
    assert store.list() == [] and store.unfinished() == [] and store.cleanup() == []
    with pytest.raises(ModelNotFoundError, match="empty"):
        store.get("m")
    assert not (tmp_path / "home").exists()
    store.register("m", fitted_hbos())
    assert (tmp_path / "home" / "store.db").is_file()


def test_from_env_uses_home_url_and_schema(monkeypatch, tmp_path):
    monkeypatch.setenv("PYNOMALY_HOME", str(tmp_path / "h"))
    monkeypatch.delenv("PYNOMALY_DATABASE_URL", raising=False)
    monkeypatch.delenv("PYNOMALY_DATABASE_SCHEMA", raising=False)
    store = ModelStore.from_env()
    assert store.home == tmp_path / "h" and store.url == f"sqlite:///{tmp_path / 'h' / 'store.db'}"
    monkeypatch.setenv("PYNOMALY_DATABASE_URL", "postgresql://u:secret@db.example/x")
    monkeypatch.setenv("PYNOMALY_DATABASE_SCHEMA", "reg")
    store = ModelStore.from_env()
    assert store.location == "postgresql://u:***@db.example/x (schema reg)" and store.schema == "reg"
    with pytest.raises(ModelStoreError, match="SQLite has no schemas"):
        ModelStore(url=f"sqlite:///{tmp_path / 'r.db'}", schema="reg")
    with pytest.raises(ModelStoreError, match=r"unsupported database 'mysql'.*runs on SQLite and PostgreSQL"):
        ModelStore(url="mysql://root@127.0.0.1/test", home=tmp_path)
    with pytest.raises(ModelStoreError, match="invalid database URL 'not a url'"):
        ModelStore(url="not a url", home=tmp_path)


def test_unreachable_database_is_a_one_line_error(tmp_path):
    store = ModelStore(url="postgresql://nobody:pw@127.0.0.1:1/none", home=tmp_path)
    with pytest.raises(ModelStoreError) as info:
        store.list()
    message = str(info.value)
    assert message.startswith("model store postgresql://nobody:***@127.0.0.1:1/none: ")
    assert "\n" not in message and "pw" not in message


def test_interrupted_delete_is_finished_by_cleanup(backend):
    import sqlalchemy as sa

    store = backend.store()
    version = store.register("m", fitted_hbos())
    table = schema_module.versions_table
    with store._write_engine.begin() as connection:  # as if a delete died after claiming the row
        connection.execute(sa.update(table).values(status=schema_module.DELETING))
    assert store.list() == [] and [row["ref"] for row in store.unfinished()] == ["m@1"]
    assert store.cleanup() == ["m@1 (deleting)"]
    assert store.unfinished() == [] and not version.path.exists()


def test_migrations_record_the_version_apply_new_steps_and_refuse_newer(backend, monkeypatch):
    import sqlalchemy as sa

    current = schema_module.MIGRATIONS[-1].version
    store = backend.store()
    store.register("m", fitted_hbos())
    with store._engine.connect() as connection:
        assert schema_module.schema_version(connection, backend.schema) == current
    store.close()

    def add_notes(connection, schema):
        table = schema_module.qualified(schema_module.VERSIONS_TABLE, schema)
        connection.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN notes TEXT"))

    monkeypatch.setattr(schema_module, "MIGRATIONS",
                        [*schema_module.MIGRATIONS, schema_module.Migration(current + 1, "notes column", add_notes)])
    upgraded = backend.store()
    assert upgraded.get("m").version == 1
    with upgraded._engine.connect() as connection:
        assert schema_module.schema_version(connection, backend.schema) == current + 1
        columns = {c["name"] for c in sa.inspect(connection).get_columns(schema_module.VERSIONS_TABLE,
                                                                         schema=backend.schema)}
    assert "notes" in columns
    upgraded.close()
    monkeypatch.setattr(schema_module, "MIGRATIONS", schema_module.MIGRATIONS[:current])
    with pytest.raises(ModelStoreError, match=rf"has schema version {current + 1}, newer than this pynomaly reads "
                                            rf"\({current}\); upgrade pynomaly"):
        backend.store().list()
