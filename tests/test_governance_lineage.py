"""OpenLineage run events of training, scoring and streaming (START, then COMPLETE or FAIL; the data fingerprints
as dataset facets), to a JSON Lines file and to an HTTP endpoint, each validated offline against the vendored
OpenLineage JSON Schema."""

from __future__ import annotations

import csv
import http.server
import json
import threading
from pathlib import Path

import pytest

from pynomaly_core.governance import lineage

from .conftest import EXAMPLES

jsonschema = pytest.importorskip("jsonschema")
SENSORS = str(EXAMPLES / "sensors.csv")
SCHEMA = Path(lineage.__file__).parent / "schemas" / "OpenLineage.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_text())
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_train_score_and_stream_runs_emit_valid_events(cli, validator, tmp_path, monkeypatch):
    events = tmp_path / "lineage.jsonl"
    monkeypatch.setenv("PYNOMALY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PYNOMALY_DATABASE_URL", raising=False)
    monkeypatch.setenv("PYNOMALY_LINEAGE_URL", str(events))
    code, _, err = cli("train", SENSORS, "--labels", "label", "-d", "hbos", "--name", "sensors")
    assert code == 0, err
    code, _, err = cli("score", "sensors", SENSORS, "--labels", "label", "-o", str(tmp_path / "scores.csv"))
    assert code == 0, err
    code, _, err = cli("score", "sensors", SENSORS, "--columns", "temperature,pressure")  # wrong columns: FAIL
    assert code == 2
    readings = tmp_path / "readings.jsonl"
    with open(SENSORS) as handle:
        rows = [{k: float(v) for k, v in row.items() if k != "label"} for row in csv.DictReader(handle)][:50]
    readings.write_text("".join(json.dumps({"id": i, **row}) + "\n" for i, row in enumerate(rows)))
    code, _, err = cli("stream", str(readings), "--model", "sensors", "--sink", str(tmp_path / "out.jsonl"))
    assert code == 0, err

    emitted = _events(events)
    for event in emitted:
        errors = sorted(validator.iter_errors(event), key=str)
        assert not errors, (event["eventType"], event["job"]["name"], [e.message for e in errors])
    runs: dict[str, list[dict]] = {}
    for event in emitted:
        runs.setdefault(event["run"]["runId"], []).append(event)
    summary = [(e[0]["job"]["name"], [x["eventType"] for x in e]) for e in runs.values()]
    assert summary == [("pynomaly.train", ["START", "COMPLETE"]), ("pynomaly.score", ["START", "COMPLETE"]),
                       ("pynomaly.score", ["START", "FAIL"]), ("pynomaly.stream", ["START", "COMPLETE"])]
    train = runs[next(iter(runs))][-1]
    data = train["inputs"][0]
    assert data["name"] == SENSORS and data["facets"]["pynomaly_fingerprint"]["rows"] == 1000
    assert [f["name"] for f in data["facets"]["schema"]["fields"]][:2] == ["temperature", "pressure"]
    model = train["outputs"][0]
    assert model["name"] == "models/default/sensors" and model["facets"]["pynomaly_model"]["ref"] == "sensors@1"
    assert train["run"]["facets"]["pynomaly_training"]["metrics"]["roc_auc"] > 0.8
    score = list(runs.values())[1][-1]
    assert score["inputs"][0]["facets"]["pynomaly_model"]["ref"] == "sensors@1"
    assert score["inputs"][1]["name"] == SENSORS  # CSV is scored in batches: named, not fingerprinted
    assert score["outputs"][0]["name"] == str(tmp_path / "scores.csv")
    stream = list(runs.values())[3][-1]
    assert stream["inputs"][0]["facets"]["pynomaly_model"]["stage"] == "draft"
    failed = list(runs.values())[2][-1]
    assert "missing 'vibration'" in failed["run"]["facets"]["errorMessage"]["message"]


def test_events_go_to_an_http_endpoint_and_an_unreachable_one_never_fails_the_run(validator):
    received: list[dict] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        emitter = lineage.Emitter(f"http://127.0.0.1:{server.server_port}/api/v1/lineage")
        with lineage.run("pynomaly.train", inputs=[lineage.dataset("data.csv", {"n_rows": 3, "n_features": 1,
                                                                                "columns": ["a"], "sha256": "0"})],
                         emitter=emitter) as current:
            current.outputs.append(lineage.dataset("models/default/m"))
    finally:
        server.shutdown()
    assert [e["eventType"] for e in received] == ["START", "COMPLETE"]
    assert all(not list(validator.iter_errors(e)) for e in received)
    with lineage.run("pynomaly.train", emitter=lineage.Emitter("http://127.0.0.1:9/nothing", timeout_s=0.5)):
        pass  # logged, not raised


def test_training_starts_before_the_fit_and_a_failed_training_is_a_fail_event(cli, validator, tmp_path, monkeypatch):
    """START is emitted before the data is read, so a training that fails (a missing column here) still ends its
    run with FAIL; a model saved to a folder is the run's output."""
    events = tmp_path / "lineage.jsonl"
    monkeypatch.setenv("PYNOMALY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PYNOMALY_DATABASE_URL", raising=False)
    monkeypatch.setenv("PYNOMALY_LINEAGE_URL", str(events))
    code, _, _ = cli("train", SENSORS, "--columns", "temperature,nope", "-d", "hbos", "--name", "broken")
    assert code == 2
    code, _, err = cli("train", SENSORS, "--labels", "label", "-d", "hbos", "-o", str(tmp_path / "model"))
    assert code == 0, err
    emitted = _events(events)
    assert all(not list(validator.iter_errors(event)) for event in emitted)
    assert [(e["job"]["name"], e["eventType"]) for e in emitted] == [
        ("pynomaly.train", "START"), ("pynomaly.train", "FAIL"), ("pynomaly.train", "START"),
        ("pynomaly.train", "COMPLETE")]
    assert emitted[0]["run"]["runId"] == emitted[1]["run"]["runId"] != emitted[2]["run"]["runId"]
    assert "nope" in emitted[1]["run"]["facets"]["errorMessage"]["message"]
    assert emitted[3]["outputs"][0]["name"] == str(tmp_path / "model")
