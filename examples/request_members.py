"""Request every member of each guild as it becomes available, and collect the
GUILD_MEMBERS_CHUNK answers by nonce (twilight's gateway-request-members example).

    DISCORD_TOKEN=... python examples/request_members.py
    python examples/request_members.py --emulate      # offline: 6 guilds, one with 2,500 members

On each ``GuildCreate`` the bot sends ``RequestGuildMembers(guild_id, query="", limit=0,
nonce=...)`` through the sender (to the shard that owns the guild). Each guild becomes
one small Observable, subscribed *before* the request is sent so no chunk slips past::

    chunks of this nonce -> take_while(not last, inclusive) -> reduce(count) -> (guild, count)

Intents: GUILDS and the privileged GUILD_MEMBERS. Under ``--emulate`` the bot stops
once every guild is counted.
"""

from __future__ import annotations

import logging
import sys

import reactivex
from reactivex import Observable, abc

from rxgateway import Intents, RequestGuildMembers, ShardGroup, ops, run
from rxgateway.events import GuildCreate, GuildMembersChunk
from rxgateway.runner import Bot

INTENTS = Intents.GUILDS | Intents.GUILD_MEMBERS
log = logging.getLogger("request_members")


def nonce_for(guild_id: int) -> str:
    """A nonce naming the request (at most 32 bytes: 4 + up to 20 digits)."""
    return f"all-{guild_id}"


def members_of(shards: ShardGroup, guild: GuildCreate) -> Observable[tuple[int, int]]:
    """Ask for every member of ``guild``; emits ``(guild_id, members)`` after the last chunk."""
    nonce = nonce_for(guild.id)
    answer: Observable[tuple[int, int]] = shards.pipe(
        ops.of_type(GuildMembersChunk),
        ops.filter(lambda chunk: chunk.nonce == nonce),
        ops.take_while(lambda chunk: not chunk.is_last, inclusive=True),
        ops.reduce(lambda count, chunk: count + len(chunk.members), 0),
        ops.map(lambda count: (guild.id, count)),
    )

    def subscribe(observer: abc.ObserverBase[tuple[int, int]], scheduler: abc.SchedulerBase | None = None) -> abc.DisposableBase:
        subscription = answer.subscribe(observer, scheduler=scheduler)  # listen first,
        shards.sender.command(RequestGuildMembers(guild.id, query="", limit=0, nonce=nonce))  # then ask
        return subscription

    return reactivex.create(subscribe)


def setup(bot: Bot, counts: dict[int, int] | None = None) -> abc.DisposableBase:
    """Count every guild's members into ``counts``; stop once the emulator's guilds are all counted."""
    counts = {} if counts is None else counts
    expected = len(bot.emulator.state.world.guilds) if bot.emulator else None

    def counted(result: tuple[int, int]) -> None:
        counts[result[0]] = result[1]
        log.info("guild %s: %d members", *result)
        if len(counts) == expected:
            bot.stop()

    return bot.shards.pipe(
        ops.of_type(GuildCreate),
        ops.filter(lambda guild: not guild.unavailable),
        ops.flat_map(lambda guild: members_of(bot.shards, guild)),
    ).subscribe(counted)


if __name__ == "__main__":
    sys.exit(run(setup, intents=INTENTS, emulator={"guilds": 6, "large_guilds": 1, "large_guild_members": 2500}))
