"""Real brokers for the bus tests: a redis-server and a nats-server -js, one each per
module on free loopback ports, stopped afterwards; a key/subject prefix per test."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from rxgateway.tools.nats_server import NatsServer
from rxgateway.tools.redis_server import RedisServer

_apps = itertools.count()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="module")
def nats_server() -> Iterator[NatsServer]:
    with NatsServer() as server:
        yield server


@pytest.fixture
def app() -> str:
    """A prefix no other test uses (letters and digits: valid in subjects and keys)."""
    return f"t{os.getpid()}x{next(_apps)}"
