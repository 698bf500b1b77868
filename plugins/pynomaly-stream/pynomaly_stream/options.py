"""The options of each connector, with their defaults and types. Imports no client library: the plugin's specs
(``params``) are built from these tables, and the connectors parse their options with them.

An option comes as a keyword (``open_source(url, credit=..., options={...})``) or in the URL's query string
(``?durable=scorer``); a keyword wins over the query. Values from a query string (text) are converted to the
option's type; ``true``/``false``/``1``/``0``/``yes``/``no`` for booleans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Option:
    default: Any
    type: type
    help: str


AMQP: dict[str, Option] = {
    "queue": Option(None, str, "queue name when the URL path does not give one"),
    "exchange": Option("", str, "sink: exchange to publish to ('' = the default exchange, straight to the queue)"),
    "routing_key": Option(None, str, "sink: routing key (default: the queue name)"),
    "declare": Option(True, bool, "declare the durable queue (false: it must exist, checked passively)"),
    "heartbeat_s": Option(60, int, "AMQP heartbeat; call receive at least this often"),
    "connect_timeout_s": Option(5.0, float, "TCP connect and handshake timeout"),
}

NATS: dict[str, Option] = {
    "stream": Option(None, str, "JetStream stream (default: the stream that captures the subject, else one "
                                "named from the subject, created)"),
    "durable": Option(None, str, "durable pull consumer (default: pynomaly_ + the subject)"),
    "create": Option(True, bool, "create the stream when missing"),
    "ack_wait_s": Option(30.0, float, "redelivery delay of a message neither acknowledged nor released"),
    "connect_timeout_s": Option(5.0, float, "connect timeout"),
    "request_timeout_s": Option(10.0, float, "timeout of a JetStream API call, a publish or an ack"),
}

REDIS: dict[str, Option] = {
    "stream": Option(None, str, "stream key (required)"),
    "group": Option("pynomaly", str, "consumer group (created with MKSTREAM when missing)"),
    "consumer": Option(None, str, "consumer name in the group (default: unique per source)"),
    "field": Option("data", str, "entry field that holds the message body"),
    "start": Option("0", str, "where a new group starts: '0' = the whole stream, '$' = new entries only"),
    "min_idle_ms": Option(60000, int, "reclaim pending entries idle longer than this (XAUTOCLAIM)"),
    "reclaim_interval_s": Option(10.0, float, "how often a source looks for entries to reclaim"),
    "maxlen": Option(None, int, "sink: trim the stream to about this many entries (XADD MAXLEN ~)"),
    "connect_timeout_s": Option(5.0, float, "connect timeout"),
    "socket_timeout_s": Option(30.0, float, "timeout of one command (a blocking read waits less)"),
}

MQTT: dict[str, Option] = {
    "client_id": Option(None, str, "source: client id of the persistent session (default: derived from host, "
                                   "port and topic)"),
    "protocol": Option("5", str, "MQTT version: '5' (default) or '3.1.1'"),
    "session_expiry_s": Option(86400, int, "MQTT 5: how long the broker keeps the session after a disconnect"),
    "keepalive_s": Option(30, int, "keepalive interval"),
    "max_inflight": Option(20, int, "sink: QoS 1 publishes awaiting their PUBACK at once"),
    "connect_timeout_s": Option(5.0, float, "connect timeout"),
    "publish_timeout_s": Option(30.0, float, "sink: how long publish waits for the broker's acknowledgements"),
}


def defaults(table: dict[str, Option]) -> dict[str, Any]:
    """The ``params`` of a spec: each option with its default."""
    return {name: option.default for name, option in table.items()}
