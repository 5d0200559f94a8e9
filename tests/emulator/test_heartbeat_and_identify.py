"""Heartbeats (GATEWAY.md §3.3, §12.4) and identify limits (§5.2, §5.3, §12.6).

Real time under load: a test that must *not* be closed for a late heartbeat leaves
several hundred milliseconds between its beats and the deadline, and a test that
waits to be closed asserts a lower bound on when, never an upper one.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp

from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator, ViolationKind

from .client import GatewayClient, MakeEmulator, ready_client, resumed_client

V = ViolationKind


async def test_hello_carries_the_configured_interval(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(heartbeat_interval_ms=1234) as emu:
        client = await GatewayClient.connect(http, emu.url)
        assert await client.receive() == {"t": None, "s": None, "op": 10, "d": {"heartbeat_interval": 1234}}
        await client.close()


async def test_every_heartbeat_is_acked_and_recorded(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, ready = await ready_client(http, emu.url)
    for seq in (None, 1, ready["s"]):
        await client.heartbeat(seq)
        assert await client.until(11) == {"t": None, "s": None, "op": 11, "d": None}
    beats = emu.record.connections[0].heartbeats
    assert [b.seq for b in beats] == [None, 1, 1]
    assert all(b.acked_at is not None and b.acked_at >= b.time for b in beats)
    await client.close()


async def test_a_connection_that_stops_heartbeating_is_closed_4000_and_stays_resumable(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    # 400 ms x 1.5: the handshake (Identify, READY) has 600 ms to finish before the
    # deadline, even on a loaded machine.
    async with make_emulator(heartbeat_interval_ms=400) as emu:
        client, ready = await ready_client(http, emu.url)
        assert await client.closed() == 4000  # after 400 ms x 1.5 without a beat
        conn = emu.record.connections[0]
        assert conn.closed_at is not None and conn.closed_at - conn.opened_at >= 0.6 - 0.001  # (timer rounding)
        assert [(v.kind, v.close_code) for v in emu.violations] == [(V.MISSED_HEARTBEAT, 4000)]
        resumer, replayed = await resumed_client(http, ready)
        assert replayed[-1]["t"] == "RESUMED"
        await resumer.close()


async def test_heartbeat_timeout_can_be_turned_off(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(heartbeat_interval_ms=50, heartbeat_timeout_factor=None) as emu:
        client, _ = await ready_client(http, emu.url)
        await asyncio.sleep(0.3)
        assert emu.connections and emu.violations == []
        await client.close()


async def test_a_heartbeating_client_is_not_closed(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    # Beats every quarter interval: each leaves 375 - 62.5 ms, some 300 ms, of slack
    # before the 250 ms x 1.5 deadline for scheduling delays.
    async with make_emulator(heartbeat_interval_ms=250) as emu:
        client, _ = await ready_client(http, emu.url)
        await client.heartbeat(1)
        await client.until(11)
        for _ in range(12):  # 0.75 s: two deadlines' worth
            await asyncio.sleep(0.0625)
            await client.heartbeat(1)
            await client.until(11)
        assert emu.violations == [] and emu.connections
        beats = emu.record.connections[0].heartbeats
        assert len(beats) == 13 and all(b.acked_at is not None for b in beats)
        await client.close()


async def test_identify_concurrency_gives_invalid_session_false_and_a_violation(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(identify_window_s=5.0, shards=2) as emu:
        first, _ = await ready_client(http, emu.url, shard=[0, 2])
        second = await GatewayClient.connect(http, emu.url)
        await second.receive()
        await second.identify(shard=[1, 2])  # key 1 % 1 = 0, used < 5 s ago
        assert await second.until(9) == {"t": None, "s": None, "op": 9, "d": False}
        assert await second.closed() == 4000
        assert [v.kind for v in emu.violations] == [V.IDENTIFY_CONCURRENCY]
        identifies = emu.record.identifies()
        assert [(i.shard.number, i.bucket, i.accepted) for i in identifies] == [(0, 0, True), (1, 0, False)]
        # The record says how soon it came, so a refusal can be traced to its cause: at
        # most the time between the two reads (more if the first waited to be read).
        said = re.fullmatch(r"bucket 0 again ([0-9.]+) ms after its last Identify \(window 5000 ms\)", emu.violations[0].detail)
        assert said is not None, emu.violations[0].detail
        assert (identifies[1].time - identifies[0].time) * 1000 - 0.05 <= float(said[1]) < 5000
        await first.close()


async def test_identify_buckets_are_shard_id_mod_max_concurrency(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(identify_window_s=5.0, shards=4, max_concurrency=2) as emu:
        clients = [(await ready_client(http, emu.url, shard=[n, 4]))[0] for n in (0, 1)]
        late = await GatewayClient.connect(http, emu.url)
        await late.receive()
        await late.identify(shard=[2, 4])  # bucket 0 again
        assert (await late.until(9))["d"] is False
        assert [i.bucket for i in emu.record.identifies()] == [0, 1, 0]
        for client in clients:
            await client.close()


async def test_identify_window_passes(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(identify_window_s=0.2) as emu:
        first, _ = await ready_client(http, emu.url)
        await asyncio.sleep(0.25)
        second, _ = await ready_client(http, emu.url)
        assert emu.violations == []
        for client in (first, second):
            await client.close()


async def test_session_start_budget_runs_out_and_the_token_is_reset(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(session_start_total=2) as emu:
        clients = [(await ready_client(http, emu.url))[0] for _ in range(2)]
        third = await GatewayClient.connect(http, emu.url)
        await third.receive()
        await third.identify()
        assert await third.closed() == 4004
        for client in clients:  # every session of the bot ends (§5.2 [EMU])
            assert await client.closed() == 4004
        assert V.SESSION_START_LIMIT in [v.kind for v in emu.violations]
        auth = {"Authorization": f"Bot {DEFAULT_TOKEN}"}
        async with http.get(f"{emu.api_url}/gateway/bot", headers=auth) as response:
            assert response.status == 401
        again = await GatewayClient.connect(http, emu.url)
        await again.receive()
        await again.identify()
        assert await again.closed() == 4004


async def test_tokens_are_separate_bots_with_separate_budgets(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(tokens=("alpha", "beta"), session_start_total=1, identify_window_s=5.0) as emu:
        a, ready_a = await ready_client(http, emu.url, token="alpha")
        b, ready_b = await ready_client(http, emu.url, token="beta")
        assert ready_a["d"]["user"]["id"] != ready_b["d"]["user"]["id"]
        assert emu.violations == []
        for client in (a, b):
            await client.close()
