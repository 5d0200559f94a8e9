"""A real redis-server for the cluster tests: one per module on a free loopback port,
stopped afterwards. Each test gets its own key prefix (``app``), so tests sharing
the server never see each other's keys."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from rxgateway.tools.redis_server import RedisServer

_apps = itertools.count()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def app() -> str:
    """A key prefix no other test uses."""
    return f"t{os.getpid()}x{next(_apps)}"


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[object]:
    """A redis-py asyncio client of the module's server."""
    from rxgateway.cluster.redis_link import connect

    client = connect(redis_server.url)
    yield client
    await client.aclose()
