"""``pynomaly stream`` on the real brokers under faults: a consumer killed with SIGKILL mid-stream and restarted loses
no record, a broker restart is survived, a 10x overload with a slow sink keeps memory flat, 1,000 malformed messages
all reach the dead-letter sink while the stream goes on."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pynomaly_core.stream.records import dumps
from pynomaly_core.stream.select import open_sink, open_source

REPO = Path(__file__).resolve().parents[3]
SENSORS = REPO / "examples" / "data" / "sensors.csv"
COLUMNS = "temperature,pressure,vibration,current,humidity"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "model"
    run = subprocess.run([sys.executable, "-m", "pynomaly_core.cli.app", "train", str(SENSORS), "--columns", COLUMNS,
                          "-d", "mahalanobis", "-o", str(path)], capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return path


def produce(url: str, n_messages: int, per_message: int, start: int = 0) -> int:
    """Publish ``n_messages`` JSON batches of ``per_message`` records (ids from ``start``); returns the records."""
    rows = np.loadtxt(SENSORS, delimiter=",", skiprows=1, usecols=range(5))
    sink = open_sink(url)
    try:
        for k in range(0, n_messages, 100):
            sink.publish([dumps([{"id": start + (m * per_message) + i, "values": rows[(m * per_message + i) % 1000]
                                  .tolist()} for i in range(per_message)]) for m in range(k, min(n_messages, k + 100))])
    finally:
        sink.close()
    return n_messages * per_message


def stream(source: str, model_dir: Path, sink: Path, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYNOMALY_")}
    return subprocess.Popen([sys.executable, "-m", "pynomaly_core.cli.app", "stream", source, "--model", str(model_dir),
                             "--sink", str(sink), *extra], stderr=subprocess.PIPE, env=env)


def ids_in(path: Path) -> list[int]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()] if path.exists() else []


def wait_for_lines(path: Path, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= at_least:
            return
        time.sleep(0.02)
    raise AssertionError(f"{path} did not reach {at_least} lines in {timeout}s")


@pytest.mark.parametrize("kind", ["rabbitmq", "nats", "redis", "mqtt"])
def test_sigkill_mid_stream_then_restart_loses_no_record(request, kind, model_dir, tmp_path):
    broker = request.getfixturevalue({"rabbitmq": "rabbitmq", "nats": "jetstream", "redis": "redis_broker",
                                      "mqtt": "mqtt"}[kind])
    url = broker.url(query="min_idle_ms=500" if kind == "redis" else "ack_wait_s=2" if kind == "nats" else "")
    if kind == "mqtt":  # MQTT keeps messages only for a session that exists: subscribe before producing
        open_source(url, credit=10).close()
    total = produce(url, 400, 50)
    out = tmp_path / "out.jsonl"
    first = stream(url, model_dir, out, "--batch-rows", "50", "--window", "20", "--max-delay-ms", "5")
    wait_for_lines(out, 2000)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    killed_at = len(ids_in(out))
    assert killed_at < total
    time.sleep(2.5 if kind == "nats" else 0.6)  # JetStream's ack_wait, Redis's min_idle: what the broker waits
    second = stream(url, model_dir, out, "--window", "200", "--idle-exit", "4")
    _, err = second.communicate(timeout=180)
    assert second.returncode == 0, err
    ids = ids_in(out)
    assert set(ids) == set(range(total)), f"{total - len(set(ids))} records lost"
    duplicates = len(ids) - total
    redelivered = int(re.search(rb"(\d+) redelivered", err).group(1))
    print(f"{kind}: killed after {killed_at} of {total} results; after the restart {duplicates} duplicate results, "
          f"{redelivered} messages redelivered")
    assert 0 <= duplicates <= total


@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="rabbitmqctl is not installed")
def test_a_rabbitmq_restart_mid_stream_is_survived(rabbitmq, model_dir, tmp_path):
    url = rabbitmq.url()
    total = produce(url, 400, 50)
    out = tmp_path / "out.jsonl"
    process = stream(url, model_dir, out, "--batch-rows", "50", "--window", "20", "--idle-exit", "6")
    try:
        wait_for_lines(out, 1000)
        subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=120)
        time.sleep(2)
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
    _, err = process.communicate(timeout=240)
    assert process.returncode == 0, err
    assert b"reconnecting" in err or b"retrying" in err
    assert set(ids_in(out)) == set(range(total))


OVERLOAD = r'''
import json, resource, sys, time
import numpy as np
import pynomaly_core as pn
from pynomaly_core.stream.engine import StreamConfig, StreamEngine
from pynomaly_core.stream.memory import MemorySink
from pynomaly_core.stream.select import open_source

url, window = sys.argv[1], int(sys.argv[2])
model = pn.load(sys.argv[3])
slow = MemorySink(keep=False, delay_s=0.002)  # about a tenth of the rate the broker can deliver
engine = StreamEngine(model, lambda credit: open_source(url, credit=credit), lambda: slow,
                      StreamConfig(window=window, batch_rows=100, max_delay_ms=1, idle_exit_s=2))
stats = engine.run()
print(json.dumps({"records": stats.records, "pauses": stats.pauses,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def test_a_ten_times_overload_with_a_slow_sink_keeps_memory_flat(rabbitmq, model_dir, tmp_path):
    """The backlog stays in the broker: peak RSS with 60,000 queued records is that with 6,000 (within 25 MiB)."""
    peaks = {}
    for backlog in (120, 1200):
        url = rabbitmq.url()
        total = produce(url, backlog, 50)
        run = subprocess.run([sys.executable, "-c", OVERLOAD, url, "20", str(model_dir)], capture_output=True,
                             timeout=300)
        assert run.returncode == 0, run.stderr
        figures = json.loads(run.stdout)
        assert figures["records"] == total and figures["pauses"] > 0
        peaks[backlog] = figures["max_rss_mb"]
    print(f"peak RSS: {peaks[120]:.1f} MiB with 6,000 records queued, {peaks[1200]:.1f} MiB with 60,000")
    assert peaks[1200] - peaks[120] < 25


def test_a_thousand_malformed_messages_go_to_the_dead_letters_and_the_stream_goes_on(redis_broker, model_dir,
                                                                                    tmp_path):
    url, letters_url = redis_broker.url(), redis_broker.url()
    sink = open_sink(url)
    good = [dumps({"id": i, "values": [20.0, 1.0, 0.3, 5.0, 40.0]}) for i in range(500)]
    bad = [b"not json", b'{"id": 1}', b'{"id": 2, "values": [1]}', b"[1, 2]"]
    sink.publish([item for i in range(500) for item in (good[i], bad[i % 4], bad[(i + 1) % 4])])
    sink.close()
    out = tmp_path / "out.jsonl"
    process = stream(url, model_dir, out, "--dead-letter", letters_url, "--idle-exit", "3")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert sorted(ids_in(out)) == list(range(500)) and b"1000 dead letters" in err
    letters = open_source(letters_url, credit=2000)
    received = []
    while batch := letters.receive(2000, 1.0):
        received += batch
        letters.ack(batch)
    letters.close()
    assert len(received) == 1000 and all("reason" in json.loads(m.body) for m in received)
