"""Prometheus metrics of the server, rendered in the text exposition format (no client library needed)."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable

#: Latency buckets (seconds): fine around the millisecond scoring target, coarse for training.
BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    escaped = (f'{k}="{v}"'.replace("\\", "\\\\").replace("\n", "\\n") for k, v in pairs)
    return "{" + ",".join(escaped) + "}"


class Metrics:
    """Request counts and latencies per route, rows scored, model loads; thread-safe."""

    def __init__(self, models_loaded: Callable[[], int] = lambda: 0):
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.latency_counts: dict[tuple[str, str], list[int]] = {}
        self.latency_sums: dict[tuple[str, str], float] = defaultdict(float)
        self.rows_scored: dict[str, int] = defaultdict(int)
        self.model_loads = 0
        self.models_loaded = models_loaded

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route)
        index = bisect.bisect_left(BUCKETS, seconds)
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            counts = self.latency_counts.get(key)
            if counts is None:
                counts = self.latency_counts[key] = [0] * (len(BUCKETS) + 1)
            counts[index] += 1
            self.latency_sums[key] += seconds

    def add_rows(self, route: str, rows: int) -> None:
        with self._lock:
            self.rows_scored[route] += rows

    def add_model_load(self) -> None:
        with self._lock:
            self.model_loads += 1

    def render(self) -> str:
        """The Prometheus text format (version 0.0.4)."""
        out: list[str] = []
        with self._lock:
            out += ["# HELP pynomaly_http_requests_total HTTP requests by method, route template and status.",
                    "# TYPE pynomaly_http_requests_total counter"]
            for (method, route, status), n in sorted(self.requests.items()):
                out.append(f"pynomaly_http_requests_total"
                           f"{_labels((('method', method), ('route', route), ('status', status)))} {n}")
            out += ["# HELP pynomaly_http_request_duration_seconds Request latency by method and route template.",
                    "# TYPE pynomaly_http_request_duration_seconds histogram"]
            for (method, route), counts in sorted(self.latency_counts.items()):
                base = (("method", method), ("route", route))
                cumulative = 0
                for bound, n in zip((*BUCKETS, float("inf")), counts, strict=True):
                    cumulative += n
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    out.append(f"pynomaly_http_request_duration_seconds_bucket{_labels((*base, ('le', le)))} "
                               f"{cumulative}")
                out.append(f"pynomaly_http_request_duration_seconds_sum{_labels(base)} "
                           f"{self.latency_sums[(method, route)]!r}")
                out.append(f"pynomaly_http_request_duration_seconds_count{_labels(base)} {cumulative}")
            out += ["# HELP pynomaly_rows_scored_total Rows scored, by route template.",
                    "# TYPE pynomaly_rows_scored_total counter"]
            for route, n in sorted(self.rows_scored.items()):
                out.append(f"pynomaly_rows_scored_total{_labels((('route', route),))} {n}")
            out += ["# HELP pynomaly_model_loads_total Fitted models read from the model store (cache misses).",
                    "# TYPE pynomaly_model_loads_total counter", f"pynomaly_model_loads_total {self.model_loads}"]
        out += ["# HELP pynomaly_models_loaded Fitted models held in the in-memory cache.",
                "# TYPE pynomaly_models_loaded gauge", f"pynomaly_models_loaded {self.models_loaded()}"]
        return "\n".join(out) + "\n"
