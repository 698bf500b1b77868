"""The stream engine with the built-in connectors: same scores as ``pynomaly score``, dead letters, backpressure,
at least once across a SIGKILL, SIGTERM drain, events, adaptive thresholds, metrics, drift."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import pynomaly_core as pn
from pynomaly_core.errors import InputError
from pynomaly_core.stream.engine import StreamConfig, StreamEngine
from pynomaly_core.stream.events import OTEL_SEVERITY, AdaptiveThreshold, AlertPolicy, SeverityScale
from pynomaly_core.stream.memory import MemorySink, MemorySource
from pynomaly_core.stream.records import (
    decode_results_binary,
    dumps,
    encode_binary_frame,
)

from .conftest import EXAMPLES

SENSORS = EXAMPLES / "sensors.csv"
COLUMNS = "temperature,pressure,vibration,current,humidity"


def cli(*args: str, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYNOMALY_")}
    return subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", *args], input=stdin, capture_output=True,
                          timeout=timeout, env=env)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("stream") / "model"
    out = cli("train", str(SENSORS), "--columns", COLUMNS, "-d", "hbos", "-o", str(path))
    assert out.returncode == 0, out.stderr
    return path


def sensor_rows() -> np.ndarray:
    return np.loadtxt(SENSORS, delimiter=",", skiprows=1, usecols=range(5))


def jsonl(rows: np.ndarray, start: int = 0) -> bytes:
    return b"".join(dumps({"id": start + i, "values": row.tolist()}) + b"\n" for i, row in enumerate(rows))


def engine(model, bodies, sink=None, **config) -> tuple[StreamEngine, MemorySink]:
    sink = sink or MemorySink()
    return StreamEngine(model, lambda credit: MemorySource(bodies, credit=credit), lambda: sink,
                        StreamConfig(**config)), sink


# -- same scores as pynomaly score --------------------------------------------------------------------------------
def test_stdin_to_a_jsonl_file_gives_the_scores_of_pynomaly_score(model_dir, tmp_path):
    out = tmp_path / "results.jsonl"
    run = cli("stream", "-", "--model", str(model_dir), "--sink", str(out), "--batch-rows", "37",
              stdin=jsonl(sensor_rows()))
    assert run.returncode == 0, run.stderr
    assert b"1000 records from 1000 messages" in run.stderr
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in results] == list(range(1000))
    scored = cli("score", str(model_dir), str(SENSORS), "--columns", COLUMNS, "-o", str(tmp_path / "s.csv"))
    assert scored.returncode == 0, scored.stderr
    expected = np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal([r["score"] for r in results], expected[:, 0])
    assert [r["label"] for r in results] == expected[:, 1].astype(int).tolist()
    assert all(("severity" in r) == (r["label"] == 1) for r in results)


def test_records_by_feature_name_and_batches_in_one_message(model_dir):
    model = pn.load(model_dir)
    rows = sensor_rows()[:20]
    names = COLUMNS.split(",")
    by_name = dumps([{"id": f"r{i}", **dict(zip(names, row.tolist(), strict=True))} for i, row in enumerate(rows)])
    run, sink = engine(model, [by_name])
    stats = run.run()
    assert stats.records == 20 and stats.messages == 1 and len(sink.payloads) == 1  # one message, one payload
    lines = [json.loads(line) for line in sink.payloads[0].splitlines()]
    np.testing.assert_array_equal([r["score"] for r in lines], model.decision_function(rows))
    assert lines[0]["id"] == "r0"


def test_binary_frames_in_and_out(model_dir):
    model = pn.load(model_dir)
    rows = sensor_rows()
    frames = [encode_binary_frame(np.arange(i, i + 100), rows[i:i + 100]) for i in range(0, 1000, 100)]
    run, sink = engine(model, frames, output="binary", batch_rows=250)
    assert run.run().records == 1000
    decoded = [decode_results_binary(p) for p in sink.payloads]
    ids = np.concatenate([d[0] for d in decoded])
    assert ids.tolist() == list(range(1000))
    np.testing.assert_array_equal(np.concatenate([d[1] for d in decoded]), model.decision_function(rows))
    run, _ = engine(model, [dumps({"id": 1, "values": rows[0].tolist()})], output="binary")
    with pytest.raises(InputError, match="binary results need binary input frames"):
        run.run()


@pytest.mark.parametrize("output", ["json", "binary"])
def test_result_payloads_hold_at_most_batch_rows_records(model_dir, output):
    """One receive can bring more records than --batch-rows (many records per message, a deep window): the results
    still go out as payloads of at most --batch-rows records (brokers cap a message's size), in arrival order."""
    model = pn.load(model_dir)
    rows = sensor_rows()[:900]
    frames = [encode_binary_frame(np.arange(i, i + 300), rows[i:i + 300]) for i in range(0, 900, 300)]
    run, sink = engine(model, frames, output=output, batch_rows=128, window=100)
    assert run.run().records == 900
    if output == "binary":
        parts = [decode_results_binary(p) for p in sink.payloads]
        sizes, ids = [p[0].size for p in parts], np.concatenate([p[0] for p in parts]).tolist()
    else:
        parts = [[json.loads(line) for line in p.splitlines()] for p in sink.payloads]
        sizes, ids = [len(p) for p in parts], [r["id"] for p in parts for r in p]
    assert max(sizes) <= 128 and ids == list(range(900))


# -- bad messages -------------------------------------------------------------------------------------------------
def test_a_thousand_malformed_messages_all_go_to_the_dead_letters_and_the_stream_goes_on(model_dir):
    model = pn.load(model_dir)
    good = jsonl(sensor_rows()[:200]).splitlines()
    bad = [b"not json", b'{"values": [1, 2, 3, 4, 5]}', b'{"id": 1, "values": [1, 2]}',
           b'{"id": 2, "values": [1, 2, 3, 4, "x"]}', b'{"id": 3, "values": [1, 2, 3, 4, NaN]}',
           b'{"id": 4, "values": [1, 2, 3, 4, 1e999]}', b"[]", b"42", b"\xff\xfe",
           b'{"id": 5, "values": [' + b"1," * (2 << 20) + b"1]}"]
    bodies = [good[i // 5] if i % 5 == 0 else bad[(i - i // 5 - 1) % len(bad)] for i in range(1000)]
    sink, letters = MemorySink(), MemorySink()
    run = StreamEngine(model, lambda credit: MemorySource(bodies, credit=credit), lambda: sink,
                       StreamConfig(batch_rows=64, max_message_bytes=1 << 20), dead_letters=lambda: letters)
    stats = run.run()
    assert stats.messages == 1000 and stats.records == 200 and stats.dead_letters == 800
    reasons = [json.loads(p)["reason"] for p in letters.payloads]
    assert len(reasons) == 800 and all("\n" not in r for r in reasons)
    expected = {"not JSON", "has no 'id'", "has 2 values, the model takes 5", "has a value that is not a number",
                "an empty batch", "is int, not an object", "larger than the"}
    assert all(any(fragment in r for r in reasons) for fragment in expected), sorted(set(reasons))[:12]
    assert any("inf" in r.lower() for r in reasons)  # NaN is "not JSON" for a strict parser, a NaN value otherwise


# -- backpressure -------------------------------------------------------------------------------------------------
class CountingSource(MemorySource):
    """Records the most messages ever unacknowledged."""

    peak = 0

    def receive(self, max_messages, timeout_s):
        out = super().receive(max_messages, timeout_s)
        CountingSource.peak = max(CountingSource.peak, self._unacked)
        return out


def test_a_slow_sink_stops_the_source_at_the_window(model_dir):
    model = pn.load(model_dir)
    lines = jsonl(sensor_rows()).splitlines() * 3
    slow = MemorySink(keep=False, delay_s=0.01)
    CountingSource.peak = 0
    run = StreamEngine(model, lambda credit: CountingSource(iter(lines), credit=credit), lambda: slow,
                       StreamConfig(window=50, batch_rows=1000, max_delay_ms=1000))
    stats = run.run()
    assert stats.records == 3000 and 0 < CountingSource.peak <= 50
    assert stats.pauses > 0 and 0 < slow.count < 3000  # one payload per scored batch


# -- at least once ------------------------------------------------------------------------------------------------
def test_sigkill_mid_stream_then_restart_loses_nothing(model_dir, tmp_path):
    """A JSON Lines source with a checkpoint: killed with SIGKILL while streaming into a slow sink and restarted,
    every record id is in the output (some twice: at least once)."""
    source = tmp_path / "in.jsonl"
    rows = sensor_rows()
    source.write_bytes(b"".join(jsonl(rows, start=k * 1000) for k in range(4)))
    out, checkpoint = tmp_path / "out.jsonl", tmp_path / "in.offset"
    args = [sys.executable, "-m", "pynomaly_core.cli.app", "stream", str(source), "--model", str(model_dir),
            "--sink", str(out), "--batch-rows", "50", "--window", "50", "-S", f"checkpoint={checkpoint}"]
    process = subprocess.Popen(args, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while (not out.exists() or out.stat().st_size < 20_000) and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    first = len(out.read_text().splitlines())
    assert 0 < first < 4000
    again = subprocess.run(args, capture_output=True, timeout=120)
    assert again.returncode == 0, again.stderr
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert set(ids) == set(range(4000))
    duplicates = len(ids) - 4000
    assert 0 <= duplicates <= 100  # at most about one window scored twice


def test_sigterm_drains_and_exits_zero(model_dir, tmp_path):
    source = tmp_path / "growing.jsonl"
    source.write_bytes(jsonl(sensor_rows()[:300]))
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "pynomaly_core.cli.app", "stream", str(source), "--model",
                                str(model_dir), "--sink", str(out), "-S", "follow=true"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while (not out.exists() or len(out.read_bytes().splitlines()) < 300) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert len(out.read_text().splitlines()) == 300 and b"300 records" in err


# -- events ---------------------------------------------------------------------------------------------------------
def test_a_burst_of_one_entity_gives_a_handful_of_events(model_dir):
    model = pn.load(model_dir)
    far = (sensor_rows()[0] + 50).tolist()
    burst = [dumps({"id": i, "entity": "pump-7", "values": far}) for i in range(1000)]
    other = [dumps({"id": 5000, "entity": "pump-8", "values": far})]
    events = MemorySink()
    run = StreamEngine(model, lambda credit: MemorySource(burst + other, credit=credit), None,
                       StreamConfig(batch_rows=100), events=lambda: events, alerts=AlertPolicy(cooldown_s=3600))
    stats = run.run()
    assert stats.anomalies == 1001
    sent = [json.loads(p) for p in events.payloads]
    assert 2 <= len(sent) <= 5 and {e["subject"] for e in sent} == {"pump-7", "pump-8"}
    event = sent[0]
    assert event["specversion"] == "1.0" and event["type"] == "io.pynomaly.anomaly"
    assert event["source"] == "pynomaly/stream/builtin.hbos" and event["time"].endswith("Z")
    data = event["data"]
    assert data["severity"] == "critical" and data["severity_number"] == OTEL_SEVERITY["critical"] == 19
    assert data["detector"] == "builtin.hbos" and data["threshold"] == model.threshold_
    assert [f["feature"] for f in data["top_features"]][:1]  # HBOS gives its per-feature contributions


def test_a_critical_event_suppresses_warnings_of_the_same_entity():
    policy = AlertPolicy(cooldown_s=60)
    assert policy.admit("d", "e", "warning", now=0.0) == 0
    assert policy.admit("d", "e", "warning", now=1.0) is None
    assert policy.admit("d", "e", "critical", now=2.0) == 1  # escalation goes out at once, with the grouped count
    assert policy.admit("d", "e", "warning", now=3.0) is None and policy.admit("d", "e", "error", now=4.0) is None
    assert policy.admit("d", "other", "warning", now=4.0) == 0
    assert policy.admit("d", "e", "warning", now=63.0) == 2  # after the cooldown


def test_severities_follow_the_training_quantiles(rng):
    train = rng.normal(size=10_000)
    threshold = float(np.quantile(train, 0.9))
    scale = SeverityScale.from_training(train, threshold)
    q99, q999 = np.quantile(train, [0.99, 0.999])
    scores = np.array([threshold - 1, threshold + 1e-9, q99, q999, train.max() + 1])
    assert scale.levels_of(scores) == [None, "notice", "warning", "error", "critical"]
    custom = SeverityScale.parse("warning=0.95,emergency=max", train, threshold)
    assert custom.levels_of(np.array([train.max() * 2]))[0] == "emergency"
    with pytest.raises(InputError, match="unknown severity 'loud'"):
        SeverityScale.parse("loud=0.9", train, threshold)
    assert len(OTEL_SEVERITY) == 8 and sorted(OTEL_SEVERITY.values(), reverse=True) == list(OTEL_SEVERITY.values())


# -- adaptive thresholds ------------------------------------------------------------------------------------------
def test_the_quantile_threshold_follows_a_shift(rng):
    adaptive = AdaptiveThreshold("quantile", 0.1, rng.normal(size=2000), window=2000)
    before = adaptive.value
    for _ in range(10):
        adaptive.update(rng.normal(5, 1, size=500))
    assert before == pytest.approx(1.28, abs=0.1) and adaptive.value == pytest.approx(6.28, abs=0.15)


def test_peaks_over_threshold_matches_the_exponential_tail(rng):
    """Exponential scores have a generalised Pareto tail with shape 0: the risk-1e-3 threshold is ln(1000)."""
    adaptive = AdaptiveThreshold("pot", 0.1, rng.exponential(size=50_000), risk=1e-3)
    assert adaptive.value == pytest.approx(np.log(1000), rel=0.05)


# -- metrics and drift -----------------------------------------------------------------------------------------------
def test_prometheus_metrics_are_served_while_streaming(model_dir, tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = tmp_path / "in.jsonl"
    source.write_bytes(jsonl(sensor_rows()[:100]))
    process = subprocess.Popen([sys.executable, "-m", "pynomaly_core.cli.app", "stream", str(source), "--model",
                                str(model_dir), "--sink", "none", "-S", "follow=true", "--metrics-port", str(port)],
                               stderr=subprocess.PIPE)
    try:
        body, deadline = "", time.monotonic() + 60
        while "pynomaly_stream_records_total 100" not in body and time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                continue
        assert "pynomaly_stream_records_total 100" in body
        assert "# TYPE pynomaly_stream_latency_seconds histogram" in body
        assert "pynomaly_stream_in_flight_messages" in body
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)


def test_a_shift_in_the_stream_raises_a_drift_event(rng):
    from pynomaly_core.stream.drift_monitor import WindowDrift

    X = rng.normal(size=(3000, 3))
    model = pn.create_detector("mahalanobis").fit(X)
    shifted = rng.normal(size=(3000, 3)) + np.array([0.0, 0.0, 2.0])
    rows = np.vstack([rng.normal(size=(3000, 3)), shifted])
    bodies = [dumps([{"id": i + j, "values": r.tolist()} for j, r in enumerate(rows[i:i + 500])])
              for i in range(0, 6000, 500)]
    events = MemorySink()
    run = StreamEngine(model, lambda credit: MemorySource(bodies, credit=credit), None, StreamConfig(batch_rows=500),
                       events=lambda: events, drift=WindowDrift("ks", 1500))
    run.run()
    drift = [json.loads(p) for p in events.payloads if json.loads(p)["type"] == "io.pynomaly.drift"]
    assert drift and drift[0]["data"]["drifted_features"] == ["x2"] and drift[0]["data"]["test"] == "builtin.ks"


def test_usage_errors_are_one_line_exit_2(model_dir):
    for args, fragment in [(["kafka://127.0.0.1/readings"], "no stream source for URL scheme 'kafka'"),
                           (["-", "--events", "-", "--sink", "-"], "only one of --sink, --events"),
                           (["-", "--learn"], "does not learn online")]:
        run = cli("stream", *args, "--model", str(model_dir), stdin=b"")
        assert run.returncode == 2 and fragment in run.stderr.decode() and run.stderr.count(b"\n") == 1, run.stderr


def test_learn_mode_is_prequential_with_an_online_detector(rng):
    """``--learn``: each batch is scored by the model as it was before it, then learned; the scores are those of
    :func:`pynomaly_core.online.prequential` with the same batches."""
    import copy

    from pynomaly_core.online import prequential

    X = rng.uniform(size=(3000, 4))
    X[2500:] += 0.5  # a shift the model should learn
    model = pn.create_detector("half_space_trees", random_state=0).fit(X[:500])
    reference = copy.deepcopy(model)
    bodies = [dumps([{"id": i + j, "values": r.tolist()} for j, r in enumerate(X[i:i + 250])])
              for i in range(500, 3000, 250)]
    run, sink = engine(model, bodies, learn=True, window=1, batch_rows=250)
    run.run()
    streamed = [json.loads(line)["score"] for p in sink.payloads for line in p.splitlines()]
    np.testing.assert_array_equal(streamed, prequential(reference, X[500:], batch_size=250))


def test_learn_mode_updates_a_partial_fit_detector(rng):
    """Mahalanobis learns each batch with its exact partial_fit: after the stream it equals a fit on every row."""
    X = rng.normal(size=(2000, 3)) @ rng.normal(size=(3, 3))
    model = pn.create_detector("mahalanobis").fit(X[:500])
    bodies = [dumps([{"id": i + j, "values": r.tolist()} for j, r in enumerate(X[i:i + 500])])
              for i in range(500, 2000, 500)]
    run, _ = engine(model, bodies, learn=True, window=1, batch_rows=500)
    run.run()
    whole = pn.create_detector("mahalanobis").fit(X)
    np.testing.assert_allclose(model.decision_function(X[:50]), whole.decision_function(X[:50]), rtol=1e-9)
