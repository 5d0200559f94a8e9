"""Acknowledged after the handler, with ``ops.spawn`` and ``ops.route`` on a Bus, on
each broker: a handler that raises gets its event again (and handles it then), and a
consumer that stops mid-handler leaves the event to another member of its group."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from rxgateway import EventTypeFlags, ops
from rxgateway.bus import Bus, BusEvent, JetStreamBroker, RedisStreamsBroker
from rxgateway.events import MessageCreate
from rxgateway.tools.nats_server import NatsServer
from rxgateway.tools.redis_server import RedisServer

from ..shard.test_shard_emulator import wait_until

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["nats", "redis"])
async def broker(request: Any, nats_server: NatsServer, redis_server: RedisServer, app: str) -> AsyncIterator[Any]:
    """A broker that hands back unacknowledged events within about 2 s."""
    if request.param == "nats":
        made: Any = JetStreamBroker(nats_server.url, app=app, ack_wait=2.0)
    else:
        made = RedisStreamsBroker(redis_server.url, app=app, claim_idle=1.0)
    yield made
    await made.aclose()


def message(sequence: int) -> BusEvent:
    frame = orjson.dumps(
        {"t": "MESSAGE_CREATE", "s": sequence, "op": 0,
         "d": {"id": str(1000 + sequence), "channel_id": "7", "content": f"m{sequence}"}}
    )
    return BusEvent(0, 1, "session-a", sequence, "MESSAGE_CREATE", frame)


async def test_a_spawn_handler_that_raises_gets_its_event_again(broker: Any) -> None:
    bus = Bus(broker, group="workers", consumer="one")
    attempts: Counter[int] = Counter()
    handled: list[int] = []
    failures: list[Any] = []

    async def handler(event: MessageCreate) -> None:
        attempts[event.sequence or 0] += 1
        if attempts[event.sequence or 0] == 1:
            raise RuntimeError("first attempt fails")
        handled.append(event.sequence or 0)

    from reactivex.subject import Subject

    errors: Subject[Any] = Subject()
    errors.subscribe(failures.append)
    bus.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE), ops.spawn(handler, errors=errors)).subscribe()
    try:
        await bus.started(timeout=10)
        await broker.publish([message(s) for s in range(1, 6)])
        await wait_until(lambda: len(handled) == 5, 30)
    finally:
        await asyncio.wait_for(bus.aclose(), 10)
    assert sorted(handled) == [1, 2, 3, 4, 5]  # each handled once, on its second delivery
    assert all(attempts[s] == 2 for s in range(1, 6))
    assert bus.stats["failed_handlers"] == 5 and len(failures) == 5


async def test_a_consumer_stopped_mid_handler_leaves_the_event_to_its_group(broker: Any) -> None:
    first = Bus(broker, group="workers", consumer="first")
    second = Bus(broker, group="workers", consumer="second")
    started = asyncio.Event()
    never = asyncio.Event()
    taken_over: list[int] = []

    async def stuck(event: MessageCreate) -> None:
        started.set()
        await never.wait()  # the process "dies" here: never acknowledged

    async def finish(event: MessageCreate) -> None:
        taken_over.append(event.sequence or 0)

    routing = first.pipe(ops.route({MessageCreate: stuck}))
    try:
        await first.started(timeout=10)
        await broker.publish([message(1)])
        await asyncio.wait_for(started.wait(), 10)
        await first.aclose()  # stops reading; the handler still holds the event
        second.pipe(ops.route({MessageCreate: finish}))
        await second.started(timeout=10)
        await wait_until(lambda: taken_over == [1], 30)
    finally:
        await routing.aclose()
        await asyncio.wait_for(first.aclose(), 10)
        await asyncio.wait_for(second.aclose(), 10)
    assert first.stats["delivered"] == 1 and taken_over == [1]
