"""The pynomaly MLflow flavour: round trips of every savable detector, file store, tracking servers (SQLite,
PostgreSQL), registry aliases."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
import warnings

import mlflow
import numpy as np
import pandas as pd
import pynomaly_mlflow
import pytest
from mlflow import MlflowClient

from pynomaly_core import create_detector
from pynomaly_core.registry import get_registry

SAVABLE = sorted(s.qualified_name for s in get_registry().detectors()
                 if "save" in s.capabilities and "tabular" in s.data_kinds)


def frame(n_features: int, rows: int = 120, seed: int = 0) -> pd.DataFrame:
    X = np.random.default_rng(seed).normal(size=(rows, n_features))
    X[3] += 6
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(n_features)])


@pytest.fixture(scope="module")
def fitted():
    X = frame(3)
    return create_detector("hbos").fit(X), X


@pytest.mark.parametrize("name", SAVABLE)
def test_every_savable_detector_round_trips_with_identical_scores(name, tmp_path):
    spec = get_registry().detector(name)
    X = frame(1 if "single_feature" in spec.capabilities else 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = create_detector(name, **dict(spec.presets.get("quick", {}))).fit(X)
    expected = model.decision_function(X)
    pynomaly_mlflow.save_model(model, tmp_path / "m")
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert np.array_equal(loaded.predict(X), expected)
    both = loaded.predict(X, params={"output": "both"})
    assert np.array_equal(both["score"].to_numpy(), expected)
    assert np.array_equal(both["label"].to_numpy(), (expected > model.threshold_).astype(np.int64))
    assert np.array_equal(pynomaly_mlflow.load_model(str(tmp_path / "m")).decision_function(X), expected)


def test_layout_signature_and_requirements(fitted, tmp_path):
    model, X = fitted
    pynomaly_mlflow.save_model(model, tmp_path / "m")
    assert (tmp_path / "m" / "pynomaly_model" / "manifest.json").is_file()
    assert not list((tmp_path / "m").rglob("*.pkl"))
    requirements = (tmp_path / "m" / "requirements.txt").read_text()
    assert "numpy" in requirements and "pynomaly" not in requirements  # the PyPI name is not ours
    pyfunc = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    signature = pyfunc.metadata.signature
    assert signature.inputs.input_names() == ["f0", "f1", "f2"]
    assert signature.params.to_dict()[0]["name"] == "output"
    labels = pyfunc.predict(X, params={"output": "label"})
    assert set(np.unique(labels)) <= {0, 1} and labels[3] == 1
    with pytest.raises(Exception, match="output"):
        pyfunc.predict(X, params={"output": "proba"})


def test_unnamed_features_get_a_tensor_signature(tmp_path):
    X = frame(2).to_numpy()
    model = create_detector("mahalanobis").fit(X)
    pynomaly_mlflow.save_model(model, tmp_path / "m")
    pyfunc = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert np.array_equal(pyfunc.predict(X), model.decision_function(X))


def test_local_file_store_log_register_alias(fitted, tmp_path, monkeypatch):
    model, X = fitted
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    check_tracking(f"file:{tmp_path / 'mlruns'}", model, X)


def check_tracking(uri: str, model, X) -> None:
    """log_model with a registered name, an alias, load by run, by model id and by alias."""
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        name = f"pn-{uuid.uuid4().hex[:8]}"
        with mlflow.start_run():
            info = pynomaly_mlflow.log_model(model, name="detector", registered_model_name=name)
        client = MlflowClient()
        client.set_registered_model_alias(name, "champion", info.registered_model_version)
        expected = model.decision_function(X)
        for uri_ in (info.model_uri, f"models:/{name}@champion"):
            assert np.array_equal(pynomaly_mlflow.load_model(uri_).decision_function(X), expected)
        assert np.array_equal(mlflow.pyfunc.load_model(f"models:/{name}@champion").predict(X), expected)
    finally:
        mlflow.set_tracking_uri(previous)
        mlflow.set_registry_uri(previous)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def tracking_server(backend: str, artefacts):
    """``mlflow server`` on a free loopback port, stopped afterwards."""
    import urllib.request

    port = free_port()
    mlflow_cli = os.path.join(os.path.dirname(sys.executable), "mlflow")
    log = artefacts.parent / "server.log"
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as errors:
        process = subprocess.Popen([mlflow_cli, "server", "--backend-store-uri", backend, "--artifacts-destination",
                                    str(artefacts), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                                   stdout=subprocess.DEVNULL, stderr=errors, cwd=artefacts.parent)  # ./mlruns there
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"mlflow server did not start: {log.read_text()[-2000:]}") from None
                    time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.mark.slow
def test_tracking_server_with_sqlite_backend(fitted, tmp_path):
    model, X = fitted
    with tracking_server(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "artefacts") as url:
        check_tracking(url, model, X)


@pytest.fixture
def postgres_database():
    psycopg = pytest.importorskip("psycopg")
    name = f"pn_mlflow_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user="postgres", autocommit=True,
                                connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({exc})")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
def test_tracking_server_with_postgresql_backend(fitted, tmp_path, postgres_database):
    model, X = fitted
    with tracking_server(postgres_database, tmp_path / "artefacts") as url:
        check_tracking(url, model, X)
