"""The bus end to end, on each broker (NATS JetStream, Redis Streams): shards publish
what they receive, unparsed; consumers in other tasks or processes get the same typed
events exactly once, checked sequence by sequence for every session, through faults;
commands come back. The emulator's record is the judge of what was sent."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rxgateway import EventTypeFlags, ops
from rxgateway.bus import Bus, JetStreamBroker, RedisStreamsBroker
from rxgateway.emulator import Fault, GatewayEmulator
from rxgateway.events.base import Dispatch
from rxgateway.group import create_iterator
from rxgateway.machine.state import ShardState
from rxgateway.protocol.commands import RequestGuildMembers
from rxgateway.protocol.shard_id import shard_for_guild
from rxgateway.tools.nats_server import NatsServer
from rxgateway.tools.redis_server import RedisServer

from ..shard.test_shard_emulator import config_for, emulator, wait_until

pytestmark = pytest.mark.timeout(120)

SHARDS = 2


@pytest.fixture(params=["nats", "redis"])
async def broker(request: Any, nats_server: NatsServer, redis_server: RedisServer, app: str) -> AsyncIterator[Any]:
    made = JetStreamBroker(nats_server.url, app=app) if request.param == "nats" else RedisStreamsBroker(redis_server.url, app=app)
    yield made
    await made.aclose()


@pytest.fixture
async def buses() -> AsyncIterator[list[Bus]]:
    """Buses a test made, closed after it whatever happened (a failed test leaves no
    subscription running)."""
    made: list[Bus] = []
    yield made
    for bus in made:
        await asyncio.wait_for(bus.aclose(), 10)


async def test_every_dispatch_of_every_session_reaches_a_consumer_exactly_once_through_faults(
    broker: Any, buses: list[Bus]
) -> None:
    async with emulator(shards=SHARDS, max_concurrency=SHARDS, guilds=8, replay_buffer_length=None) as emu:
        group = create_iterator(range(SHARDS), SHARDS, config_for(emu))
        problems: list[Any] = []
        group.pipe(ops.publish(broker)).subscribe(problems.append)
        bus = Bus(broker)
        buses.append(bus)
        got: dict[tuple[int, int], list[str]] = defaultdict(list)  # (shard, seq) -> names
        keys: list[str] = []

        def on_event(event: Any) -> None:
            if isinstance(event, Dispatch):
                got[(event.shard.number, event.sequence)].append(event.name)

        bus.subscribe(on_event)
        await bus.started(timeout=20)  # READY and every GUILD_CREATE are published after this
        original = broker.publish

        async def spy(events: Any) -> int:
            keys.extend(e.key for e in events)
            return await original(events)

        broker.publish = spy
        async with group:
            await group.ready(timeout=20)
            emu.start_traffic(300.0)
            for fault in (Fault.reconnect(), Fault.drop(), Fault.reconnect()):
                await asyncio.sleep(0.8)
                emu.inject(fault, shard=0)
                emu.inject(fault, shard=1)
            await asyncio.sleep(0.8)
            emu.stop_traffic()
            await wait_until(lambda: all(s.state == ShardState.ACTIVE for s in group), 20)
            await asyncio.sleep(0.5)
            expected = {(s.shard.number, n) for s in emu.state.sessions for n in range(1, s.seq + 1)}
            await wait_until(lambda: set(got) >= expected, 30)
        await asyncio.sleep(0.3)
        await bus.aclose()
        assert set(got) == expected
        repeated = {k: v for k, v in got.items() if len(v) != 1}
        assert not repeated, f"delivered more than once: {list(repeated.items())[:5]}"
        assert len(keys) == len(set(keys))  # the machine drops what a resume repeats
        assert not problems
        assert len([i for i in emu.record.identifies() if i.accepted]) == SHARDS  # resumed, not new sessions
        assert sum(len(c.resumes) for c in emu.record.connections) >= 2 * SHARDS


async def test_a_message_create_consumer_receives_only_those(broker: Any, buses: list[Bus]) -> None:
    async with emulator(shards=1, max_concurrency=1, guilds=4) as emu:
        group = create_iterator(range(1), 1, config_for(emu))
        group.pipe(ops.publish(broker)).subscribe()
        everything, messages = Bus(broker), Bus(broker)
        buses += [everything, messages]
        all_names: list[str] = []
        message_names: list[str] = []
        everything.subscribe(lambda e: all_names.append(e.name) if isinstance(e, Dispatch) else None)
        messages.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(lambda e: message_names.append(e.name))
        await everything.started(timeout=20)
        await messages.started(timeout=20)
        async with group:
            await group.ready(timeout=20)
            await asyncio.sleep(0.3)
            await emu.burst(300, "messages=1,presences=2,typing=1")
            await wait_until(lambda: all_names.count("MESSAGE_CREATE") > 0 and len(all_names) >= 300, 20)
            await asyncio.sleep(0.5)
        sent_messages = all_names.count("MESSAGE_CREATE")
        assert sent_messages > 0 and len(set(all_names)) > 2
        assert message_names == ["MESSAGE_CREATE"] * sent_messages
        # What crossed the wire to the MESSAGE_CREATE consumer: only those.
        assert messages.stats["delivered"] == sent_messages
        await everything.aclose()
        await messages.aclose()


async def test_commands_from_the_bus_reach_the_guild_s_shard_and_failures_come_back(broker: Any, buses: list[Bus]) -> None:
    async with emulator(shards=SHARDS, max_concurrency=SHARDS, guilds=8) as emu:
        group = create_iterator(range(SHARDS), SHARDS, config_for(emu))
        group.pipe(ops.publish(broker)).subscribe()
        bus = Bus(broker, total=SHARDS)
        buses.append(bus)
        async with group:
            await group.ready(timeout=20)
            guild = emu.state.world.guilds[0].id
            await bus.sender.deliver(RequestGuildMembers(guild, query="a", limit=5))
            await emu.wait_for(lambda: any(c.data.get("guild_id") == str(guild) for c in emu.record.commands))
            (command,) = [c for c in emu.record.commands if c.data.get("guild_id") == str(guild)]
            assert command.shard is not None and command.shard.number == shard_for_guild(guild, SHARDS)
            group.shard(1).close()
            await group.shard(1).closed()
            from rxgateway.errors import CommandsNotSentError

            with pytest.raises(CommandsNotSentError, match="closed"):
                await bus.sender.send(1, {"op": 3, "d": {"since": None, "activities": [], "status": "online", "afk": False}})
        await bus.aclose()
        assert not emu.violations


@pytest.mark.parametrize("how", ["consume", "spawn"])
async def test_a_killed_consumer_s_events_go_to_the_rest_of_its_group(
    broker: Any, how: str, tmp_path: Any, nats_server: NatsServer, redis_server: RedisServer
) -> None:
    """Work-sharing: a consumer SIGKILLed mid-stream loses nothing; what it had not
    acknowledged is delivered to the other member of its group. An event it handled
    and had not yet acknowledged when it died may be handled twice (at most the one
    in its hands: concurrency 1). The victim handles either with ``Bus.consume`` or
    with a pipeline ending in ``ops.spawn`` (acknowledged when the task ended)."""
    import signal
    import sys
    from pathlib import Path

    kind = "nats" if isinstance(broker, JetStreamBroker) else "redis"
    url = nats_server.url if kind == "nats" else redis_server.url
    if kind == "nats":  # redeliver a dead consumer's events soon
        broker = JetStreamBroker(url, app=broker.app, ack_wait=2.0)
    else:
        broker = RedisStreamsBroker(url, app=broker.app, claim_idle=2.0)
    out = tmp_path / "victim.txt"
    script = Path(__file__).with_name("consumer_script.py")
    async with emulator(shards=SHARDS, max_concurrency=SHARDS, guilds=8) as emu:
        group = create_iterator(range(SHARDS), SHARDS, config_for(emu))
        group.pipe(ops.publish(broker)).subscribe()
        survivor = Bus(broker, group="workers", consumer="survivor")
        handled: list[tuple[int, int]] = []

        async def handle(event: Any) -> None:
            handled.append((event.shard.number, event.sequence))
            await asyncio.sleep(0.002)

        consuming = asyncio.create_task(survivor.consume(EventTypeFlags.MESSAGE_CREATE, handle))
        victim = await asyncio.create_subprocess_exec(sys.executable, str(script), kind, url, broker.app, "workers", str(out), how)
        published: list[tuple[int, int]] = []
        original = broker.publish

        async def spy(events: Any) -> int:
            published.extend((e.shard, e.sequence) for e in events if e.name == "MESSAGE_CREATE")
            return await original(events)

        broker.publish = spy
        try:
            async with group:
                await group.ready(timeout=20)
                await wait_until(lambda: out.exists(), 20)  # the victim is consuming
                emu.start_traffic(400.0)
                await wait_until(lambda: len(out.read_text().splitlines()) >= 20, 20)
                victim.send_signal(signal.SIGKILL)
                await victim.wait()
                await asyncio.sleep(1.0)
                emu.stop_traffic()
                victims = [tuple(map(int, line.split())) for line in out.read_text().splitlines()]
                await wait_until(lambda: set(handled) | set(victims) >= set(published), 40)
        finally:
            consuming.cancel()
            await asyncio.gather(consuming, return_exceptions=True)
            if victim.returncode is None:
                victim.kill()
                await victim.wait()
            await survivor.aclose()
            if broker is not None:
                await broker.aclose()
        assert len(published) == len(set(published)) and published
        assert len(handled) == len(set(handled)), "the survivor handled an event twice"
        # Handled and counted, but for the one handler (concurrency 1) that may have
        # been cancelled at the stop after it recorded its event.
        assert len(handled) - 1 <= survivor.stats["delivered"] <= len(handled)
        assert set(handled) | set(victims) == set(published)
        assert len(set(handled) & set(victims)) <= 1
        assert victims and handled
