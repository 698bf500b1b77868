"""The stream connector contract: what a source and a sink of ``pynomaly stream`` do, whatever the broker.

A connector is registered with a :class:`~pynomaly_core.specs.ConnectorSpec` whose ``target`` names a class with
two class methods, ``source(url, *, credit, **options) -> Source`` and ``sink(url, **options) -> Sink`` (a connector
that only reads or only writes declares ``roles``). Opening imports the client library; registering never does.

Delivery is **at least once**: the engine acknowledges a message only after the sink has accepted every result of
it (:meth:`Sink.publish` returned), so a consumer killed at any point loses nothing; the broker redelivers what was
not acknowledged. **Backpressure** is the ``credit``: a source never holds more than ``credit`` unacknowledged
messages (prefetch, ``max_ack_pending``, in-flight limit), and the engine asks for more only when it has room, so a
slow sink stops the source instead of filling memory.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from pynomaly_core.errors import PynomalyError


class ConnectorError(PynomalyError):
    """A connector was used wrongly or its broker refused something for good (bad URL, missing queue, no rights)."""


class ConnectorUnavailable(ConnectorError):
    """The broker cannot be reached right now (connection refused or lost): the engine retries with backoff."""


@dataclass(frozen=True)
class Message:
    """One message as a source delivered it.

    ``token`` is whatever :meth:`Source.ack` needs (a delivery tag, a stream entry id, the client's message object);
    ``key`` the routing key, subject or topic; ``redelivered`` whether the broker says it was delivered before (so
    its results may be duplicates); ``received`` the monotonic time it arrived (for ingest-to-result latency).
    """

    body: bytes
    token: Any = None
    key: str | None = None
    redelivered: bool = False
    received: float = field(default_factory=time.monotonic)


@runtime_checkable
class Source(Protocol):
    """A stream of messages with acknowledgement."""

    #: The most unacknowledged messages the source holds (the broker's credit).
    credit: int

    def receive(self, max_messages: int, timeout_s: float) -> list[Message]:
        """Up to ``max_messages`` messages, waiting at most ``timeout_s`` for the first (``[]`` when none came).

        Never makes more than ``credit`` messages unacknowledged. Raises :class:`ConnectorUnavailable` when the
        broker is gone (messages not acknowledged are then redelivered by the broker).
        """
        ...

    def ack(self, messages: Sequence[Message]) -> None:
        """Acknowledge ``messages`` (received from this source and not acknowledged yet): the broker forgets them."""
        ...

    def close(self) -> None:
        """Release the connection; unacknowledged messages go back to the broker. Idempotent."""
        ...


@runtime_checkable
class Sink(Protocol):
    """A destination for results, events or dead letters."""

    def publish(self, payloads: Sequence[bytes]) -> None:
        """Deliver each payload as one message (a file: its bytes in order); return only when the broker or the
        file system has accepted them all (publisher confirms, server acks, a flushed file). Raises
        :class:`ConnectorUnavailable` when the broker is gone (nothing may be assumed delivered then)."""
        ...

    def close(self) -> None:
        """Flush and release. Idempotent."""
        ...


class Connector:
    """The usual ``target`` of a :class:`~pynomaly_core.specs.ConnectorSpec`: a subclass names its source and sink
    classes, each built as ``Source(url, credit=credit, **options)`` and ``Sink(url, **options)``."""

    source_class: ClassVar[type]
    sink_class: ClassVar[type]

    @classmethod
    def source(cls, url: str, *, credit: int, **options: Any) -> Source:
        return cls.source_class(url, credit=credit, **options)

    @classmethod
    def sink(cls, url: str, **options: Any) -> Sink:
        return cls.sink_class(url, **options)
