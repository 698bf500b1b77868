"""Redis Streams through redis-py, with a consumer group.

URL: ``redis://[[user]:password@]host[:port][/db]?stream=KEY`` (port 6379, database 0); the options may also be
given in the query string (``&group=scorers&consumer=worker-1``).

**Source**: the group (``group``) is created with ``XGROUP CREATE ... MKSTREAM`` when missing, starting at
``start`` (``0``: the whole stream, so nothing written before the first source is missed; ``$``: new entries
only). ``receive`` first, when due (at the first call, then every ``reclaim_interval_s``), reclaims entries of the
group's pending list idle longer than ``min_idle_ms`` with ``XAUTOCLAIM`` (a crashed or closed consumer's entries:
delivered with ``redelivered=True``), then reads new entries with ``XREADGROUP ... COUNT n BLOCK ms >``; ``n`` is
never more than the free credit, so at most ``credit`` entries are read but not acknowledged. :meth:`ack` is
``XACK``. The message body is the entry's ``field`` (``data``); an entry without that field is delivered as a
JSON object of all its fields (decoded as UTF-8). :meth:`close` marks the entries it holds unacknowledged as long
idle (``XCLAIM ... IDLE ... JUSTID``, which leaves their delivery count alone), so the next source of the group
reclaims them at once; a consumer that dies without closing leaves them to be reclaimed after ``min_idle_ms``.
``min_idle_ms`` must exceed the longest time a live consumer holds an entry, or a second consumer may take it
over while it is still being processed (a duplicate, never a loss).

Without ``consumer`` each source has its own unique consumer name, deleted from the group on close when it holds
nothing pending; with a fixed ``consumer`` a restarted source reclaims its own pending entries the same way.

**Sink**: ``XADD key * field payload`` for each payload (``maxlen``: ``MAXLEN ~ n``), in one pipeline; ``publish``
returns when Redis has executed them all. That is in the server's memory: whether it survives a crash of Redis
depends on its persistence (``appendonly yes`` with ``appendfsync always``/``everysec``) and replication.

After a :class:`ConnectorUnavailable` (Redis unreachable, connection lost) the source or sink is finished: close it
and open a new one; entries it held stay pending and are reclaimed.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Sequence
from typing import Any

import redis
import redis.exceptions as rx
from redis.backoff import NoBackoff
from redis.retry import Retry

from pynomaly_core.stream.contract import Connector, ConnectorError, ConnectorUnavailable, Message
from pynomaly_stream import options as _options
from pynomaly_stream._common import Endpoint, Held, again, parse_options, parse_url, positive

#: Refusals of the credentials (subclasses of redis' ConnectionError, so tested first).
_AUTH = tuple(getattr(rx, name) for name in ("AuthenticationError", "AuthenticationWrongNumberOfArgsError",
                                              "AuthorizationError") if hasattr(rx, name))
#: The idle time given to the entries a closing source held (a year): any reclaim takes them.
_RELEASED_IDLE_MS = 365 * 24 * 3600 * 1000


def parse(url: str, given: dict[str, Any]) -> tuple[Endpoint, dict[str, Any], int]:
    endpoint = parse_url(url, ("redis",), 6379)
    opts = parse_options(endpoint, _options.REDIS, given)
    try:
        db = int(endpoint.path or 0)
    except ValueError:
        raise endpoint.error("expected redis://host[:port][/db]?stream=KEY (db is a number)") from None
    if not opts["stream"]:
        raise endpoint.error("no stream: give it as ?stream=KEY or the stream option")
    if opts["start"] not in ("0", "$") and not _is_entry_id(opts["start"]):
        raise endpoint.error(f"option start must be '0', '$' or an entry id, got {opts['start']!r}")
    for name in ("connect_timeout_s", "socket_timeout_s", "reclaim_interval_s"):
        positive(endpoint, name, opts[name])
    if opts["min_idle_ms"] < 0 or (opts["maxlen"] is not None and opts["maxlen"] < 1):
        raise endpoint.error("options min_idle_ms must be >= 0 and maxlen >= 1")
    return endpoint, opts, db


def _is_entry_id(text: str) -> bool:
    head, _, tail = text.partition("-")
    return head.isdigit() and (not tail or tail.isdigit())


def _error(endpoint: Endpoint, doing: str, exc: BaseException) -> ConnectorError:
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, _AUTH):
        return endpoint.error(f"{doing}: authentication refused", exc)
    if isinstance(exc, rx.ResponseError) and str(exc).startswith(("NOAUTH", "WRONGPASS", "NOPERM")):
        return endpoint.error(f"{doing}: authentication refused", exc)
    if isinstance(exc, rx.BusyLoadingError | rx.ConnectionError | rx.TimeoutError | OSError):
        return endpoint.unavailable(f"{doing}: Redis unreachable or connection lost", exc)
    if isinstance(exc, rx.ResponseError) and str(exc).startswith(("LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN")):
        return endpoint.unavailable(f"{doing}: Redis not ready", exc)
    return endpoint.error(f"{doing}: Redis refused", exc)


def _connect(endpoint: Endpoint, opts: dict[str, Any], db: int) -> Any:
    client = redis.Redis(host=endpoint.host, port=endpoint.port, db=db, username=endpoint.username or None,
                         password=endpoint.password, socket_connect_timeout=float(opts["connect_timeout_s"]),
                         socket_timeout=float(opts["socket_timeout_s"]), retry=Retry(NoBackoff(), 0),
                         client_name="pynomaly-stream")
    try:
        client.ping()
    except Exception as exc:
        client.close()
        raise _error(endpoint, "cannot connect", exc) from None
    return client


class RedisStreamSource:
    """Entries of a stream through a consumer group; the token of a message is its entry id."""

    def __init__(self, url: str, *, credit: int, **options: Any):
        self.endpoint, opts, db = parse(url, options)
        self._held = Held(self.endpoint, credit)
        self.credit = self._held.credit
        self.stream: str = opts["stream"]
        self.group: str = opts["group"]
        self._own_name = opts["consumer"] is None
        self.consumer: str = opts["consumer"] or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._field = opts["field"].encode()
        self._min_idle_ms = int(opts["min_idle_ms"])
        self._reclaim_interval = float(opts["reclaim_interval_s"])
        self._max_block_ms = max(1, int((float(opts["socket_timeout_s"]) - 1.0) * 1000))
        self._next_reclaim = 0.0  # now: the first receive reclaims
        self._cursor = "0-0"
        self._client = _connect(self.endpoint, opts, db)
        try:
            self._client.xgroup_create(self.stream, self.group, id=opts["start"], mkstream=True)
        except rx.ResponseError as exc:
            if not str(exc).startswith("BUSYGROUP"):  # BUSYGROUP: the group exists
                self._client.close()
                raise _error(self.endpoint, f"cannot create the consumer group {self.group!r}", exc) from None
        except Exception as exc:
            self._client.close()
            raise _error(self.endpoint, f"cannot create the consumer group {self.group!r}", exc) from None

    def receive(self, max_messages: int, timeout_s: float) -> list[Message]:
        self._held.check_open()
        room = self._held.room(max_messages)
        if not room:
            return []
        messages: list[Message] = []
        try:
            if time.monotonic() >= self._next_reclaim:
                messages += self._reclaim(room)
            room -= len(messages)
            if room:
                block = None if messages or timeout_s <= 0 else min(self._max_block_ms,
                                                                    max(1, int(timeout_s * 1000)))
                read = self._client.xreadgroup(self.group, self.consumer, {self.stream: ">"}, count=room,
                                               block=block)
                for _, entries in read or ():
                    messages += [self._message(entry_id, fields, False) for entry_id, fields in entries]
        except Exception as exc:
            self._held.broken = _error(self.endpoint, "receive failed", exc)
            raise again(self._held.broken) from None
        return messages

    def _reclaim(self, room: int) -> list[Message]:
        """Take over pending entries idle longer than ``min_idle_ms`` (XAUTOCLAIM), at most ``room``."""
        cursor, entries, *_ = self._client.xautoclaim(self.stream, self.group, self.consumer, self._min_idle_ms,
                                                      start_id=self._cursor, count=room)
        cursor = cursor.decode() if isinstance(cursor, bytes) else str(cursor)
        self._cursor = cursor
        if cursor == "0-0":  # a full pass over the pending list: look again later
            self._next_reclaim = time.monotonic() + self._reclaim_interval
        messages = []
        for entry_id, fields in entries:
            if fields is None or (self._held.serial, entry_id) in self._held.items:
                continue  # deleted from the stream meanwhile, or held by this very source (now claimed again)
            messages.append(self._message(entry_id, fields, True))
        return messages

    def _message(self, entry_id: bytes, fields: dict[bytes, bytes], redelivered: bool) -> Message:
        body = fields.get(self._field)
        if body is None:
            body = json.dumps({k.decode("utf-8", "replace"): v.decode("utf-8", "replace")
                               for k, v in fields.items()}).encode()
        return self._held.hold(body, entry_id, entry_id, key=self.stream, redelivered=redelivered)

    def ack(self, messages: Sequence[Message]) -> None:
        self._held.check_open()
        ids = self._held.take(messages)
        if ids:
            try:
                self._client.xack(self.stream, self.group, *ids)
            except Exception as exc:
                self._held.broken = _error(self.endpoint, "ack failed", exc)
                raise again(self._held.broken) from None

    def close(self) -> None:
        if self._held.closed:
            return
        self._held.closed = True
        held = list(self._held.items.values())
        self._held.items.clear()
        try:  # also after a lost connection: redis-py reconnects, and the entries are in Redis, not in the client
            if held:  # hand them back: make them idle so that the next reclaim takes them at once
                self._client.xclaim(self.stream, self.group, self.consumer, 0, held, idle=_RELEASED_IDLE_MS,
                                    justid=True)
            elif self._own_name and not self._client.xpending_range(self.stream, self.group, "-", "+", 1,
                                                                    consumername=self.consumer):
                self._client.xgroup_delconsumer(self.stream, self.group, self.consumer)
        except Exception:
            pass
        finally:
            self._client.close()


class RedisStreamSink:
    """Appends each payload as one entry (``XADD``) in a pipeline."""

    def __init__(self, url: str, **options: Any):
        self.endpoint, opts, db = parse(url, options)
        self.stream: str = opts["stream"]
        self._field = opts["field"].encode()
        self._maxlen = opts["maxlen"]
        self._closed = False
        self._broken: ConnectorError | None = None
        self._client = _connect(self.endpoint, opts, db)

    def publish(self, payloads: Sequence[bytes]) -> None:
        if self._closed:
            raise self.endpoint.error("the sink is closed")
        if self._broken is not None:
            raise again(self._broken)
        if not payloads:
            return
        try:
            pipe = self._client.pipeline(transaction=False)
            for payload in payloads:
                pipe.xadd(self.stream, {self._field: bytes(payload)}, maxlen=self._maxlen, approximate=True)
            pipe.execute()
        except Exception as exc:
            error = _error(self.endpoint, "publish failed", exc)
            if isinstance(error, ConnectorUnavailable):
                self._broken = error
            raise again(error) from None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()


class RedisStreamConnector(Connector):
    """``redis://host/0?stream=KEY``: a Redis Stream read through a consumer group."""

    source_class = RedisStreamSource
    sink_class = RedisStreamSink
