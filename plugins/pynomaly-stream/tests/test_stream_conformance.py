"""The four connectors through the core's connector checks, against the real brokers; registration stays light."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pytest
from stream_brokers import BROKERS, Proxy, free_port

from pynomaly_core.stream.contract import ConnectorUnavailable
from pynomaly_core.stream.select import open_sink, open_source
from pynomaly_core.testing import HEAVY_MODULES, check_registration_is_light
from pynomaly_core.testing.connector_checks import CONNECTOR_CHECKS, check_unreachable

CLIENTS = ("pika", "nats", "redis", "paho")


@pytest.mark.parametrize("check", CONNECTOR_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_connector_conformance(broker, check):
    check(broker.url())


def test_mqtt_311_conformance(mqtt):
    """MQTT 3.1.1 (clean_session=false) keeps the same contract."""
    from pynomaly_core.testing.connector_checks import check_ack_semantics, check_credit

    check_ack_semantics(mqtt.url(), options={"protocol": "3.1.1"})
    check_credit(mqtt.url(), options={"protocol": "3.1.1"})


UNREACHABLE = {
    "rabbitmq": "amqp://guest:s3cret-pw@127.0.0.1:{port}/q",
    "nats": "nats://user:s3cret-pw@127.0.0.1:{port}/q",
    "redis": "redis://:s3cret-pw@127.0.0.1:{port}/0?stream=q",
    "mqtt": "mqtt://user:s3cret-pw@127.0.0.1:{port}/q",
}


@pytest.mark.parametrize("kind", BROKERS)
def test_unreachable_broker(kind):
    check_unreachable(UNREACHABLE[kind].format(port=free_port()))


def test_registration_is_light():
    check_registration_is_light("stream")


def test_registration_imports_no_client():
    code = ("import json, sys\n"
            "from pynomaly_core.registry import Registry\n"
            "import pynomaly_stream.plugin as p\n"
            "r = Registry(); r.add_plugin(p, 'stream')\n"
            f"print(json.dumps(sorted(m for m in {CLIENTS + HEAVY_MODULES!r} if m in sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
    loading = ("import sys; from pynomaly_core.stream.select import select_connector; "
               "select_connector('mqtt://h/t', 'sink').load(); print('paho' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", loading], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"  # opening loads the client


def test_connectors_are_registered_with_every_option():
    from pynomaly_stream import options

    from pynomaly_core.registry import get_registry
    from pynomaly_core.stream.select import select_connector

    specs = {s.qualified_name: s for s in get_registry().connectors() if s.plugin == "stream"}
    assert sorted(specs) == ["stream.mqtt", "stream.nats", "stream.rabbitmq", "stream.redis"]
    tables = {"rabbitmq": options.AMQP, "nats": options.NATS, "redis": options.REDIS, "mqtt": options.MQTT}
    schemes = {"rabbitmq": "amqp", "nats": "nats", "redis": "redis", "mqtt": "mqtt"}
    for name, table in tables.items():
        spec = specs[f"stream.{name}"]
        assert dict(spec.params) == {k: o.default for k, o in table.items()}
        assert spec.schemes == (schemes[name],) and spec.roles == {"source", "sink"}
        assert select_connector(f"{schemes[name]}://127.0.0.1/x", "source") is spec


#: Options that make a broker give back what a dropped source held soon (and, for MQTT, the same session).
DROP_QUERY = {"rabbitmq": "", "nats": "ack_wait_s=1", "redis": "min_idle_ms=0&consumer=dropped", "mqtt": ""}


def test_connection_drop_is_unavailable_and_nothing_is_lost(broker):
    """A connection cut under a source and a sink: ConnectorUnavailable (one line, again on every call), close still
    works, and a new source gets what the dropped one held, flagged redelivered."""
    query = DROP_QUERY[broker.kind]
    if broker.kind == "mqtt":
        client_id = f"pyn-test-{uuid.uuid4().hex[:12]}"
        broker.client_ids.append(client_id)
        query = f"client_id={client_id}"
    name = broker.name()
    direct = broker.url(name, query=query)
    proxy = Proxy(broker.port)
    url = direct.replace(f":{broker.port}/", f":{proxy.port}/", 1)
    source, sink = open_source(url, credit=5), open_sink(url)
    try:
        sink.publish([b"1", b"2"])
        held = []
        deadline = time.monotonic() + 5
        while len(held) < 2 and time.monotonic() < deadline:
            held += source.receive(5, 0.2)
        assert [m.body for m in held] == [b"1", b"2"]
        proxy.cut()
        for call in (lambda: source.receive(5, 0.2), lambda: sink.publish([b"3"])):
            started = time.monotonic()
            with pytest.raises(ConnectorUnavailable) as info:
                while time.monotonic() - started < 5:
                    call()
                    time.sleep(0.05)
            assert "\n" not in str(info.value) and "127.0.0.1" in str(info.value)
        with pytest.raises(ConnectorUnavailable):
            source.receive(5, 0.0)
        with pytest.raises(ConnectorUnavailable):
            source.ack(held)
    finally:
        source.close()
        source.close()
        sink.close()
    again = open_source(direct, credit=5)
    try:
        back = []
        deadline = time.monotonic() + 8
        while len(back) < 2 and time.monotonic() < deadline:
            back += again.receive(5, 0.3)
        assert sorted(m.body for m in back) == [b"1", b"2"] and all(m.redelivered for m in back)
        again.ack(back)
    finally:
        again.close()
