"""The stream engine's throughput in process, and through each broker (records/s, ingest-to-result latency).

Goals (issue "Real-time detection"): in-process engine with a built-in detector and micro-batches ≥ 1,000,000
records/s; through at least one broker with batched messages ≥ 1,000,000 records/s, and p99 ingest-to-result latency
≤ 50 ms at half the maximum rate.

    python benchmarks/bench_stream.py inprocess [--records 4000000]
    python benchmarks/bench_stream.py brokers [--brokers amqp,nats,redis,mqtt] [--seconds 10]

**In process**: a memory source hands the engine messages (binary frames of 4,096 records × 8 features, or JSON
batches of 1,000 records, or single-record JSON) and a memory sink takes the results; the figure is records scored
and published per second of the engine's run (decoding, scoring, encoding and acknowledging included).

**Brokers**: a producer process publishes to the broker as fast as it can (maximum rate) or at a fixed rate (half of
the maximum measured just before), the engine consumes, scores and publishes results to a second queue/subject/
stream, a collector process reads them; latency is from the producer's timestamp in each record to the collector's
receipt (both on this machine's clock), so it includes both broker hops. Producer, engine, collector and broker share
the two cores.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table

FEATURES = 8


def fitted(name: str) -> object:
    import pynomaly_core as pn

    return pn.create_detector(name).fit(np.random.default_rng(0).normal(size=(20_000, FEATURES)))


def inprocess(records: int) -> None:
    from pynomaly_core.stream.engine import StreamConfig, StreamEngine
    from pynomaly_core.stream.memory import MemorySink, MemorySource
    from pynomaly_core.stream.records import dumps, encode_binary_frame

    rng = np.random.default_rng(1)
    frames = [encode_binary_frame(np.arange(k * 4096, (k + 1) * 4096), rng.normal(size=(4096, FEATURES)))
              for k in range(8)]
    batch_json = [dumps([{"id": k * 1000 + i, "values": row.tolist()} for i, row in enumerate(
        rng.normal(size=(1000, FEATURES)))]) for k in range(4)]
    single_json = [dumps({"id": i, "values": row.tolist()}) for i, row in enumerate(rng.normal(size=(5000, FEATURES)))]
    cases = [("binary frames of 4,096", frames, 4096, "binary", records),
             ("JSON batches of 1,000", batch_json, 1000, "json", records // 8),
             ("JSON single records", single_json, 1, "json", records // 40)]
    rows = []
    for detector in ("ecod", "hbos", "mahalanobis"):
        model = fitted(detector)
        for label, bodies, per_message, output, n in cases:
            count = max(1, n // per_message)
            stream = (bodies[k % len(bodies)] for k in range(count))
            sink = MemorySink(keep=False)
            engine = StreamEngine(model, lambda credit, s=stream: MemorySource(s, credit=credit), lambda s=sink: s,
                                  StreamConfig(batch_rows=16_384, max_delay_ms=1000, output=output, window=10_000))
            stats = engine.run()
            rows.append((f"builtin.{detector}", label, f"{stats.records:,}", f"{stats.records / stats.elapsed_s:,.0f}"))
    print("== in-process engine (memory source and sink), records/s")
    print_table(["detector", "messages", "records", "records/s"], rows)
    best = max(float(r[3].replace(",", "")) for r in rows)
    print(f"\nbest: {best:,.0f} records/s (goal >= 1,000,000: {'met' if best >= 1e6 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=("inprocess", "brokers"))
    parser.add_argument("--records", type=int, default=4_000_000)
    parser.add_argument("--brokers", default="amqp,nats,redis,mqtt")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.stage == "inprocess":
        inprocess(args.records)
    else:
        from _stream_brokers import run_brokers

        run_brokers(args.brokers.split(","), args.seconds, fitted)


if __name__ == "__main__":
    main()
