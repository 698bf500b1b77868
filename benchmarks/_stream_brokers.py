"""The broker half of ``bench_stream.py``: maximum rate and latency at half of it, per broker and message shape."""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import print_table

FEATURES = 8
HOST = "127.0.0.1"
#: Per message shape: (records per message, messages for the maximum-rate run).
SHAPES = {"single": (1, 30_000), "batch": (4096, 300)}


def urls(broker: str, tag: str) -> tuple[str, str]:
    name = f"pyn_bench_{tag}_{uuid.uuid4().hex[:8]}"
    if broker == "amqp":
        return f"amqp://guest:guest@{HOST}/{name}_in", f"amqp://guest:guest@{HOST}/{name}_out"
    if broker == "nats":
        return f"nats://{HOST}:4222/{name}.in", f"nats://{HOST}:4222/{name}.out"
    if broker == "redis":
        return f"redis://{HOST}:6379/0?stream={name}_in", f"redis://{HOST}:6379/0?stream={name}_out"
    return f"mqtt://{HOST}:1883/{name}/in", f"mqtt://{HOST}:1883/{name}/out"


def body(shape: str, rng: np.random.Generator, stamp: int) -> bytes:
    """A message whose record ids are the send time in nanoseconds (plus the row), so latency can be read back."""
    from pynomaly_core.stream.records import dumps, encode_binary_frame

    per_message = SHAPES[shape][0]
    if per_message == 1:
        return dumps({"id": stamp, "values": rng.normal(size=FEATURES).tolist()})
    return encode_binary_frame(stamp + np.arange(per_message), rng.normal(size=(per_message, FEATURES)))


def produce(url: str, shape: str, n_messages: int, rate: float | None) -> None:
    """Publish ``n_messages`` (at ``rate`` messages/s when given, else as fast as the broker takes them)."""
    from pynomaly_core.stream.select import open_sink

    rng = np.random.default_rng(0)
    sink = open_sink(url)
    start = time.perf_counter()
    chunk = 1 if rate is not None else (200 if shape == "single" else 4)
    try:
        for k in range(0, n_messages, chunk):
            if rate is not None:
                delay = start + k / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            sink.publish([body(shape, rng, time.time_ns()) for _ in range(min(chunk, n_messages - k))])
    finally:
        sink.close()


def collect(url: str, shape: str, n_messages: int, out: str, timeout_s: float) -> None:
    """Read ``n_messages`` result messages; save the latency (receipt time − send time) of the first record of each."""
    from pynomaly_core.stream.records import decode_results_binary
    from pynomaly_core.stream.select import open_source

    source = open_source(url, credit=1000)
    latencies: list[float] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(latencies) < n_messages and time.monotonic() < deadline:
            batch = source.receive(1000, 0.5)
            now = time.time_ns()
            for message in batch:
                if shape == "single":
                    sent = json.loads(message.body.splitlines()[0])["id"]
                else:
                    sent = int(decode_results_binary(message.body)[0][0])
                latencies.append((now - sent) / 1e9)
            if batch:
                source.ack(batch)
    finally:
        source.close()
    np.save(out, np.asarray(latencies))


def _engine(model: Any, in_url: str, out_url: str, shape: str, max_messages: int | None,
            idle_exit_s: float | None) -> Any:
    from pynomaly_core.stream.engine import StreamConfig, StreamEngine
    from pynomaly_core.stream.select import open_sink, open_source

    per_message = SHAPES[shape][0]
    config = StreamConfig(batch_rows=16_384 if per_message > 1 else 512, max_delay_ms=5, window=max(8, 20_000 //
                          per_message), output="binary" if per_message > 1 else "json", max_messages=max_messages,
                          idle_exit_s=idle_exit_s)
    return StreamEngine(model, lambda credit: open_source(in_url, credit=credit), lambda: open_sink(out_url), config,
                        report=lambda line: None)


def maximum_rate(model: Any, broker: str, shape: str) -> tuple[float, int]:
    """Records/s of the engine draining a pre-filled queue into the broker (producer done before it starts)."""
    in_url, out_url = urls(broker, "max")
    # Mosquitto queues at most 1,000 messages per session by default (max_queued_messages): stay under it
    n_messages = min(SHAPES[shape][1], 900) if broker == "mqtt" else SHAPES[shape][1]
    if broker == "mqtt":  # MQTT keeps messages only for subscribed sessions
        from pynomaly_core.stream.select import open_source

        open_source(in_url, credit=10).close()
    produce(in_url, shape, n_messages, None)
    stats = _engine(model, in_url, out_url, shape, n_messages, 5.0).run()
    if stats.messages < n_messages:
        raise SystemExit(f"{broker}: only {stats.messages} of {n_messages} messages arrived")
    return stats.records / stats.elapsed_s, stats.records


def latency_at(model: Any, broker: str, shape: str, rate_records: float, seconds: float) -> tuple[float, float, int]:
    """p50 and p99 (ms) from send to result receipt while a producer publishes ``rate_records`` records/s."""
    in_url, out_url = urls(broker, "lat")
    per_message = SHAPES[shape][0]
    rate = rate_records / per_message
    n_messages = max(20, int(rate * seconds))
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "latencies.npy")
        if broker == "mqtt":
            from pynomaly_core.stream.select import open_source

            open_source(in_url, credit=10).close()
            open_source(out_url, credit=10).close()
        collector = context.Process(target=collect, args=(out_url, shape, n_messages, out, seconds + 60))
        collector.start()
        time.sleep(1.0)  # the collector subscribes first
        producer = context.Process(target=produce, args=(in_url, shape, n_messages, rate))
        engine = _engine(model, in_url, out_url, shape, n_messages, None)
        producer.start()
        engine.run()
        producer.join(timeout=seconds + 60)
        collector.join(timeout=seconds + 60)
        latencies = np.load(out) if Path(out).exists() else np.empty(0)
    if latencies.size == 0:
        return float("nan"), float("nan"), 0
    p50, p99 = np.percentile(latencies * 1e3, [50, 99])
    return float(p50), float(p99), int(latencies.size)


def run_brokers(brokers: list[str], seconds: float, fitted: Callable[[str], Any]) -> None:
    model = fitted("hbos")
    rows = []
    for broker in brokers:
        for shape in SHAPES:
            rate, records = maximum_rate(model, broker, shape)
            p50, p99, n = latency_at(model, broker, shape, rate / 2, seconds)
            rows.append((broker, shape, f"{records:,}", f"{rate:,.0f}", f"{rate / 2:,.0f}", f"{p50:.1f}",
                         f"{p99:.1f}", n))
            print(f"  {broker} {shape}: {rate:,.0f} records/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms", flush=True)
    print("\n== through a broker (producer, engine, collector and broker on the same 2 cores), builtin.hbos")
    print_table(["broker", "messages", "records", "max records/s", "at records/s", "p50 ms", "p99 ms", "sampled"], rows)
    best = max(float(r[3].replace(",", "")) for r in rows if r[1] == "batch")
    worst_p99 = max(float(r[6]) for r in rows)
    print(f"\nbest batched: {best:,.0f} records/s (goal >= 1,000,000 through one broker: "
          f"{'met' if best >= 1e6 else 'NOT met'}); worst p99 at half rate: {worst_p99:.1f} ms (goal <= 50)")
