"""Saving a fitted PyOD estimator: its attributes as npz + JSON (safe), or joblib behind ``trust=True``.

Safe state: every attribute of the estimator must be an array (not of dtype object), a NumPy or Python scalar,
a string, ``None``, or a list/tuple/dict of those. Arrays and NumPy scalars go to ``estimator.npz`` (read with
``allow_pickle=False``), the structure to ``estimator.json``; loading sets the attributes on a freshly built
estimator, so scores are bit-identical. Models with other state (scikit-learn objects, trees) use joblib.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from pynomaly_core.errors import IntegrityError, PynomalyError, UntrustedArtefactError

SAFE_FILES = {"estimator.npz": "npz", "estimator.json": "json"}
PICKLE_FILE = "estimator.joblib"


# -- safe: npz + json ------------------------------------------------------------------------------------
def save_safe(estimator: Any, directory: Path, name: str) -> dict[str, str]:
    arrays: dict[str, np.ndarray] = {}
    tree = {key: _encode(value, arrays, f"{name}: attribute {key!r}") for key, value in vars(estimator).items()}
    with open(directory / "estimator.npz", "wb") as handle:
        np.savez(handle, **arrays)
    (directory / "estimator.json").write_text(json.dumps(tree, allow_nan=False, sort_keys=True))
    return dict(SAFE_FILES)


def load_safe(estimator: Any, directory: Path, name: str) -> None:
    try:
        tree = json.loads((directory / "estimator.json").read_text())
        with np.load(directory / "estimator.npz", allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        state = {key: _decode(value, arrays) for key, value in tree.items()}
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise IntegrityError(f"{name}: saved estimator state in {directory} is unreadable ({exc})") from None
    vars(estimator).update(state)


def _encode(value: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, float | np.generic | np.ndarray):
        array = np.asarray(value)
        if array.dtype.hasobject:
            raise PynomalyError(f"{where} is an object array and cannot be saved safely")
        key = f"a{len(arrays)}"
        arrays[key] = array
        kind = "array" if isinstance(value, np.ndarray) else "float" if isinstance(value, float) else "scalar"
        return {"__kind__": kind, "key": key}
    if isinstance(value, list | tuple):
        items = [_encode(item, arrays, where) for item in value]
        return items if isinstance(value, list) else {"__kind__": "tuple", "items": items}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__kind__": "dict", "items": {k: _encode(v, arrays, where) for k, v in value.items()}}
    raise PynomalyError(f"{where} is a {type(value).__name__} and cannot be saved safely")


def _decode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, list):
        return [_decode(item, arrays) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value["__kind__"]
    if kind == "tuple":
        return tuple(_decode(item, arrays) for item in value["items"])
    if kind == "dict":
        return {k: _decode(v, arrays) for k, v in value["items"].items()}
    array = arrays[value["key"]]
    if kind == "array":
        return array
    return float(array) if kind == "float" else array[()]


# -- joblib (pickle) -------------------------------------------------------------------------------------
def save_pickle(estimator: Any, directory: Path) -> dict[str, str]:
    import joblib

    joblib.dump(estimator, directory / PICKLE_FILE)
    return {PICKLE_FILE: "joblib"}


def load_pickle(directory: Path, trust: bool, name: str) -> Any:
    """Unpickle the estimator; refused unless the caller passed ``trust=True`` (the core checked its hash)."""
    if not trust:
        raise UntrustedArtefactError(
            f"{directory / PICKLE_FILE} is stored as 'joblib', which can run code when loaded; "
            f"pass trust=True (CLI: --trust) only if you trust its origin ({name})"
        )
    import joblib

    return joblib.load(directory / PICKLE_FILE)
