"""The traffic generator (GATEWAY.md §10): determinism, coverage, mixes, rate, chaos."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from rxgateway.emulator import CATEGORIES, GatewayEmulator, TrafficGenerator, parse_mix
from rxgateway.emulator.payloads import BUILDERS
from rxgateway.emulator.world import Person, World
from rxgateway.protocol import ALL_INTENTS, EventType

from .client import MakeEmulator, ready_client

#: Dispatches that only answer a client or belong to the start-up sequence.
NOT_TRAFFIC = {"READY", "RESUMED", "RATE_LIMITED", "GUILD_MEMBERS_CHUNK", "SOUNDBOARD_SOUNDS", "CHANNEL_INFO",
               "VOICE_SERVER_UPDATE", "GUILD_CREATE", "GUILD_DELETE"}  # fmt: skip
BOT = Person(815735085465731072, "bot", None, 0, "online", bot=True)


def generator(seed: int, mix: str = "all") -> TrafficGenerator:
    return TrafficGenerator(World(seed, 4, 10), BOT, seed, mix)


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    first = [(d.t, d.data) for d in generator(3).take(300)]
    assert first == [(d.t, d.data) for d in generator(3).take(300)]
    assert first != [(d.t, d.data) for d in generator(4).take(300)]


def test_categories_cover_every_dispatch_of_section_10() -> None:
    dispatches = {t.value for t in EventType if t.is_dispatch}
    generated = {name for events in CATEGORIES.values() for name in events}
    assert generated == set(BUILDERS)
    assert generated | NOT_TRAFFIC == dispatches and not generated & NOT_TRAFFIC


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_event_has_its_routing_key(name: str) -> None:
    dispatch = generator(1).make(name)
    assert dispatch.t == name and dispatch.data.startswith(b"{")
    guildless = name in ("USER_UPDATE",) or name.startswith(("ENTITLEMENT_", "SUBSCRIPTION_"))
    if guildless:
        assert dispatch.guild_id is None


def test_a_mix_weighs_categories() -> None:
    names = [d.t for d in generator(5, "messages=1,typing=3").take(2000)]
    typing = names.count("TYPING_START")
    assert set(names) <= {"TYPING_START", *CATEGORIES["messages"]}
    assert 0.68 < typing / len(names) < 0.82


@pytest.mark.parametrize("mix", ["nonsense=1", "messages=0", "messages", "", "messages=x"])
def test_bad_mixes_are_refused(mix: str) -> None:
    with pytest.raises(ValueError):
        parse_mix(mix)


def test_all_weighs_every_category() -> None:
    assert parse_mix("all") == dict.fromkeys(CATEGORIES, 1.0)


async def test_rate_traffic_arrives_until_stopped(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=ALL_INTENTS)
    session = next(iter(emu.state.sessions))
    start = session.seq
    emu.start_traffic(1000, "messages=1")
    await asyncio.sleep(0.3)
    emu.stop_traffic()
    produced = session.seq - start
    assert 100 < produced < 600  # about 300 at 1000/s; loose: the machine may be busy
    await asyncio.sleep(0.05)
    assert session.seq - start == produced
    await client.close()


async def test_duplicates_chaos_delivers_some_events_twice(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(duplicate_rate=0.5, guilds=1) as emu:
        client, _ = await ready_client(http, emu.url, intents=ALL_INTENTS)
        await client.dispatch("GUILD_CREATE")
        await emu.burst(200, "messages=1")
        payloads = [await client.until(0) for _ in range(next(iter(emu.state.sessions)).seq - 2)]
        ids = [p["d"].get("id") for p in payloads if p["t"] == "MESSAGE_CREATE"]
        assert len(payloads) > 250 and len(ids) > len(set(ids))
        await client.close()


async def test_stamp_adds_the_send_time(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(stamp=True, guilds=1) as emu:
        client, _ = await ready_client(http, emu.url, intents=ALL_INTENTS)
        await client.dispatch("GUILD_CREATE")
        before = time.perf_counter_ns()
        await emu.burst(5, "messages=1")
        stamps = [(await client.until(0))["d"]["emu_sent_ns"] for _ in range(5)]
        assert before <= stamps[0] <= stamps[-1] <= time.perf_counter_ns()
        await client.close()


async def test_large_guilds_make_multi_megabyte_guild_creates(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(guilds=2, large_guilds=1, large_guild_members=8000, heartbeat_interval_ms=10_000) as emu:
        client, _ = await ready_client(http, emu.url, compress="zlib-stream", intents=ALL_INTENTS, large_threshold=250)
        creates = [await client.dispatch("GUILD_CREATE") for _ in range(2)]
        assert max(c["d"]["member_count"] for c in creates) == 8001
        (session,) = emu.state.sessions
        sizes = [len(frame) for frame in session.buffer if frame.startswith(b'{"t":"GUILD_CREATE"')]
        assert max(sizes) > 1_000_000
        await client.close()
