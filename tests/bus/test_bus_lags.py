"""The bus's lags in the metrics, on each broker (a real nats-server -js and a real
redis-server): the publish lag a Publisher observes per event it published, with
duplicates and events the broker can never take counted apart; the consumer lag of a
group that falls behind by a known number of events and catches up, polled by
``Metrics.watch_bus``. Every wait is bounded; nothing asserts a duration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest

pytest.importorskip("prometheus_client")
pytest.importorskip("nats")

from rxgateway import EventTypeFlags  # noqa: E402
from rxgateway.bus import Bus, BusEvent, JetStreamBroker, Publisher, RedisStreamsBroker  # noqa: E402
from rxgateway.bus import redis_streams  # noqa: E402
from rxgateway.bus.broker import Published  # noqa: E402
from rxgateway.bus.redis_streams import _group_state  # noqa: E402
from rxgateway.errors import BusError  # noqa: E402
from rxgateway.machine.state import ShardState  # noqa: E402
from rxgateway.metrics import BusLagWatch, Metrics  # noqa: E402
from rxgateway.protocol.shard_id import ShardId  # noqa: E402
from rxgateway.shard import Shard  # noqa: E402
from rxgateway.tools.nats_server import NatsServer  # noqa: E402
from rxgateway.tools.redis_server import RedisServer, free_port  # noqa: E402

from ..shard.test_shard_emulator import config_for, emulator, wait_until  # noqa: E402

pytestmark = pytest.mark.timeout(60)

#: Bound on every wait; loopback answers in milliseconds.
WAIT = 10.0
GROUP = "lagging"


@pytest.fixture(params=["nats", "redis"])
async def broker(request: Any, nats_server: NatsServer, redis_server: RedisServer, app: str) -> AsyncIterator[Any]:
    if request.param == "nats":
        made: Any = JetStreamBroker(nats_server.url, app=app)
    else:
        made = RedisStreamsBroker(redis_server.url, app=app, block=0.1)
    yield made
    await made.aclose()


def event(sequence: int, name: str = "MESSAGE_CREATE") -> BusEvent:
    payload = orjson.dumps({"t": name, "s": sequence, "op": 0, "d": {"n": sequence}})
    return BusEvent(0, 1, "sess", sequence, name, payload, published_at=1.5)


def scraped(metrics: Metrics, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """The samples of ``name`` in the metrics' exposition, by labels."""
    from prometheus_client.parser import text_string_to_metric_families

    text = metrics.render()[0].decode()
    return {
        frozenset(s.labels.items()): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == name
    }


def lag_gauge(metrics: Metrics) -> dict[str, float]:
    return {dict(labels)["group"]: value for labels, value in scraped(metrics, "rxgateway_consumer_lag").items()}


async def until(condition: Callable[[], Any], what: str) -> None:
    """Await ``condition()`` (a coroutine function) until true, for at most WAIT seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


# ------------------------------------------------------------------- publish lag


async def test_the_publish_lag_is_observed_once_per_event_and_skipped_events_are_not_duplicates(
    broker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    async with emulator(shards=1, max_concurrency=1, guilds=2) as emu:
        shard = Shard(ShardId(0, 1), config_for(emu))
        first = Publisher(broker, metrics=metrics)
        again = Publisher(broker)  # the same shard twice: its events are duplicates at the broker
        first.attach(shard)
        again.attach(shard)
        await shard.start()
        try:
            await wait_until(lambda: shard.state == ShardState.ACTIVE, 20)
            await emu.burst(40, "messages=1,presences=1")
            # over the NATS server's max_payload (1 MB): NATS skips it (logged), Redis stores it
            emu.dispatch("GUILD_CREATE", {"id": "81384788765712384", "name": "huge", "pad": "x" * (1500 << 10)})
            queued = 1 + 2 + 40 + 1  # READY, two GUILD_CREATEs, the burst, the huge one
            await wait_until(lambda: first.stats["queued"] == queued and again.stats["queued"] == queued, 10)
            await first.flush()
            await again.flush()
        finally:
            shard.close()
            await asyncio.wait_for(shard.closed(), WAIT)
            await first.aclose()
            await again.aclose()
    skipped = 1 if isinstance(broker, JetStreamBroker) else 0
    assert first.stats["published"] + again.stats["published"] == queued - skipped
    assert first.stats["skipped"] == again.stats["skipped"] == skipped
    assert first.stats["duplicates"] + again.stats["duplicates"] == queued - skipped
    assert first.stats["dropped"] == again.stats["dropped"] == 0
    assert ("max_payload" in caplog.text) == bool(skipped)  # the broker said why
    # one observation per event the broker answered for, from the publisher given the metrics only
    assert metrics.publish_lag.count == queued
    count = scraped(metrics, "rxgateway_publish_lag_seconds_count")
    total = scraped(metrics, "rxgateway_publish_lag_seconds_sum")
    assert list(count.values()) == [queued] and 0 < next(iter(total.values())) < queued * WAIT
    metrics.close()


async def test_an_event_over_the_nats_max_payload_counts_as_skipped(nats_server: NatsServer, app: str) -> None:
    broker = JetStreamBroker(nats_server.url, app=app)
    try:
        huge = BusEvent(0, 1, "s", 9, "GUILD_CREATE", b"x" * (2 << 20))
        new = await broker.publish([event(1), huge, event(2, "bad name"), event(3)])
        assert isinstance(new, Published) and new == 2 and new.skipped == 2
        again = await broker.publish([event(1), event(3)])
        assert again == 0 and again.skipped == 0
    finally:
        await broker.aclose()


async def test_a_redis_event_with_an_invalid_name_counts_as_skipped(redis_server: RedisServer, app: str) -> None:
    broker = RedisStreamsBroker(redis_server.url, app=app)
    try:
        new = await broker.publish([event(1), event(2, "bad name"), event(1)])
        assert isinstance(new, Published) and new == 1 and new.skipped == 1
        assert (await broker.publish([event(3, "bad:name")])).skipped == 1
    finally:
        await broker.aclose()


# ------------------------------------------------------------------ consumer lag


async def test_a_group_behind_by_a_known_count_shows_it_then_catches_up_to_zero(broker: Any) -> None:
    metrics = Metrics()
    wanted = EventTypeFlags.MESSAGE_CREATE
    await make_group(broker, {"MESSAGE_CREATE"})
    watch = metrics.watch_bus(Bus(broker, group=GROUP), wanted, every=0.05)
    try:
        assert await watch.poll() == 0
        # 25 of the group's type, 10 of another type (not the group's business)
        await broker.publish([event(n) for n in range(1, 26)] + [event(n, "PRESENCE_UPDATE") for n in range(26, 36)])

        async def shows(n: int) -> bool:
            return watch.last == n and lag_gauge(metrics) == {GROUP: n}

        await until(lambda: shows(25), "a lag of 25")  # exact: nobody reads meanwhile
        # A member reads them all and acknowledges 5: 20 delivered, not acknowledged, still count.
        reader = broker.subscribe({"MESSAGE_CREATE"}, group=GROUP, consumer="reader")
        try:
            held = [await asyncio.wait_for(anext(reader), WAIT) for _ in range(25)]
            for delivery in held[:5]:
                await delivery.ack()
            await until(lambda: shows(20), "a lag of 20")
            for delivery in held[5:]:
                await delivery.ack()
            await until(lambda: shows(0), "the group caught up")
        finally:
            await reader.aclose()
        assert watch.running and watch.failures == 0
    finally:
        await watch.aclose()
    assert not watch.running and lag_gauge(metrics) == {}  # stopped: the series is gone
    metrics.close()


async def test_a_consuming_bus_catches_up_and_the_gauge_follows(broker: Any) -> None:
    metrics = Metrics()
    wanted = EventTypeFlags.MESSAGE_CREATE | EventTypeFlags.MESSAGE_UPDATE
    await make_group(broker, {"MESSAGE_CREATE", "MESSAGE_UPDATE"})
    await broker.publish([event(n, "MESSAGE_CREATE" if n % 2 else "MESSAGE_UPDATE") for n in range(1, 41)])
    watch = metrics.watch_bus(Bus(broker, group=GROUP), wanted, every=0.05)
    consumer = Bus(broker, group=GROUP)
    seen: list[int] = []
    try:
        await until(lambda: _is(watch.last, 40), "a lag of 40")
        consumer.subscribe_flags(_Collect(seen), wanted)
        await until(lambda: _is(len(seen), 40), "every event handled")
        await until(lambda: _is(lag_gauge(metrics), {GROUP: 0}), "a lag of 0")
    finally:
        await consumer.aclose()
        await watch.aclose()
        metrics.close()


async def test_the_redis_count_without_lag_goes_chunk_by_chunk(
    redis_server: RedisServer, app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis 6.2 has no ``lag``: the entries after the group's last delivered id are
    counted in chunks (a small chunk here, so that several runs are needed)."""
    monkeypatch.setattr(redis_streams, "LAG_CHUNK", 7)
    broker = RedisStreamsBroker(redis_server.url, app=app, block=0.1)
    try:
        await make_group(broker, {"READY", "RESUMED"})
        await broker.publish([event(n, "READY") for n in range(1, 31)] + [event(n, "RESUMED") for n in range(31, 45)])
        assert await broker.group_lag({"READY", "RESUMED"}, group=GROUP) == 44
        assert await broker.group_lag({"READY"}, group=GROUP) == 30
        assert await broker.group_lag(None, group=GROUP) == 44  # every type published
        assert await broker.group_lag({"READY"}, group="nobody") == 0  # no such group yet
        assert await broker.group_lag({"TYPING_START"}, group=GROUP) == 0  # never published
    finally:
        await broker.aclose()


def test_the_redis_7_lag_field_is_used_where_redis_gives_it() -> None:
    """Redis 7's ``XINFO GROUPS`` says ``lag`` (``nil`` when it cannot tell); the
    parse takes it, or says to count. (The redis-server the tests run is 6.2: this
    reads a reply of the form redis-py gives for 7.)"""
    groups = [
        {"name": b"other", "consumers": 1, "pending": 9, "last-delivered-id": b"9-0", "entries-read": 9, "lag": 0},
        {"name": b"g", "consumers": 2, "pending": 3, "last-delivered-id": b"7-1", "entries-read": 7, "lag": 5},
    ]
    assert _group_state(groups, "g") == (3, 5, "7-1")
    groups[1]["lag"] = None
    assert _group_state(groups, "g") == (3, None, "7-1")
    assert _group_state(groups, "missing") is None


async def test_a_failing_broker_removes_the_series_and_the_watch_goes_on(nats_server: NatsServer, app: str) -> None:
    metrics = Metrics()
    broker = JetStreamBroker(nats_server.url, app=app)
    bus = Bus(broker, group=GROUP)
    metrics.set_consumer_lag(GROUP, 7)  # a value from before
    await broker.aclose()  # every call fails from now on
    watch = metrics.watch_bus(bus, every=0.05)
    try:
        await until(lambda: _is(watch.failures >= 3, True), "three failed polls")
        assert watch.running and watch.last is None and lag_gauge(metrics) == {}
        assert await watch.poll() is None
    finally:
        metrics.close()  # stops the watch too
    await asyncio.sleep(0)
    assert not watch.running
    assert "stopped" in repr(watch)


async def test_watch_bus_needs_a_group_and_a_positive_period(broker: Any) -> None:
    metrics = Metrics()
    with pytest.raises(ValueError, match="group"):
        metrics.watch_bus(Bus(broker))
    with pytest.raises(ValueError, match="every"):
        BusLagWatch(metrics, broker, GROUP, None, every=0)
    metrics.close()


async def test_an_unreachable_redis_says_why_it_cannot_tell(app: str) -> None:
    broker = RedisStreamsBroker(f"redis://127.0.0.1:{free_port()}/0", app=app)  # nothing listens there
    try:
        with pytest.raises(BusError, match="lag of group"):
            await asyncio.wait_for(broker.group_lag({"READY"}, group=GROUP), WAIT)
    finally:
        await broker.aclose()


# ------------------------------------------------------------------------ helpers


async def make_group(broker: Any, names: set[str]) -> None:
    """The group exists for ``names`` (a member started), and no member reads now: a
    started subscription that never pulled (no pull request of it is left at the
    server to catch events for a gone reader)."""
    members = broker.subscribe(names, group=GROUP, consumer="starter")
    await members.start()
    await members.aclose()


async def _is(value: Any, expected: Any) -> bool:
    return bool(value == expected)


class _Collect:
    """An observer that notes each event's sequence."""

    def __init__(self, into: list[int]) -> None:
        self.into = into

    def on_next(self, value: Any) -> None:
        self.into.append(value.sequence)

    def on_error(self, error: Exception) -> None:
        raise AssertionError(f"the bus failed: {error!r}")

    def on_completed(self) -> None:
        pass
