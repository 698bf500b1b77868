"""``pynomaly train --name``, ``pynomaly models list|show|delete|cleanup`` and ``pynomaly score NAME[@VERSION]``
on SQLite and PostgreSQL; model resolution (a path wins) and the column check against the training data."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from .conftest import EXAMPLES
from .modelstore_support import backend_fixture

SENSORS = str(EXAMPLES / "sensors.csv")
FEATURES = "temperature,pressure,vibration,current,humidity"
backend = backend_fixture()


@pytest.fixture
def store_env(backend, monkeypatch):
    for key, value in backend.env().items():
        monkeypatch.setenv(key, value)
    if backend.schema is None:
        monkeypatch.delenv("PYNOMALY_DATABASE_SCHEMA", raising=False)
    return backend


def test_train_register_list_show_score_delete(cli, store_env, tmp_path):
    code, out, err = cli("train", SENSORS, "--labels", "label", "-d", "hbos", "--name", "sensors")
    assert code == 0, err
    assert "registered as sensors@1" in out and "roc auc (training data): 0.8" in out
    code, out, err = cli("train", SENSORS, "--columns", FEATURES, "-d", "ecod", "--name", "sensors",
                         "--parent", "sensors@1", "-o", str(tmp_path / "ecod-dir"))
    assert code == 0, err
    assert f"saved to {tmp_path / 'ecod-dir'}; registered as sensors@2" in out

    code, out, _ = cli("models", "list", "--json")
    listed = json.loads(out)
    assert [m["ref"] for m in listed] == ["sensors@2", "sensors@1"]
    code, out, _ = cli("detect", SENSORS, "--labels", "label", "-d", "hbos", "--json", "--top", "0")
    assert listed[1]["metrics"] == pytest.approx(json.loads(out)["metrics"], abs=1e-12)
    assert listed[0]["metrics"] == {} and listed[1]["parent"] is None
    code, out, _ = cli("models", "list")
    assert "2 model versions" in out and "sensors@1  builtin.hbos  1000 x 5  roc_auc 0.8" in out

    code, out, _ = cli("models", "show", "sensors", "--json")
    shown = json.loads(out)
    assert shown["ref"] == "sensors@2" and shown["detector"] == "builtin.ecod"
    assert shown["fingerprint"]["columns"] == FEATURES.split(",") and shown["fingerprint"]["n_rows"] == 1000
    assert shown["fingerprint"]["source"] == SENSORS and shown["training_s"] > 0
    assert shown["lineage"] == [{"ref": "sensors@2", "deleted": False}, {"ref": "sensors@1", "deleted": False}]

    by_ref, by_dir = tmp_path / "by-ref.csv", tmp_path / "by-dir.csv"
    code, out, err = cli("score", "sensors", SENSORS, "--labels", "label", "--json", "-o", str(by_ref))
    assert code == 0, err
    assert json.loads(out)["detector"] == "builtin.ecod"
    code, _, err = cli("score", str(tmp_path / "ecod-dir"), SENSORS, "--labels", "label", "-o", str(by_dir))
    assert code == 0, err
    assert list(csv.reader(by_ref.open())) == list(csv.reader(by_dir.open()))

    code, _, err = cli("score", "sensors", SENSORS)
    assert code == 2
    assert err == "error: columns differ from model sensors@2's training data: 6 columns instead of 5; " \
                  "unexpected 'label'\n"
    code, _, err = cli("score", "sensors@1", SENSORS, "--columns", "temperature,vibration,pressure,current,humidity")
    assert code == 2
    assert err == "error: columns differ from model sensors@1's training data: order differs at position 1 " \
                  "('vibration' here, 'pressure' in training)\n"
    code, _, err = cli("score", "sensors@1", SENSORS, "--columns", "temperature,pressure,vibration,current")
    assert err == "error: columns differ from model sensors@1's training data: 4 columns instead of 5; " \
                  "missing 'humidity'\n"

    code, out, _ = cli("models", "delete", "sensors@1")
    assert code == 0 and out == "deleted sensors@1\n"
    code, out, _ = cli("models", "show", "sensors")
    assert "lineage:    sensors@2 <- sensors@1 (deleted)" in out
    code, _, err = cli("models", "delete", "sensors@1")
    assert code == 2 and err == "error: model 'sensors' has no version 1; versions: 2\n"
    code, _, err = cli("models", "delete", "sensors")
    assert code == 2 and "name the version to delete, as sensors@VERSION" in err
    code, out, _ = cli("models", "cleanup", "--json")
    assert json.loads(out) == {"removed": []}


def test_bad_references_and_options_exit_2_before_any_work(cli, store_env, tmp_path):
    code, _, err = cli("score", "sensors", SENSORS)
    assert code == 2 and err.startswith("error: model 'sensors': no such directory, and no model named 'sensors'")
    code, _, err = cli("score", "no/such/dir", SENSORS)
    assert code == 2
    assert err == "error: model 'no/such/dir': no such directory (and not a model store reference NAME[@VERSION])\n"
    code, _, err = cli("train", SENSORS, "-d", "hbos")
    assert code == 2 and err == "error: pass --output DIR to save the model to a folder, or --name NAME to " \
                                "register it\n"
    code, _, err = cli("train", SENSORS, "-o", str(tmp_path / "m"), "--parent", "m@1")
    assert code == 2 and err == "error: --parent needs --name (lineage is kept in the model store)\n"
    code, _, err = cli("train", SENSORS, "--name", "bad name")
    assert code == 2 and "model name 'bad name' is invalid" in err
    code, _, err = cli("train", SENSORS, "--name", "m", "--parent", "m@3")
    assert code == 2 and err.startswith("error: --parent m@3: no model named 'm'")
    code, out, _ = cli("models", "list")
    assert out == "no registered models\n"


def test_an_existing_path_wins_over_a_model_store_name(cli, store_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("train", SENSORS, "--columns", FEATURES, "-d", "hbos", "--name", "sensors")[0] == 0
    assert cli("train", SENSORS, "--columns", FEATURES, "-d", "mahalanobis", "-o", "sensors")[0] == 0
    code, out, err = cli("score", "sensors", SENSORS, "--columns", FEATURES, "--json", "--top", "0")
    assert code == 0, err
    assert json.loads(out)["detector"] == "builtin.mahalanobis"
    code, out, err = cli("score", "sensors@1", SENSORS, "--columns", FEATURES, "--json", "--top", "0")
    assert json.loads(out)["detector"] == "builtin.hbos"


NO_SQLALCHEMY = """
import sys
sys.modules["sqlalchemy"] = None  # as if it were not installed
from pynomaly_core.cli.app import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize(("args", "message"), [
    (["models", "list"], "error: the model store needs SQLAlchemy: pip install 'pynomaly[store]'"),
    (["train", SENSORS, "--name", "m"], "error: the model store needs SQLAlchemy: pip install 'pynomaly[store]'"),
    (["score", "m@1", SENSORS], "error: model 'm@1': no such directory, and the model store needs SQLAlchemy: "
                                "pip install 'pynomaly[store]'"),
])
def test_without_sqlalchemy_model_store_commands_exit_2_naming_the_extra(tmp_path, args, message):
    out = subprocess.run([sys.executable, "-c", NO_SQLALCHEMY, *args], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "PYNOMALY_HOME": str(tmp_path), "PYNOMALY_LOAD_PLUGINS": ""},
                         timeout=120)
    assert out.returncode == 2 and out.stderr == message + "\n"
    assert not (tmp_path / "store.db").exists()
