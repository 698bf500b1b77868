"""Brokers for the tests: each test gets fresh queue/subject/stream/topic names and everything it created is removed
afterwards. A broker that is not reachable skips its tests (set PYNOMALY_TEST_BROKER_HOST to use another host)."""

from __future__ import annotations

import pytest
from stream_brokers import BROKERS, HOST, NAMES, PORTS, Broker, reachable


def _broker(kind: str):
    if not reachable(kind):
        pytest.skip(f"{NAMES[kind]} is not reachable at {HOST}:{PORTS[kind]}")
    broker = Broker(kind)
    yield broker
    broker.cleanup()


@pytest.fixture(params=BROKERS)
def broker(request):
    """Each of the four brokers in turn."""
    yield from _broker(request.param)


@pytest.fixture
def rabbitmq():
    yield from _broker("rabbitmq")


@pytest.fixture
def jetstream():
    yield from _broker("nats")


@pytest.fixture
def redis_broker():
    yield from _broker("redis")


@pytest.fixture
def mqtt():
    yield from _broker("mqtt")
