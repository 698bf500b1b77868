"""A windowed drift monitor on the stream: each window of ``window`` records is compared with a reference window by
a registered drift test (``ks`` by default); a drift becomes a ``io.pynomaly.drift`` event."""

from __future__ import annotations

from typing import Any

import numpy as np


class WindowDrift:
    """Reference: ``reference`` rows when given, else the stream's first window. :meth:`update` returns the ``data``
    of a drift event for each window that drifted."""

    def __init__(self, test: str = "ks", window: int = 5000, reference: np.ndarray | None = None,
                 feature_names: list[str] | None = None, **params: Any):
        from pynomaly_core.errors import InputError
        from pynomaly_core.registry import get_registry

        if window < 10:
            raise InputError(f"--drift-window must be at least 10 rows, got {window}")
        self.spec = get_registry().resolve("drift_test", test)
        self.test = self.spec.load()(**params)
        self.window = window
        self.reference = None if reference is None else np.asarray(reference, dtype=np.float64)
        self.feature_names = feature_names
        self._rows: list[np.ndarray] = []
        self._count = 0
        self.windows = 0

    def update(self, X: np.ndarray) -> list[dict[str, Any]]:
        """Add a batch; test every window it completes (the first is the reference when none was given) and return
        the description of each that drifted."""
        self._rows.append(X)
        self._count += X.shape[0]
        if self._count < self.window:
            return []
        rows = np.concatenate(self._rows)
        complete = rows.shape[0] // self.window
        rest = rows[complete * self.window:]
        self._rows, self._count = ([rest], rest.shape[0]) if rest.size else ([], 0)
        found = []
        for k in range(complete):
            current = rows[k * self.window:(k + 1) * self.window]
            if self.reference is None:
                self.reference = current
                continue
            self.windows += 1
            report = self.test.run(self.reference, current, feature_names=self.feature_names)
            if report.drift:
                found.append({"test": self.spec.qualified_name, "window": self.windows, "rows": self.window,
                              "p_value": report.p_value, "drifted_features": report.drifted_features})
        return found
