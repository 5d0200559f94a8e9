"""A member as users see it, two members in one event loop on a real Redis and the
emulator: events of whatever shards it holds (flags pushed down), states, and
commands routed to the member that holds the guild's shard."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rxgateway import Config, EventTypeFlags, Intents
from rxgateway.cluster.member import Member
from rxgateway.cluster.redis_queue import RedisQueue
from rxgateway.emulator import GatewayEmulator
from rxgateway.emulator.settings import DEFAULT_TOKEN
from rxgateway.errors import CommandsNotSentError
from rxgateway.events.base import GatewayErrorEvent
from rxgateway.machine.state import ShardState
from rxgateway.ops import on
from rxgateway.protocol.commands import RequestGuildMembers
from rxgateway.protocol.shard_id import shard_for_guild
from rxgateway.tools.redis_server import RedisServer

from .harness import IDENTIFY_MARGIN, IDENTIFY_WINDOW

pytestmark = pytest.mark.timeout(120)

TOTAL = 4
TTL = 3.0


#: Queues handed to members by this module's tests: the caller's to close.
_queues: list[Any] = []


@pytest.fixture(autouse=True)
async def _close_queues() -> Any:
    yield
    while _queues:
        await _queues.pop().aclose()


def member(emu: GatewayEmulator, url: str, app: str, name: str, ttl: float = TTL) -> Member:
    queue = RedisQueue(url, app=app, identify_interval=IDENTIFY_WINDOW, margin=IDENTIFY_MARGIN)
    _queues.append(queue)  # the member closes only what it made
    config = Config(
        DEFAULT_TOKEN, Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT,
        gateway_url=emu.url, api_url=emu.api_url, queue=queue,
    )
    return Member(config, url, total=TOTAL, app=app, member_id=name, lease_ttl=ttl)


async def wait_until(predicate: Any, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def settled(*members: Member) -> bool:
    held = sorted(n for m in members for n in m.shards)
    active = all(s.state == ShardState.ACTIVE for m in members for s in m.shards.values())
    return held == list(range(TOTAL)) and active and all(len(m.shards) == TOTAL // len(members) for m in members)


@pytest.fixture
async def emu() -> Any:
    async with GatewayEmulator(
        shards=TOTAL, max_concurrency=2, identify_window_s=IDENTIFY_WINDOW, heartbeat_interval_ms=1000, guilds=16
    ) as emulator:
        yield emulator


async def test_a_member_delivers_the_events_of_the_shards_it_holds_with_flags_pushed_down(
    emu: GatewayEmulator, redis_server: RedisServer, app: str
) -> None:
    a = member(emu, redis_server.url, app, "a")
    messages: list[Any] = []
    a.pipe(on(EventTypeFlags.MESSAGE_CREATE)).subscribe(messages.append)
    maps: list[dict[Any, ShardState]] = []
    a.states.subscribe(maps.append)
    async with a:
        await wait_until(lambda: settled(a))
        assert all(shard.demand & EventTypeFlags.MESSAGE_CREATE for shard in a.shards.values())
        assert not any(shard.demand & EventTypeFlags.PRESENCE_UPDATE for shard in a.shards.values())
        pushed = emu.push(10, "MESSAGE_CREATE")  # 10 to each live session
        assert pushed == 10 * TOTAL
        await wait_until(lambda: len(messages) >= pushed, 10)
        await asyncio.sleep(0.3)
        assert len(messages) == pushed
        assert {e.name for e in messages} == {"MESSAGE_CREATE"}
        assert {e.shard.number for e in messages} <= set(range(TOTAL))
        assert maps[0] == {} and set(maps[-1]) == {s.id for s in a.shards.values()}
        assert all(state == ShardState.ACTIVE for state in maps[-1].values())


async def test_commands_reach_the_shard_that_owns_the_guild_in_whichever_member_holds_it(
    emu: GatewayEmulator, redis_server: RedisServer, app: str
) -> None:
    a, b = member(emu, redis_server.url, app, "a"), member(emu, redis_server.url, app, "b")
    async with a, b:
        await wait_until(lambda: settled(a, b))
        guilds = [g.id for g in emu.state.world.guilds]
        # A guild on a shard b holds, requested through a.
        guild = next(g for g in guilds if shard_for_guild(g, TOTAL) in b.shards)
        holders = await a.sender.deliver(RequestGuildMembers(guild, query="a", limit=5))
        assert holders == ["b"]
        await emu.wait_for(lambda: any(c.data.get("guild_id") == str(guild) for c in emu.record.commands))
        (command,) = [c for c in emu.record.commands if c.data.get("guild_id") == str(guild)]
        assert command.shard is not None and command.shard.number == shard_for_guild(guild, TOTAL)
        assert not emu.violations  # in particular no WRONG_SHARD
        # And one a holds itself goes straight to its shard.
        local = next(g for g in guilds if shard_for_guild(g, TOTAL) in a.shards)
        assert await a.sender.deliver(RequestGuildMembers(local, query="a", limit=5)) == ["a"]


async def test_a_command_for_a_shard_nobody_holds_is_an_error_not_silence(
    emu: GatewayEmulator, redis_server: RedisServer, app: str
) -> None:
    a = member(emu, redis_server.url, app, "a")
    errors: list[GatewayErrorEvent] = []
    a.pipe(on(EventTypeFlags.GATEWAY_ERROR)).subscribe(errors.append)
    async with a:
        await wait_until(lambda: settled(a))
        victim = 3
        await a._stop_shard(victim)  # as if it were being handed over right now
        await a._table.release([victim])
        guild = next(g.id for g in emu.state.world.guilds if shard_for_guild(g.id, TOTAL) == victim)
        with pytest.raises(CommandsNotSentError, match="held by no member"):
            await a.sender.deliver(RequestGuildMembers(guild, query="a", limit=5))
        a.sender.command(RequestGuildMembers(guild, query="a", limit=5))
        await wait_until(lambda: errors)
        assert isinstance(errors[0].error, CommandsNotSentError) and errors[0].shard.number == victim


async def test_a_subscriber_that_raises_never_stops_the_member(
    emu: GatewayEmulator, redis_server: RedisServer, app: str
) -> None:
    a = member(emu, redis_server.url, app, "a")

    def bad(_event: Any) -> None:
        raise RuntimeError("a bug in the bot")

    told: list[Exception] = []
    a.pipe(on(EventTypeFlags.MESSAGE_CREATE)).subscribe(bad, told.append)
    seen: list[Any] = []
    a.pipe(on(EventTypeFlags.MESSAGE_CREATE)).subscribe(seen.append)
    async with a:
        await wait_until(lambda: settled(a))
        pushed = emu.push(10, "MESSAGE_CREATE")
        await wait_until(lambda: len(seen) == pushed)
        assert all(s.state == ShardState.ACTIVE for s in a.shards.values())
        assert len(told) == 1 and str(told[0]) == "a bug in the bot"  # told once, then detached


async def test_the_repr_never_shows_the_redis_password(emu: GatewayEmulator, app: str) -> None:
    with RedisServer(password="member-pw-77") as server:
        a = member(emu, server.url, app, "a")
        assert "member-pw-77" not in repr(a) and "***" in repr(a)
        await a._redis.aclose()


async def test_a_member_that_cannot_renew_lets_its_shards_go_before_its_leases_could_expire(
    emu: GatewayEmulator, app: str
) -> None:
    """Redis gone for longer than the lease: the member closes its shards (RESUME)
    before any other member could have claimed them, so no shard is ever held twice;
    when Redis is back it claims again and every shard is Active."""
    from rxgateway.cluster.leases import let_go_margin, renew_interval

    ttl = 4.0
    with RedisServer() as server:
        a = member(emu, server.url, app, "a", ttl=ttl)
        async with a:
            await wait_until(lambda: settled(a))
            conns = list(emu.record.connections)
            stopped = asyncio.get_running_loop().time()
            server.stop()
            await wait_until(lambda: all(c.closed_at is not None for c in conns), ttl + 5)
            let_go_at = asyncio.get_running_loop().time()
            # Closed before the last renewal (at the latest, when Redis stopped) + ttl.
            assert let_go_at - stopped < ttl, let_go_at - stopped
            assert let_go_at - stopped >= ttl - let_go_margin(ttl) - renew_interval(ttl) - 0.5
            assert all(c.close_received == 4000 for c in conns)  # resumable, not ended
            assert a.shards == {}
            server.start()
            await wait_until(lambda: settled(a), 40)
        assert not emu.violations

