"""Partition states as bytes without pickle: nested dicts, lists and scalars in a JSON skeleton, NumPy arrays in an
``.npz`` (``allow_pickle=False``). Scale-out engines move merge states (:mod:`pynomaly_core.merging`) between
processes with it, so nothing on the way is ever unpickled."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

_SKELETON = "__skeleton__"


def encode_state(state: Any) -> bytes:
    """``state`` (dicts with string keys, lists, tuples, NumPy arrays and scalars, str, None) as bytes."""
    arrays: dict[str, np.ndarray] = {}

    def walk(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise TypeError("object arrays cannot be encoded without pickle")
            key = f"a{len(arrays)}"
            arrays[key] = value
            return {"array": key}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise TypeError("state dicts need string keys")
            return {"dict": {k: walk(v) for k, v in value.items()}}
        if isinstance(value, (list, tuple)):
            return {"list": [walk(v) for v in value]}
        if isinstance(value, np.generic):
            return {"value": value.item()}
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"value": value}
        raise TypeError(f"cannot encode a {type(value).__name__} in a state")

    skeleton = json.dumps(walk(state)).encode()
    buffer = io.BytesIO()
    np.savez(buffer, **{_SKELETON: np.frombuffer(skeleton, dtype=np.uint8)}, **arrays)
    return buffer.getvalue()


def decode_state(data: bytes) -> Any:
    """The state :func:`encode_state` wrote (lists come back as lists, scalars as Python numbers)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    skeleton = json.loads(arrays.pop(_SKELETON).tobytes().decode())

    def build(node: dict[str, Any]) -> Any:
        if "array" in node:
            return arrays[node["array"]]
        if "dict" in node:
            return {k: build(v) for k, v in node["dict"].items()}
        if "list" in node:
            return [build(v) for v in node["list"]]
        return node["value"]

    return build(skeleton)
