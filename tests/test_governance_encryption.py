"""Model artefacts encrypted at rest with a key from ``PYNOMALY_MODEL_KEY`` (Fernet): nothing in plaintext on disk,
loads with the key, refused (one line, nothing half-read) without it, with a wrong key or after tampering."""

from __future__ import annotations

import numpy as np
import pytest

from pynomaly_core.errors import IntegrityError

from .modelstore_support import fitted_hbos, training_data

pytest.importorskip("cryptography")


@pytest.fixture
def store(tmp_path, monkeypatch):
    from pynomaly_core.modelstore import ModelStore
    from pynomaly_core.modelstore.crypto import new_key

    monkeypatch.setenv("PYNOMALY_MODEL_KEY", new_key())
    made = ModelStore(url=f"sqlite:///{tmp_path / 'store.db'}", home=tmp_path / "home")
    yield made
    made.close()


def test_sealed_artefacts_load_with_the_key_only(store, monkeypatch, cli):
    from pynomaly_core.modelstore.crypto import new_key

    model = fitted_hbos(3)
    version = store.register("secret", model)
    assert sorted(p.name for p in version.path.iterdir()) == ["model.sealed"]
    raw = (version.path / "model.sealed").read_bytes()
    assert b"manifest" not in raw and b"builtin.hbos" not in raw  # no plaintext
    X = training_data(9)
    np.testing.assert_array_equal(store.load("secret").decision_function(X), model.decision_function(X))
    monkeypatch.setenv("PYNOMALY_MODEL_KEY", new_key())
    with pytest.raises(IntegrityError, match=r"^model secret@1: the key in PYNOMALY_MODEL_KEY does not open its "
                                             r"encrypted artefacts \(wrong key, or the file was modified\); refusing"):
        store.load("secret")
    monkeypatch.delenv("PYNOMALY_MODEL_KEY")
    with pytest.raises(IntegrityError, match=r"model secret@1: its artefacts are encrypted; set PYNOMALY_MODEL_KEY"):
        store.load("secret")
    monkeypatch.setenv("PYNOMALY_MODEL_KEY", "not-a-key")
    with pytest.raises(Exception, match=r"PYNOMALY_MODEL_KEY is not a Fernet key"):
        store.load("secret")


def test_a_modified_sealed_file_is_refused_whole(store):
    version = store.register("secret", fitted_hbos())
    sealed = version.path / "model.sealed"
    data = bytearray(sealed.read_bytes())
    data[len(data) // 2] ^= 0x01
    sealed.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="refusing to load"):
        store.load("secret")


def test_keygen_and_cli_refusal(cli, store, monkeypatch, tmp_path):
    code, out, err = cli("models", "keygen")
    assert code == 0 and len(out.strip()) == 44, err
    monkeypatch.setenv("PYNOMALY_HOME", str(store.home))
    monkeypatch.setenv("PYNOMALY_DATABASE_URL", store.url)
    store.register("secret", fitted_hbos())
    monkeypatch.setenv("PYNOMALY_MODEL_KEY", out.strip())  # another key
    data = tmp_path / "x.csv"
    data.write_text("a,b,c\n1,2,3\n")
    code, out, err = cli("score", "secret", str(data))
    assert code == 2 and "does not open its encrypted artefacts" in err and "Traceback" not in err
