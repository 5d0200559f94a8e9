"""A cancelled task never carries on inside a Redis call: redis-py 8 swallows about
half of the cancellations that reach a command in flight, so every client rxgateway
makes (``redis_link.connect``) passes them on; a cancelled identify wait spends
nothing more."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rxgateway.cluster.redis_link import connect
from rxgateway.tools.redis_server import RedisServer

pytestmark = pytest.mark.timeout(60)

TRIES = 300


@pytest.fixture(scope="module")
def server() -> Any:
    with RedisServer() as made:
        yield made


async def cancelled_yet_returned(call: Callable[[], Awaitable[Any]]) -> int:
    """How many of TRIES calls, cancelled while in flight, returned as if not."""
    rng = random.Random(7)
    returned = 0
    for i in range(TRIES):
        task = asyncio.ensure_future(call())
        if i % 2:
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(rng.random() * 0.0003)
        requested = task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            continue
        returned += requested
    return returned


async def test_a_cancelled_command_script_or_pipeline_raises_cancelled(server: RedisServer) -> None:
    redis = connect(server.url)
    script = redis.register_script("return redis.call('time')")
    try:
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "command": lambda: redis.get("k"),
            "script": lambda: script(keys=[], args=[]),
            "pipeline": lambda: redis.pipeline(transaction=True).get("k").set("j", 1).execute(),
        }
        for name, call in calls.items():
            assert await cancelled_yet_returned(call) == 0, f"a cancelled {name} returned normally"
    finally:
        await redis.aclose()


async def test_a_timeout_around_a_command_still_times_out(server: RedisServer) -> None:
    redis = connect(server.url)
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await redis.blpop(["never"], timeout=1)
        assert await redis.ping()
    finally:
        await redis.aclose()
