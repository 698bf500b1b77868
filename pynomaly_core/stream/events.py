"""Anomaly events: severities, alert hygiene (grouping, cooldown, suppression) and the CloudEvents envelope.

**Severity.** The eight syslog levels (RFC 5424: emergency … debug), each mapped to an OpenTelemetry severity number.
A :class:`SeverityScale` turns a score into a level by thresholds; by default they are quantiles of the model's
training scores: a flagged record (score above the model's threshold) is at least ``notice``; ``warning`` from the
0.99 quantile, ``error`` from the 0.999 quantile, ``critical`` above the highest training score.

**Alert hygiene** (:class:`AlertPolicy`): events are grouped per (detector, entity). After an event, further flagged
records of the same entity within ``cooldown_s`` are counted, not sent, unless their severity is higher (a critical
record is sent at once, and its cooldown then suppresses warnings); the next event carries how many were grouped.
A burst of 1,000 anomalous records of one entity therefore gives a handful of events.

**Envelope.** CloudEvents 1.0, structured JSON: ``specversion``, ``id``, ``source``, ``type``
(``io.pynomaly.anomaly``, ``io.pynomaly.drift``), ``time``, ``subject`` (the entity), ``datacontenttype`` and
``data`` (record id, score, threshold, severity and its OpenTelemetry number, detector, model version, top
contributing features when the detector gives them cheaply, and the grouped count).
"""

from __future__ import annotations

import datetime
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pynomaly_core.errors import InputError

#: Syslog severity levels, most severe first (RFC 5424 numbers 0 … 7).
LEVELS = ("emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug")
#: OpenTelemetry log severity numbers (FATAL 21-24, ERROR 17-20, WARN 13-16, INFO 9-12, DEBUG 5-8).
OTEL_SEVERITY = {"emergency": 24, "alert": 21, "critical": 19, "error": 17, "warning": 13, "notice": 10,
                 "informational": 9, "debug": 5}
#: How much worse a level is than another (higher = more severe).
RANK = {level: len(LEVELS) - i for i, level in enumerate(LEVELS)}
#: Default thresholds: level → quantile of the training scores (``"max"``: above the highest training score).
DEFAULT_SCALE = {"warning": 0.99, "error": 0.999, "critical": "max"}

ANOMALY_EVENT = "io.pynomaly.anomaly"
DRIFT_EVENT = "io.pynomaly.drift"


@dataclass(frozen=True)
class SeverityScale:
    """Score thresholds per level, ascending: a score at or above a level's threshold has at least that level.
    Scores at or below ``floor`` (the model's threshold) have none."""

    floor: float
    thresholds: tuple[tuple[str, float], ...]  # (level, score), by increasing score

    @classmethod
    def from_training(cls, train_scores: np.ndarray, threshold: float,
                      levels: dict[str, float | str] | None = None) -> SeverityScale:
        """Thresholds from quantiles of the training scores (``levels``: level → quantile in (0, 1) or ``"max"``)."""
        levels = DEFAULT_SCALE if levels is None else levels
        pairs = []
        for level, q in levels.items():
            if level not in LEVELS:
                raise InputError(f"unknown severity {level!r}; levels are {', '.join(LEVELS)}")
            if q == "max":
                value = float(np.nextafter(np.max(train_scores), np.inf))
            elif isinstance(q, int | float) and 0 < q < 1:
                value = float(np.quantile(train_scores, q))
            else:
                raise InputError(f"severity {level}: expected a quantile in (0, 1) or 'max', got {q!r}")
            pairs.append((level, max(value, float(threshold))))
        pairs.sort(key=lambda p: (p[1], RANK[p[0]]))
        for (low, _), (high, _) in itertools.pairwise(pairs):
            if RANK[high] < RANK[low]:
                raise InputError(f"severity {high} must have a higher quantile than {low}")
        return cls(float(threshold), tuple(pairs))

    @classmethod
    def parse(cls, text: str, train_scores: np.ndarray, threshold: float) -> SeverityScale:
        """``"warning=0.99,error=0.999,critical=max"`` (the CLI's ``--severity``)."""
        levels: dict[str, float | str] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            level, sep, q = item.partition("=")
            if not sep:
                raise InputError(f"--severity {item!r}: expected level=quantile")
            levels[level.strip()] = q.strip() if q.strip() == "max" else _float(q, item)
        return cls.from_training(train_scores, threshold, levels)

    def levels_of(self, scores: np.ndarray) -> list[str | None]:
        """The level of every score (``None`` at or below the floor; ``notice`` above it, below every threshold)."""
        out: list[str | None] = [None] * scores.size
        flagged = np.flatnonzero(scores > self.floor)
        if flagged.size == 0:
            return out
        bounds = np.array([t for _, t in self.thresholds])
        names = ["notice", *(level for level, _ in self.thresholds)]
        positions = np.searchsorted(bounds, scores[flagged], side="right")
        for row, position in zip(flagged.tolist(), positions.tolist(), strict=True):
            out[row] = names[position]
        return out


@dataclass
class _Entity:
    until: float
    level: str
    grouped: int = 0


@dataclass
class AlertPolicy:
    """Cooldown and grouping of events per (detector, entity); see the module docstring."""

    cooldown_s: float = 60.0
    _entities: dict[tuple[str, Any], _Entity] = field(default_factory=dict)

    def admit(self, detector: str, entity: Any, level: str, now: float) -> int | None:
        """Whether to send an event now: the number of records grouped into it (0 or more), or ``None`` to hold it."""
        key = (detector, entity)
        state = self._entities.get(key)
        if state is not None and now < state.until and RANK[level] <= RANK[state.level]:
            state.grouped += 1
            return None
        grouped = 0 if state is None else state.grouped
        self._entities[key] = _Entity(until=now + self.cooldown_s, level=level)
        if len(self._entities) > 100_000:  # bounded: forget entities whose cooldown is over
            self._entities = {k: v for k, v in self._entities.items() if v.until > now}
        return grouped


def cloud_event(event_type: str, source: str, data: dict[str, Any], subject: Any = None,
                when: datetime.datetime | None = None) -> dict[str, Any]:
    """A CloudEvents 1.0 event in structured JSON form."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    event = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": source, "type": event_type,
             "time": when.isoformat().replace("+00:00", "Z"), "datacontenttype": "application/json", "data": data}
    if subject is not None:
        event["subject"] = str(subject)
    return event


def anomaly_data(record_id: Any, score: float, threshold: float, level: str, detector: str,
                 model_version: str | None, grouped: int, top_features: Sequence[dict[str, Any]] | None) -> dict:
    data = {"record_id": record_id, "score": score, "threshold": threshold, "severity": level,
            "severity_number": OTEL_SEVERITY[level], "detector": detector, "model_version": model_version,
            "grouped": grouped}
    if top_features:
        data["top_features"] = list(top_features)
    return data


@dataclass
class AdaptiveThreshold:
    """A threshold that follows a drifting stream.

    ``quantile``: the ``1 - contamination`` quantile of the last ``window`` scores. ``pot``: peaks over threshold
    (SPOT, Siffer et al., KDD 2017) — a generalised Pareto tail fitted (method of moments) to the excesses over a
    high initial quantile, giving the score exceeded with probability ``risk``; new peaks refine the tail.
    """

    method: str
    contamination: float
    initial: np.ndarray
    window: int = 10_000
    risk: float = 1e-4
    _recent: np.ndarray = field(init=False, repr=False)
    _count: int = field(init=False, default=0)
    _peaks: list[float] = field(init=False, default_factory=list)
    _seen: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.method not in ("quantile", "pot"):
            raise InputError(f"adaptive threshold must be 'quantile' or 'pot', got {self.method!r}")
        start = np.asarray(self.initial, dtype=np.float64)[-self.window:]
        self._recent = np.empty(self.window)
        self._recent[:start.size] = start
        self._count = start.size
        self._seen = int(np.asarray(self.initial).size)
        self._base = float(np.quantile(self.initial, 0.98))
        self._peaks = [float(v) - self._base for v in np.asarray(self.initial) if v > self._base]

    def update(self, scores: np.ndarray) -> float:
        """Take a batch of scores (scored with the threshold before them) and return the new threshold."""
        scores = np.asarray(scores, dtype=np.float64)
        if self.method == "quantile":  # keep the last ``window`` scores, oldest first
            chunk = scores[-self.window:]
            keep = min(self._count, self.window - chunk.size)
            self._recent[:keep] = self._recent[self._count - keep:self._count]
            self._recent[keep:keep + chunk.size] = chunk
            self._count = keep + chunk.size
        else:
            self._seen += scores.size
            self._peaks.extend((scores[scores > self._base] - self._base).tolist())
            if len(self._peaks) > self.window:
                self._peaks = self._peaks[-self.window:]
        return self.value

    @property
    def value(self) -> float:
        if self.method == "quantile":
            return float(np.quantile(self._recent[:self._count], 1 - self.contamination))
        peaks = np.asarray(self._peaks)
        if peaks.size < 10:
            return self._base
        mean, var = float(peaks.mean()), float(peaks.var())
        xi = 0.5 * (1 - mean * mean / var) if var > 0 else 0.0
        sigma = 0.5 * mean * (mean * mean / var + 1) if var > 0 else mean
        ratio = self.risk * self._seen / peaks.size
        if abs(xi) < 1e-9:
            return self._base - sigma * float(np.log(ratio))
        return self._base + sigma / xi * (ratio ** -xi - 1)


def _float(text: str, item: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(f"--severity {item!r}: {text!r} is not a number") from None
