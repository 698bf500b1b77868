"""A/B tests in production: score traffic to ``NAME@champion`` split between the champion and the challenger.

With ``--ab-share S`` (``PYNOMALY_SERVER_AB_SHARE``, 0 < S < 1) a request for ``NAME@champion`` of a model that
also has a ``challenger`` alias is answered by the challenger with probability S (decided by a hash of the request
id, so a replayed request lands on the same arm) and by the champion otherwise; both models score every such
request and both scores are recorded, with the rows, the serving arm and the request id, in
``$PYNOMALY_HOME/traffic/<tenant>/<name>.csv`` (written once a second off the request path). Join the labels you
learn later by request id, then compare the two arms on the recorded traffic::

    pynomaly compare NAME@champion NAME@challenger traffic.csv --columns <feature columns> --labels label
"""

from __future__ import annotations

import collections
import csv
import logging
import os
import threading
import zlib
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("pynomaly.server")
META_COLUMNS = ("arm", "score_champion", "score_challenger", "version_champion", "version_challenger",
                "request_id")


def arm_of(request_id: str, share: float) -> str:
    """``challenger`` for a ``share`` of request ids, ``champion`` for the rest (deterministic)."""
    return "challenger" if zlib.crc32(request_id.encode()) % 10_000 < share * 10_000 else "champion"


def feature_names(model: Any, n_features: int) -> list[str]:
    names = getattr(model, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else [f"x{j}" for j in range(n_features)]


class TrafficRecorder:
    """Appends scored A/B rows to one CSV file per (tenant, model), in batches from a background thread."""

    def __init__(self, directory: Path, *, interval_s: float = 1.0):
        self.directory = directory
        self.interval_s = interval_s
        self._queue: collections.deque[tuple[Any, ...]] = collections.deque()
        self._stop = threading.Event()
        self._pid = 0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def path(self, tenant: str, name: str) -> Path:
        return self.directory / tenant / f"{name}.csv"

    def add(self, tenant: str, name: str, columns: list[str], X: np.ndarray, champion: np.ndarray,
            challenger: np.ndarray, arm: str, versions: tuple[int, int], request_id: str) -> None:
        self._queue.append((tenant, name, columns, X, champion, challenger, arm, versions, request_id))
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="pynomaly-ab", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()

    def flush(self) -> None:
        with self._lock:
            batches: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
            for _ in range(len(self._queue)):
                item = self._queue.popleft()
                batches.setdefault((item[0], item[1]), []).append(item)
            for (tenant, name), items in batches.items():
                try:
                    self._write(self.path(tenant, name), items)
                except OSError:
                    log.exception("could not record A/B traffic of %s/%s", tenant, name)

    @staticmethod
    def _write(path: Path, items: list[tuple[Any, ...]]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        with open(path, "a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow([*items[0][2], *META_COLUMNS])
            for _, _, _, X, champion, challenger, arm, versions, request_id in items:
                for i in range(X.shape[0]):
                    writer.writerow([*(repr(float(v)) for v in X[i]), arm, repr(float(champion[i])),
                                     repr(float(challenger[i])), versions[0], versions[1], request_id])

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
