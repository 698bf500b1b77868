"""In-process source and sink (tests, benchmarks, embedding the engine): messages from a list or an iterator,
results into a list. The source never redelivers: acknowledged or not, a message is delivered once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from pynomaly_core.stream.contract import ConnectorError, Message


class MemorySource:
    """Delivers ``bodies`` in order, at most ``credit`` unacknowledged at a time."""

    def __init__(self, bodies: Iterable[bytes], *, credit: int):
        self.credit = max(1, int(credit))
        self._bodies = iter(bodies)
        self._unacked = 0
        self.acked = 0
        self.exhausted = False
        self._closed = False

    def receive(self, max_messages: int, timeout_s: float) -> list[Message]:
        if self._closed:
            raise ConnectorError("memory source: closed")
        room = min(max_messages, self.credit - self._unacked)
        out = []
        now = time.monotonic()
        for body in self._bodies:
            out.append(Message(body=body, token=None, received=now))
            if len(out) >= room:
                break
        else:
            self.exhausted = True
        self._unacked += len(out)
        return out

    def ack(self, messages: Sequence[Message]) -> None:
        self._unacked -= len(messages)
        self.acked += len(messages)

    def close(self) -> None:
        self._closed = True


class MemorySink:
    """Keeps every payload (``keep=False``: counts them only), optionally sleeping ``delay_s`` per publish (a slow
    sink, for backpressure tests)."""

    def __init__(self, *, keep: bool = True, delay_s: float = 0.0):
        self.payloads: list[bytes] = []
        self.count = 0
        self.bytes = 0
        self.keep = keep
        self.delay_s = delay_s
        self._lock = threading.Lock()

    def publish(self, payloads: Sequence[bytes]) -> None:
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            self.count += len(payloads)
            self.bytes += sum(len(p) for p in payloads)
            if self.keep:
                self.payloads.extend(payloads)

    def close(self) -> None:
        pass
