"""What a stream message holds, both ways: records in, results out.

**In.** A message is JSON — one record (an object) or a batch (an array of objects) — or the binary batch frame
below. A record has an ``id`` and either ``values`` (numbers in the model's feature order) or the model's feature
names as keys; an optional ``entity`` (a device, an account) groups its alerts. A message that is not valid as a
whole (not JSON, a record without ``id``, the wrong number of values, NaN or infinity, larger than the limit) is
refused with the reason, for the dead-letter sink; the others are scored.

**Binary frame** (for high rates; little-endian)::

    b"PNYB" | uint8 version=1 | 3 bytes zero | uint32 rows | uint32 features
            | rows × uint64 ids | rows × features × float64

**Out.** Results are JSON Lines, one ``{"id", "score", "label"[, "severity"]}`` per record (a message's results are
one payload, so a file sink gets one line per record), or with ``output="binary"`` the frame::

    b"PNYR" | uint8 version=1 | 3 bytes zero | uint32 rows
            | rows × uint64 ids | rows × float64 scores | rows × uint8 labels

(binary results need binary inputs: the ids must be integers).
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pynomaly_core.stream.contract import Message

try:  # orjson parses and writes JSON several times faster; it is optional
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised where orjson is absent
    _orjson = None

BINARY_IN = b"PNYB"
BINARY_OUT = b"PNYR"
_HEADER = struct.Struct("<4sB3xII")
_OUT_HEADER = struct.Struct("<4sB3xI")
#: Messages larger than this are refused (the dead letters say so).
MAX_MESSAGE_BYTES = 16 << 20


def loads(body: bytes) -> Any:
    return _orjson.loads(body) if _orjson is not None else json.loads(body)


def dumps(value: Any) -> bytes:
    return _orjson.dumps(value) if _orjson is not None else json.dumps(value, separators=(",", ":")).encode()


class RecordError(ValueError):
    """Why a message cannot be scored (one line, for the dead-letter sink)."""


@dataclass
class Decoded:
    """The records of the messages that decoded, in order (ids, rows and entities one chunk per message), and the
    refused messages with their reasons."""

    id_chunks: list[Any] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    entity_chunks: list[list[Any]] = field(default_factory=list)
    #: Messages whose records are in ``rows`` (in order) and how many records each holds.
    messages: list[Message] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    binary: list[bool] = field(default_factory=list)
    refused: list[tuple[Message, str]] = field(default_factory=list)

    @property
    def n_records(self) -> int:
        return sum(self.counts)

    def ids(self) -> Any:
        """Every record id in order: an integer array when every message was a binary frame, else a list."""
        if self.binary and all(self.binary):
            return np.concatenate(self.id_chunks)
        return [i.item() if isinstance(i, np.generic) else i for chunk in self.id_chunks for i in chunk]

    def entities(self) -> list[Any]:
        return [e for chunk in self.entity_chunks for e in chunk]


class RecordDecoder:
    """Decodes messages for a model fitted on ``n_features`` features named ``feature_names`` (or unnamed)."""

    def __init__(self, n_features: int, feature_names: Sequence[Any] | None = None,
                 max_message_bytes: int = MAX_MESSAGE_BYTES):
        self.n_features = int(n_features)
        self.feature_names = None if feature_names is None else [str(n) for n in feature_names]
        self.max_message_bytes = max_message_bytes

    def decode(self, messages: Sequence[Message], into: Decoded | None = None) -> Decoded:
        out = into if into is not None else Decoded()
        for message in messages:
            try:
                if len(message.body) > self.max_message_bytes:
                    raise RecordError(f"message of {len(message.body)} bytes is larger than the "
                                      f"{self.max_message_bytes}-byte limit")
                if message.body[:4] == BINARY_IN:
                    ids, X = self._binary(message.body)
                    entities: list[Any] = [None] * len(ids)
                    binary = True
                else:
                    ids, X, entities = self._json(message.body)
                    binary = False
            except RecordError as exc:
                out.refused.append((message, str(exc)))
                continue
            out.id_chunks.append(ids)
            out.rows.append(X)
            out.entity_chunks.append(entities)
            out.messages.append(message)
            out.counts.append(len(ids))
            out.binary.append(binary)
        return out

    def _binary(self, body: bytes) -> tuple[np.ndarray, np.ndarray]:
        if len(body) < _HEADER.size:
            raise RecordError("binary frame shorter than its header")
        _, version, rows, features = _HEADER.unpack_from(body)
        if version != 1:
            raise RecordError(f"binary frame version {version} is not supported (1 is)")
        if features != self.n_features:
            raise RecordError(f"binary frame has {features} features, the model takes {self.n_features}")
        expected = _HEADER.size + rows * 8 + rows * features * 8
        if len(body) != expected:
            raise RecordError(f"binary frame of {rows}x{features} needs {expected} bytes, got {len(body)}")
        ids = np.frombuffer(body, dtype="<u8", count=rows, offset=_HEADER.size)
        X = np.frombuffer(body, dtype="<f8", count=rows * features, offset=_HEADER.size + rows * 8)
        X = X.reshape(rows, features)
        if not np.isfinite(X).all():
            i, j = (int(k) for k in np.argwhere(~np.isfinite(X))[0])
            raise RecordError(f"record {i} (id {int(ids[i])}) has {X[i, j]} in feature {j}")
        return ids, X

    def _json(self, body: bytes) -> tuple[list[Any], np.ndarray, list[Any]]:
        try:
            value = loads(body)
        except (ValueError, TypeError) as exc:
            raise RecordError(f"not JSON ({str(exc).splitlines()[0][:120]})") from None
        records = value if isinstance(value, list) else [value]
        if not records:
            raise RecordError("an empty batch")
        ids, entities, rows = [], [], []
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                raise RecordError(f"record {i} is {type(record).__name__}, not an object")
            if "id" not in record:
                raise RecordError(f"record {i} has no 'id'")
            ids.append(record["id"])
            entities.append(record.get("entity"))
            rows.append(self._values(record, i))
        try:
            X = np.asarray(rows, dtype=np.float64)
        except (TypeError, ValueError):
            bad = next(i for i, row in enumerate(rows) if not all(_is_number(v) for v in row))
            raise RecordError(f"record {bad} (id {ids[bad]!r}) has a value that is not a number") from None
        if not np.isfinite(X).all():
            i, j = (int(k) for k in np.argwhere(~np.isfinite(X))[0])
            raise RecordError(f"record {i} (id {ids[i]!r}) has {X[i, j]} in {self._feature(j)}")
        return ids, X, entities

    def _values(self, record: dict[str, Any], i: int) -> list[Any]:
        values = record.get("values")
        if values is None:
            if self.feature_names is None:
                raise RecordError(f"record {i} has no 'values' (the model has no feature names to look up)")
            missing = [name for name in self.feature_names if name not in record]
            if missing:
                raise RecordError(f"record {i} (id {record['id']!r}) has no 'values' and lacks feature "
                                  f"{missing[0]!r}")
            values = [record[name] for name in self.feature_names]
        if not isinstance(values, list) or len(values) != self.n_features:
            found = len(values) if isinstance(values, list) else type(values).__name__
            raise RecordError(f"record {i} (id {record['id']!r}) has {found} values, the model takes "
                              f"{self.n_features}")
        return values

    def _feature(self, j: int) -> str:
        return f"feature {j} ({self.feature_names[j]!r})" if self.feature_names else f"feature {j}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def encode_binary_frame(ids: np.ndarray, X: np.ndarray) -> bytes:
    """A binary input frame of integer ``ids`` and rows ``X`` (for producers and tests)."""
    X = np.ascontiguousarray(X, dtype="<f8")
    return (_HEADER.pack(BINARY_IN, 1, X.shape[0], X.shape[1]) + np.asarray(ids, dtype="<u8").tobytes()
            + X.tobytes())


def encode_results_json(ids: Sequence[Any], scores: np.ndarray, labels: np.ndarray,
                        severities: Sequence[str | None] | None) -> bytes:
    """JSON Lines of results, one line per record (``severity`` only where given)."""
    score_list, label_list = scores.tolist(), labels.tolist()
    if _orjson is not None and severities is None:
        return b"".join(_orjson.dumps({"id": i, "score": s, "label": lab}) + b"\n"
                        for i, s, lab in zip(_plain(ids), score_list, label_list, strict=True))
    lines = []
    for n, (record_id, score, label) in enumerate(zip(_plain(ids), score_list, label_list, strict=True)):
        result = {"id": record_id, "score": score, "label": label}
        if severities is not None and severities[n] is not None:
            result["severity"] = severities[n]
        lines.append(dumps(result) + b"\n")
    return b"".join(lines)


def encode_results_binary(ids: np.ndarray, scores: np.ndarray, labels: np.ndarray) -> bytes:
    """The binary result frame (integer ids only)."""
    return (_OUT_HEADER.pack(BINARY_OUT, 1, scores.size) + np.asarray(ids, dtype="<u8").tobytes()
            + np.asarray(scores, dtype="<f8").tobytes() + np.asarray(labels, dtype=np.uint8).tobytes())


def decode_results_binary(body: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids, scores, labels)`` of a binary result frame (for consumers and tests)."""
    _, _version, rows = _OUT_HEADER.unpack_from(body)
    offset = _OUT_HEADER.size
    ids = np.frombuffer(body, dtype="<u8", count=rows, offset=offset)
    scores = np.frombuffer(body, dtype="<f8", count=rows, offset=offset + rows * 8)
    labels = np.frombuffer(body, dtype=np.uint8, count=rows, offset=offset + rows * 16)
    return ids, scores, labels


def _plain(ids: Sequence[Any]) -> list[Any]:
    return ids.tolist() if isinstance(ids, np.ndarray) else list(ids)
