"""Redis Streams acks coalesced: the acks a group subscriber's deliveries issue in one
turn of the event loop go to Redis in one round trip (one XACK per stream), each
``ack()`` returns once it was sent, and closing the subscription (or the broker) sends
what is still gathered. A real redis-server; every wait bounded."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from rxgateway.bus import BusEvent, RedisStreamsBroker
from rxgateway.cluster.redis_link import connect
from rxgateway.errors import BusError
from rxgateway.tools.redis_server import RedisServer

WAIT = 10.0
GROUP = "acks"


def event(sequence: int, name: str = "MESSAGE_CREATE") -> BusEvent:
    payload = orjson.dumps({"t": name, "s": sequence, "op": 0, "d": {"n": sequence}})
    return BusEvent(0, 1, "sess", sequence, name, payload, published_at=1.5)


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Any]:
    client = connect(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
async def broker(redis_server: RedisServer, app: str) -> AsyncIterator[RedisStreamsBroker]:
    made = RedisStreamsBroker(redis_server.url, app=app, block=0.1)
    yield made
    await made.aclose()


async def pending(redis: Any, broker: RedisStreamsBroker, *names: str) -> int:
    counts = [await redis.xpending(broker.keys.events(name), GROUP) for name in names]
    return sum(int(c["pending"]) for c in counts)


async def take(subscription: Any, n: int) -> list[Any]:
    async with asyncio.timeout(WAIT):
        return [await anext(subscription) for _ in range(n)]


async def test_acks_issued_together_take_one_round_trip_one_xack_per_stream(
    broker: RedisStreamsBroker, redis: Any
) -> None:
    names = {"MESSAGE_CREATE", "MESSAGE_UPDATE"}
    subscription = broker.subscribe(names, group=GROUP, consumer="c1")
    await subscription.start()
    await broker.publish([event(n, "MESSAGE_CREATE" if n % 3 else "MESSAGE_UPDATE") for n in range(1, 31)])
    deliveries = await take(subscription, 30)
    assert await pending(redis, broker, *names) == 30
    await asyncio.gather(*(d.ack() for d in deliveries))  # 30 acks in one turn of the loop
    assert await pending(redis, broker, *names) == 0  # sent when every ack() returned
    assert subscription.counters["xacks"] == 1 and subscription.counters["acked"] == 30
    # an ack on its own is a round trip of its own; a second ack() of one delivery is nothing
    await broker.publish([event(31)])
    (last,) = await take(subscription, 1)
    await last.ack()
    await last.ack()
    assert subscription.counters["xacks"] == 2 and subscription.counters["acked"] == 31
    assert await pending(redis, broker, *names) == 0
    await subscription.aclose()


async def test_closing_sends_the_acks_gathered_and_a_cancelled_waiter_loses_none(
    broker: RedisStreamsBroker, redis: Any
) -> None:
    subscription = broker.subscribe({"READY"}, group=GROUP, consumer="c1")
    await subscription.start()
    await broker.publish([event(n, "READY") for n in range(1, 11)])
    deliveries = await take(subscription, 10)
    acks = [asyncio.create_task(d.ack()) for d in deliveries]
    await asyncio.sleep(0)  # every ack issued; their XACK not sent yet
    acks[0].cancel()  # a handler cancelled while it waits for its ack
    await subscription.aclose()
    assert await pending(redis, broker, "READY") == 0  # nothing lost with the close
    results = await asyncio.gather(*acks, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError) and results[1:] == [None] * 9
    assert subscription.counters["acked"] == 10


async def test_closing_the_broker_sends_the_acks_gathered(redis_server: RedisServer, app: str, redis: Any) -> None:
    broker = RedisStreamsBroker(redis_server.url, app=app, block=0.1)
    subscription = broker.subscribe({"READY"}, group=GROUP, consumer="c1")
    await subscription.start()
    await broker.publish([event(n, "READY") for n in range(1, 6)])
    deliveries = await take(subscription, 5)
    acks = [asyncio.create_task(d.ack()) for d in deliveries]
    await asyncio.sleep(0)
    await broker.aclose()  # closes its own client after the subscription sent its acks
    assert await asyncio.gather(*acks) == [None] * 5
    assert await pending(redis, broker, "READY") == 0


async def test_a_failed_xack_reaches_every_waiter_and_is_logged(
    redis_server: RedisServer, app: str, redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    broker = RedisStreamsBroker(redis_server.url, app=app, block=0.1)
    subscription = broker.subscribe({"READY"}, group=GROUP, consumer="c1")
    await subscription.start()
    await broker.publish([event(n, "READY") for n in range(1, 4)])
    deliveries = await take(subscription, 3)
    await subscription.aclose()
    # the stream replaced by a string (by hand): Redis refuses the XACK (WRONGTYPE)
    await redis.delete(broker.keys.events("READY"))
    await redis.set(broker.keys.events("READY"), "not a stream")
    with caplog.at_level(logging.WARNING, "rxgateway.bus.redis"):
        results = await asyncio.gather(*(d.ack() for d in deliveries), return_exceptions=True)
    assert all(isinstance(r, BusError) and "acking 3 entries failed" in str(r) for r in results), results
    assert "stay pending" in caplog.text and subscription.counters["acked"] == 0
    await redis.delete(broker.keys.events("READY"))
    await broker.aclose()
