"""A ShardGroup against the emulator: merged and filtered streams, the group sender's
routing, and heartbeats that do not wait for slow handlers."""

from __future__ import annotations

import asyncio

from rxgateway import (
    Config,
    EventTypeFlags,
    RequestGuildMembers,
    ShardGroup,
    create_recommended,
    ops,
    shard_for_guild,
)
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.events import MessageCreate
from rxgateway.queue import InMemoryQueue

from .test_shard_emulator import (
    BUSY_HEARTBEAT_MS,
    IDENTIFY_WINDOW,
    INTENTS,
    assert_beats_kept_time,
    emulator,
    wait_until,
)


async def group_of_four(emu: GatewayEmulator) -> ShardGroup:
    config = Config(
        DEFAULT_TOKEN, INTENTS, gateway_url=emu.url, api_url=emu.api_url,
        queue=InMemoryQueue(identify_interval=IDENTIFY_WINDOW),
    )  # fmt: skip
    return await create_recommended(config)


async def test_four_shards_merged_and_filtered() -> None:
    async with emulator(shards=4, max_concurrency=4, guilds=16) as emu:
        group = await group_of_four(emu)
        messages: list[MessageCreate] = []
        group.pipe(ops.of_type(MessageCreate)).subscribe(messages.append)
        async with group:
            await group.ready(timeout=10)
            for shard in group:  # of_type pushed its flags down to every shard
                assert shard.demand == EventTypeFlags.MESSAGE_CREATE
            await emu.burst(800, mix="messages=1")
            await wait_until(lambda: len({m.shard.number for m in messages}) == 4 and len(messages) > 300, 10)
        assert all(isinstance(m, MessageCreate) for m in messages)
        for m in messages:  # each message came from the shard that owns its guild
            if m.guild_id is not None:
                assert shard_for_guild(m.guild_id, 4) == m.shard.number
        assert emu.violations == []


async def test_group_sender_routes_guild_commands_to_the_owning_shard() -> None:
    async with emulator(shards=4, max_concurrency=4, guilds=16) as emu:
        group = await group_of_four(emu)
        async with group:
            await group.ready(timeout=10)
            guilds = [g.id for g in emu.state.world.guilds]
            for n, guild in enumerate(guilds):
                group.sender.command(RequestGuildMembers(guild_id=guild, query="", limit=1, nonce=f"n{n}"))
            await wait_until(lambda: len(emu.record.commands) == len(guilds), 10)
        for command in emu.record.commands:
            assert command.op == 8
            assert command.shard is not None
            assert command.shard.number == shard_for_guild(int(command.data["guild_id"]), 4)
        assert emu.violations == []  # no WRONG_SHARD


async def test_slow_handlers_do_not_delay_heartbeats() -> None:
    interval = BUSY_HEARTBEAT_MS / 1000
    async with emulator(shards=1, guilds=4, heartbeat_interval_ms=BUSY_HEARTBEAT_MS) as emu:
        group = await group_of_four(emu)
        started: list[MessageCreate] = []
        finished: list[MessageCreate] = []
        never = asyncio.Event()

        async def stuck(event: MessageCreate) -> None:
            started.append(event)
            await never.wait()  # stuck until disposed: the beats must not wait for this
            finished.append(event)

        handlers = group.pipe(ops.of_type(MessageCreate), ops.spawn(stuck, max_concurrency=2)).subscribe()
        async with group:
            await group.ready(timeout=5)
            await emu.burst(200, mix="messages=1")
            await wait_until(lambda: len(started) == 2, 5)  # both handler slots are taken
            before = len(emu.record.connections[0].heartbeats)
            await asyncio.sleep(interval * 4)
            assert len(started) == 2 and finished == []  # stuck the whole time
        handlers.dispose()  # cancels the stuck handlers: no task outlives the test
        await asyncio.sleep(0)
        (conn,) = emu.record.connections  # every ACK was read in time: no zombie reconnect
        assert len(conn.heartbeats) - before >= 3  # four intervals while stuck, at least three beats
        assert_beats_kept_time(conn.heartbeats, interval)
        assert emu.violations == []
