"""The server's API-call audit records, written in batches off the request path.

Every authenticated request leaves one entry (time, actor, tenant, action, route, HTTP status, request id). The
request only appends a tuple to an in-memory queue; every ``interval_s`` (1 s) a background thread writes the
queue as one hash-chained record per tenant (action ``api.calls``, the entries as a JSON array in ``details``) in
one transaction, and :meth:`AuditWriter.close` writes what is left at shutdown. Editing any entry changes its
record's hash, so ``pynomaly audit verify`` still names it; :meth:`KeyStore.audit_entries` lists the entries one by
one. Chaining each call as a record of its own would cost tens of microseconds of server CPU per request. Changes
to the model store are not these records: they are audited in the same transaction as the change itself.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger("pynomaly.server")


class AuditWriter:
    def __init__(self, keys: Any, *, interval_s: float = 1.0, max_batch: int = 5000):
        self.keys = keys
        self.interval_s = interval_s
        self.max_batch = max_batch
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._flush_lock = threading.Lock()

    def add(self, call: tuple[Any, ...] | dict[str, Any]) -> None:
        """Queue ``(unix time, actor, action, target, tenant, HTTP status, request id)`` or a :func:`record`."""
        self._queue.append(call)
        if self._pid != os.getpid():  # first record of this (worker) process
            self._start()

    def _start(self) -> None:
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="pynomaly-audit", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()

    def flush(self) -> int:
        """Write every queued record now; returns how many."""
        written = 0
        with self._flush_lock:
            waiting = len(self._queue)  # what arrives meanwhile waits for the next flush: one commit per batch
            while written < waiting:
                calls = []
                while self._queue and len(calls) < min(self.max_batch, waiting - written):
                    calls.append(self._queue.popleft())
                if not calls:
                    break
                try:
                    self.keys.audit_many(_records(calls))
                except Exception:
                    log.exception("could not write %d audit records; they are kept for the next attempt", len(calls))
                    self._queue.extendleft(reversed(calls))
                    return written
                written += len(calls)
        return written

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()


def _records(calls: list[tuple[Any, ...] | dict[str, Any]]) -> list[dict[str, Any]]:
    """One ``api.calls`` record per tenant for the call tuples; dicts (from :func:`record`) pass unchanged.

    The entries are serialised with orjson (timestamps as RFC 3339, microseconds): a second's worth of calls takes
    about a tenth of the time the standard library needs, and this thread holds the GIL while it works, delaying
    the requests in flight."""
    import orjson

    from pynomaly_server.keys import API_CALLS, record

    records = [call for call in calls if isinstance(call, dict)]
    by_tenant: dict[str | None, list[list[Any]]] = {}
    for call in calls:
        if not isinstance(call, dict):
            at, actor, action, target, tenant, status, request_id = call
            stamp = datetime.fromtimestamp(at, timezone.utc)
            by_tenant.setdefault(tenant, []).append([stamp, actor, action, target, status, request_id])
    for tenant, entries in by_tenant.items():
        summary = record("server", API_CALLS, f"{len(entries)} API calls", None, tenant=tenant)
        summary["details"] = orjson.dumps({"calls": entries}).decode()
        records.append(summary)
    return records
