"""Request every member of each guild as it becomes available, and collect the
GUILD_MEMBERS_CHUNK answers by nonce (twilight's gateway-request-members example).

    DISCORD_TOKEN=... python examples/request_members.py --gateway-url wss://gateway.discord.gg --seconds 30
    python examples/request_members.py           # an embedded emulator with a 2,500-member guild

On each ``GuildCreate`` the bot sends ``RequestGuildMembers(guild_id, query="",
limit=0, nonce=...)`` through ``shards.sender`` (routed to the shard that owns the
guild), and follows the chunks carrying that nonce until ``chunk_index ==
chunk_count - 1``. In Rx terms each guild becomes one small Observable::

    chunks of this nonce -> take_while(not last, inclusive) -> reduce(count) -> (guild, count)

subscribed *before* the request is sent, so no chunk can slip past, and merged
with ``flat_map``. Intents: GUILDS (for GUILD_CREATE) and the privileged
GUILD_MEMBERS (to ask for every member).

Entry points for tests: :func:`run` (returns ``{guild_id: members}``) and :func:`main`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace

import reactivex
from reactivex import Observable, abc

from rxgateway import (
    DEFAULT_API_URL,
    Config,
    InMemoryQueue,
    Intents,
    RequestGuildMembers,
    ShardGroup,
    create_recommended,
    ops,
)
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.events import GuildCreate, GuildMembersChunk
from rxgateway.queue import IDENTIFY_INTERVAL

log = logging.getLogger("request_members")

INTENTS = Intents.GUILDS | Intents.GUILD_MEMBERS
#: The embedded emulator: 2 shards, 6 guilds, the first with 2,500 members (3 chunks).
EMBEDDED_SHARDS = 2
EMBEDDED_GUILDS = 6
EMBEDDED_LARGE_MEMBERS = 2500
EMBEDDED_IDENTIFY_WINDOW = 0.5


@dataclass(frozen=True)
class Options:
    token: str
    gateway_url: str | None = None
    api_url: str = DEFAULT_API_URL
    #: Stop once this many guilds are counted (``None``: when ``seconds`` run out).
    guilds: int | None = None
    #: The longest the bot runs.
    seconds: float = 30.0
    identify_interval: float | None = None


def nonce_for(guild_id: int) -> str:
    """A nonce naming the request (at most 32 bytes: 4 + up to 20 digits)."""
    return f"all-{guild_id}"


def members_of(shards: ShardGroup, guild: GuildCreate) -> Observable[tuple[int, int]]:
    """Ask for every member of ``guild``; emits ``(guild_id, members)`` once the last
    chunk of the answer arrived, then completes."""
    nonce = nonce_for(guild.id)
    answer: Observable[tuple[int, int]] = shards.pipe(
        ops.of_type(GuildMembersChunk),
        ops.filter(lambda chunk: chunk.nonce == nonce),
        ops.take_while(lambda chunk: not chunk.is_last, inclusive=True),
        ops.reduce(lambda count, chunk: count + len(chunk.members), 0),
        ops.map(lambda count: (guild.id, count)),
    )

    def subscribe(
        observer: abc.ObserverBase[tuple[int, int]], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        subscription = answer.subscribe(observer, scheduler=scheduler)  # listen first,
        shards.sender.command(RequestGuildMembers(guild.id, query="", limit=0, nonce=nonce))  # then ask
        log.info("shard %s: requested every member of guild %s", guild.shard.number, guild.id)
        return subscription

    return reactivex.create(subscribe)


async def run(options: Options) -> dict[int, int]:
    """Connect, count every guild's members, and return ``{guild_id: members}``."""
    interval = IDENTIFY_INTERVAL if options.identify_interval is None else options.identify_interval
    queue = InMemoryQueue(identify_interval=interval)
    config = Config(options.token, INTENTS, api_url=options.api_url, queue=queue)
    if options.gateway_url is not None:
        config = config.replace(gateway_url=options.gateway_url)
    shards = await create_recommended(config)

    counts: dict[int, int] = {}
    enough = asyncio.Event()

    def counted(result: tuple[int, int]) -> None:
        guild_id, members = result
        counts[guild_id] = members
        log.info("guild %s: %d members", guild_id, members)
        if options.guilds is not None and len(counts) >= options.guilds:
            enough.set()

    subscription = shards.pipe(
        ops.of_type(GuildCreate),
        ops.filter(lambda guild: not guild.unavailable),
        ops.flat_map(lambda guild: members_of(shards, guild)),
    ).subscribe(counted)
    async with shards:
        try:
            await asyncio.wait_for(enough.wait(), options.seconds)
        except TimeoutError:
            log.warning("stopped after %.0f s with %d guilds counted", options.seconds, len(counts))
    # Leaving ``async with`` closed every shard with CloseFrame.NORMAL and waited for it.
    subscription.dispose()
    return counts


async def run_embedded(options: Options) -> int:
    async with GatewayEmulator(
        shards=EMBEDDED_SHARDS,
        max_concurrency=EMBEDDED_SHARDS,
        identify_window_s=EMBEDDED_IDENTIFY_WINDOW,
        guilds=EMBEDDED_GUILDS,
        large_guilds=1,
        large_guild_members=EMBEDDED_LARGE_MEMBERS,
    ) as emu:
        options = replace(
            options,
            gateway_url=emu.url,
            api_url=emu.api_url,
            guilds=options.guilds or EMBEDDED_GUILDS,
            identify_interval=options.identify_interval or EMBEDDED_IDENTIFY_WINDOW,
        )
        counts = await run(options)
        world = {g.id: len(emu.state.world.members(g)) + 1 for g in emu.state.world.guilds}  # + the bot
        for guild_id, members in sorted(counts.items()):
            print(f"guild {guild_id}: {members} members (the emulator's world holds {world[guild_id]})")
        ok = counts == world and not emu.violations
        print("all members collected" if ok else "MISMATCH", flush=True)
        return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--gateway-url", help="the gateway to connect to (default: start an embedded emulator)")
    parser.add_argument("--api-url", help=f"the REST base (default {DEFAULT_API_URL})")
    parser.add_argument("--guilds", type=int, help="stop once this many guilds are counted")
    parser.add_argument("--seconds", type=float, default=30.0, help="the longest the bot runs (default 30)")
    parser.add_argument("--identify-interval", type=float, help="seconds between identifies per bucket (default 5)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    token = os.environ.get("DISCORD_TOKEN")
    options = Options(
        token=token or DEFAULT_TOKEN,
        gateway_url=args.gateway_url,
        api_url=args.api_url or DEFAULT_API_URL,
        guilds=args.guilds,
        seconds=args.seconds,
        identify_interval=args.identify_interval,
    )
    if args.gateway_url is None:
        return asyncio.run(run_embedded(options))
    if not token:
        print("set DISCORD_TOKEN to the bot's token", file=sys.stderr)
        return 2
    counts = asyncio.run(run(options))
    for guild_id, members in sorted(counts.items()):
        print(f"guild {guild_id}: {members} members")
    return 0


if __name__ == "__main__":
    sys.exit(main())
