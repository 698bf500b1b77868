"""RabbitMQ (AMQP 0-9-1) through pika's ``BlockingConnection``.

URL: ``amqp://[user[:password]@]host[:port]/queue`` (virtual host ``/``) or
``amqp://[user[:password]@]host[:port]/vhost/queue`` (the vhost URL-encoded: ``%2F`` for ``/``, an empty segment is
``/``); a queue name with a ``/`` is written ``%2F``. Without credentials pika's default ``guest``/``guest`` is used.

**Source**: declares the queue durable (``declare=false``: checks it exists), ``basic.qos(prefetch_count=credit)``
so the broker never has more than ``credit`` unacknowledged deliveries out to this consumer, consumes with manual
acknowledgement. :meth:`ack` sends one ``basic.ack(multiple=True)`` for the longest run of acknowledged deliveries
from the oldest unacknowledged one, and single acks for the rest. ``redelivered`` is the delivery's flag. Closing
(or losing) the connection makes the broker requeue every unacknowledged delivery, flagged redelivered.

**Sink**: declares the same durable queue (publishing to the default exchange, straight to the queue; with
``exchange`` it publishes there with ``routing_key``, default the queue name, and declares nothing), publishes
persistent messages
(``delivery_mode=2``) with ``mandatory=True`` on a channel in confirm mode: :meth:`publish` returns only after the
broker confirmed each message (for a durable queue: written to disk); an unroutable message is a
:class:`ConnectorError`, a negative confirm a :class:`ConnectorUnavailable`.

The blocking connection services heartbeats only inside calls: call ``receive`` (or ``ack``) at least every
``heartbeat_s`` seconds, or the broker closes the connection (then :class:`ConnectorUnavailable`, and the deliveries
come again). After a :class:`ConnectorUnavailable` a source or sink is finished: close it and open a new one.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

import pika
import pika.exceptions as px

from pynomaly_core.stream.contract import Connector, ConnectorError, Message
from pynomaly_stream import options as _options
from pynomaly_stream._common import Endpoint, Held, again, parse_options, parse_url

#: AMQP reply codes that mean the request is wrong for good (not a passing fault).
_PERMANENT = {402, 403, 404, 405, 406, 501, 502, 503, 504, 505, 530, 540}


def parse(url: str, given: dict[str, Any], *, need_queue: bool = True) -> tuple[Endpoint, dict[str, Any], str, str]:
    """(endpoint, options, virtual host, queue) of an ``amqp://`` URL (a sink publishing to an exchange with a
    routing key needs no queue)."""
    endpoint = parse_url(url, ("amqp",), 5672)
    opts = parse_options(endpoint, _options.AMQP, given)
    segments = [unquote(s) for s in endpoint.path.split("/")] if endpoint.path else []
    if len(segments) > 2:
        raise endpoint.error("expected amqp://host[:port]/queue or amqp://host[:port]/vhost/queue "
                             "(write a '/' inside a name as %2F)")
    vhost = (segments[0] or "/") if len(segments) == 2 else "/"
    queue = segments[-1] if segments else ""
    queue = opts["queue"] or queue
    if not queue and (need_queue or not (opts["exchange"] and opts["routing_key"])):
        raise endpoint.error("no queue: give it as the URL path (amqp://host/queue) or the queue option "
                             "(a sink may give exchange and routing_key instead)")
    return endpoint, opts, vhost, queue


def _connect(endpoint: Endpoint, opts: dict[str, Any], vhost: str) -> Any:
    timeout = float(opts["connect_timeout_s"])
    kwargs: dict[str, Any] = {}
    if endpoint.username is not None:
        kwargs["credentials"] = pika.PlainCredentials(endpoint.username, endpoint.password or "")
    params = pika.ConnectionParameters(host=endpoint.host, port=endpoint.port, virtual_host=vhost,
                                       heartbeat=int(opts["heartbeat_s"]), connection_attempts=1,
                                       socket_timeout=timeout, stack_timeout=2 * timeout,
                                       blocked_connection_timeout=max(30.0, 2 * timeout),
                                       client_properties={"connection_name": "pynomaly-stream"}, **kwargs)
    try:
        return pika.BlockingConnection(params)
    except Exception as exc:
        raise _error(endpoint, "cannot connect", exc) from None


def _error(endpoint: Endpoint, doing: str, exc: BaseException) -> ConnectorError:
    """The connector error for a pika exception: permanent refusals are ConnectorError, the rest unavailable."""
    if isinstance(exc, ConnectorError):
        return exc
    inner = exc  # BlockingConnection wraps the reason of a failed connect (a refusal by the broker, a socket error)
    while isinstance(inner, px.AMQPConnectionError) and inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    if isinstance(inner, px.AMQPConnectionError | px.AMQPChannelError):
        exc = inner
    if isinstance(exc, px.ProbableAuthenticationError | px.AuthenticationError | px.ProbableAccessDeniedError):
        return endpoint.error(f"{doing}: access refused (user, password or virtual host)", exc)
    if isinstance(exc, px.ConnectionClosedByBroker | px.ChannelClosedByBroker):
        if exc.reply_code in _PERMANENT:
            return endpoint.error(f"{doing}: the broker refused", exc)
        return endpoint.unavailable(f"{doing}: the broker closed the connection", exc)
    if isinstance(exc, px.UnroutableError):
        return endpoint.error(f"{doing}: unroutable (no queue bound to the routing key)", exc)
    if isinstance(exc, px.AMQPConnectionError | px.NackError | OSError | px.ChannelClosed |
                  px.ChannelWrongStateError):
        return endpoint.unavailable(f"{doing}: broker unreachable or connection lost", inner)
    return endpoint.error(doing, exc)


def _declare(channel: Any, queue: str, declare: bool) -> None:
    if declare:
        channel.queue_declare(queue=queue, durable=True)
    else:
        channel.queue_declare(queue=queue, passive=True)


#: The largest prefetch count AMQP 0-9-1 can express (``basic.qos`` takes a 16-bit number).
MAX_PREFETCH = 65_535


class RabbitMQSource:
    """Deliveries of one queue; the token of a message is its delivery tag."""

    def __init__(self, url: str, *, credit: int, **options: Any):
        self.endpoint, opts, vhost, self.queue = parse(url, options)
        self._held = Held(self.endpoint, credit)
        self.credit = self._held.credit
        self._buffer: deque[tuple[int, bool, str, bytes]] = deque()  # delivered, not handed out yet
        self._unacked: dict[int, bool] = {}  # every delivery the broker counts unacknowledged -> acked by the engine
        self._connection = _connect(self.endpoint, opts, vhost)
        try:
            self._channel = self._connection.channel()
            _declare(self._channel, self.queue, opts["declare"])
            # AMQP's prefetch count is 16 bits; a larger credit is enforced here (the bookkeeping never hands out more)
            self._channel.basic_qos(prefetch_count=min(self.credit, MAX_PREFETCH))
            self._channel.add_on_cancel_callback(self._on_cancel)
            self._channel.basic_consume(self.queue, self._on_message, auto_ack=False)
        except Exception as exc:
            self._close_connection()
            raise _error(self.endpoint, f"cannot consume from queue {self.queue!r}", exc) from None

    def _on_message(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        self._unacked[method.delivery_tag] = False
        self._buffer.append((method.delivery_tag, bool(method.redelivered), method.routing_key, body))

    def _on_cancel(self, frame: Any) -> None:
        self._held.broken = self.endpoint.error(f"the broker cancelled the consumer (queue {self.queue!r} deleted?)")

    def receive(self, max_messages: int, timeout_s: float) -> list[Message]:
        self._held.check_open()
        deadline = time.monotonic() + max(0.0, timeout_s)
        try:
            self._connection.process_data_events(time_limit=0)
            room = self._held.room(max_messages)
            while room and not self._buffer and self._held.broken is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._connection.process_data_events(time_limit=remaining)
        except Exception as exc:
            raise self._fail("receive failed", exc) from None
        self._held.check_open()  # the consumer may have been cancelled meanwhile
        messages = []
        for _ in range(min(room, len(self._buffer))):
            tag, redelivered, key, body = self._buffer.popleft()
            messages.append(self._held.hold(body, tag, tag, key=key, redelivered=redelivered))
        return messages

    def ack(self, messages: Sequence[Message]) -> None:
        self._held.check_open()
        tags = self._held.take(messages)
        for tag in tags:
            self._unacked[tag] = True
        last = None  # the longest run of acknowledged deliveries from the oldest: one multiple ack
        for tag, acked in self._unacked.items():
            if not acked:
                break
            last = tag
        try:
            if last is not None:
                self._channel.basic_ack(delivery_tag=last, multiple=True)
                while self._unacked and next(iter(self._unacked)) <= last:
                    self._unacked.pop(next(iter(self._unacked)))
            for tag in tags:
                if tag in self._unacked:
                    self._channel.basic_ack(delivery_tag=tag)
                    del self._unacked[tag]
        except Exception as exc:
            raise self._fail("ack failed", exc) from None

    def _fail(self, doing: str, exc: BaseException) -> ConnectorError:
        self._held.broken = _error(self.endpoint, doing, exc)
        return again(self._held.broken)

    def close(self) -> None:
        if not self._held.closed:
            self._held.closed = True
            self._buffer.clear()
            self._close_connection()

    def _close_connection(self) -> None:
        try:
            if self._connection.is_open:
                self._connection.close()
        except Exception:
            pass


class RabbitMQSink:
    """Publishes persistent messages with publisher confirms."""

    def __init__(self, url: str, **options: Any):
        self.endpoint, opts, vhost, self.queue = parse(url, options, need_queue=False)
        self.exchange = opts["exchange"] or ""
        self.routing_key = opts["routing_key"] or self.queue
        self._closed = False
        self._broken: ConnectorError | None = None
        self._properties = pika.BasicProperties(delivery_mode=2)
        self._connection = _connect(self.endpoint, opts, vhost)
        try:
            self._channel = self._connection.channel()
            if not self.exchange:
                _declare(self._channel, self.queue, opts["declare"])
            self._channel.confirm_delivery()
        except Exception as exc:
            self.close()
            raise _error(self.endpoint, f"cannot publish to queue {self.queue!r}", exc) from None

    def publish(self, payloads: Sequence[bytes]) -> None:
        if self._closed:
            raise self.endpoint.error("the sink is closed")
        if self._broken is not None:
            raise again(self._broken)
        try:
            for payload in payloads:
                self._channel.basic_publish(self.exchange, self.routing_key, bytes(payload),
                                            properties=self._properties, mandatory=True)
        except Exception as exc:
            error = _error(self.endpoint, "publish failed", exc)
            if not isinstance(exc, px.UnroutableError):  # the channel is gone: the sink is finished
                self._broken = error
            raise again(error) from None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                if self._connection.is_open:
                    self._connection.close()
            except Exception:
                pass


class RabbitMQConnector(Connector):
    """``amqp://host/queue``: a durable RabbitMQ queue."""

    source_class = RabbitMQSource
    sink_class = RabbitMQSink
