"""Answers to gateway commands (GATEWAY.md §9, §12.10) and the record of who sent them."""

from __future__ import annotations

from typing import Any

import aiohttp

from rxgateway.emulator import GatewayEmulator, ViolationKind
from rxgateway.protocol import ALL_INTENTS, Intents, shard_for_guild

from .client import GatewayClient, MakeEmulator, ready_client

MEMBERS = int(Intents.GUILDS | Intents.GUILD_MEMBERS)


async def chunks(client: GatewayClient) -> list[dict[str, Any]]:
    first = (await client.dispatch("GUILD_MEMBERS_CHUNK"))["d"]
    rest = [(await client.dispatch("GUILD_MEMBERS_CHUNK"))["d"] for _ in range(first["chunk_count"] - 1)]
    return [first, *rest]


async def test_presence_update_is_stored_and_recorded(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, ready = await ready_client(http, emu.url)
    presence = {"since": None, "activities": [{"name": "tests", "type": 0}], "status": "dnd", "afk": False}
    await client.send({"op": 3, "d": presence})
    await emu.wait_for(lambda: emu.record.commands)
    (command,) = emu.record.commands
    assert (command.op, command.data, command.connection_id) == (3, presence, emu.record.connections[0].id)
    assert emu.state.sessions.get(ready["d"]["session_id"], 0).presence == presence  # type: ignore[union-attr]
    await client.close()


async def test_presence_updates_over_5_in_20_s_are_ignored_and_recorded(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url)
    for status in ("online", "idle", "dnd", "online", "idle", "dnd"):
        await client.send({"op": 3, "d": {"since": None, "activities": [], "status": status, "afk": False}})
    await emu.wait_for(lambda: len(emu.record.commands) == 6)
    assert [v.kind for v in emu.violations] == [ViolationKind.PRESENCE_RATE_LIMITED]
    assert emu.connections  # not closed
    await client.close()


async def test_voice_state_update_answers_state_and_server(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, ready = await ready_client(http, emu.url, intents=int(Intents.GUILDS | Intents.GUILD_VOICE_STATES))
    guild = emu.state.world.guilds[0]
    channel = guild.voice_channels[0]
    request = {"guild_id": str(guild.id), "channel_id": str(channel.id), "self_mute": True, "self_deaf": False}
    await client.send({"op": 4, "d": request})
    state = (await client.dispatch("VOICE_STATE_UPDATE"))["d"]
    server = (await client.dispatch("VOICE_SERVER_UPDATE"))["d"]
    assert (state["channel_id"], state["user_id"], state["self_mute"]) == (str(channel.id), ready["d"]["user"]["id"], True)
    assert server["guild_id"] == str(guild.id) and server["token"] and server["endpoint"]
    await client.send({"op": 4, "d": {**request, "channel_id": None}})
    assert (await client.dispatch("VOICE_STATE_UPDATE"))["d"]["channel_id"] is None
    await client.close()


async def test_all_members_come_in_chunks_of_1000(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(guilds=1, members_per_guild=2500) as emu:
        client, _ = await ready_client(http, emu.url, intents=MEMBERS)
        guild = emu.state.world.guilds[0]
        await client.send({"op": 8, "d": {"guild_id": str(guild.id), "query": "", "limit": 0, "nonce": "all"}})
        got = await chunks(client)
        assert [(c["chunk_index"], c["chunk_count"], len(c["members"])) for c in got] == [(0, 3, 1000), (1, 3, 1000), (2, 3, 501)]
        assert all(c["nonce"] == "all" and "presences" not in c and "not_found" not in c for c in got)
        ids = {m["user"]["id"] for c in got for m in c["members"]}
        assert len(ids) == 2501  # every member and the bot
        (command,) = emu.record.connections[0].commands
        assert command.op == 8 and command.shard is not None and command.shard.number == 0
        await client.close()


async def test_user_ids_answer_not_found_with_small_ids_as_integers(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=MEMBERS)
    guild = emu.state.world.guilds[0]
    member = emu.state.world.members(guild)[0]
    missing = "1389395076710531072"
    await client.send({"op": 8, "d": {"guild_id": str(guild.id), "user_ids": [str(member.id), "123", missing]}})
    (chunk,) = await chunks(client)
    assert [m["user"]["id"] for m in chunk["members"]] == [str(member.id)]
    assert chunk["not_found"] == [123, missing]  # §11.4: "123" comes back as an integer
    assert "nonce" not in chunk
    await client.close()


async def test_query_returns_at_most_100_by_prefix_and_presences_need_the_intent(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(guilds=1, members_per_guild=3000) as emu:
        guild = emu.state.world.guilds[0]
        request = {"guild_id": str(guild.id), "query": "al", "limit": 500, "presences": True, "nonce": "q" * 33}
        for intents, with_presences in ((MEMBERS, False), (MEMBERS | int(Intents.GUILD_PRESENCES), True)):
            client, _ = await ready_client(http, emu.url, intents=intents)
            await client.send({"op": 8, "d": request})
            (chunk,) = await chunks(client)
            assert len(chunk["members"]) == 100
            assert all(m["user"]["username"].startswith("al") for m in chunk["members"])
            assert ("presences" in chunk) is with_presences
            assert "nonce" not in chunk  # over 32 bytes: ignored (§9.1)
            await client.close()


async def test_second_all_members_request_within_30_s_is_rate_limited(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=MEMBERS)
    guild = str(emu.state.world.guilds[0].id)
    await client.send({"op": 8, "d": {"guild_id": guild, "query": "", "limit": 0}})
    await chunks(client)
    await client.send({"op": 8, "d": {"guild_id": guild, "query": "", "limit": 0, "nonce": "again"}})
    limited = await client.until(0)
    assert limited["t"] == "RATE_LIMITED" and isinstance(limited["s"], int)
    assert limited["d"]["opcode"] == 8 and 0 < limited["d"]["retry_after"] <= 30
    assert limited["d"]["meta"] == {"guild_id": guild, "nonce": "again"}
    assert [v.kind for v in emu.violations] == [ViolationKind.MEMBERS_RATE_LIMITED]
    await client.close()


async def test_all_members_without_the_members_intent_is_unanswered(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=1)
    await client.send({"op": 8, "d": {"guild_id": str(emu.state.world.guilds[0].id), "query": "", "limit": 0}})
    await emu.wait_for(lambda: emu.violations)
    assert [v.kind for v in emu.violations] == [ViolationKind.MEMBERS_INTENT_MISSING]
    await client.close()


async def test_a_request_on_a_shard_that_does_not_own_the_guild_is_a_violation(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(guilds=8) as emu:
        client, _ = await ready_client(http, emu.url, shard=[0, 2], intents=MEMBERS)
        foreign = next(g for g in emu.state.world.guilds if shard_for_guild(g.id, 2) == 1)
        await client.send({"op": 8, "d": {"guild_id": str(foreign.id), "query": "a", "limit": 5}})
        await emu.wait_for(lambda: emu.violations)
        (violation,) = emu.violations
        assert violation.kind is ViolationKind.WRONG_SHARD and violation.shard is not None
        assert emu.record.commands[0].shard == violation.shard
        await client.close()


async def test_soundboard_sounds_come_one_per_guild(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(guilds=3) as emu:
        client, _ = await ready_client(http, emu.url, intents=ALL_INTENTS)
        ids = [str(g.id) for g in emu.state.world.guilds]
        await client.send({"op": 31, "d": {"guild_ids": ids}})
        answers = [(await client.dispatch("SOUNDBOARD_SOUNDS"))["d"] for _ in ids]
        assert [a["guild_id"] for a in answers] == ids
        assert all(a["soundboard_sounds"][0]["guild_id"] == a["guild_id"] for a in answers)
        await client.close()


async def test_channel_info_lists_voice_channels_with_the_fields_asked(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url)
    guild = emu.state.world.guilds[0]
    await client.send({"op": 43, "d": {"guild_id": str(guild.id), "fields": ["status"]}})
    info = (await client.dispatch("CHANNEL_INFO"))["d"]
    assert info == {"guild_id": str(guild.id), "channels": [{"id": str(c.id), "status": None} for c in guild.voice_channels]}
    (command,) = emu.record.commands
    assert command.op == 43 and command.connection_id == emu.record.connections[0].id
    await client.close()
