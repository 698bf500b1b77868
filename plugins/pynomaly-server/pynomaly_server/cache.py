"""A bounded, thread-safe LRU cache of fitted models keyed by ``(tenant, name, version)`` (or ``(name, version)``)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class ModelCache:
    """Keeps the ``capacity`` most recently used fitted models; ``get`` loads a missing one once, even when
    several threads ask for it at the same time."""

    def __init__(self, capacity: int, on_load: Callable[[], None] = lambda: None):
        if capacity < 1:
            raise ValueError("model cache capacity must be >= 1")
        self.capacity = capacity
        self.on_load = on_load
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[tuple[Any, ...], threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._items)

    def peek(self, key: tuple[Any, ...]) -> Any:
        """The cached model (marked most recently used) or None; never loads."""
        with self._lock:
            model = self._items.get(key)
            if model is not None:
                self._items.move_to_end(key)
            return model

    def get(self, key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            gate = self._loading.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
            model = load()
            self.on_load()
            with self._lock:
                self._items[key] = model
                self._items.move_to_end(key)
                while len(self._items) > self.capacity:
                    self._items.popitem(last=False)
                self._loading.pop(key, None)
            return model

    def discard(self, name: str, version: int | None = None, tenant: str | None = None) -> None:
        """Forget one version of a model, or all of its versions (of one tenant, or of every tenant)."""
        with self._lock:
            for key in [k for k in self._items if k[-2] == name and (version is None or k[-1] == version)
                        and (tenant is None or k[0] == tenant)]:
                del self._items[key]
