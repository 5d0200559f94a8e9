"""Unmodified hikari and discord.py bots against the emulator, through the plugin: each
connects, receives a MESSAGE_CREATE the test says, and answers over REST, with and
without an activity set (both libraries send a presence shaped as Discord accepts but
GATEWAY.md does not describe: the legacy ``game`` key, a ``null`` status, a float
``since``; the emulator accepts it and notes it)."""

from __future__ import annotations

import asyncio
import logging

import discord
import hikari
import pytest

from rxgateway import OpCode
from rxgateway.testing import Gateway

from .bots import STOP_TIMEOUT, stop

GAME_NOTE = "presence uses the legacy 'game' key; read as its activities"


@pytest.fixture(autouse=True)
def quiet_libraries(caplog: pytest.LogCaptureFixture) -> None:
    """hikari and discord.py log every connection step at INFO; keep warnings only."""
    caplog.set_level(logging.WARNING, logger="hikari")
    caplog.set_level(logging.WARNING, logger="discord")


# -- hikari ------------------------------------------------------------------------------


def hikari_bot(gateway: Gateway) -> hikari.GatewayBot:
    """An unmodified hikari bot answering ``!ping``; only ``rest_url`` names the emulator."""
    intents = hikari.Intents.GUILDS | hikari.Intents.GUILD_MESSAGES | hikari.Intents.MESSAGE_CONTENT
    bot = hikari.GatewayBot(gateway.token, rest_url=gateway.api_url, intents=intents, banner=None)

    @bot.listen()
    async def on_message(event: hikari.GuildMessageCreateEvent) -> None:
        if event.content == "!ping":
            await event.message.respond("pong!")

    return bot


@pytest.mark.parametrize("activity", [None, "tests"], ids=["no_activity", "activity"])
async def test_hikari_bot_answers_a_message_over_rest(gateway: Gateway, activity: str | None) -> None:
    bot = hikari_bot(gateway)
    initial = None if activity is None else hikari.Activity(name=activity, type=hikari.ActivityType.WATCHING)
    await asyncio.wait_for(bot.start(activity=initial, check_for_updates=False), STOP_TIMEOUT)
    try:
        (identify,) = gateway.identifies()
        assert identify.accepted
        said = await gateway.say("!ping")
        call = await gateway.wait_for_rest("POST", f"/channels/{said['channel_id']}/messages")
        assert call.json["content"] == "pong!" and call.status == 200
        # A presence update later sends the legacy key again, in op 3.
        await bot.update_presence(activity=hikari.Activity(name="later", type=hikari.ActivityType.PLAYING))
        presence = await gateway.wait_for_command(OpCode.PRESENCE_UPDATE)
        assert presence.data["activities"][0]["name"] == "later"
    finally:
        await asyncio.wait_for(bot.close(), STOP_TIMEOUT)
    session = gateway.emulator.record.connections[0]
    assert session.close_received is not None and session.close_sent is None  # hikari closed, not the emulator
    assert [n.detail for n in gateway.notes if n.op == OpCode.IDENTIFY] == [GAME_NOTE]
    gateway.assert_no_violations()


# -- discord.py ----------------------------------------------------------------------------


def discord_py_client(activity: str | None) -> discord.Client:
    """An unmodified discord.py client answering ``!ping``."""
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.Client(intents=intents, activity=None if activity is None else discord.Game(activity))

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.content == "!ping":
            await message.channel.send("pong!")

    return client


@pytest.mark.parametrize("activity", [None, "tests"], ids=["no_activity", "activity"])
async def test_discord_py_bot_answers_a_message_over_rest(discord_py_gateway: Gateway, activity: str | None) -> None:
    gateway = discord_py_gateway
    client = discord_py_client(activity)
    running = asyncio.create_task(client.start(gateway.token, reconnect=False))
    try:
        await gateway.wait_ready()
        said = await gateway.say("!ping")
        call = await gateway.wait_for_rest("POST", f"/channels/{said['channel_id']}/messages")
        assert call.json["content"] == "pong!" and call.status == 200
        await client.change_presence(activity=discord.Game("later"))  # op 3 with "since": 0.0
        presence = await gateway.wait_for_command(OpCode.PRESENCE_UPDATE)
        (game,) = presence.data["activities"]
        assert (game["name"], game["type"], presence.data["since"]) == ("later", 0, 0)
    finally:
        await client.close()
        await stop(running)
    assert [c.path for c in gateway.rest_calls("GET")] == ["/users/@me", "/oauth2/applications/@me"]
    identify_notes = [n.detail for n in gateway.notes if n.op == OpCode.IDENTIFY]
    if activity is None:
        assert identify_notes == []  # no presence in Identify at all
    else:
        assert identify_notes == [GAME_NOTE, "presence status is null; read as 'online'"]
    assert [n.detail for n in gateway.notes if n.op == OpCode.PRESENCE_UPDATE] == [
        "presence since 0.0 is a float; read as 0"
    ]
    gateway.assert_no_violations()
