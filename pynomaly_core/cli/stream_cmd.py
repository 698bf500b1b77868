"""``pynomaly stream SOURCE --model MODEL``: score a live stream (a broker, standard input, a JSON Lines file)."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from pynomaly_core.cli.options import MODEL, TRUST


def register(app: typer.Typer) -> None:
    @app.command("stream")
    def stream(
        source: str = typer.Argument(..., help="Where records come from: '-' (stdin, JSON Lines), a .jsonl file, or "
                                               "a broker URL (amqp://, nats://, redis://, mqtt://: pynomaly-stream)."),
        model_ref: str = typer.Option(..., "--model", "-m", metavar="MODEL", help=MODEL.help),
        sink: str | None = typer.Option("-", "--sink", help="Where results go ('-': stdout; a .jsonl file; a "
                                                           "broker URL). 'none' for no results."),
        events: str | None = typer.Option(None, "--events", help="Where anomaly and drift events (CloudEvents JSON) "
                                                                 "go."),
        dead_letter: str | None = typer.Option(None, "--dead-letter", help="Where refused messages go, with the "
                                                                         "reason (default: counted and dropped)."),
        batch_rows: int = typer.Option(4096, "--batch-rows", help="Score when this many records wait."),
        max_delay_ms: float = typer.Option(50.0, "--max-delay-ms", help="... or when the oldest waited this long."),
        window: int = typer.Option(10_000, "--window", help="Most messages received and not yet acknowledged (the "
                                                            "broker's credit: backpressure)."),
        output: str = typer.Option("json", "--output", help="Result format: json (JSON Lines) or binary frames."),
        learn: bool = typer.Option(False, "--learn", help="Online detectors learn each batch after scoring it."),
        severity: str | None = typer.Option(None, "--severity", help="level=quantile of the training scores, e.g. "
                                                                     "'warning=0.99,error=0.999,critical=max'."),
        cooldown: float = typer.Option(60.0, "--cooldown", help="Seconds an entity's events are grouped."),
        threshold: str = typer.Option("fixed", "--threshold", help="fixed (the model's), quantile (of the last "
                                                                    "scores) or pot (peaks over threshold)."),
        risk: float = typer.Option(1e-4, "--risk", help="--threshold pot: the tail probability of the threshold."),
        drift: str | None = typer.Option(None, "--drift", help="A drift test run on each window (e.g. ks)."),
        drift_window: int = typer.Option(5000, "--drift-window", help="Records per drift window."),
        source_option: list[str] = typer.Option(None, "--source-option", "-S", help="Source option key=value."),
        sink_option: list[str] = typer.Option(None, "--sink-option", "-K", help="Results sink option key=value."),
        metrics_port: int | None = typer.Option(None, "--metrics-port", help="Serve Prometheus metrics on "
                                                                             "127.0.0.1:PORT/metrics."),
        max_messages: int | None = typer.Option(None, "--max-messages", help="Stop after this many messages."),
        idle_exit: float | None = typer.Option(None, "--idle-exit", help="Stop after this many idle seconds."),
        stats: Path | None = typer.Option(None, "--stats", help="Write the run's figures as JSON here at the end."),
        trust: bool = TRUST,
    ) -> None:
        """Score SOURCE with MODEL as records arrive: results, anomaly events with severities, dead letters.

        At least once: a message is acknowledged only after its results were accepted by the sink. SIGTERM drains
        the batch in hand and exits 0.
        """
        import numpy as np

        from pynomaly_core.cli.output import write_atomic
        from pynomaly_core.cli.params import parse_params
        from pynomaly_core.errors import InputError
        from pynomaly_core.model_ref import resolve_model
        from pynomaly_core.stream.engine import StreamConfig, StreamEngine
        from pynomaly_core.stream.events import AdaptiveThreshold, AlertPolicy, SeverityScale
        from pynomaly_core.stream.select import open_sink, open_source, select_connector

        model = resolve_model(model_ref).load(trust=trust)
        config = StreamConfig(batch_rows=batch_rows, max_delay_ms=max_delay_ms, window=window, output=output,
                              learn=learn, max_messages=max_messages, idle_exit_s=idle_exit)
        source_options = parse_params(source_option, flag="--source-option")
        sink_options = parse_params(sink_option, flag="--sink-option")
        select_connector(source, "source")  # an unknown scheme fails before anything connects
        sinks = {name: url for name, url in (("--sink", sink), ("--events", events), ("--dead-letter", dead_letter))
                 if url not in (None, "none")}
        for url in sinks.values():
            select_connector(url, "sink")
        if len([u for u in sinks.values() if u == "-"]) > 1:
            raise InputError("only one of --sink, --events and --dead-letter can be '-' (standard output)")
        train = np.asarray(model.decision_scores_)
        scale = None if severity is None else SeverityScale.parse(severity, train, float(model.threshold_))
        adaptive = None
        if threshold != "fixed":
            adaptive = AdaptiveThreshold(threshold, getattr(model, "contamination", 0.1), train, risk=risk)
        monitor = None
        if drift is not None:
            from pynomaly_core.stream.drift_monitor import WindowDrift

            names = getattr(model, "feature_names_in_", None)
            monitor = WindowDrift(drift, drift_window, feature_names=None if names is None else
                                  [str(n) for n in names])

        def sink_opener(url: str | None, options: dict[str, Any]) -> Any:
            return None if url in (None, "none") else (lambda: open_sink(url, options=options))

        engine = StreamEngine(
            model, lambda credit: open_source(source, credit=credit, options=source_options),
            sink_opener(sink, sink_options), config, events=sink_opener(events, {}),
            dead_letters=sink_opener(dead_letter, {}), severity=scale, alerts=AlertPolicy(cooldown),
            adaptive=adaptive, drift=monitor, model_version=resolve_model(model_ref).label)
        from pynomaly_core.governance.lineage import scoring_run

        with scoring_run("pynomaly.stream", resolve_model(model_ref), source, sink), engine.signals(), \
                _metrics_server(engine, metrics_port), _progress(engine):  # OpenLineage run, when configured
            result = engine.run()
        figures = result.to_dict()
        if stats is not None:
            import json

            write_atomic(stats, lambda handle: handle.write(json.dumps(figures, indent=2) + "\n"))
        rate = figures["records_per_s"]
        sys.stderr.write(f"pynomaly stream: {result.records} records from {result.messages} messages in "
                         f"{result.elapsed_s:.2f}s ({rate or 0:,.0f}/s), {result.anomalies} anomalies, "
                         f"{result.events} events, {result.dead_letters} dead letters, "
                         f"{result.redelivered} redelivered\n")


@contextlib.contextmanager
def _metrics_server(engine: Any, port: int | None) -> Iterator[None]:
    """Prometheus metrics on 127.0.0.1:``port``/metrics while the stream runs (nothing without a port)."""
    if port is None:
        yield
        return
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.rstrip("/") != "/metrics":
                self.send_error(404)
                return
            body = engine.metrics.render().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, name="pynomaly-metrics", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def _progress(engine: Any) -> Iterator[None]:
    """A live line on a terminal: records/s, anomalies, messages in flight, dead letters."""
    if not sys.stderr.isatty():
        yield
        return
    import time

    from rich.console import Console

    done = threading.Event()

    def show() -> None:
        with Console(stderr=True).status("starting") as status:
            last, last_t = 0, time.monotonic()
            while not done.wait(1.0):
                now, stats = time.monotonic(), engine.stats
                rate = (stats.records - last) / (now - last_t)
                last, last_t = stats.records, now
                status.update(f"{stats.records:,} records ({rate:,.0f}/s), {stats.anomalies:,} anomalies, "
                              f"{len(engine._unacked):,} in flight, {stats.dead_letters:,} dead letters")

    thread = threading.Thread(target=show, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=2)
