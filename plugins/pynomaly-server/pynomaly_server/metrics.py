"""Prometheus metrics of the server (the core's :mod:`pynomaly_core.prometheus`, which the stream engine uses too)."""

from __future__ import annotations

from collections.abc import Callable

from pynomaly_core.prometheus import LATENCY_BUCKETS, Counter, Gauge, Histogram, render

#: Latency buckets (seconds): fine around the millisecond scoring target, coarse for training.
BUCKETS = LATENCY_BUCKETS


class Metrics:
    """Request counts and latencies per route, rows scored, model loads; thread-safe."""

    def __init__(self, models_loaded: Callable[[], int] = lambda: 0):
        self.requests = Counter("pynomaly_http_requests_total", "HTTP requests by method, route template and status.",
                                ("method", "route", "status"))
        self.latency = Histogram("pynomaly_http_request_duration_seconds",
                                 "Request latency by method and route template.", ("method", "route"), BUCKETS)
        self.rows_scored = Counter("pynomaly_rows_scored_total", "Rows scored, by route template.", ("route",))
        self.model_loads = Counter("pynomaly_model_loads_total",
                                   "Fitted models read from the model store (cache misses).")
        self.models_loaded = Gauge("pynomaly_models_loaded", "Fitted models held in the in-memory cache.",
                                   read=models_loaded)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.inc(1, method, route, str(status))
        self.latency.observe(seconds, method, route)

    def add_rows(self, route: str, rows: int) -> None:
        self.rows_scored.inc(rows, route)

    def add_model_load(self) -> None:
        self.model_loads.inc()

    def render(self) -> str:
        """The Prometheus text format (version 0.0.4)."""
        return render([self.requests, self.latency, self.rows_scored, self.model_loads, self.models_loaded])
