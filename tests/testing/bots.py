"""The bots the plugin's tests drive: a small rxgateway bot written as a user would,
and the same bot in hikari and in discord.py (each unmodified: only pointed at the
emulator). Each answers ``!ping`` with ``pong!`` over REST; the rxgateway one also
joins a voice channel on ``!join <id>`` and sets its presence on ``!status <text>``
(gateway commands a test can read back)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from rxgateway import Activity, ActivityType, Config, ShardGroup, Status, UpdatePresence, UpdateVoiceState
from rxgateway import create_recommended, ops
from rxgateway.events import MessageCreate

#: How long a bot may take to stop.
STOP_TIMEOUT = 10.0


@asynccontextmanager
async def rx_ping_bot(config: Config) -> AsyncIterator[ShardGroup]:
    """The rxgateway bot, running (every shard ready) until the block ends."""
    shards = await create_recommended(config)
    async with aiohttp.ClientSession() as http:

        async def ping(message: MessageCreate) -> None:
            url = f"{config.api_url}/channels/{message.channel_id}/messages"
            async with http.post(url, json={"content": "pong!"}, headers={"Authorization": config.token}) as r:
                r.raise_for_status()

        def join(message: MessageCreate) -> None:
            channel = int(message.content.split()[1])
            assert message.guild_id is not None
            shards.sender.command(UpdateVoiceState(message.guild_id, channel))

        def status(message: MessageCreate) -> None:
            text = message.content.split(" ", 1)[1]
            presence = UpdatePresence(Status.ONLINE, [Activity(text, ActivityType.PLAYING)])
            shards.shard_for_guild(message.guild_id or 0).sender.command(presence)

        def first_word(name: str) -> Any:
            return (MessageCreate, lambda m: m.content.split(" ", 1)[0] == name)

        shards.pipe(ops.route({first_word("!ping"): ping, first_word("!join"): join, first_word("!status"): status}))
        async with shards:
            await shards.ready(timeout=STOP_TIMEOUT)
            yield shards


async def stop(task: asyncio.Task[Any]) -> None:
    """Wait (bounded) for a bot's run task to end after it was told to close."""
    await asyncio.wait_for(task, STOP_TIMEOUT)
