"""Everything one server instance holds: settings, key store, model store, model cache, metrics, audit writer."""

from __future__ import annotations

import threading
import time
from typing import Any

from pynomaly_server.ab import TrafficRecorder
from pynomaly_server.audit_writer import AuditWriter
from pynomaly_server.cache import ModelCache
from pynomaly_server.config import Settings
from pynomaly_server.keys import KeyStore
from pynomaly_server.metrics import Metrics

#: How long a resolved model version is remembered; changes made through this server are seen at once, those
#: made by another process (``pynomaly train --name``) within this many seconds.
LATEST_TTL_S = 1.0


class ServerState:
    def __init__(self, settings: Settings, keys: KeyStore | None = None, store: Any = None):
        self.settings = settings
        self.keys = keys or KeyStore(settings.database_url(), recheck_s=settings.key_recheck_s,
                                     schema=settings.database_schema())
        self.audit = AuditWriter(self.keys)
        self.traffic = TrafficRecorder(settings.home / "traffic")
        self._store = store
        self._store_lock = threading.Lock()
        self.metrics = Metrics(models_loaded=self._models_loaded)
        self.cache = ModelCache(settings.model_cache_size)
        self._latest: dict[tuple[str, str, int | None, str | None], tuple[Any, float]] = {}

    @property
    def store(self) -> Any:
        """The model store (``ModelStore.from_env()`` unless one was given), opened on first use."""
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    from pynomaly_core.modelstore import ModelStore

                    self._store = ModelStore.from_env()
        return self._store

    def store_for(self, tenant: str, key: Any = None, request_id: str | None = None) -> Any:
        """The model store as ``tenant`` sees it, changes attributed to ``key`` (a view: same connections)."""
        return self.store.view(tenant=tenant, actor=None if key is None else key.actor, request_id=request_id)

    def version(self, tenant: str, name: str, version: int | None, alias: str | None = None) -> Any:
        """The :class:`ModelVersion` of ``tenant`` for ``name`` (latest when ``version`` and ``alias`` are None)."""
        key = (tenant, name, version, alias)
        cached = self._latest.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[1] < LATEST_TTL_S:
            return cached[0]
        store = self.store_for(tenant)
        mv = store.resolve(f"{name}@{alias}") if alias is not None else store.get(name, version)
        if len(self._latest) > 10_000:
            self._latest.clear()
        self._latest[key] = (mv, now)
        return mv

    def model(self, mv: Any) -> Any:
        """The fitted detector of a model version, from the cache or loaded once."""

        def load() -> Any:
            self.metrics.add_model_load(mv.tenant)
            return self.store_for(mv.tenant).load(mv.name, mv.version, trust=self.settings.trust_models)

        return self.cache.get((mv.tenant, mv.name, mv.version), load)

    def _models_loaded(self, tenant: str | None = None) -> int:
        """Cached models of ``tenant`` (of every tenant when ``None``)."""
        if tenant is None:
            return len(self.cache)
        cached = self.cache.keys()  # a copy, taken under the cache's lock
        return sum(key[0] == tenant for key in cached)

    def forget(self, name: str, version: int | None = None, tenant: str | None = None) -> None:
        for key in [k for k in self._latest if k[1] == name and (tenant is None or k[0] == tenant)]:
            self._latest.pop(key, None)
        self.cache.discard(name, version, tenant)

    def challenger(self, tenant: str, name: str) -> Any:
        """``name@challenger`` of ``tenant``, or ``None`` when the model has no challenger."""
        from pynomaly_core.modelstore.errors import ModelNotFoundError

        try:
            return self.version(tenant, name, None, "challenger")
        except ModelNotFoundError:
            return None

    def close(self) -> None:
        self.audit.close()
        self.traffic.close()
