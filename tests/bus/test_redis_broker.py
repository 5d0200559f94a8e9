"""RedisStreamsBroker on a real redis-server: deduplicated publishing, types pushed
down to the streams read, fan-out and work-sharing, redelivery of what a dead
consumer left, poison entries, commands and their answers (refusals included),
bounded streams, a Redis restart, and a password that never shows."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
import pytest

from rxgateway.bus.broker import Broker, BusCommand, CommandDelivery, Delivery
from rxgateway.bus.bus_event import MAX_COMMAND_BYTES, BusEvent
from rxgateway.bus.redis_streams import RedisDelivery, RedisStreamsBroker, RedisSubscription, StreamKeys
from rxgateway.cluster.redis_link import connect
from rxgateway.errors import BusError, CommandsNotSentError
from rxgateway.tools.redis_server import RedisServer

#: Bound on every wait for something to arrive; loopback answers in milliseconds.
WAIT = 10.0
#: Short enough for the tests to see claims and type discovery in a fraction of a second.
BLOCK = 0.1
CLAIM_IDLE = 0.3

LOGGER = "rxgateway.bus.redis"


def event(sequence: int, name: str = "MESSAGE_CREATE", *, shard: int = 0, session: str = "sess") -> BusEvent:
    payload = orjson.dumps({"t": name, "s": sequence, "op": 0, "d": {"n": sequence}})
    return BusEvent(shard, 2, session, sequence, name, payload, published_at=1.5)


def mixed(count: int) -> list[BusEvent]:
    """``count`` events cycling MESSAGE_CREATE, PRESENCE_UPDATE, TYPING_START (keys unique)."""
    names = ("MESSAGE_CREATE", "PRESENCE_UPDATE", "TYPING_START")
    return [event(seq, names[seq % 3]) for seq in range(1, count + 1)]


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Any]:
    client = connect(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
async def broker(redis_server: RedisServer, app: str) -> AsyncIterator[RedisStreamsBroker]:
    broker = RedisStreamsBroker(redis_server.url, app=app, block=BLOCK, claim_idle=CLAIM_IDLE)
    yield broker
    await broker.aclose()


async def take(source: AsyncIterator[Any], count: int, *, ack: bool = True) -> list[Any]:
    """The next ``count`` items of ``source`` (acked), within :data:`WAIT`."""
    items: list[Any] = []
    async with asyncio.timeout(WAIT):
        while len(items) < count:
            item = await anext(source)
            if ack and isinstance(item, Delivery):
                await item.ack()
            items.append(item)
    return items


async def nothing_more(source: AsyncIterator[Any], seconds: float = 0.5) -> None:
    """``source`` yields nothing for ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            item = await anext(source)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected {item!r}")


def keys_of(deliveries: Iterable[Delivery]) -> list[str]:
    return [delivery.event.key for delivery in deliveries]


# -------------------------------------------------------------------- publishing


async def test_it_is_a_broker(broker: RedisStreamsBroker, app: str) -> None:
    assert isinstance(broker, Broker)
    assert broker.app == app
    subscription = broker.subscribe(None, group=None, consumer="c")
    assert isinstance(subscription, RedisSubscription)
    await subscription.aclose()


async def test_publish_stores_each_key_once_and_counts_the_new_ones(broker: RedisStreamsBroker, redis: Any) -> None:
    assert await broker.publish([event(seq) for seq in range(1, 101)]) == 100
    # A resume replays 60..100 and goes on to 130: only 101..130 are new.
    assert await broker.publish([event(seq) for seq in range(60, 131)]) == 30
    assert await broker.publish([]) == 0
    stream = broker.keys.events("MESSAGE_CREATE")
    assert await redis.xlen(stream) == 130
    assert broker.counters["published"] == 130 and broker.counters["duplicates"] == 41
    # Another session's sequence 1 is another dispatch; the dedup key expires with the window.
    assert await broker.publish([event(1, session="other")]) == 1
    ttl = await redis.pttl(broker.keys.dedup(event(1).key))
    assert 0 < ttl <= broker.dedup_window * 1000
    # The entry is the event's fields plus its payload.
    (_, fields), = await redis.xrange(stream, count=1)
    decoded = {k.decode(): v for k, v in fields.items()}
    assert decoded["payload"] == event(1).payload
    assert BusEvent.from_fields({k: v.decode() for k, v in decoded.items() if k != "payload"}, decoded["payload"]) == event(1)


async def test_a_large_batch_goes_in_chunks_in_one_pipeline(broker: RedisStreamsBroker, redis: Any) -> None:
    assert await broker.publish([event(seq) for seq in range(1, 1001)]) == 1000
    assert await broker.publish([event(seq) for seq in range(1, 1001)]) == 0
    assert await redis.xlen(broker.keys.events("MESSAGE_CREATE")) == 1000


async def test_an_event_with_an_invalid_type_name_is_skipped_and_logged(
    broker: RedisStreamsBroker, redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, LOGGER):
        assert await broker.publish([event(1), event(2, "not a type"), event(3)]) == 2
        assert await broker.publish([event(4, "bad:NAME")]) == 0
    assert await redis.xlen(broker.keys.events("MESSAGE_CREATE")) == 2
    assert len([r for r in caplog.records if "invalid type name" in r.getMessage()]) == 2
    assert {m.decode() for m in await redis.smembers(broker.keys.types)} == {"MESSAGE_CREATE"}


# -------------------------------------------------------------------- subscribing


async def test_only_the_wanted_types_cross_the_wire(broker: RedisStreamsBroker, redis_server: RedisServer) -> None:
    """A MESSAGE_CREATE subscriber (fan-out and group) reads only its stream: every
    XREAD/XREADGROUP the server saw names that stream and no other, and the entries
    read are exactly the MESSAGE_CREATEs."""
    monitor_client = connect(redis_server.url)
    seen: list[str] = []

    async def watch() -> None:
        async with monitor_client.monitor() as monitor:
            while True:
                seen.append((await monitor.next_command())["command"])

    watcher = asyncio.create_task(watch())
    fan_out = broker.subscribe({"MESSAGE_CREATE"}, group=None, consumer="fan")
    group = broker.subscribe({"MESSAGE_CREATE"}, group="mod", consumer="mod-1")
    try:
        await fan_out.start()
        await group.start()
        events = mixed(90)  # 30 of each type
        assert await broker.publish(events) == 90
        wanted = [e.key for e in events if e.name == "MESSAGE_CREATE"]
        assert keys_of(await take(fan_out, 30)) == wanted
        assert keys_of(await take(group, 30)) == wanted
        await nothing_more(fan_out, 0.3)
        assert fan_out.counters["read"] == 30 and group.counters["read"] == 30
        assert fan_out.streams == group.streams == (broker.keys.events("MESSAGE_CREATE"),)
    finally:
        await fan_out.aclose()
        await group.aclose()
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await monitor_client.aclose()
    reads = [command for command in seen if command.split()[0].upper() in ("XREAD", "XREADGROUP")]
    assert reads, "the monitor saw no read"
    for command in reads:
        assert "MESSAGE_CREATE" in command
        assert "PRESENCE_UPDATE" not in command and "TYPING_START" not in command


async def test_a_subscriber_to_every_type_finds_new_types(broker: RedisStreamsBroker) -> None:
    await broker.publish([event(1, "READY")])
    subscription = broker.subscribe(None, group=None, consumer="all")
    async with subscription:
        await broker.publish([event(2, "READY")])
        assert keys_of(await take(subscription, 1)) == [event(2).key]
        # A type nobody published before this subscriber started.
        await broker.publish([event(3, "GUILD_SOUNDBOARD_SOUND_CREATE"), event(4, "READY")])
        got = await take(subscription, 2)
        assert sorted(d.event.name for d in got) == ["GUILD_SOUNDBOARD_SOUND_CREATE", "READY"]
        assert len(subscription.streams) == 2


async def test_fan_out_every_subscriber_sees_everything(broker: RedisStreamsBroker) -> None:
    first = broker.subscribe({"MESSAGE_CREATE", "TYPING_START"}, group=None, consumer="a")
    second = broker.subscribe({"MESSAGE_CREATE", "TYPING_START"}, group=None, consumer="b")
    async with first, second:
        await broker.publish(mixed(60))
        expected = sorted(e.key for e in mixed(60) if e.name != "PRESENCE_UPDATE")
        assert sorted(keys_of(await take(first, 40))) == expected
        assert sorted(keys_of(await take(second, 40))) == expected
        # Nothing is pending for fan-out: ack does nothing, retry gives it back to this subscriber.
        await broker.publish([event(100)])
        (delivery,) = await take(first, 1, ack=False)
        await delivery.retry()
        (again,) = await take(first, 1)
        assert again.event == delivery.event and again.redelivered and again.deliveries == 2


async def test_a_group_shares_the_work_without_overlap_or_loss(broker: RedisStreamsBroker, redis: Any) -> None:
    handled: dict[str, list[str]] = {"w1": [], "w2": []}
    total = 60

    async def work(name: str) -> None:
        async for delivery in broker.subscribe({"MESSAGE_CREATE"}, group="workers", consumer=name):
            await asyncio.sleep(0.005)  # a handler that takes a moment
            handled[name].append(delivery.event.key)
            await delivery.ack()

    first = broker.subscribe({"MESSAGE_CREATE"}, group="workers", consumer="w0")
    await first.start()  # the group exists from here on
    await first.aclose()
    workers = [asyncio.create_task(work(name)) for name in handled]
    try:
        for start in range(1, total + 1, 10):
            await broker.publish([event(seq) for seq in range(start, start + 10)])
            await asyncio.sleep(0.02)
        async with asyncio.timeout(WAIT):
            while sum(map(len, handled.values())) < total:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # nothing arrives twice later either
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    everything = handled["w1"] + handled["w2"]
    assert sorted(everything) == sorted(event(seq).key for seq in range(1, total + 1))
    assert not set(handled["w1"]) & set(handled["w2"])
    assert handled["w1"] and handled["w2"], handled
    assert (await redis.xpending(broker.keys.events("MESSAGE_CREATE"), "workers"))["pending"] == 0


async def test_what_a_dead_consumer_held_goes_to_another_member(broker: RedisStreamsBroker, redis: Any) -> None:
    """A consumer killed mid-handler (its task cancelled, nothing acked) leaves its
    entries pending; another member of the group takes them after claim_idle."""
    stream = broker.keys.events("MESSAGE_CREATE")
    doomed = broker.subscribe({"MESSAGE_CREATE"}, group="g", consumer="doomed")
    await doomed.start()
    await broker.publish([event(seq) for seq in range(1, 11)])
    in_handler = asyncio.Event()

    async def die_mid_handler() -> None:
        async for _delivery in doomed:
            in_handler.set()
            await asyncio.sleep(3600)  # killed here, before its ack

    task = asyncio.create_task(die_mid_handler())
    async with asyncio.timeout(WAIT):
        await in_handler.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    pending = await redis.xpending(stream, "g")
    assert pending["pending"] == 10  # read (one yielded, nine read ahead), none acked

    survivor = broker.subscribe({"MESSAGE_CREATE"}, group="g", consumer="survivor")
    async with survivor:
        got = await take(survivor, 10)
        assert sorted(keys_of(got)) == sorted(event(seq).key for seq in range(1, 11))
        assert all(d.redelivered and d.deliveries == 2 for d in got)
        assert survivor.counters["claimed"] == 10 and survivor.counters["read"] == 0
    assert (await redis.xpending(stream, "g"))["pending"] == 0


async def test_a_closed_member_gives_its_read_ahead_back_at_once(
    redis_server: RedisServer, app: str, redis: Any
) -> None:
    broker = RedisStreamsBroker(redis_server.url, app=app, block=BLOCK, claim_idle=60.0)  # no waiting it out
    leaving = broker.subscribe({"MESSAGE_CREATE"}, group="g", consumer="leaving")
    try:
        await leaving.start()
        await broker.publish([event(seq) for seq in range(1, 11)])
        (first,) = await take(leaving, 1)  # the other nine were read ahead
        await leaving.aclose()
        staying = broker.subscribe({"MESSAGE_CREATE"}, group="g", consumer="staying")
        async with staying:
            rest = await take(staying, 9)  # its first claim pass, not 60 s later
        assert sorted(keys_of([first, *rest])) == sorted(event(seq).key for seq in range(1, 11))
        assert all(d.redelivered for d in rest)
    finally:
        await broker.aclose()


async def test_retry_goes_to_the_group_again_and_a_poison_entry_is_dead_lettered(
    redis_server: RedisServer, app: str, redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    broker = RedisStreamsBroker(redis_server.url, app=app, block=BLOCK, claim_idle=0.2, max_deliveries=3)
    subscription = broker.subscribe({"MESSAGE_CREATE"}, group="g", consumer="c")
    try:
        await subscription.start()
        await broker.publish([event(1), event(2)])
        deliveries: list[RedisDelivery] = []
        with caplog.at_level(logging.ERROR, LOGGER):
            async with asyncio.timeout(WAIT):
                while len(deliveries) < 4:
                    delivery = await anext(subscription)
                    deliveries.append(delivery)
                    if delivery.event.sequence == 1:
                        await delivery.retry()  # this one always fails
                    else:
                        await delivery.ack()
            await nothing_more(subscription, 1.0)  # the third retry buries it
        poison = [d for d in deliveries if d.event.sequence == 1]
        assert [(d.redelivered, d.deliveries) for d in poison] == [(False, 1), (True, 2), (True, 3)]
        assert subscription.counters["dead"] == 1
        ((_, fields),) = await redis.xrange(broker.keys.dead)
        assert fields[b"dead_id"].decode() == poison[0].entry_id
        assert fields[b"dead_deliveries"] == b"3" and fields[b"payload"] == event(1).payload
        assert any("delivered 3 times" in r.getMessage() for r in caplog.records)
        assert (await redis.xpending(broker.keys.events("MESSAGE_CREATE"), "g"))["pending"] == 0
    finally:
        await broker.aclose()


async def test_malformed_entries_are_logged_acked_and_skipped(
    broker: RedisStreamsBroker, redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stream = broker.keys.events("MESSAGE_CREATE")
    subscription = broker.subscribe({"MESSAGE_CREATE"}, group="g", consumer="c")
    async with subscription:
        good = event(7)
        await redis.xadd(stream, {"junk": "1"})  # no metadata, no payload
        await redis.xadd(stream, {**event(8).fields(), "shard": "x", "payload": b"{}"})
        await redis.xadd(stream, {**event(9, "PRESENCE_UPDATE").fields(), "payload": b"{}"})  # another type's
        await redis.xadd(stream, {**event(10).fields()})  # no payload
        with caplog.at_level(logging.ERROR, LOGGER):
            await broker.publish([good])
            (delivery,) = await take(subscription, 1)
        assert delivery.event == good
        assert subscription.counters["malformed"] == 4
        assert len([r for r in caplog.records if "malformed" in r.getMessage()]) == 4
    assert (await redis.xpending(stream, "g"))["pending"] == 0


async def test_a_new_group_starts_now_and_an_old_one_where_it_stands(broker: RedisStreamsBroker) -> None:
    await broker.publish([event(1)])  # before the group existed: not its business
    first = broker.subscribe({"MESSAGE_CREATE"}, group="late", consumer="a")
    async with first:
        await broker.publish([event(2)])
        assert keys_of(await take(first, 1)) == [event(2).key]
    await broker.publish([event(3)])  # while no member runs: kept for the group
    second = broker.subscribe({"MESSAGE_CREATE"}, group="late", consumer="b")
    async with second:
        assert keys_of(await take(second, 1)) == [event(3).key]


async def test_a_group_lost_with_a_redis_restart_is_created_again(
    redis_server: RedisServer, app: str, caplog: pytest.LogCaptureFixture
) -> None:
    broker = RedisStreamsBroker(redis_server.url, app=app, block=BLOCK, claim_idle=CLAIM_IDLE)
    subscription = broker.subscribe({"MESSAGE_CREATE"}, group="g", consumer="c")
    try:
        await subscription.start()
        await broker.publish([event(1)])
        assert keys_of(await take(subscription, 1)) == [event(1).key]
        reader = asyncio.create_task(take(subscription, 1))
        with caplog.at_level(logging.WARNING, LOGGER):
            redis_server.stop()
            await asyncio.sleep(0.3)
            redis_server.start()  # empty: no stream, no group, no script
            async with asyncio.timeout(WAIT):
                while True:
                    try:
                        await broker.publish([event(2)])
                        break
                    except BusError:
                        await asyncio.sleep(0.1)
            got = await reader
        assert keys_of(got) == [event(2).key]
        assert any("lost" in r.getMessage() for r in caplog.records)
    finally:
        await broker.aclose()


async def test_aclose_ends_a_blocked_iterator_at_once(redis_server: RedisServer, app: str) -> None:
    broker = RedisStreamsBroker(redis_server.url, app=app, block=30.0)  # a read blocks 30 s
    subscription = broker.subscribe({"MESSAGE_CREATE"}, group="g", consumer="c")
    commands = broker.serve_commands(group="gateway", consumer="c")

    async def drain(source: AsyncIterator[Any]) -> list[Any]:
        return [item async for item in source]

    readers = [asyncio.create_task(drain(subscription)), asyncio.create_task(drain(commands))]
    await asyncio.sleep(0.3)  # both are blocked in a read
    async with asyncio.timeout(2.0):  # generous; the reads themselves would take 30 s
        await broker.aclose()
        assert await asyncio.gather(*readers) == [[], []]
    assert subscription.closed and commands.closed
    # Cancelling an iterating task works too (a fresh broker: the first one is closed).
    broker = RedisStreamsBroker(redis_server.url, app=app, block=30.0)
    task = asyncio.create_task(drain(broker.subscribe(None, group=None, consumer="c")))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(2.0):
            await task
    await broker.aclose()


async def test_a_client_handed_in_stays_open(redis: Any, app: str) -> None:
    broker = RedisStreamsBroker(redis, app=app)
    assert await broker.publish([event(1)]) == 1
    await broker.aclose()
    assert await redis.ping()


# ----------------------------------------------------------------------- commands


async def serve(broker: RedisStreamsBroker, answer: Any, received: list[BusCommand]) -> None:
    async for delivery in broker.serve_commands(group="gateway", consumer="gw-1"):
        assert isinstance(delivery, CommandDelivery)
        received.append(delivery.command)
        await delivery.answer(answer(delivery.command))


PRESENCE = b'{"op":3,"d":{"since":null,"activities":[],"status":"idle","afk":false}}'


async def test_a_command_reaches_the_gateway_and_its_answer_comes_back(broker: RedisStreamsBroker, redis: Any) -> None:
    received: list[BusCommand] = []
    server = asyncio.create_task(serve(broker, lambda c: None if c.shard < 2 else f"shard {c.shard} is not held", received))
    try:
        await broker.send_command(BusCommand("cmd-1", 1, PRESENCE), timeout=WAIT)
        assert received == [BusCommand("cmd-1", 1, PRESENCE)]
        with pytest.raises(CommandsNotSentError, match="shard 7 is not held") as refused:
            await broker.send_command(BusCommand("cmd-2", 7, PRESENCE), timeout=WAIT)
        assert refused.value.payloads == (PRESENCE,)
        assert broker.counters["commands"] == 1
    finally:
        server.cancel()
        await asyncio.gather(server, return_exceptions=True)
    assert (await redis.xpending(broker.keys.commands, "gateway"))["pending"] == 0
    assert await redis.exists(broker.keys.answer("cmd-1"), broker.keys.answer("cmd-2")) == 0  # popped


async def test_no_answer_in_time_raises_and_the_late_command_is_refused_as_expired(
    broker: RedisStreamsBroker, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(CommandsNotSentError, match="no answer"):
        await broker.send_command(BusCommand("cmd-late", 0, PRESENCE), timeout=0.2)
    await asyncio.sleep(0.1)
    commands = broker.serve_commands(group="gateway", consumer="gw-1")
    with caplog.at_level(logging.ERROR, LOGGER):
        async with commands:  # a gateway that starts only now: never yields it
            await nothing_more(commands, 0.5)
    assert commands.counters["refused"] == 1
    assert any("expired" in r.getMessage() for r in caplog.records)


async def test_malformed_and_oversized_commands_are_refused_logged_and_never_yielded(
    broker: RedisStreamsBroker, redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    secret = b"SECRET-CONTENT"
    oversized = b'{"op":3,"d":"' + secret + b"x" * MAX_COMMAND_BYTES + b'"}'
    stream = broker.keys.commands
    bad: dict[str, dict[str, Any]] = {
        "big": {"id": "big", "shard": 0, "data": oversized},
        "notjson": {"id": "notjson", "shard": 0, "data": secret + b"{"},
        "noop": {"id": "noop", "shard": 0, "data": b'{"d":{}, "x":"' + secret + b'"}'},
        "boolop": {"id": "boolop", "shard": 0, "data": b'{"op":true,"d":{}}'},
        "nod": {"id": "nod", "shard": 0, "data": b'{"op":3}'},
        "identify": {"id": "identify", "shard": 0, "data": b'{"op":2,"d":{"token":"' + secret + b'"}}'},
        "resume": {"id": "resume", "shard": 0, "data": b'{"op":6,"d":{}}'},
        "array": {"id": "array", "shard": 0, "data": b"[3]"},
        "negative": {"id": "negative", "shard": -1, "data": PRESENCE},
        "noshard": {"id": "noshard", "data": PRESENCE},
        "nodata": {"id": "nodata", "shard": 0},
    }
    for fields in bad.values():
        await redis.xadd(stream, fields)
    await redis.xadd(stream, {"id": "bad id with spaces", "shard": 0, "data": PRESENCE})
    await redis.xadd(stream, {"shard": 0, "data": PRESENCE})
    await redis.xadd(stream, {"id": "good", "shard": 3, "data": PRESENCE, "ttl": 60_000})
    commands = broker.serve_commands(group="gateway", consumer="gw-1")
    with caplog.at_level(logging.ERROR, LOGGER):
        async with commands:
            (delivery,) = await take(commands, 1)
            await delivery.answer(None)
            await nothing_more(commands, 0.3)
    assert delivery.command == BusCommand("good", 3, PRESENCE)
    assert commands.counters["refused"] == len(bad) + 2
    refusals = [r.getMessage() for r in caplog.records if "refused command" in r.getMessage()]
    assert len(refusals) == len(bad) + 2
    assert not any("SECRET" in r.getMessage() for r in caplog.records)
    assert any(f"{len(oversized)} bytes" in message for message in refusals)
    # Each sender with a valid id got its reason back; nothing is left pending.
    for command_id in bad:
        _, answer = await redis.blpop([broker.keys.answer(command_id)], timeout=1)
        error = orjson.loads(answer)["error"]
        assert error.startswith("refused by the gateway") and "SECRET" not in error
    assert (await redis.xpending(stream, "gateway"))["pending"] == 0


async def test_a_sender_refuses_a_bad_command_without_sending_it(broker: RedisStreamsBroker, redis: Any) -> None:
    too_big = b'{"op":3,"d":"' + b"x" * MAX_COMMAND_BYTES + b'"}'
    for command, reason in [
        (BusCommand("c1", 0, too_big), "over the gateway's 4096-byte limit"),
        (BusCommand("c2", 0, b"not json"), "not JSON"),
        (BusCommand("c2b", 0, b'{"op":2,"d":{}}'), "op 2, which only the shard"),
        (BusCommand("c3", -1, PRESENCE), "shard"),
        (BusCommand("bad id", 0, PRESENCE), "command id"),
    ]:
        with pytest.raises(CommandsNotSentError, match=reason):
            await broker.send_command(command, timeout=1.0)
    assert await redis.exists(broker.keys.commands) == 0


# ------------------------------------------------------------------------- limits


async def test_maxlen_bounds_each_stream(redis_server: RedisServer, app: str, redis: Any) -> None:
    broker = RedisStreamsBroker(redis_server.url, app=app, maxlen=200)
    try:
        for start in range(1, 1001, 100):
            await broker.publish([event(seq) for seq in range(start, start + 100)])
        length = await redis.xlen(broker.keys.events("MESSAGE_CREATE"))
        # Approximate trimming keeps whole macro nodes (100 entries by default).
        assert 200 <= length <= 300, length
    finally:
        await broker.aclose()


async def test_max_age_bounds_each_stream(redis_server: RedisServer, app: str, redis: Any) -> None:
    broker = RedisStreamsBroker(redis_server.url, app=app, max_age=0.3)
    try:
        await broker.publish([event(seq) for seq in range(1, 151)])  # a full macro node and a half
        await asyncio.sleep(0.5)
        await broker.publish([event(151)])
        length = await redis.xlen(broker.keys.events("MESSAGE_CREATE"))
        assert length <= 51, length  # the node of entries all older than max_age is gone
    finally:
        await broker.aclose()


async def test_the_password_is_never_shown(app: str) -> None:
    password = "pw-Zq81-never-shown"
    with RedisServer(password=password) as server:
        good = RedisStreamsBroker(server.url, app=app, block=BLOCK)
        assert password not in repr(good) and "***" in repr(good)
        assert await good.publish([event(1)]) == 1
        await good.aclose()
        handed = connect(server.url)
        assert password not in repr(RedisStreamsBroker(handed, app=app))
        await handed.aclose()

        wrong = server.url.replace(password, password + "-wrong")
        bad = RedisStreamsBroker(wrong, app=app, block=BLOCK)
        with pytest.raises(BusError) as publish_error:
            await bad.publish([event(2)])
        with pytest.raises(BusError) as subscribe_error:
            await anext(bad.subscribe({"READY"}, group="g", consumer="c"))
        with pytest.raises(CommandsNotSentError) as command_error:
            await bad.send_command(BusCommand("c", 0, PRESENCE), timeout=0.5)
        await bad.aclose()
    for error in (publish_error.value, subscribe_error.value, command_error.value):
        assert password not in str(error) and password not in repr(error)
        assert "***" in str(error) or "redis://" in str(error)


#: The module docstring's ACL rule for a consumer (``{mybot}`` becomes the test's app).
READER_RULES = (
    "on >reader-pw ~{mybot}:events:* ~{mybot}:dead +ping +hello +time "
    "+multi +exec +smembers +xrevrange +xread +xreadgroup +xack +xclaim +xpending "
    "+xgroup|create +evalsha +script|exists +script|load +xadd"
)


async def test_a_reader_acl_user_consumes_but_can_neither_send_commands_nor_publish(
    broker: RedisStreamsBroker, redis_server: RedisServer, redis: Any, app: str
) -> None:
    user = f"reader-{app}"
    await redis.execute_command("ACL", "SETUSER", user, *READER_RULES.replace("mybot", app).split())
    reader = RedisStreamsBroker(
        f"redis://{user}:reader-pw@127.0.0.1:{redis_server.port}/0", app=app, block=BLOCK, claim_idle=0.2
    )
    try:
        fan_out = reader.subscribe({"READY"}, group=None, consumer="r")
        group = reader.subscribe({"READY"}, group="readers", consumer="r")
        async with fan_out, group:
            await broker.publish([event(1, "READY")])
            assert keys_of(await take(fan_out, 1)) == [event(1).key]
            (first,) = await take(group, 1, ack=False)
            await first.retry()  # the claim script runs as this user too
            (again,) = await take(group, 1)
            assert again.redelivered
        with pytest.raises(CommandsNotSentError, match="permission"):
            await reader.send_command(BusCommand("c", 0, PRESENCE), timeout=1.0)
        with pytest.raises(BusError, match="permission"):
            await reader.publish([event(2, "READY")])
        assert await redis.exists(broker.keys.commands) == 0
    finally:
        await reader.aclose()


def test_keys_and_arguments() -> None:
    keys = StreamKeys("mybot")
    assert keys.events("MESSAGE_CREATE") == "{mybot}:events:MESSAGE_CREATE"
    assert keys.commands == "{mybot}:commands" and keys.dead == "{mybot}:dead"
    with pytest.raises(ValueError):
        keys.events("message_create")
    with pytest.raises(ValueError):
        RedisStreamsBroker("redis://127.0.0.1:1/0", maxlen=0)
    with pytest.raises(ValueError):
        RedisStreamsBroker("http://127.0.0.1:1/0")
    broker = RedisStreamsBroker("redis://127.0.0.1:1/0")
    with pytest.raises(ValueError):
        broker.subscribe(set(), group=None, consumer="c")
    with pytest.raises(TypeError):
        broker.subscribe("MESSAGE_CREATE", group=None, consumer="c")
    with pytest.raises(ValueError):
        broker.subscribe({"READY"}, group="has space", consumer="c")
