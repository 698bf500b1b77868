"""NATS JetStream through nats-py (asyncio), bridged to the synchronous contract.

URL: ``nats://[user:password@ | token@]host[:port]/subject`` (port 4222; the subject may contain ``.`` and, for a
source, the wildcards ``*`` and ``>``).

**Stream**: the ``stream`` option, created with the subject when missing; without it the stream that already
captures the subject, else a new one named from the subject (``sensors.readings`` -> ``SENSORS_READINGS``, file
storage, default limits). ``create=false`` refuses to create one.

**Source**: a durable pull consumer (``durable``, default ``pynomaly_`` + the subject) with explicit acks,
``max_ack_pending=credit`` (the server never has more than ``credit`` messages out unacknowledged to it) and
``ack_wait=ack_wait_s``; an existing durable is updated to this credit. ``receive`` fetches at most the free credit;
:meth:`ack` acknowledges each message and waits for the server's confirmation (double ack), so an acknowledged
message is not delivered again. ``redelivered`` is ``num_delivered > 1`` from the message metadata. The durable
consumer remembers its position: a reopened source resumes after the last acknowledged message. :meth:`close`
releases (``nak``) what it holds unacknowledged, so it is redelivered at once; a process that dies releases
nothing, and the server redelivers after ``ack_wait_s``.

**Sink**: ``js.publish`` for each payload, in order, each awaiting the stream's publish ack (the message is stored
in the stream; replicated if the stream is).

nats-py is asyncio: each source or sink runs its own event loop in a daemon thread and the synchronous methods
submit coroutines to it with ``asyncio.run_coroutine_threadsafe``; :meth:`close` stops the loop and joins the
thread. The client does not reconnect by itself: a lost connection is a :class:`ConnectorUnavailable` and the source
or sink is finished (open a new one).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Coroutine, Sequence
from typing import Any
from urllib.parse import unquote

import nats as nats_client
import nats.errors as ne
import nats.js.errors as jse
from nats.js import api

from pynomaly_core.stream.contract import Connector, ConnectorError, Message
from pynomaly_stream import options as _options
from pynomaly_stream._common import Endpoint, Held, again, parse_options, parse_url, positive, redact

_NAME = re.compile(r"[^A-Za-z0-9_-]")


def default_stream(subject: str) -> str:
    """The stream created for ``subject`` when no stream captures it: ``sensors.readings`` -> ``SENSORS_READINGS``."""
    return _NAME.sub("_", subject).upper()


def default_durable(subject: str) -> str:
    """The durable consumer of ``subject`` when none is named: ``pynomaly_sensors_readings``."""
    return "pynomaly_" + _NAME.sub("_", subject)


def parse(url: str, given: dict[str, Any]) -> tuple[Endpoint, dict[str, Any], str]:
    endpoint = parse_url(url, ("nats",), 4222)
    if endpoint.username and endpoint.password is None:  # nats://TOKEN@host: the token is the secret
        endpoint.url = redact(url, user_is_secret=True)
        endpoint.secrets = (endpoint.username,)
    opts = parse_options(endpoint, _options.NATS, given)
    subject = unquote(endpoint.path)
    if not subject or "/" in subject or any(c.isspace() for c in subject):
        raise endpoint.error("expected nats://host[:port]/subject (a subject such as sensors.readings)")
    for name in ("connect_timeout_s", "request_timeout_s", "ack_wait_s"):
        positive(endpoint, name, opts[name])
    return endpoint, opts, subject


class _Loop:
    """One asyncio event loop in a daemon thread; ``run`` submits a coroutine and waits for its result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="pynomaly-nats", daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        if self.loop.is_closed():
            return

        async def cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(cancel_rest(), 5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


def _error(endpoint: Endpoint, doing: str, exc: BaseException) -> ConnectorError:
    if isinstance(exc, ConnectorError):
        return exc
    text = str(exc).lower()
    if "authorization violation" in text or "authentication" in text or isinstance(exc, ne.AuthorizationError):
        return endpoint.error(f"{doing}: authorization refused", exc)
    if isinstance(exc, jse.NoStreamResponseError):
        return endpoint.error(f"{doing}: no JetStream stream captures the subject", exc)
    if isinstance(exc, (jse.ServiceUnavailableError, jse.ServerError)):
        return endpoint.unavailable(f"{doing}: JetStream unavailable", exc)
    if isinstance(exc, jse.APIError):  # bad stream or consumer configuration, no JetStream enabled, ...
        return endpoint.error(f"{doing}: JetStream refused", exc)
    if isinstance(exc, ne.NoServersError | ne.ConnectionClosedError | ne.StaleConnectionError | ne.TimeoutError |
                  ne.OutboundBufferLimitError | ne.UnexpectedEOF | ne.NoRespondersError | OSError |
                  asyncio.TimeoutError | TimeoutError):
        return endpoint.unavailable(f"{doing}: server unreachable or connection lost", exc)
    return endpoint.error(doing, exc)


class _Client:
    """A connection and its JetStream context, on a private loop."""

    def __init__(self, endpoint: Endpoint, opts: dict[str, Any], subject: str):
        self.endpoint = endpoint
        self.subject = subject
        self.timeout = float(opts["request_timeout_s"])
        self.lost: ConnectorError | None = None
        self.closing = False
        self._loop = _Loop()
        self._lost_event: asyncio.Event | None = None  # set on the loop when the connection goes
        self.nc: Any = None
        try:
            self.run(self._connect(opts), float(opts["connect_timeout_s"]) + self.timeout, "cannot connect")
            self.js = self.nc.jetstream(timeout=self.timeout)
            self.stream = self.run(self._stream(opts["stream"], bool(opts["create"])), self.timeout,
                                   f"cannot open the stream of {subject!r}")
        except BaseException:
            self.close()
            raise

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float, doing: str) -> Any:
        if self.lost is not None:
            coroutine.close()
            raise again(self.lost)
        try:
            return self._loop.run(self._guarded(coroutine), timeout + 1.0)
        except ConnectorError:
            raise
        except Exception as exc:
            error = _error(self.endpoint, doing, exc)
            if self.nc is not None and (self.nc.is_closed or not self.nc.is_connected) and not self.closing:
                self.lost = self.endpoint.unavailable(f"{doing}: connection lost", exc)
                raise again(self.lost) from None
            raise error from None

    async def _guarded(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coroutine`` but stop waiting when the connection goes (nats-py leaves a pending request waiting
        for its timeout even after the connection closed)."""
        if self._lost_event is None:
            return await coroutine
        task = asyncio.ensure_future(coroutine)
        lost = asyncio.ensure_future(self._lost_event.wait())
        await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            lost.cancel()
            return task.result()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise again(self.lost or self.endpoint.unavailable("connection to the server lost"))

    async def _connect(self, opts: dict[str, Any]) -> None:
        endpoint = self.endpoint
        self._lost_event = asyncio.Event()
        kwargs: dict[str, Any] = {}
        if endpoint.username is not None and endpoint.password is not None:
            kwargs.update(user=endpoint.username, password=endpoint.password)
        elif endpoint.username:
            kwargs["token"] = endpoint.username

        async def quiet(*args: Any) -> None:  # nats-py logs every error by default
            return None

        async def disconnected() -> None:
            if not self.closing and self.lost is None:
                self.lost = endpoint.unavailable("connection to the server lost")
            if self._lost_event is not None:
                self._lost_event.set()

        self.nc = await nats_client.connect(
            # one attempt: with max_reconnect_attempts=0 nats-py retries the first connect for ever
            servers=[f"nats://{endpoint.host}:{endpoint.port}"], connect_timeout=float(opts["connect_timeout_s"]),
            allow_reconnect=False, max_reconnect_attempts=1, reconnect_time_wait=0, error_cb=quiet,
            disconnected_cb=disconnected, name="pynomaly-stream", **kwargs)

    async def _stream(self, name: str | None, create: bool) -> str:
        if name is None:
            try:
                return await self.js.find_stream_name_by_subject(self.subject)
            except jse.NotFoundError:
                name = default_stream(self.subject)
        try:
            await self.js.stream_info(name)
            return name
        except jse.NotFoundError:
            if not create:
                raise self.endpoint.error(f"JetStream stream {name!r} does not exist (create=false)") from None
        await self.js.add_stream(name=name, subjects=[self.subject])
        return name

    def close(self) -> None:
        self.closing = True
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                self._loop.run(self._close(), self.timeout + 1.0)
        self._loop.stop()

    async def _close(self) -> None:
        try:
            await self.nc.flush(timeout=self.timeout)
        finally:
            await self.nc.close()


class NatsSource:
    """Messages of a durable pull consumer; the token of a message is the message itself."""

    def __init__(self, url: str, *, credit: int, **options: Any):
        self.endpoint, opts, self.subject = parse(url, options)
        self._held = Held(self.endpoint, credit)
        self.credit = self._held.credit
        self.durable = opts["durable"] or default_durable(self.subject)
        self._ack_wait = float(opts["ack_wait_s"])
        self._client = _Client(self.endpoint, opts, self.subject)
        self.stream = self._client.stream
        try:
            self._sub = self._client.run(self._subscribe(), self._client.timeout,
                                         f"cannot create the durable consumer {self.durable!r}")
        except BaseException:
            self._client.close()
            raise

    async def _subscribe(self) -> Any:
        config = api.ConsumerConfig(name=self.durable, durable_name=self.durable, filter_subject=self.subject,
                                    ack_policy=api.AckPolicy.EXPLICIT, deliver_policy=api.DeliverPolicy.ALL,
                                    max_ack_pending=self.credit, ack_wait=self._ack_wait)
        js = self._client.js
        await js.add_consumer(self.stream, config=config)  # creates it, or updates the credit of an existing one
        return await js.pull_subscribe_bind(self.durable, stream=self.stream)

    def receive(self, max_messages: int, timeout_s: float) -> list[Message]:
        self._held.check_open()
        room = self._held.room(max_messages)
        if not room:
            return []
        wait = max(0.01, float(timeout_s))
        fetched = self._client.run(self._fetch(room, wait), wait + self._client.timeout, "receive failed")
        return [self._held.hold(m.data, m, id(m), key=m.subject, redelivered=m.metadata.num_delivered > 1)
                for m in fetched]

    async def _fetch(self, batch: int, wait: float) -> list[Any]:
        try:
            return await self._sub.fetch(batch, timeout=wait)
        except (ne.TimeoutError, asyncio.TimeoutError, jse.FetchTimeoutError):
            if self._client.lost is not None:
                raise again(self._client.lost) from None
            return []

    def ack(self, messages: Sequence[Message]) -> None:
        self._held.check_open()
        handles = self._held.take(messages)
        if handles:
            self._client.run(self._ack(handles), self._client.timeout, "ack failed")

    async def _ack(self, handles: list[Any]) -> None:
        results = await asyncio.gather(*(m.ack_sync(timeout=self._client.timeout) for m in handles),
                                       return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, ne.MsgAlreadyAckdError):
                raise result

    def close(self) -> None:
        if self._held.closed:
            return
        self._held.closed = True
        held = list(self._held.items.values())
        self._held.items.clear()
        if self._client.lost is None:
            with contextlib.suppress(ConnectorError):
                self._client.run(self._release(held), self._client.timeout, "close failed")
        self._client.close()

    async def _release(self, held: list[Any]) -> None:
        """Nak what is held and what came late into the subscription's queue, so it is redelivered at once."""
        pending = getattr(getattr(self._sub, "_sub", None), "_pending_queue", None)
        while pending is not None and not pending.empty():
            message = pending.get_nowait()
            if message.reply and message.reply.startswith("$JS.ACK."):
                held.append(message)
        for message in held:
            with contextlib.suppress(Exception):
                await message.nak()
        with contextlib.suppress(Exception):
            await self._sub.unsubscribe()


class NatsSink:
    """Publishes to the subject, each payload awaiting JetStream's publish ack."""

    def __init__(self, url: str, **options: Any):
        self.endpoint, opts, self.subject = parse(url, options)
        if any(token in ("*", ">") for token in self.subject.split(".")):
            raise self.endpoint.error("a sink needs a subject without wildcards")
        self._closed = False
        self._client = _Client(self.endpoint, opts, self.subject)
        self.stream = self._client.stream

    def publish(self, payloads: Sequence[bytes]) -> None:
        if self._closed:
            raise self.endpoint.error("the sink is closed")
        if payloads:
            self._client.run(self._publish([bytes(p) for p in payloads]),
                             self._client.timeout * max(1, len(payloads)), "publish failed")

    async def _publish(self, payloads: list[bytes]) -> None:
        for payload in payloads:
            await self._client.js.publish(self.subject, payload, stream=self.stream, timeout=self._client.timeout)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()


class NatsConnector(Connector):
    """``nats://host/subject``: a JetStream stream with a durable pull consumer."""

    source_class = NatsSource
    sink_class = NatsSink
