"""JetStreamBroker against a real nats-server -js (the module's ``nats_server``): dedup,
push-down by type, fan-out, work-sharing, redelivery, commands and their refusals,
limits, and secrets kept out of reprs and errors. No mocks; every wait is bounded."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest

nats = pytest.importorskip("nats")

from rxgateway.bus.broker import Broker, BusCommand, CommandDelivery, Delivery  # noqa: E402
from rxgateway.bus.bus_event import MAX_COMMAND_BYTES, BusEvent  # noqa: E402
from rxgateway.bus.nats_jetstream import (  # noqa: E402
    COMMAND_MAX_AGE,
    COMMAND_MAX_MSG_SIZE,
    JetStreamBroker,
    JetStreamCommands,
    JetStreamSubscription,
    redact_url,
)
from rxgateway.errors import BusError, CommandsNotSentError  # noqa: E402
from rxgateway.tools.nats_server import NatsServer  # noqa: E402
from rxgateway.tools.redis_server import free_port  # noqa: E402

#: Seconds any single wait in these tests may take (generous: a failure, not a timing).
WAIT = 10.0


def event(seq: int, name: str = "MESSAGE_CREATE", shard: int = 0, session: str = "sessA") -> BusEvent:
    payload = orjson.dumps({"t": name, "s": seq, "op": 0, "d": {"n": seq}})
    return BusEvent(shard, 4, session, seq, name, payload, 0, 1.5)


async def take(sub: AsyncIterator[Any], n: int, *, ack: bool = True) -> list[Any]:
    """The next ``n`` deliveries of ``sub`` (acknowledged unless told otherwise)."""
    got: list[Any] = []

    async def run() -> None:
        async for delivery in sub:
            got.append(delivery)
            if ack:
                await delivery.ack()
            if len(got) == n:
                return

    await asyncio.wait_for(run(), WAIT)
    return got


async def until(condition: Any, what: str) -> None:
    """Poll ``condition()`` (sync or async) until true, for at most WAIT seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


@pytest.fixture
async def broker(nats_server: NatsServer, app: str) -> AsyncIterator[JetStreamBroker]:
    b = JetStreamBroker(nats_server.url, app=app)
    yield b
    await b.aclose()


@pytest.fixture
async def raw(nats_server: NatsServer) -> AsyncIterator[Any]:
    """A plain client: stream info, and messages the broker would never publish."""
    nc = await nats.connect(nats_server.url)
    yield nc
    await nc.close()


# ------------------------------------------------------------------ publish


async def test_publish_counts_new_events_and_skips_a_resume_replay(broker: JetStreamBroker, raw: Any) -> None:
    assert isinstance(broker, Broker)
    assert await broker.publish([event(s) for s in range(1, 11)]) == 10
    # a resume replays 6..10, then goes on with 11..15
    assert await broker.publish([event(s) for s in range(6, 16)]) == 5
    assert await broker.publish([]) == 0
    info = await raw.jetstream().stream_info(broker.events_stream)
    assert info.state.messages == 15


async def test_streams_have_the_stated_limits(nats_server: NatsServer, app: str, raw: Any) -> None:
    from nats.js.api import DiscardPolicy, RetentionPolicy

    first = JetStreamBroker(
        nats_server.url, app=app, max_age=3600, max_bytes=8 << 20, max_msgs=5000, duplicate_window=120
    )
    await first.publish([event(1)])
    js = raw.jetstream()
    config = (await js.stream_info(f"{app}_EVENTS")).config
    assert config.subjects == [f"{app}.events.>"]
    assert (config.max_age, config.max_bytes, config.max_msgs, config.duplicate_window) == (3600, 8 << 20, 5000, 120)
    assert config.discard == DiscardPolicy.OLD and config.retention == RetentionPolicy.LIMITS
    commands = (await js.stream_info(f"{app}_COMMANDS")).config
    assert commands.subjects == [f"{app}.commands.>"]
    assert commands.retention == RetentionPolicy.WORK_QUEUE
    assert commands.max_age == COMMAND_MAX_AGE and commands.max_msg_size == COMMAND_MAX_MSG_SIZE
    await first.aclose()
    # a second broker with other limits: the stream follows (created idempotently, updated)
    second = JetStreamBroker(nats_server.url, app=app, max_age=7200)
    await second.publish([event(2)])
    assert (await js.stream_info(f"{app}_EVENTS")).config.max_age == 7200
    await second.aclose()
    with pytest.raises(BusError, match="closed"):
        await second.publish([event(3)])
    with pytest.raises(ValueError):
        JetStreamBroker(nats_server.url, app=app, max_age=60, duplicate_window=120)
    with pytest.raises(ValueError):
        JetStreamBroker(nats_server.url, app="my.app")


async def test_an_event_over_max_payload_is_skipped_with_an_error(
    broker: JetStreamBroker, caplog: pytest.LogCaptureFixture
) -> None:
    huge = BusEvent(0, 1, "s", 2, "GUILD_CREATE", b"x" * (2 << 20))
    with caplog.at_level(logging.ERROR, logger="rxgateway.bus"):
        assert await broker.publish([event(1), huge, event(3)]) == 2
    assert "max_payload" in caplog.text


# ------------------------------------------------------------------ subscribe


async def test_only_the_types_asked_for_cross_the_wire(broker: JetStreamBroker, raw: Any) -> None:
    sub = broker.subscribe({"MESSAGE_CREATE"}, group="mod", consumer="w1")
    await sub.start()
    mixed = []
    for seq in range(1, 41):
        mixed.append(event(seq, "MESSAGE_CREATE" if seq % 4 == 0 else "PRESENCE_UPDATE", shard=seq % 3))
    assert await broker.publish(mixed) == 40
    got = await take(sub, 10)
    assert [d.event.name for d in got] == ["MESSAGE_CREATE"] * 10
    assert [d.event.sequence for d in got] == list(range(4, 41, 4))
    assert got[0].event == mixed[3] and isinstance(got[0], Delivery) and not got[0].redelivered
    # the server's count of what it sent this consumer: the 10, none of the 30 others
    info = await sub.consumer_info()
    assert info.delivered.consumer_seq == 10
    assert info.num_pending == 0
    assert info.config.max_ack_pending == 1000  # the server's default, stated in the module docs
    filters = info.config.filter_subjects or [info.config.filter_subject]
    assert filters == [f"{broker.app}.events.MESSAGE_CREATE.*"]
    assert (await raw.jetstream().stream_info(broker.events_stream)).state.messages == 40
    await sub.aclose()


async def test_fan_out_every_subscriber_sees_everything(broker: JetStreamBroker, raw: Any) -> None:
    one = broker.subscribe(None, group=None, consumer="dash.host-1")
    two = broker.subscribe({"MESSAGE_CREATE", "GUILD_CREATE"}, group=None, consumer="dash.host-1")
    await one.start()
    await two.start()
    events = [event(s, "GUILD_CREATE" if s % 2 else "MESSAGE_CREATE") for s in range(1, 21)]
    await broker.publish(events)
    got_one = await take(one, 20)
    got_two = await take(two, 20)
    assert [d.event for d in got_one] == events
    assert [d.event for d in got_two] == events
    js = raw.jetstream()
    assert len(await js.consumers_info(broker.events_stream)) == 2
    await one.aclose()
    await two.aclose()
    # ephemeral consumers go with their subscription
    assert await js.consumers_info(broker.events_stream) == []


async def test_a_group_shares_the_work_without_overlap(nats_server: NatsServer, app: str) -> None:
    broker = JetStreamBroker(nats_server.url, app=app, fetch_batch=1)
    subs = [broker.subscribe(None, group="workers", consumer=f"w{i}") for i in (1, 2)]
    for sub in subs:
        await sub.start()
    seen: list[list[str]] = [[], []]

    async def work(i: int) -> None:
        async for delivery in subs[i]:
            seen[i].append(delivery.event.key)
            await asyncio.sleep(0.01)  # a handler that takes some time
            await delivery.ack()

    tasks = [asyncio.create_task(work(i)) for i in (0, 1)]
    events = [event(s, shard=s % 4) for s in range(1, 41)]
    await broker.publish(events)
    await until(lambda: len(seen[0]) + len(seen[1]) >= 40, "40 events handled")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert not set(seen[0]) & set(seen[1])
    assert sorted(seen[0] + seen[1]) == sorted(e.key for e in events)
    assert seen[0] and seen[1], "both members got a share"
    for sub in subs:
        await sub.aclose()
    await broker.aclose()


async def test_unacknowledged_events_go_to_another_member(nats_server: NatsServer, app: str) -> None:
    broker = JetStreamBroker(nats_server.url, app=app, ack_wait=1.0)
    crashed = broker.subscribe({"MESSAGE_CREATE"}, group="g", consumer="dies")
    await crashed.start()
    await broker.publish([event(s) for s in (1, 2, 3)])
    taken = await take(crashed, 3, ack=False)  # handlers started, never finished
    await crashed.aclose()  # the process goes away
    survivor = broker.subscribe({"MESSAGE_CREATE"}, group="g", consumer="lives")
    again = await take(survivor, 3)
    assert sorted(d.event.key for d in again) == sorted(d.event.key for d in taken)
    assert all(d.redelivered for d in again)
    await until(lambda: _ack_pending_is(survivor, 0), "the acks")
    await survivor.aclose()
    await broker.aclose()


async def _ack_pending_is(sub: JetStreamSubscription, n: int) -> bool:
    info = await sub.consumer_info()
    return bool(info.num_ack_pending == n)


async def test_retry_delivers_again(broker: JetStreamBroker) -> None:
    sub = broker.subscribe(None, group="g", consumer="c")
    await sub.start()
    await broker.publish([event(7)])
    (first,) = await take(sub, 1, ack=False)
    await first.retry()
    (second,) = await take(sub, 1)
    assert second.event.key == first.event.key and second.redelivered
    await until(lambda: _ack_pending_is(sub, 0), "the ack")
    await sub.aclose()


async def test_no_types_asks_nothing_of_the_server(broker: JetStreamBroker, raw: Any) -> None:
    sub = broker.subscribe(set(), group="g", consumer="errors-only")  # e.g. a Bus watching errors only
    await sub.start()
    waiting = asyncio.create_task(take(sub, 1))
    await broker.publish([event(1)])
    assert await raw.jetstream().consumers_info(broker.events_stream) == []
    await sub.aclose()
    await asyncio.wait_for(waiting, WAIT)  # ends with nothing
    assert waiting.result() == []


async def test_malformed_events_are_logged_and_never_yielded(
    broker: JetStreamBroker, raw: Any, caplog: pytest.LogCaptureFixture
) -> None:
    sub = broker.subscribe({"MESSAGE_CREATE"}, group=None, consumer="c")
    await sub.start()
    js = raw.jetstream()
    subject = broker.event_subject("MESSAGE_CREATE", 0)
    await js.publish(subject, b'{"secret":"no headers"}')
    liar = event(5, "PRESENCE_UPDATE")  # metadata of another type than its subject
    headers = {"Nats-Msg-Id": liar.key} | {f"Rxgw-{k}": v for k, v in liar.fields().items()}
    await js.publish(subject, liar.payload, headers=headers)
    await broker.publish([event(9)])
    with caplog.at_level(logging.ERROR, logger="rxgateway.bus"):
        (only,) = await take(sub, 1)
    assert only.event == event(9)
    assert caplog.text.count("malformed event") == 2
    assert "no headers" not in caplog.text
    await until(lambda: _ack_pending_is(sub, 0), "the malformed ones terminated")
    await sub.aclose()


async def test_subscribe_checks_its_arguments(broker: JetStreamBroker) -> None:
    with pytest.raises(ValueError):
        broker.subscribe({"message.create"}, group=None, consumer="c")
    with pytest.raises(ValueError):
        broker.subscribe(None, group="a.b", consumer="c")
    with pytest.raises(ValueError):
        broker.subscribe(None, group=None, consumer="")
    # one durable per group and set of types
    assert broker.group_consumer({"B", "A"}, "g") == broker.group_consumer(["A", "B"], "g")
    assert broker.group_consumer({"A"}, "g") != broker.group_consumer({"A", "B"}, "g")


# ------------------------------------------------------------------ commands


class Gateway:
    """The gateway side in a task: records commands, answers by a rule."""

    def __init__(self, broker: JetStreamBroker, answer: Any = None) -> None:
        self.commands = broker.serve_commands(group="gateway", consumer="gw-1")
        self.received: list[BusCommand] = []
        self.answer = answer or (lambda command: None)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> Gateway:
        await self.commands.start()
        self.task = asyncio.create_task(self.run())
        return self

    async def run(self) -> None:
        async for delivery in self.commands:
            assert isinstance(delivery, CommandDelivery)
            self.received.append(delivery.command)
            await delivery.answer(self.answer(delivery.command))

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.commands.aclose()


async def test_a_command_reaches_the_gateway_and_its_answer_comes_back(broker: JetStreamBroker) -> None:
    gateway = await Gateway(broker, lambda c: None if c.shard == 0 else f"shard {c.shard} is not held here").start()
    data = b'{"op":3,"d":{"status":"idle"}}'
    await broker.send_command(BusCommand("cmd-1", 0, data), timeout=WAIT)
    with pytest.raises(CommandsNotSentError, match="shard 5 is not held here") as refused:
        await broker.send_command(BusCommand("cmd-2", 5, data), timeout=WAIT)
    assert refused.value.payloads == (data,)
    assert gateway.received == [BusCommand("cmd-1", 0, data), BusCommand("cmd-2", 5, data)]
    # the same id again (a retry of a command that was sent) is refused by the stream
    with pytest.raises(CommandsNotSentError, match="sent already"):
        await broker.send_command(BusCommand("cmd-1", 0, data), timeout=WAIT)
    await gateway.stop()


async def test_no_answer_is_an_error_and_the_command_is_withdrawn(broker: JetStreamBroker, raw: Any) -> None:
    with pytest.raises(CommandsNotSentError, match="no answer"):
        await broker.send_command(BusCommand("lost", 0, b'{"op":3,"d":{}}'), timeout=0.5)
    # not left behind to be sent after its sender gave up
    assert (await raw.jetstream().stream_info(broker.commands_stream)).state.messages == 0


async def test_bad_commands_are_refused_with_a_logged_error_never_forwarded(
    broker: JetStreamBroker, raw: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = await Gateway(broker).start()
    js = raw.jetstream()
    inbox = raw.new_inbox()
    answers = await raw.subscribe(inbox)
    marker = "PRIVATE-CONTENT"
    oversized = orjson.dumps({"op": 3, "d": {"x": marker * 400}})
    assert MAX_COMMAND_BYTES < len(oversized) < COMMAND_MAX_MSG_SIZE
    bad = [
        (broker.command_subject(0), oversized, inbox),
        (broker.command_subject(0), f"not json {marker}".encode(), inbox),
        (broker.command_subject(0), b'{"op":"3","d":{}}', inbox),
        (broker.command_subject(0), b'{"op":3}', inbox),
        (broker.command_subject(0), b'{"op":2,"d":{"token":"x"}}', inbox),  # IDENTIFY: the shard's own
        (f"{broker.app}.commands.x", b'{"op":3,"d":{}}', inbox),
        # an answer aimed at the JetStream API (purge our events) is not sent
        (broker.command_subject(0), b'{"op":3,"d":{}}', f"$JS.API.STREAM.PURGE.{broker.events_stream}"),
        (broker.command_subject(0), b'{"op":3,"d":{}}', f"{broker.app}.events.READY.0"),
    ]
    await broker.publish([event(1)])
    with caplog.at_level(logging.ERROR, logger="rxgateway.bus"):
        for n, (subject, data, reply) in enumerate(bad):
            headers = {"Rxgw-Command-Id": f"bad-{n}", "Rxgw-Reply": reply}
            await js.publish(subject, data, headers=headers)
        good = BusCommand("good", 2, b'{"op":3,"d":{}}')
        await broker.send_command(good, timeout=WAIT)
    assert gateway.received == [good]
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == len(bad) and all(r.levelno == logging.ERROR for r in refusals)
    assert marker not in caplog.text
    assert f"{len(oversized)} bytes is over" in caplog.text
    # the senders with a plain inbox hear why
    why = [orjson.loads((await answers.next_msg(timeout=WAIT)).data) for _ in range(6)]
    assert [w["id"] for w in why] == [f"bad-{n}" for n in range(6)] and all(w["error"] for w in why)
    assert "op 2" in why[4]["error"]
    assert (await js.stream_info(broker.events_stream)).state.messages == 1
    # refused before sending, too
    with pytest.raises(CommandsNotSentError, match="over"):
        await broker.send_command(BusCommand("big", 0, oversized), timeout=WAIT)
    with pytest.raises(CommandsNotSentError, match="integer op"):
        await broker.send_command(BusCommand("bad", 0, b'{"d":1}'), timeout=WAIT)
    with pytest.raises(CommandsNotSentError, match="op 6"):
        await broker.send_command(BusCommand("resume", 0, b'{"op":6,"d":{}}'), timeout=WAIT)
    await gateway.stop()


async def test_one_group_serves_the_commands(broker: JetStreamBroker) -> None:
    first = broker.serve_commands(group="gateway", consumer="a")
    await first.start()
    other: JetStreamCommands = broker.serve_commands(group="others", consumer="b")
    with pytest.raises(BusError, match="another group"):
        await other.start()
    await first.aclose()


# ------------------------------------------------------------------ connection, secrets


@pytest.fixture(scope="module")
def guarded() -> Iterator[NatsServer]:
    with NatsServer(user="bus", password="pw-S3cret-42") as server:
        yield server


async def test_a_password_never_shows(guarded: NatsServer, app: str, caplog: pytest.LogCaptureFixture) -> None:
    secret = "pw-S3cret-42"
    assert secret in guarded.url
    broker = JetStreamBroker(guarded.url, app=app)
    assert secret not in repr(broker) and "bus:***@" in repr(broker)
    assert await broker.publish([event(1)]) == 1
    await broker.aclose()
    fail_fast = {"max_reconnect_attempts": 1, "reconnect_time_wait": 0.05, "connect_timeout": 1}
    wrong = JetStreamBroker(guarded.url.replace(secret, secret + "x"), app=app, connect_options=fail_fast)
    dead = JetStreamBroker(f"nats://bus:{secret}@127.0.0.1:{free_port()}", app=app, connect_options=fail_fast)
    with caplog.at_level(logging.DEBUG):
        for broker in (wrong, dead):
            with pytest.raises(BusError) as failed:
                await broker.publish([event(1)])
            assert secret not in str(failed.value) and "***" in str(failed.value)
            with pytest.raises(CommandsNotSentError) as not_sent:
                await broker.send_command(BusCommand("c", 0, b'{"op":3,"d":{}}'), timeout=1)
            assert secret not in str(not_sent.value)
            assert secret not in repr(broker)
            await broker.aclose()
    assert secret not in caplog.text


def test_redact_url() -> None:
    assert redact_url("nats://u:p%40ss@h:1") == "nats://u:***@h:1"
    assert redact_url("tls://token@h:1") == "tls://***@h:1"
    assert redact_url("nats://h:1") == "nats://h:1"


async def test_a_client_handed_in_stays_open(nats_server: NatsServer, app: str) -> None:
    nc = await nats.connect(nats_server.url)
    broker = JetStreamBroker(nc, app=app)
    assert await broker.publish([event(1)]) == 1
    await broker.aclose()
    assert nc.is_connected
    await nc.close()
