"""Sessions, resume and replay (GATEWAY.md §3.6, §3.9, §12.7)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from rxgateway.emulator import GatewayEmulator

from .client import GatewayClient, MakeEmulator, ready_client, resumed_client

ALL_NON_PRIVILEGED = 53575421


async def test_ready_is_s1_then_a_guild_create_per_guild_in_order(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, ready = await ready_client(http, emu.url, intents=1)
    d = ready["d"]
    assert ready["s"] == 1 and d["v"] == 10
    assert d["resume_gateway_url"] == f"{emu.url}/resume"
    assert "shard" not in d  # only when Identify sent one (§3.5)
    assert {g["id"] for g in d["guilds"]} == {str(g.id) for g in emu.state.world.guilds}
    assert all(g["unavailable"] for g in d["guilds"])
    creates = [await client.dispatch("GUILD_CREATE") for _ in d["guilds"]]
    assert [c["s"] for c in creates] == list(range(2, 2 + len(creates)))
    assert [c["d"]["id"] for c in creates] == [g["id"] for g in d["guilds"]]
    await client.close()


async def test_resume_replays_missed_dispatches_in_order_then_resumed(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, ready = await ready_client(http, emu.url, intents=ALL_NON_PRIVILEGED)
    guilds = len(ready["d"]["guilds"])
    last = (await client.until(0, "GUILD_CREATE"))["s"]
    await client.close(4000)  # non-1000: the session stays (§3.9)
    await emu.wait_for(lambda: not emu.connections)
    await emu.burst(50, "messages=1")  # produced while no connection is attached: buffered
    resumer, replayed = await resumed_client(http, ready, last)
    seqs = [p["s"] for p in replayed]
    assert seqs == list(range(last + 1, last + len(seqs) + 1))
    assert len(seqs) == guilds - 1 + 50 + 1
    assert replayed[-1]["t"] == "RESUMED" and replayed[-1]["d"] == {}
    conn = emu.record.connections[-1]
    assert conn.path.rstrip("/") == "/resume"
    (resume,) = conn.resumes
    assert resume.accepted and resume.seq == last and resume.replayed == len(seqs) - 1
    assert list(conn.sequences) == seqs
    emu.dispatch("USER_UPDATE", {"id": "1", "username": "x"})
    assert (await resumer.dispatch("USER_UPDATE"))["s"] == seqs[-1] + 1
    assert emu.violations == []
    await resumer.close()


@pytest.mark.parametrize("path", ["/resume", "/resume/", "/"])
async def test_resume_works_on_every_gateway_path(emu: GatewayEmulator, http: aiohttp.ClientSession, path: str) -> None:
    client, ready = await ready_client(http, emu.url)
    await client.close(4000)
    resumer = await GatewayClient.connect(http, emu.url, path=path)
    await resumer.receive()
    await resumer.resume(ready["d"]["session_id"], ready["s"])
    assert (await resumer.dispatch("RESUMED"))["s"] > ready["s"]
    await resumer.close()


async def test_resume_after_a_dropped_tcp_connection(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, ready = await ready_client(http, emu.url)
    client.ws._response.connection.transport.abort()  # type: ignore[union-attr]
    await emu.wait_for(lambda: not emu.connections)
    assert emu.record.connections[0].close_received is None
    resumer, replayed = await resumed_client(http, ready)
    assert replayed[-1]["t"] == "RESUMED"
    await resumer.close()


@pytest.mark.parametrize("code", [1000, 1001])
async def test_client_close_1000_or_1001_ends_the_session(emu: GatewayEmulator, http: aiohttp.ClientSession, code: int) -> None:
    client, ready = await ready_client(http, emu.url)
    await client.close(code)
    await emu.wait_for(lambda: emu.record.connections[0].closed_at)
    assert emu.record.connections[0].close_received == code
    resumer = await GatewayClient.connect(http, emu.url, path="/resume")
    await resumer.receive()
    await resumer.resume(ready["d"]["session_id"], ready["s"])
    assert await resumer.until(9) == {"t": None, "s": None, "op": 9, "d": False}
    assert await resumer.closed() == 4000  # after the invalid-session delay (§3.8 [EMU])
    assert not emu.record.connections[-1].resumes[0].accepted
    assert emu.violations == []


async def test_unknown_session_gets_invalid_session_false(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client = await GatewayClient.connect(http, emu.url)
    await client.receive()
    await client.resume("no-such-session", 3)
    assert (await client.until(9))["d"] is False


async def test_expired_session_gets_invalid_session_false(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(resume_window_s=0.2) as emu:
        client, ready = await ready_client(http, emu.url)
        await client.close(4000)
        await emu.wait_for(lambda: not emu.connections)
        await emu.wait_for(lambda: not len(emu.state.sessions), 2)  # swept once the window passed
        resumer = await GatewayClient.connect(http, emu.url, path="/resume")
        await resumer.receive()
        await resumer.resume(ready["d"]["session_id"], ready["s"])
        assert (await resumer.until(9))["d"] is False


async def test_identify_after_invalid_session_on_the_same_socket_is_tolerated(
    emu: GatewayEmulator, http: aiohttp.ClientSession
) -> None:
    client = await GatewayClient.connect(http, emu.url)
    await client.receive()
    await client.resume("gone", 1)
    assert (await client.until(9))["d"] is False
    await client.identify()
    assert (await client.dispatch("READY"))["s"] == 1
    await asyncio.sleep(3 * emu.config.invalid_session_close_delay_s)
    assert emu.record.connections[0].close_sent is None  # the pending close was called off
    await client.close()


async def test_resume_elsewhere_closes_the_old_connection(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    old, ready = await ready_client(http, emu.url)
    new, _ = await resumed_client(http, ready)
    assert await old.closed() == 4000
    emu.dispatch("USER_UPDATE", {"id": "1"})
    assert (await new.dispatch("USER_UPDATE"))["t"] == "USER_UPDATE"
    assert emu.state.sessions.get(ready["d"]["session_id"], 0) is not None
    await new.close()


async def test_resume_from_beyond_the_replay_buffer_gets_invalid_session(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(replay_buffer_length=10, guilds=1) as emu:
        client, ready = await ready_client(http, emu.url, intents=ALL_NON_PRIVILEGED)
        await client.close(4000)
        await emu.wait_for(lambda: not emu.connections)
        await emu.burst(20, "messages=1")
        resumer = await GatewayClient.connect(http, emu.url, path="/resume")
        await resumer.receive()
        await resumer.resume(ready["d"]["session_id"], ready["s"])
        assert (await resumer.until(9))["d"] is False


async def test_a_resume_that_takes_a_live_session_records_the_connection_it_displaced(
    emu: GatewayEmulator, http: aiohttp.ClientSession
) -> None:
    """Two live connections for one session is what a cluster must never cause: the
    record says when a Resume took a session still held, and from which connection."""
    holder, ready = await ready_client(http, emu.url)
    taker, _ = await resumed_client(http, ready)  # the holder is still connected
    (took,) = emu.record.connections[-1].resumes
    assert took.accepted and took.displaced == emu.record.connections[0].id
    await emu.wait_for(lambda: emu.record.connections[0].closed_at)
    assert emu.record.connections[0].close_sent == emu.config.server_close_code
    await taker.close(4000)
    await emu.wait_for(lambda: emu.record.connections[1].closed_at)
    again, _ = await resumed_client(http, ready)  # the session was free this time
    assert emu.record.connections[-1].resumes[0].displaced is None
    assert [r.displaced for r in emu.record.resumes()] == [emu.record.connections[0].id, None]
    await again.close()
    await holder.close()
