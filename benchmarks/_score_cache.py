"""Training and test scores of registered detectors on the ADBench protocol, cached on disk.

The defaults study (``bench_defaults.py``) needs every candidate's scores on every shared set, and combining them
(ensembles, selection) is cheap once they exist. A cached entry is exactly what ``create_detector(name, **params,
random_state=seed)`` fitted on the protocol's training split gives: ``decision_scores_`` on the training rows and
``decision_function`` on the test rows. ``scale="z"`` standardises the features first (training mean and standard
deviation; a constant feature keeps scale 1), as the ensemble's ``scaling="standard"`` does.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache" / "scores"


@dataclass(frozen=True)
class Candidate:
    """A registered detector with parameters, optionally on standardised features."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    scale: str | None = None

    @property
    def key(self) -> str:
        text = self.name + ("" if not self.params else json.dumps(self.params, sort_keys=True))
        text += "" if self.scale is None else f"|{self.scale}"
        short = self.name.replace(".", "-")
        if self.params:
            short += "-" + hashlib.sha1(text.encode()).hexdigest()[:8]
        return short + ("" if self.scale is None else f"@{self.scale}")

    @property
    def label(self) -> str:
        text = self.name
        if self.params:
            text += "(" + ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items())) + ")"
        return text + ("" if self.scale is None else f" [{self.scale}]")


def standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """``(x - mean) / std`` with the training rows' statistics (std 1 for a constant feature)."""
    from pynomaly_core.preprocessing import Standardizer

    scaler = Standardizer.fit(train)
    return [scaler.transform(a, np.float64) for a in (train, *others)]


def fit_scores(candidate: Candidate, X_train: np.ndarray, X_test: np.ndarray, seed: int) -> dict[str, Any]:
    """Fit one candidate; training scores, test scores and seconds (``error`` instead when it fails)."""
    from pynomaly_core.registry import get_registry
    from pynomaly_core.sdk import create_detector

    if candidate.scale == "z":
        X_train, X_test = standardize(X_train, X_test)
    params = dict(candidate.params)
    if "random_state" in get_registry().detector(candidate.name).params:
        params.setdefault("random_state", seed)
    np.random.seed(seed)  # PyOD's LODA draws from the global generator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            start = time.perf_counter()
            model = create_detector(candidate.name, **params).fit(X_train)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            test = model.decision_function(X_test)
            score_s = time.perf_counter() - start
        except Exception as exc:  # a default that cannot fit this set is recorded, not fatal
            return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"}
    return {"train": np.asarray(model.decision_scores_, float), "test": np.asarray(test, float),
            "fit_s": fit_s, "score_s": score_s}


def cache_path(dataset: str, seed: int, candidate: Candidate, cache: Path = CACHE) -> Path:
    return cache / f"{dataset}__s{seed}__{candidate.key}.npz"


def read(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        if "error" in data.files:
            return {"error": str(data["error"])}
        return {"train": data["train"], "test": data["test"], "fit_s": float(data["fit_s"]),
                "score_s": float(data["score_s"])}


def write(path: Path, entry: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        if "error" in entry:
            np.savez(handle, error=np.asarray(entry["error"]))
        else:
            np.savez(handle, **{k: np.asarray(v) for k, v in entry.items()})
    os.replace(temporary, path)
