"""Prometheus metrics of the server (the core's :mod:`pynomaly_core.prometheus`, which the stream engine uses too),
kept per tenant so that ``/metrics`` never crosses tenants: a key sees its own tenant's requests, rows and models; a
global administrator sees every tenant, each sample labelled ``tenant``. Requests that name no tenant (not
authenticated, unknown routes) are counted apart, under no tenant."""

from __future__ import annotations

import threading
from collections.abc import Callable

from pynomaly_core.prometheus import LATENCY_BUCKETS, Counter, Gauge, Histogram, render, render_groups

#: Latency buckets (seconds): fine around the millisecond scoring target, coarse for training.
BUCKETS = LATENCY_BUCKETS


class TenantMetrics:
    """The metric families of one tenant (or of requests without one)."""

    def __init__(self, models_loaded: Callable[[], int]):
        self.requests = Counter("pynomaly_http_requests_total", "HTTP requests by method, route template and status.",
                                ("method", "route", "status"))
        self.latency = Histogram("pynomaly_http_request_duration_seconds",
                                 "Request latency by method and route template.", ("method", "route"), BUCKETS)
        self.rows_scored = Counter("pynomaly_rows_scored_total", "Rows scored, by route template.", ("route",))
        self.model_loads = Counter("pynomaly_model_loads_total",
                                   "Fitted models read from the model store (cache misses).")
        self.models_loaded = Gauge("pynomaly_models_loaded", "Fitted models held in the in-memory cache.",
                                   read=models_loaded)

    def families(self) -> list:
        return [self.requests, self.latency, self.rows_scored, self.model_loads, self.models_loaded]


class Metrics:
    """Request counts and latencies per route, rows scored, model loads, per tenant; thread-safe.

    ``models_loaded(tenant)`` counts the cached models of a tenant (``None``: of all tenants). The attributes
    ``requests``, ``latency``, ``rows_scored``, ``model_loads`` are the families of requests without a tenant."""

    def __init__(self, models_loaded: Callable[..., int] = lambda tenant=None: 0):
        self._models_loaded = models_loaded
        self._tenants: dict[str | None, TenantMetrics] = {}
        self._lock = threading.Lock()
        untenanted = self.of(None)
        self.requests, self.latency = untenanted.requests, untenanted.latency
        self.rows_scored, self.model_loads = untenanted.rows_scored, untenanted.model_loads

    def of(self, tenant: str | None) -> TenantMetrics:
        found = self._tenants.get(tenant)
        if found is None:
            with self._lock:
                found = self._tenants.get(tenant)
                if found is None:
                    read = self._models_loaded if tenant is None else (lambda: self._models_loaded(tenant))
                    found = self._tenants[tenant] = TenantMetrics(read)
        return found

    def observe_request(self, method: str, route: str, status: int, seconds: float, tenant: str | None = None) -> None:
        families = self.of(tenant)
        families.requests.inc(1, method, route, str(status))
        families.latency.observe(seconds, method, route)

    def add_rows(self, route: str, rows: int, tenant: str | None = None) -> None:
        self.of(tenant).rows_scored.inc(rows, route)

    def add_model_load(self, tenant: str | None = None) -> None:
        self.of(tenant).model_loads.inc()

    def render(self, tenant: str | None = None) -> str:
        """The Prometheus text format (version 0.0.4) of one tenant (``None``: requests without a tenant)."""
        return render(self.of(tenant).families())

    def render_every_tenant(self) -> str:
        """Every tenant's metrics in one exposition, each sample labelled ``tenant`` (requests without one and the
        process-wide model count unlabelled): for global administrators."""
        with self._lock:
            tenants = sorted(t for t in self._tenants if t is not None)
        groups = {None: self.of(None).families(), **{t: self.of(t).families() for t in tenants}}
        return render_groups("tenant", groups)
