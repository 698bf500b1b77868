"""The stream engine behind ``pynomaly stream``: receive, decode, micro-batch, score, publish, acknowledge.

One loop, in this order, so that nothing is lost and memory stays bounded:

1. **receive** from the source while fewer than ``window`` messages are unacknowledged (the source's credit is the
   same window, so the broker stops delivering when the engine is busy: backpressure reaches the producer);
2. **decode** each message (:mod:`pynomaly_core.stream.records`); one that cannot be scored goes to the dead-letter
   sink with its reason;
3. **score** when ``batch_rows`` records are waiting or the oldest has waited ``max_delay_ms`` (vectorised, through
   :func:`pynomaly_core.pipeline.score_detector`; in ``learn`` mode an online detector (``learn_many``) or one with
   ``partial_fit`` then learns the batch: prequential, score before learn);
4. **publish** results, events and dead letters; each sink returns only when it has accepted them;
5. **acknowledge** the messages of the batch. A crash before this step means redelivery: **at least once**.

A broker that goes away (:class:`ConnectorUnavailable`) is reconnected with exponential backoff, reported on stderr;
unacknowledged messages are dropped from memory and come back from the broker. SIGTERM/SIGINT stop receiving, finish
the batch in hand (drain) and return.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pynomaly_core import prometheus
from pynomaly_core.errors import InputError
from pynomaly_core.stream.contract import ConnectorUnavailable, Message, Sink, Source
from pynomaly_core.stream.events import (
    ANOMALY_EVENT,
    DRIFT_EVENT,
    AdaptiveThreshold,
    AlertPolicy,
    SeverityScale,
    anomaly_data,
    cloud_event,
)
from pynomaly_core.stream.records import (
    Decoded,
    RecordDecoder,
    dumps,
    encode_results_binary,
    encode_results_json,
)


@dataclass
class StreamConfig:
    """How the engine batches, how much it holds, what it writes."""

    batch_rows: int = 4096
    max_delay_ms: float = 50.0
    window: int = 10_000
    output: str = "json"
    learn: bool = False
    max_message_bytes: int = 16 << 20
    #: Stop after this many messages (tests, benchmarks); ``None``: until the source ends or a signal.
    max_messages: int | None = None
    #: Stop when the source has been idle this long (a finite source such as a file); ``None``: never.
    idle_exit_s: float | None = None
    backoff_s: tuple[float, float] = (0.5, 30.0)

    def __post_init__(self) -> None:
        if self.batch_rows < 1 or self.window < 1:
            raise InputError("--batch-rows and --window must be at least 1")
        if self.max_delay_ms < 0:
            raise InputError("--max-delay-ms must be >= 0")
        if self.output not in ("json", "binary"):
            raise InputError(f"output must be json or binary, got {self.output!r}")


@dataclass
class StreamStats:
    """What a run did (also the Prometheus metrics' source)."""

    records: int = 0
    messages: int = 0
    anomalies: int = 0
    dead_letters: int = 0
    redelivered: int = 0
    events: int = 0
    reconnects: int = 0
    pauses: int = 0
    elapsed_s: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        p = np.percentile(self.latencies, [50, 99]).tolist() if self.latencies else [None, None]
        return {"records": self.records, "messages": self.messages, "anomalies": self.anomalies,
                "dead_letters": self.dead_letters, "redelivered_messages": self.redelivered, "events": self.events,
                "reconnects": self.reconnects, "backpressure_pauses": self.pauses,
                "elapsed_s": round(self.elapsed_s, 6),
                "records_per_s": round(self.records / self.elapsed_s, 1) if self.elapsed_s > 0 else None,
                "latency_p50_ms": None if p[0] is None else round(p[0] * 1e3, 3),
                "latency_p99_ms": None if p[1] is None else round(p[1] * 1e3, 3)}


class StreamMetrics:
    """The engine's Prometheus metrics (rendered with :mod:`pynomaly_core.prometheus`)."""

    def __init__(self, in_flight: Callable[[], float]):
        self.records = prometheus.Counter("pynomaly_stream_records_total", "Records scored.")
        self.anomalies = prometheus.Counter("pynomaly_stream_anomalies_total", "Flagged records, by severity.",
                                            ("severity",))
        self.dead_letters = prometheus.Counter("pynomaly_stream_dead_letters_total", "Messages refused.")
        self.redelivered = prometheus.Counter("pynomaly_stream_redelivered_total",
                                              "Messages the broker delivered again (their results may repeat).")
        self.pauses = prometheus.Counter("pynomaly_stream_backpressure_pauses_total",
                                         "Times the engine stopped receiving: its window was full, or a sink took "
                                         "longer than --max-delay-ms to accept a batch.")
        self.sink_wait = prometheus.Counter("pynomaly_stream_sink_wait_seconds_total",
                                            "Time spent waiting for sinks to accept results, events and dead letters.")
        self.reconnects = prometheus.Counter("pynomaly_stream_reconnects_total", "Reconnections to a broker.")
        self.latency = prometheus.Histogram("pynomaly_stream_latency_seconds",
                                            "Time from a message's arrival to its results being accepted.")
        self.in_flight = prometheus.Gauge("pynomaly_stream_in_flight_messages",
                                          "Messages received and not yet acknowledged.", read=in_flight)

    def render(self) -> str:
        return prometheus.render([self.records, self.anomalies, self.dead_letters, self.redelivered, self.pauses,
                                  self.sink_wait, self.reconnects, self.latency, self.in_flight])


class _Endpoint:
    """A connector that reopens itself after a ConnectorUnavailable, with exponential backoff."""

    def __init__(self, opener: Callable[[], Any], name: str, backoff: tuple[float, float], stats: StreamStats,
                 metrics: StreamMetrics, stop: threading.Event, report: Callable[[str], None]):
        self.opener, self.name, self.backoff = opener, name, backoff
        self.stats, self.metrics, self.stop, self.report = stats, metrics, stop, report
        self.connector: Any = None

    def get(self) -> Any:
        delay = self.backoff[0]
        while self.connector is None:
            try:
                self.connector = self.opener()
            except ConnectorUnavailable as exc:
                if self.stop.is_set():
                    raise
                self.report(f"{self.name}: {exc}; retrying in {delay:.1f}s")
                self.stop.wait(delay)
                delay = min(delay * 2, self.backoff[1])
        return self.connector

    def lost(self, exc: Exception) -> None:
        self.report(f"{self.name}: connection lost ({exc}); reconnecting")
        self.stats.reconnects += 1
        self.metrics.reconnects.inc()
        self.close()

    def close(self) -> None:
        if self.connector is not None:
            with contextlib.suppress(Exception):
                self.connector.close()
            self.connector = None


class StreamEngine:
    """Scores a stream with a fitted ``model``; see the module docstring.

    ``source``, ``sink``, ``events`` and ``dead_letters`` are callables that open a connector (so it can be reopened
    after the broker comes back); ``events`` and ``dead_letters`` may be ``None``.
    """

    def __init__(self, model: Any, source: Callable[[int], Source], sink: Callable[[], Sink] | None,
                 config: StreamConfig | None = None, *, events: Callable[[], Sink] | None = None,
                 dead_letters: Callable[[], Sink] | None = None, severity: SeverityScale | None = None,
                 alerts: AlertPolicy | None = None, adaptive: AdaptiveThreshold | None = None,
                 drift: Any = None, model_version: str | None = None,
                 report: Callable[[str], None] | None = None):
        from pynomaly_core.pipeline import qualified_name_of

        self.model = model
        self.config = config or StreamConfig()
        self.detector = qualified_name_of(model)
        self.model_version = model_version
        names = getattr(model, "feature_names_in_", None)
        self.decoder = RecordDecoder(int(model.n_features_in_), None if names is None else list(names),
                                     self.config.max_message_bytes)
        self.threshold = float(model.threshold_)
        self.severity = severity or SeverityScale.from_training(np.asarray(model.decision_scores_), self.threshold)
        self.alerts = alerts or AlertPolicy()
        self.adaptive = adaptive
        self.drift = drift
        self.stats = StreamStats()
        self.stop = threading.Event()
        self.metrics = StreamMetrics(lambda: len(self._unacked))
        self.report = report or (lambda line: sys.stderr.write(f"pynomaly stream: {line}\n"))
        self._contributions = getattr(model, "contributions", None)
        self._unacked: list[Message] = []
        window, backoff = self.config.window, self.config.backoff_s
        common = (backoff, self.stats, self.metrics, self.stop, self.report)
        self.source = _Endpoint(lambda: source(window), "source", *common)
        self.sink = None if sink is None else _Endpoint(sink, "sink", *common)
        self.events = None if events is None else _Endpoint(events, "events", *common)
        self.dead_letters = None if dead_letters is None else _Endpoint(dead_letters, "dead letters", *common)
        self._learn = None
        if self.config.learn:
            self._learn = getattr(model, "learn_many", None) or getattr(model, "partial_fit", None)
            if not callable(self._learn) or (not hasattr(model, "learn_many") and not callable(
                    getattr(model, "_partial_fit", None))):
                raise InputError(f"{self.detector} does not learn online (no learn_many or partial_fit): drop --learn")

    # -- running -----------------------------------------------------------------------------------------------
    def run(self) -> StreamStats:
        """Score until the source ends (``idle_exit_s``), ``max_messages`` or a stop (signal, :meth:`stop`)."""
        start = time.perf_counter()
        pending = Decoded()
        oldest: float | None = None
        idle_since = time.monotonic()
        try:
            while not self.stop.is_set():
                room = self.config.window - len(self._unacked)
                if room <= 0:  # the window is full: score what is here before taking more
                    self.stats.pauses += 1
                    self.metrics.pauses.inc()
                    self._flush(pending)
                    pending, oldest = Decoded(), None
                    continue
                want = min(room, self._remaining_messages())
                if want <= 0:
                    break
                want = min(want, max(1, self.config.batch_rows - pending.n_records))  # a message holds >= 1 record
                try:
                    messages = self.source.get().receive(want, self._timeout(oldest))
                except ConnectorUnavailable as exc:
                    self.source.lost(exc)
                    self._unacked.clear()  # the broker delivers them again
                    pending, oldest = Decoded(), None
                    continue
                now = time.monotonic()
                if messages:
                    idle_since = now
                    self._take(messages, pending)
                    oldest = oldest if oldest is not None else min(m.received for m in messages)
                waiting = bool(pending.messages or pending.refused)
                due = oldest is not None and (now - oldest) * 1e3 >= self.config.max_delay_ms
                if waiting and (pending.n_records >= self.config.batch_rows or due or not messages):
                    self._flush(pending)
                    pending, oldest = Decoded(), None
                elif not messages and not waiting and self._finished(now, idle_since):
                    break
        finally:
            with contextlib.suppress(Exception):
                if pending.messages or pending.refused:
                    self._flush(pending)
            for endpoint in (self.source, self.sink, self.events, self.dead_letters):
                if endpoint is not None:
                    endpoint.close()
            self.stats.elapsed_s = time.perf_counter() - start
        return self.stats

    def _take(self, messages: list[Message], pending: Decoded) -> None:
        self._unacked.extend(messages)
        self.stats.messages += len(messages)
        redelivered = sum(m.redelivered for m in messages)
        self.stats.redelivered += redelivered
        self.metrics.redelivered.inc(redelivered)
        self.decoder.decode(messages, into=pending)

    def _remaining_messages(self) -> int:
        if self.config.max_messages is None:
            return self.config.window
        return self.config.max_messages - self.stats.messages

    def _timeout(self, oldest: float | None) -> float:
        """Wait for the first message at most until the oldest waiting one is due (0.1 s when none waits)."""
        if oldest is None:
            return 0.1
        return max(0.0, self.config.max_delay_ms / 1e3 - (time.monotonic() - oldest))

    def _finished(self, now: float, idle_since: float) -> bool:
        """A finite source has ended (standard input at EOF), or has been idle for ``idle_exit_s``."""
        if getattr(self.source.connector, "exhausted", False):
            return True
        limit = self.config.idle_exit_s
        return limit is not None and now - idle_since >= limit

    @contextlib.contextmanager
    def signals(self) -> Iterator[None]:
        """SIGTERM and SIGINT stop the engine after the batch in hand (the main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
        for s in previous:
            signal.signal(s, lambda *_: self.stop.set())
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    # -- one batch ---------------------------------------------------------------------------------------------
    def _flush(self, batch: Decoded) -> None:
        """Score, publish (results, events, dead letters), then acknowledge every message of ``batch``."""
        payloads, events = [], []
        if batch.messages:
            payloads, events = self._score(batch)
        letters = [dumps({"reason": reason, "key": m.key, "body": m.body.decode("utf-8", "replace")[:65536]}) + b"\n"
                   for m, reason in batch.refused]
        if letters:
            self.stats.dead_letters += len(letters)
            self.metrics.dead_letters.inc(len(letters))
        started = time.perf_counter()
        self._publish(self.sink, payloads)
        self._publish(self.events, events)
        self._publish(self.dead_letters, letters)
        waited = time.perf_counter() - started
        self.metrics.sink_wait.inc(waited)
        if waited * 1e3 > self.config.max_delay_ms:  # the source was not read meanwhile: backpressure
            self.stats.pauses += 1
            self.metrics.pauses.inc()
        done = [*batch.messages, *(m for m, _ in batch.refused)]
        if not done:
            return
        now = time.monotonic()
        latencies = [now - m.received for m in batch.messages]
        self.stats.latencies.extend(latencies[:1000])
        if len(self.stats.latencies) > 200_000:
            del self.stats.latencies[:100_000]
        self.metrics.latency.observe_many(latencies)
        try:
            self.source.get().ack(done)
        except ConnectorUnavailable as exc:  # the results are out; the broker will deliver these again
            self.source.lost(exc)
        ids = {id(m) for m in done}
        self._unacked = [m for m in self._unacked if id(m) not in ids]

    def _score(self, batch: Decoded) -> tuple[list[bytes], list[bytes]]:
        from pynomaly_core.pipeline import score_detector

        X = batch.rows[0] if len(batch.rows) == 1 else np.concatenate(batch.rows)
        scores = score_detector(self.model, X).scores
        if self._learn is not None:  # prequential: the batch was scored by the model as it was before it
            self._learn(X)
        threshold = self.threshold  # an adaptive threshold moves after the batch it has judged
        labels = (scores > threshold).astype(np.int64)
        if self.adaptive is not None:
            self.threshold = self.adaptive.update(scores)
        n = scores.size
        self.stats.records += n
        self.metrics.records.inc(n)
        flagged = int(labels.sum())
        self.stats.anomalies += flagged
        levels = self.severity.levels_of(np.where(labels == 1, scores, -np.inf)) if flagged else None
        if levels is not None:
            for level in levels:
                if level is not None:
                    self.metrics.anomalies.inc(1, level)
        payloads = self._results(batch, scores, labels, levels)
        events = self._events(batch, X, scores, threshold, levels) if levels is not None and self.events else []
        if self.drift is not None:
            for drift in self.drift.update(X):
                if self.events is not None:
                    events.append(dumps(cloud_event(DRIFT_EVENT, f"pynomaly/stream/{self.detector}", drift)) + b"\n")
        return payloads, events

    def _results(self, batch: Decoded, scores: np.ndarray, labels: np.ndarray,
                 levels: list[str | None] | None) -> list[bytes]:
        """The results of the batch, in arrival order, as payloads of at most ``batch_rows`` records each (one
        message to a broker, the same bytes to a file): JSON Lines, one line per record, or binary frames. The bound
        keeps a message under brokers' size limits however many records one receive brought."""
        if self.sink is None:
            return []
        binary = self.config.output == "binary"
        if binary and not all(batch.binary):
            raise InputError("binary results need binary input frames (integer ids); use --output json")
        ids, step = batch.ids(), self.config.batch_rows
        payloads = []
        for lo in range(0, scores.size, step):
            part = slice(lo, lo + step)
            if binary:
                payloads.append(encode_results_binary(ids[part], scores[part], labels[part]))
            else:
                payloads.append(encode_results_json(ids[part], scores[part], labels[part],
                                                    None if levels is None else levels[part]))
        return payloads

    def _events(self, batch: Decoded, X: np.ndarray, scores: np.ndarray, threshold: float,
                levels: list[str | None]) -> list[bytes]:
        out, now = [], time.monotonic()
        rows = [i for i, level in enumerate(levels) if level is not None]
        contributions = self._contributions(X[rows]) if self._contributions is not None and rows else None
        names = self.decoder.feature_names or [f"x{j}" for j in range(X.shape[1])]
        ids, entities = batch.ids(), batch.entities()
        for k, i in enumerate(rows):
            entity = entities[i]
            grouped = self.alerts.admit(self.detector, entity, levels[i], now)
            if grouped is None:
                continue
            top = None
            if contributions is not None:
                order = np.argsort(-contributions[k], kind="mergesort")[:3]
                top = [{"feature": names[j], "contribution": float(contributions[k, j]), "value": float(X[i, j])}
                       for j in order]
            record_id = ids[i]
            record_id = record_id.item() if isinstance(record_id, np.generic) else record_id
            data = anomaly_data(record_id, float(scores[i]), threshold, levels[i], self.detector,
                                self.model_version, grouped, top)
            out.append(dumps(cloud_event(ANOMALY_EVENT, f"pynomaly/stream/{self.detector}", data, entity)) + b"\n")
        self.stats.events += len(out)
        return out

    def _publish(self, endpoint: _Endpoint | None, payloads: list[bytes]) -> None:
        """Publish, reconnecting until the sink accepts (the same payloads again: at least once)."""
        if endpoint is None or not payloads:
            return
        while True:
            try:
                endpoint.get().publish(payloads)
                return
            except ConnectorUnavailable as exc:
                endpoint.lost(exc)
                if self.stop.is_set() and endpoint.connector is None:
                    self.stop.wait(self.config.backoff_s[0])
