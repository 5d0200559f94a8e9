"""Each fixture and helper of the pytest plugin (:mod:`rxgateway.testing`), driven with a
small rxgateway bot (``tests/testing/bots.py``) the way a user's tests would drive
theirs: through the ``gateway`` and ``gateway_config`` fixtures the plugin registers
by its entry point."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from rxgateway import Config, EventTypeFlags, Intents, OpCode, ops
from rxgateway.emulator import DEFAULT_TOKEN, Fault
from rxgateway.events import MessageCreate
from rxgateway.testing import DEFAULT_INTENTS, Gateway, NotSeenError, running_gateway, wire_discord_py
from tests.emulator.client import GatewayClient, ready_client

from .bots import rx_ping_bot

#: A short wait for the tests that expect nothing to happen.
NOTHING_S = 0.3


async def test_ping_is_answered_over_rest(gateway: Gateway, gateway_config: Config) -> None:
    async with rx_ping_bot(gateway_config):
        said = await gateway.say("!ping")
        call = await gateway.wait_for_rest("POST", "/channels/*/messages")
        assert call.json == {"content": "pong!"}
        assert call.path == f"/channels/{gateway.channel().id}/messages" == f"/channels/{said['channel_id']}/messages"
        assert call.status == 200
        sent = await gateway.wait_for_message("pong!", channel=gateway.channel())
        assert sent.channel_id == gateway.channel().id
    assert [c.path for c in gateway.rest_calls("GET")] == ["/gateway/bot"]
    gateway.assert_no_violations()


@pytest.mark.rxgateway(shards=2)
async def test_say_reaches_only_the_shard_that_owns_the_guild(gateway: Gateway, gateway_config: Config) -> None:
    async with rx_ping_bot(gateway_config):
        connections = {c.shard.number: c for c in await gateway.wait_ready(2) if c.shard is not None}
        assert sorted(connections) == [0, 1]
        before = {n: len(c.sequences) for n, c in connections.items()}
        guild = gateway.guild(shard=1, shards=2)
        await gateway.say("!ping", guild=guild)
        sent = await gateway.wait_for_message("pong!")
        assert sent.channel_id == guild.text_channels[0].id
        # Shard 1 got the MESSAGE_CREATE and the echo of its own reply; shard 0 nothing.
        await gateway.emulator.wait_for(lambda: len(connections[1].sequences) >= before[1] + 2)
        assert len(connections[0].sequences) == before[0]
    gateway.assert_no_violations()


async def test_commands_the_bot_sends_are_read_per_op_and_shard(gateway: Gateway, gateway_config: Config) -> None:
    voice = gateway.guilds[0].voice_channels[0]
    async with rx_ping_bot(gateway_config):
        await gateway.say(f"!join {voice.id}")
        join = await gateway.wait_for_command(OpCode.VOICE_STATE_UPDATE, shard=0)
        assert join.data["channel_id"] == str(voice.id)
        assert join.data["guild_id"] == str(gateway.guilds[0].id)
        await gateway.say("!status testing")
        presence = await gateway.wait_for_command(3, where=lambda d: d["activities"] != [])
        assert presence.data["activities"] == [{"name": "testing", "type": 0}]
        assert [c.op for c in gateway.commands()] == [4, 3]
        assert gateway.commands(8) == [] and gateway.commands(shard=1) == []
    assert len(gateway.identifies(shard=0)) == 1
    assert gateway.notes == []  # the rxgateway bot sends presences exactly as GATEWAY.md says
    gateway.assert_no_violations()


async def test_dispatch_sends_any_event_to_the_owning_session(gateway: Gateway, gateway_config: Config) -> None:
    seen: list[Any] = []
    async with rx_ping_bot(gateway_config) as shards:
        shards.pipe(ops.on(EventTypeFlags.GUILD_ROLE_CREATE)).subscribe(seen.append)
        guild = gateway.guilds[1]
        role = {"id": "1", "name": "testers", "color": 0, "hoist": False, "position": 1, "permissions": "0",
                "managed": False, "mentionable": False, "flags": 0}  # fmt: skip
        await gateway.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role})
        await gateway.emulator.wait_for(lambda: seen)
    assert seen[0].name == "GUILD_ROLE_CREATE" and seen[0].raw["role"]["name"] == "testers"


async def test_an_injected_fault_is_resumed_from_and_the_bot_still_answers(
    gateway: Gateway, gateway_config: Config
) -> None:
    with pytest.raises(LookupError, match="must be open"):
        gateway.inject("reconnect", shard=0)  # no bot yet: nothing to hit
    async with rx_ping_bot(gateway_config):
        (first,) = await gateway.wait_ready()
        assert gateway.inject("reconnect", shard=0) == [first.id]
        resumed = await gateway.emulator.wait_for(lambda: [r for r in gateway.emulator.record.resumes() if r.accepted])
        assert resumed[0].session_id == first.session_id
        await gateway.say("!ping")  # waits for the resumed session if it is not back yet
        await gateway.wait_for_message("pong!")
    assert len(gateway.identifies()) == 1, "the session survived: no second Identify"
    gateway.assert_no_violations()


async def test_wait_helpers_fail_with_what_was_seen_and_never_the_token(gateway: Gateway, gateway_config: Config) -> None:
    with pytest.raises(NotSeenError, match="is the bot connected"):
        await gateway.say("!ping", timeout=NOTHING_S)  # no bot: nobody to say it to
    async with rx_ping_bot(gateway_config):
        await gateway.say("!nothing")
        with pytest.raises(NotSeenError) as failed:
            await gateway.wait_for_rest("POST", "/channels/*/messages", timeout=NOTHING_S)
        assert "GET /gateway/bot -> 200" in str(failed.value)
        with pytest.raises(NotSeenError, match="op 4"):
            await gateway.wait_for_command(4, timeout=NOTHING_S)
        with pytest.raises(NotSeenError, match="'pong!' x1 not sent; the bot sent nothing"):
            await gateway.wait_for_message("pong!", timeout=NOTHING_S)
        with pytest.raises(NotSeenError, match="2 session"):
            await gateway.wait_ready(2, timeout=NOTHING_S)
    for text in (str(failed.value), repr(gateway), repr(gateway_config)):
        assert DEFAULT_TOKEN not in text and gateway.token not in text


async def test_say_with_mention_author_and_channel_respects_the_content_intent(gateway: Gateway) -> None:
    seen: list[Any] = []
    async with rx_ping_bot(gateway.config(Intents.GUILDS | Intents.GUILD_MESSAGES)) as shards:  # no content
        shards.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(seen.append)
        await gateway.say("a secret")
        author, channel = gateway.member(index=2), gateway.channel(index=1)
        said = await gateway.say("hello", mentions_bot=True, author=author, channel=channel.id)
        await gateway.emulator.wait_for(lambda: len(seen) == 2)
        with pytest.raises(ValueError, match="not in guild"):
            await gateway.say("lost", channel=channel, guild=gateway.guilds[1])
        with pytest.raises(LookupError, match="not a channel of the emulated world"):
            await gateway.say("lost", channel=1)
    hidden, mentioned = seen
    assert hidden.content == ""  # Discord blanks it without MESSAGE_CONTENT
    assert mentioned.content == said["content"] == f"<@{gateway.bot_id}> hello"
    assert (mentioned.author.id, mentioned.channel_id, mentioned.guild_id) == (author.id, channel.id, gateway.guild().id)


async def test_assert_no_violations_lists_the_broken_rules(gateway: Gateway) -> None:
    gateway.assert_no_violations()
    async with aiohttp.ClientSession() as http:
        client, _ = await ready_client(http, gateway.url)
        await client.send({"op": 99, "d": None})
        assert await client.closed() == 4001
    with pytest.raises(AssertionError, match=r"broke 1 gateway rule\(s\): unknown_opcode \(op 99 .*close 4001\)"):
        gateway.assert_no_violations()


async def test_rest_calls_are_all_recorded_unknown_routes_with_404(gateway: Gateway) -> None:
    headers = {"Authorization": f"Bot {gateway.token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{gateway.api_url}/guilds/1/roles?limit=5", headers=headers) as answer:
            assert answer.status == 404
            assert await answer.json() == {"message": "404: Not Found", "code": 0}
        async with http.patch(f"{gateway.api_url}/channels/2", json={"name": "x"}, headers=headers) as answer:
            assert answer.status == 404
    (get,) = gateway.rest_calls("GET", "/guilds/*")
    assert (get.path, get.query, get.json, get.status) == ("/guilds/1/roles", {"limit": "5"}, None, 404)
    (patch,) = gateway.rest_calls("patch")
    assert (patch.path, patch.json) == ("/channels/2", {"name": "x"})
    assert gateway.token not in repr(gateway.rest_calls())


async def test_advance_moves_the_emulators_windows(gateway: Gateway) -> None:
    async def starts_remaining() -> int:
        """The daily session starts left, as ``GET /gateway/bot`` reports them."""
        async with http.get(f"{gateway.api_url}/gateway/bot", headers={"Authorization": f"Bot {gateway.token}"}) as r:
            return int((await r.json())["session_start_limit"]["remaining"])

    total = gateway.emulator.config.session_start_total
    async with aiohttp.ClientSession() as http:
        client, ready = await ready_client(http, gateway.url)
        assert await starts_remaining() == total - 1
        await client.close(4000)  # resumable: the session waits for a Resume
        await gateway.emulator.wait_for(lambda: not gateway.emulator.connections)
        # The resume window passes: the detached session cannot be resumed any more.
        gateway.advance(gateway.emulator.config.resume_window_s)
        late = await GatewayClient.connect(http, ready["d"]["resume_gateway_url"])
        assert (await late.receive())["op"] == 10
        await late.resume(ready["d"]["session_id"], ready["s"])
        assert (await late.until(op=9))["d"] is False
        await late.close()
        # The day passes: the session starts are back.
        gateway.advance(gateway.emulator.config.session_start_window_s)
        assert await starts_remaining() == total
    with pytest.raises(ValueError, match="only moves forward"):
        gateway.advance(-1)


@pytest.mark.rxgateway(guilds=2, heartbeat_interval_ms=500)
async def test_the_marker_changes_the_emulator_settings(gateway: Gateway) -> None:
    assert len(gateway.guilds) == 2
    assert gateway.emulator.config.heartbeat_interval_ms == 500
    assert gateway.emulator.config.identify_window_s == 0.2  # the test-sized default stays


async def test_config_points_at_the_emulator(gateway: Gateway, gateway_config: Config) -> None:
    assert (gateway_config.gateway_url, gateway_config.api_url) == (gateway.url, gateway.api_url)
    assert gateway_config.intents == DEFAULT_INTENTS
    assert gateway_config.bare_token == gateway.token
    custom = gateway.config(Intents.GUILDS, compression="zlib-stream")
    assert custom.intents == Intents.GUILDS and custom.compression == "zlib-stream"
    assert gateway.url.startswith("ws://127.0.0.1:") and gateway.api_url.endswith("/api/v10")


async def test_running_gateway_without_pytest_fixtures() -> None:
    async with running_gateway(guilds=1) as gateway:
        assert len(gateway.guilds) == 1
        async with rx_ping_bot(gateway.config()):
            await gateway.say("!ping")
            await gateway.wait_for_message("pong!")
    assert not gateway.emulator.connections  # stopped with the block


def test_wire_discord_py_points_at_the_gateway_and_restores() -> None:
    import discord.gateway
    import discord.http

    class Where:
        url = "ws://127.0.0.1:1"
        api_url = "http://127.0.0.1:1/api/v10"

    base, default = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    with pytest.raises(RuntimeError), wire_discord_py(Where()):
        assert discord.http.Route.BASE == Where.api_url
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:1/"
        assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:1/api/v10/users/@me"
        raise RuntimeError("the block failed")
    assert (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == (base, default)


class TestSettingsFixture:
    """``gateway_settings`` overridden for a group of tests (as a conftest.py would)."""

    @pytest.fixture
    def gateway_settings(self) -> dict[str, Any]:
        return {"guilds": 3, "shards": 2}

    async def test_overridden_settings_apply(self, gateway: Gateway) -> None:
        assert len(gateway.guilds) == 3 and gateway.emulator.config.shards == 2

    @pytest.mark.rxgateway(guilds=1)
    async def test_the_marker_wins_over_the_fixture(self, gateway: Gateway) -> None:
        assert len(gateway.guilds) == 1 and gateway.emulator.config.shards == 2


async def test_fault_every_cycles_faults_by_dispatch_count(gateway: Gateway, gateway_config: Config) -> None:
    async with rx_ping_bot(gateway_config):
        await gateway.wait_ready()
        gateway.fault_every(3, [Fault.reconnect()])
        for _ in range(3):
            await gateway.say("!nothing")
        resumed = await gateway.emulator.wait_for(lambda: gateway.emulator.record.resumes())
    assert resumed[0].accepted
    assert len(gateway.identifies()) == 1
    gateway.assert_no_violations()


async def test_run_runs_a_setup_bot_until_the_block_ends(gateway: Gateway) -> None:
    def setup(bot: Any) -> Any:
        async def pong(message: Any) -> None:
            await bot.rest("POST", f"/channels/{message.channel_id}/messages", json={"content": "pong!"})

        return bot.shards.pipe(ops.route({(MessageCreate, lambda m: m.content == "!ping"): pong}))

    async with gateway.run(setup, Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT) as bot:
        assert len(gateway.sessions()) == len(bot.shards) == 1
        await gateway.say("!ping")
        await gateway.wait_for_message("pong!")
    assert [c.close_received for c in gateway.emulator.record.connections] == [1000]  # stopped cleanly
    gateway.assert_no_violations()


async def test_run_fails_with_what_the_bot_did(gateway: Gateway) -> None:
    def broken(bot: Any) -> None:
        raise ValueError("a bug in setup")

    with pytest.raises(NotSeenError, match="the bot raised before its 1 shard.*ValueError: a bug in setup"):
        async with gateway.run(broken):
            pass


@pytest.mark.rxgateway(application_flags=0)
async def test_run_fails_when_the_gateway_ends_the_bot(gateway: Gateway) -> None:
    with pytest.raises(NotSeenError, match="the bot exited before .*exit status 1"):
        async with gateway.run(lambda bot: None, Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT):
            pass  # MESSAGE_CONTENT is not enabled for the app: 4014
