"""MQTT through paho-mqtt 2.x, QoS 1.

URL: ``mqtt://[user[:password]@]host[:port]/topic/levels`` (port 1883). The topic is the URL path, URL-decoded; a
source may use the filter wildcards ``+`` and ``#`` (``#`` written ``%23``, or as the URL's last character).

**Source**: connects with a persistent session (MQTT 5: ``clean_start=false`` and ``session_expiry_s``; MQTT 3.1.1:
``clean_session=false``) under a stable ``client_id`` (default: derived from host, port and topic, so a restarted
source resumes its session), subscribes with QoS 1 and acknowledges by hand (``manual_ack=True``): a PUBACK is sent
only when the engine acknowledges the message, and in the order the messages arrived (as the MQTT specification
asks; one acknowledged out of order waits for those before it). MQTT 5 sends ``Receive Maximum = credit``, the most
unacknowledged QoS 1 messages the broker may have in flight to this client. ``redelivered`` is the PUBLISH's DUP
flag.

What the broker guarantees for QoS 1 is **at least once** between the broker and a session, with these limits:

* a message unacknowledged on a live connection is **not** resent on that connection (MQTT 5 forbids it, MQTT 3.1.1
  brokers do not); the broker resends it, with DUP set, only when the client **reconnects** to its session. Closing
  the source (or losing the connection) and opening it again is what makes them come back.
* messages are kept only for a session that has **subscribed**: nothing is stored for a topic before a source has
  subscribed to it once (a sink publishing earlier publishes into the void; MQTT is not a queue), and Mosquitto keeps
  at most ``max_queued_messages`` (default 1000) per session beyond those in flight, dropping the rest, also while
  the consumer is connected but slow; a session expires ``session_expiry_s`` after its client left.
* two sources with one ``client_id`` take the session from each other (the broker disconnects the older one): give
  each concurrent consumer its own ``client_id`` (MQTT 5 shared subscriptions, ``$share/group/topic``, spread a
  topic over several).
* Mosquitto 2.0.x does not keep to the Receive Maximum after a PUBACK (a PUBACK for the oldest in-flight message
  releases up to Receive Maximum queued messages at once; with MQTT 3.1.1 the broker's ``max_inflight_messages``,
  default 20, is the only limit anyway). The source therefore never hands out more than ``credit`` unacknowledged
  messages whatever the broker sends, and keeps the surplus, unacknowledged, in memory (at most what the broker
  queued for the session).

**Sink**: a clean session with a random client id (never the source's); each payload is published with QoS 1 and
``publish`` waits (``wait_for_publish``) until every PUBACK came (the broker has routed it to the sessions
subscribed; a PUBACK with an error reason code is a :class:`ConnectorError`). ``max_inflight`` bounds the
publishes awaiting their PUBACK.

The client does not reconnect by itself: a lost connection is a :class:`ConnectorUnavailable` and the source or sink
is finished (open a new one: the session brings back what was not acknowledged).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from pynomaly_core.stream.contract import Connector, ConnectorError, Message
from pynomaly_stream import options as _options
from pynomaly_stream._common import Endpoint, Held, again, describe, parse_options, parse_url, positive

#: CONNACK reason codes that are permanent refusals (paho reports the 3.1.1 return codes as these MQTT 5 codes).
_REFUSED = {0x80, 0x81, 0x82, 0x84, 0x85, 0x86, 0x87, 0x8A, 0x8C, 0x90, 0x95, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F}


def default_client_id(host: str, port: int, topic: str) -> str:
    """The stable client id of a source without ``client_id``: 23 characters (the MQTT 3.1.1 minimum a broker
    must accept)."""
    return "pynomaly-" + hashlib.sha1(f"{host}:{port}/{topic}".encode()).hexdigest()[:14]


def parse(url: str, given: dict[str, Any]) -> tuple[Endpoint, dict[str, Any], str]:
    endpoint = parse_url(url, ("mqtt",), 1883)
    if "#" in url and endpoint.fragment == "":  # 'mqtt://host/sensors/#': the filter's '#' read as a fragment
        topic = unquote(endpoint.path) + "#"
    elif endpoint.fragment:
        raise endpoint.error("write '#' in a topic filter as %23 when options follow")
    else:
        topic = unquote(endpoint.path)
    opts = parse_options(endpoint, _options.MQTT, given)
    if not topic:
        raise endpoint.error("expected mqtt://host[:port]/topic")
    if opts["protocol"] not in ("5", "3.1.1"):
        raise endpoint.error(f"option protocol must be '5' or '3.1.1', got {opts['protocol']!r}")
    for name in ("connect_timeout_s", "publish_timeout_s", "keepalive_s", "max_inflight"):
        positive(endpoint, name, opts[name])
    return endpoint, opts, topic


class _Client:
    """A paho client with its network thread; waits for CONNACK and records a lost connection."""

    def __init__(self, endpoint: Endpoint, opts: dict[str, Any], client_id: str, *, persistent: bool,
                 receive_maximum: int | None = None, on_message: Any = None, max_inflight: int | None = None,
                 changed: threading.Condition | None = None):
        self.endpoint = endpoint
        self.v5 = opts["protocol"] == "5"
        self.lost: ConnectorError | None = None
        self.closing = False
        self.changed = changed or threading.Condition()
        self._connack: Any = None
        self._subacks: dict[int, Any] = {}
        self.puback_failures: dict[int, Any] = {}
        kwargs: dict[str, Any] = {} if self.v5 else {"clean_session": not persistent}
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=paho.MQTTv5 if self.v5 else paho.MQTTv311, reconnect_on_failure=False,
                                  manual_ack=on_message is not None, **kwargs)
        if endpoint.username is not None:
            self.client.username_pw_set(endpoint.username, endpoint.password)
        self.client.connect_timeout = float(opts["connect_timeout_s"])
        if max_inflight is not None:
            self.client.max_inflight_messages_set(max_inflight)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        if on_message is not None:
            self.client.on_message = on_message
        properties = None
        connect: dict[str, Any] = {}
        if self.v5:
            properties = Properties(PacketTypes.CONNECT)
            if persistent:
                properties.SessionExpiryInterval = int(opts["session_expiry_s"])
            if receive_maximum is not None:
                properties.ReceiveMaximum = max(1, min(65535, receive_maximum))
            connect = {"clean_start": not persistent, "properties": properties}
        timeout = float(opts["connect_timeout_s"])
        try:
            self.client.connect(endpoint.host, endpoint.port, keepalive=int(opts["keepalive_s"]), **connect)
        except Exception as exc:
            raise endpoint.unavailable("cannot connect: broker unreachable", exc) from None
        self.client.loop_start()
        with self.changed:
            self.changed.wait_for(lambda: self._connack is not None or self.lost is not None, timeout)
        if self._connack is None:
            self.stop()
            raise again(self.lost) if self.lost else endpoint.unavailable("cannot connect: no CONNACK in time")
        code = self._connack
        if code.is_failure if hasattr(code, "is_failure") else code != 0:
            self.stop()
            value = getattr(code, "value", code)
            if value in _REFUSED:
                raise endpoint.error(f"the broker refused the connection ({code})")
            raise endpoint.unavailable(f"the broker refused the connection for now ({code})")

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        with self.changed:
            self._connack = reason
            self.changed.notify_all()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        with self.changed:
            if not self.closing and self.lost is None:
                self.lost = self.endpoint.unavailable(f"connection to the broker lost ({reason})")
            self.changed.notify_all()

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        with self.changed:
            self._subacks[mid] = reasons
            self.changed.notify_all()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            with self.changed:
                self.puback_failures[mid] = reason

    def subscribe(self, topic: str, timeout: float) -> None:
        try:
            result, mid = self.client.subscribe(topic, qos=1)
        except ValueError as exc:
            raise self.endpoint.error(f"invalid topic filter {topic!r}", exc) from None
        if result != paho.MQTT_ERR_SUCCESS:
            raise self.endpoint.unavailable(f"cannot subscribe ({paho.error_string(result)})")
        with self.changed:
            self.changed.wait_for(lambda: mid in self._subacks or self.lost is not None, timeout)
        if self.lost is not None:
            raise again(self.lost)
        reasons = self._subacks.get(mid)
        if reasons is None:
            raise self.endpoint.unavailable("cannot subscribe: no SUBACK in time")
        granted = reasons[0]
        if getattr(granted, "is_failure", False) or getattr(granted, "value", granted) not in (1, 2):
            raise self.endpoint.error(f"the broker refused a QoS 1 subscription to {topic!r} ({granted})")

    def stop(self) -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            self.client.disconnect()
        with contextlib.suppress(Exception):
            self.client.loop_stop()


class MqttSource:
    """QoS 1 messages of a persistent session; the token of a message is its packet id."""

    def __init__(self, url: str, *, credit: int, **options: Any):
        self.endpoint, opts, self.topic = parse(url, options)
        self._held = Held(self.endpoint, credit)
        self.credit = self._held.credit
        self.client_id = opts["client_id"] or default_client_id(self.endpoint.host, self.endpoint.port, self.topic)
        self._buffer: deque[Any] = deque()  # arrived, not handed out yet
        self._arrived: OrderedDict[int, list[Any]] = OrderedDict()  # handed out, in arrival order: [mid, acked]
        self._serials = itertools.count(1)
        self._changed = threading.Condition()  # messages may arrive before the constructor of the client returns
        self._client = _Client(self.endpoint, opts, self.client_id, persistent=True, receive_maximum=self.credit,
                               on_message=self._on_message, changed=self._changed)
        try:
            self._client.subscribe(self.topic, float(opts["connect_timeout_s"]))
        except BaseException:
            self._client.stop()
            raise

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self._changed:
            self._buffer.append(message)
            self._changed.notify_all()

    def receive(self, max_messages: int, timeout_s: float) -> list[Message]:
        self._held.check_open()
        changed = self._client.changed
        with changed:
            room = self._held.room(max_messages)
            if room:
                changed.wait_for(lambda: self._buffer or self._client.lost is not None, max(0.0, timeout_s))
            if self._client.lost is not None:
                self._held.broken = self._client.lost
                raise again(self._held.broken)
            messages = []
            for _ in range(min(room, len(self._buffer))):
                message = self._buffer.popleft()
                serial = next(self._serials)
                self._arrived[serial] = [message.mid, False]
                messages.append(self._held.hold(message.payload, serial, serial, key=message.topic,
                                                redelivered=bool(message.dup)))
            return messages

    def ack(self, messages: Sequence[Message]) -> None:
        self._held.check_open()
        with self._client.changed:
            for serial in self._held.take(messages):
                self._arrived[serial][1] = True
            try:  # PUBACKs in the order the messages arrived
                while self._arrived and next(iter(self._arrived.values()))[1]:
                    _, (mid, _) = self._arrived.popitem(last=False)
                    result = self._client.client.ack(mid, 1)
                    if result not in (None, paho.MQTT_ERR_SUCCESS):
                        raise RuntimeError(paho.error_string(result))
            except Exception as exc:
                self._held.broken = self._client.lost or self.endpoint.unavailable("ack failed", exc)
                raise again(self._held.broken) from None

    def close(self) -> None:
        if not self._held.closed:
            self._held.closed = True
            self._client.stop()  # what is not acknowledged stays in the session: the broker resends it


class MqttSink:
    """Publishes QoS 1 and waits for the PUBACKs."""

    def __init__(self, url: str, **options: Any):
        self.endpoint, opts, self.topic = parse(url, options)
        if "+" in self.topic or "#" in self.topic:
            raise self.endpoint.error("a sink needs a topic without wildcards")
        self._timeout = float(opts["publish_timeout_s"])
        self._closed = False
        self._client = _Client(self.endpoint, opts, "", persistent=False, max_inflight=int(opts["max_inflight"]))

    def publish(self, payloads: Sequence[bytes]) -> None:
        if self._closed:
            raise self.endpoint.error("the sink is closed")
        if self._client.lost is not None:
            raise again(self._client.lost)
        deadline = time.monotonic() + self._timeout
        try:
            infos = [self._client.client.publish(self.topic, bytes(p), qos=1) for p in payloads]
            for info in infos:
                while not info.is_published():
                    if self._client.lost is not None:
                        raise again(self._client.lost)
                    if time.monotonic() >= deadline:
                        raise self.endpoint.unavailable(f"publish: no PUBACK within {self._timeout:g} s")
                    info.wait_for_publish(min(0.2, max(0.01, deadline - time.monotonic())))
        except ConnectorError:
            raise
        except Exception as exc:  # paho: not queued, or the connection is gone
            raise self._client.lost or self.endpoint.unavailable("publish failed", exc) from None
        failed = [self._client.puback_failures.pop(info.mid) for info in infos
                  if info.mid in self._client.puback_failures]
        if failed:
            raise self.endpoint.error(f"the broker refused {len(failed)} message(s) ({describe(failed[0])})")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.stop()


class MqttConnector(Connector):
    """``mqtt://host/topic``: QoS 1 with a persistent session."""

    source_class = MqttSource
    sink_class = MqttSink
