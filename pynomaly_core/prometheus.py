"""Prometheus metrics in the text exposition format (0.0.4), without a client library: counters, gauges and
histograms with labels, thread-safe. The server (``pynomaly serve``) and the stream engine (``pynomaly stream``)
render their metrics with these."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Mapping, Sequence

#: Latency buckets (seconds): fine around the millisecond, coarse up to a minute.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

Labels = tuple[tuple[str, str], ...]
#: A label set as stored: the label values, in the order of the metric's label names (paired at render time, so
#: counting on a request path costs a tuple and a dict update).
Values = tuple[str, ...]


def format_labels(pairs: Labels) -> str:
    """``{a="x",b="y"}`` with backslashes, quotes and newlines escaped; ``""`` without labels."""
    if not pairs:
        return ""
    escaped = (k + '="' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"' for k, v in pairs)
    return "{" + ",".join(escaped) + "}"


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = ()):
        self.name, self.help, self.label_names = name, help_text, tuple(label_names)
        self._lock = threading.Lock()

    def _key(self, labels: tuple[str, ...]) -> Values:
        if len(labels) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {tuple(labels)}")
        return labels if all(type(v) is str for v in labels) else tuple(map(str, labels))

    def _pairs(self, key: Values) -> Labels:
        return tuple(zip(self.label_names, key, strict=True))

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Metric):
    """A monotonically increasing count per label set."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = ()):
        super().__init__(name, help_text, label_names)
        self.values: dict[Values, float] = {}

    def inc(self, amount: float = 1, *labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self.values[key] = self.values.get(key, 0) + amount

    def value(self, *labels: str) -> float:
        return self.values.get(self._key(labels), 0)

    def __getitem__(self, labels: tuple[str, ...]) -> float:
        """``counter["POST", "/score", "200"]``: the count of one label set."""
        return self.value(*labels)

    def render(self) -> list[str]:
        return [*self.header(), *self.samples()]

    def samples(self, extra: Labels = ()) -> list[str]:
        """The sample lines, each label set led by the constant labels ``extra``."""
        with self._lock:
            items = sorted(self.values.items())
        if not items and not self.label_names:
            items = [((), 0)]
        return [f"{self.name}{format_labels((*extra, *self._pairs(k)))} {_number(v)}" for k, v in items]


class Gauge(_Metric):
    """A value that goes up and down, set directly or read from a callable at render time."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, read: Callable[[], float] | None = None):
        super().__init__(name, help_text)
        self._value = 0.0
        self._read = read

    def set(self, value: float) -> None:
        self._value = value

    def render(self) -> list[str]:
        return [*self.header(), *self.samples()]

    def samples(self, extra: Labels = ()) -> list[str]:
        value = self._read() if self._read is not None else self._value
        return [f"{self.name}{format_labels(extra)} {_number(value)}"]


class Histogram(_Metric):
    """Observations counted in cumulative buckets per label set, with their sum."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = (),
                 buckets: Sequence[float] = LATENCY_BUCKETS):
        super().__init__(name, help_text, label_names)
        self.buckets = tuple(buckets)
        self.counts: dict[Values, list[int]] = {}
        self.sums: dict[Values, float] = {}

    def observe(self, value: float, *labels: str) -> None:
        self.observe_many([value], *labels)

    def observe_many(self, values: Sequence[float], *labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            counts = self.counts.get(key)
            if counts is None:
                counts = self.counts[key] = [0] * (len(self.buckets) + 1)
                self.sums[key] = 0.0
            for value in values:
                counts[bisect.bisect_left(self.buckets, value)] += 1
                self.sums[key] += float(value)

    def render(self) -> list[str]:
        return [*self.header(), *self.samples()]

    def samples(self, extra: Labels = ()) -> list[str]:
        out: list[str] = []
        with self._lock:
            items = sorted((k, list(v), self.sums[k]) for k, v in self.counts.items())
        for values, counts, total in items:
            key = (*extra, *self._pairs(values))
            cumulative = 0
            for bound, n in zip((*self.buckets, float("inf")), counts, strict=True):
                cumulative += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(f"{self.name}_bucket{format_labels((*key, ('le', le)))} {cumulative}")
            out.append(f"{self.name}_sum{format_labels(key)} {total!r}")
            out.append(f"{self.name}_count{format_labels(key)} {cumulative}")
        return out


def render(metrics: Sequence[_Metric]) -> str:
    """The text exposition of ``metrics``, in order."""
    return "\n".join(line for metric in metrics for line in metric.render()) + "\n"


def render_groups(label: str, groups: Mapping[str | None, Sequence[_Metric]]) -> str:
    """One exposition of several groups of the same metric families (e.g. one group per tenant): each family's
    header once, then every group's samples with ``label="<group>"`` first (a ``None`` group without it)."""
    if not groups:
        return ""
    families = zip(*groups.values(), strict=True)
    lines: list[str] = []
    for family in families:
        lines += family[0].header()
        for group, metric in zip(groups, family, strict=True):
            lines += metric.samples(() if group is None else ((label, group),))
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
