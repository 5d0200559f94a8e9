"""Shard routing, intent filtering and content blanking (GATEWAY.md §6.1, §8, §10.11, §12.9)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from rxgateway.emulator import GatewayEmulator
from rxgateway.protocol import Intents, shard_for_guild

from .client import GatewayClient, MakeEmulator, ready_client

GUILD_MESSAGES = int(Intents.GUILDS | Intents.GUILD_MESSAGES)


def message(guild_id: int | None, author: int = 42, mentions: tuple[int, ...] = (), **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": "1389395076710531072",
        "channel_id": "981346340044931073",
        "author": {"id": str(author), "username": "alice"},
        "content": "secret",
        "embeds": [{"title": "e"}],
        "attachments": [{"id": "1"}],
        "components": [{"type": 1}],
        "poll": {"question": {"text": "?"}},
        "mentions": [{"id": str(m)} for m in mentions],
    }
    if guild_id is not None:
        d["guild_id"] = str(guild_id)
    d.update(extra)
    return d


async def dispatches_until_marker(client: GatewayClient, emu: GatewayEmulator) -> list[dict[str, Any]]:
    emu.dispatch("USER_UPDATE", {"id": "1", "username": "marker"})
    seen = []
    for _ in range(1000):
        payload = await client.until(0)
        if payload["t"] == "USER_UPDATE":
            return seen
        seen.append(payload)
    raise AssertionError("no marker")


async def test_guild_events_go_to_the_shard_that_owns_the_guild(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(guilds=8) as emu:
        world = emu.state.world
        owned = [{str(g.id) for g in world.guilds if shard_for_guild(g.id, 2) == n} for n in (0, 1)]
        clients = [(await ready_client(http, emu.url, shard=[n, 2], intents=GUILD_MESSAGES))[0] for n in (0, 1)]
        for guild in world.guilds:
            emu.dispatch("MESSAGE_CREATE", message(guild.id))
        for client, expected in zip(clients, owned, strict=True):
            seen = {(await client.dispatch("MESSAGE_CREATE"))["d"]["guild_id"] for _ in expected}
            assert seen == expected
        sessions = sorted(emu.state.sessions, key=lambda s: s.shard.number)
        assert [s.seq for s in sessions] == [1 + 2 * len(guilds) for guilds in owned]  # READY, creates, messages
        for client in clients:
            await client.close()


@pytest.mark.parametrize(
    ("t", "d"),
    [
        ("MESSAGE_CREATE", message(None)),
        ("ENTITLEMENT_CREATE", {"id": "1", "sku_id": "2", "guild_id": "981346340049125376"}),
        ("SUBSCRIPTION_UPDATE", {"id": "1", "user_id": "2"}),
        ("USER_UPDATE", {"id": "1"}),
    ],
)
async def test_guildless_and_monetization_events_go_to_shard_0_only(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession, t: str, d: dict[str, Any]
) -> None:
    async with make_emulator(guilds=1) as emu:
        intents = int(Intents.DIRECT_MESSAGES)
        zero, _ = await ready_client(http, emu.url, shard=[0, 2], intents=intents)
        one, _ = await ready_client(http, emu.url, shard=[1, 2], intents=intents)
        emu.dispatch(t, d)
        assert (await zero.dispatch(t))["d"] == d
        assert [s.seq for s in emu.state.sessions] == [2, 1]  # READY (+ the event on shard 0)
        for client in (zero, one):
            await client.close()


async def test_sessions_with_different_shard_counts_each_route_by_their_own(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(guilds=1) as emu:
        guild = emu.state.world.guilds[0].id
        owners = [(n, t) for t in (1, 3) for n in range(t) if shard_for_guild(guild, t) == n]
        clients = [(await ready_client(http, emu.url, shard=[n, t], intents=GUILD_MESSAGES))[0] for n, t in owners]
        emu.dispatch("MESSAGE_CREATE", message(guild))
        for client in clients:
            assert (await client.dispatch("MESSAGE_CREATE"))["d"]["guild_id"] == str(guild)
            await client.close()


@pytest.mark.parametrize(
    ("intents", "t", "in_guild", "delivered"),
    [
        (Intents.GUILD_MESSAGES, "MESSAGE_CREATE", True, True),
        (Intents.DIRECT_MESSAGES, "MESSAGE_CREATE", True, False),
        (Intents.DIRECT_MESSAGES, "MESSAGE_CREATE", False, True),
        (Intents.GUILD_MESSAGES, "MESSAGE_CREATE", False, False),
        (Intents.GUILD_MESSAGE_TYPING, "TYPING_START", True, True),
        (Intents.DIRECT_MESSAGE_TYPING, "TYPING_START", True, False),
        (Intents.GUILDS, "CHANNEL_PINS_UPDATE", True, True),
        (Intents.DIRECT_MESSAGES, "CHANNEL_PINS_UPDATE", False, True),
        (Intents.GUILDS, "CHANNEL_PINS_UPDATE", False, False),
        (Intents.GUILDS, "PRESENCE_UPDATE", True, False),
        (Intents.GUILD_PRESENCES, "PRESENCE_UPDATE", True, True),
        (Intents.GUILDS, "GUILD_MEMBER_ADD", True, False),
        (Intents.GUILDS, "INTERACTION_CREATE", True, True),
        (Intents(0), "APPLICATION_COMMAND_PERMISSIONS_UPDATE", True, True),
        (Intents.GUILD_MEMBERS, "THREAD_MEMBERS_UPDATE", True, True),
        (Intents.GUILD_MESSAGE_POLLS, "MESSAGE_POLL_VOTE_ADD", True, True),
        (Intents.GUILD_MESSAGE_POLLS, "MESSAGE_POLL_VOTE_ADD", False, False),
    ],
)
async def test_dispatches_are_filtered_by_intents(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession, intents: Intents, t: str, in_guild: bool, delivered: bool
) -> None:
    async with make_emulator(guilds=1) as emu:
        client, _ = await ready_client(http, emu.url, intents=int(intents))
        guild = emu.state.world.guilds[0].id
        d: dict[str, Any] = {"channel_id": "5", "user_id": "6"}
        if in_guild:
            d["guild_id"] = str(guild)
        emu.dispatch(t, d)
        seen = [p["t"] for p in await dispatches_until_marker(client, emu)]
        assert (t in seen) is delivered
        await client.close()


async def test_the_bots_own_member_update_needs_no_intent(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, ready = await ready_client(http, emu.url, intents=int(Intents.GUILDS))
    guild = str(emu.state.world.guilds[0].id)
    bot = ready["d"]["user"]["id"]
    emu.dispatch("GUILD_MEMBER_UPDATE", {"guild_id": guild, "user": {"id": "77"}, "roles": []})
    emu.dispatch("GUILD_MEMBER_UPDATE", {"guild_id": guild, "user": {"id": bot}, "roles": []})
    updates = [p for p in await dispatches_until_marker(client, emu) if p["t"] == "GUILD_MEMBER_UPDATE"]
    assert [u["d"]["user"]["id"] for u in updates] == [bot]
    await client.close()


CONTENT_CASES = [
    # (intents add MESSAGE_CONTENT, guild message, author is the bot, mentions the bot, content kept)
    (True, True, False, False, True),
    (False, True, False, False, False),
    (False, False, False, False, True),  # DM
    (False, True, True, False, True),  # the bot's own message
    (False, True, False, True, True),  # mentions the bot
]


@pytest.mark.parametrize(("content", "guild", "own", "mentioned", "kept"), CONTENT_CASES)
@pytest.mark.parametrize("t", ["MESSAGE_CREATE", "MESSAGE_UPDATE"])
async def test_message_content_is_blanked_without_the_intent(
    emu: GatewayEmulator, http: aiohttp.ClientSession, t: str, content: bool, guild: bool, own: bool, mentioned: bool, kept: bool
) -> None:
    intents = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.DIRECT_MESSAGES
    if content:
        intents |= Intents.MESSAGE_CONTENT
    client, ready = await ready_client(http, emu.url, intents=int(intents))
    bot = int(ready["d"]["user"]["id"])
    d = message(emu.state.world.guilds[0].id if guild else None, author=bot if own else 42,
                mentions=(bot,) if mentioned else ())  # fmt: skip
    emu.dispatch(t, d)
    got = (await client.dispatch(t))["d"]
    if kept:
        assert got == d
    else:
        assert (got["content"], got["embeds"], got["attachments"], got["components"]) == ("", [], [], [])
        assert "poll" not in got
        assert {k: v for k, v in got.items() if k not in d or k in ("id", "author")} == {"id": d["id"], "author": d["author"]}
    await client.close()


async def test_automod_execution_content_needs_message_content(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=int(Intents.AUTO_MODERATION_EXECUTION))
    guild = str(emu.state.world.guilds[0].id)
    emu.dispatch("AUTO_MODERATION_ACTION_EXECUTION", {"guild_id": guild, "content": "cheap", "matched_content": "cheap"})
    got = (await client.dispatch("AUTO_MODERATION_ACTION_EXECUTION"))["d"]
    assert (got["content"], got["matched_content"]) == ("", None)
    await client.close()


async def test_guild_create_follows_the_member_list_rules(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(guilds=1, members_per_guild=60) as emu:
        plain, _ = await ready_client(http, emu.url, intents=int(Intents.GUILDS))
        small = (await plain.dispatch("GUILD_CREATE"))["d"]
        assert small["member_count"] == 61 and small["large"] is True  # 61 > large_threshold 50
        assert len(small["members"]) == 1 and small["presences"] == []  # the bot only
        presences = int(Intents.GUILDS | Intents.GUILD_PRESENCES)
        rich, _ = await ready_client(http, emu.url, intents=presences, large_threshold=250)
        full = (await rich.dispatch("GUILD_CREATE"))["d"]
        assert full["large"] is False and len(full["members"]) == 61
        large, _ = await ready_client(http, emu.url, intents=presences, large_threshold=50)
        online = (await large.dispatch("GUILD_CREATE"))["d"]
        offline = sum(p.status == "offline" for p in emu.state.world.members(emu.state.world.guilds[0]))
        assert len(online["members"]) == 61 - offline
        assert all(p["status"] != "offline" for p in online["presences"])
        for client in (plain, rich, large):
            await client.close()


async def test_ready_lists_only_the_shards_guilds_and_echoes_the_shard(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(guilds=10) as emu:
        client, ready = await ready_client(http, emu.url, shard=[1, 3], intents=1)
        assert ready["d"]["shard"] == [1, 3]
        expected = {str(g.id) for g in emu.state.world.guilds if shard_for_guild(g.id, 3) == 1}
        assert {g["id"] for g in ready["d"]["guilds"]} == expected
        creates = {(await client.dispatch("GUILD_CREATE"))["d"]["id"] for _ in expected}
        assert creates == expected
        await client.close()
