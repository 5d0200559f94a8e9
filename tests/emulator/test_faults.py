"""Faults on command (GATEWAY.md §12.11), each as the client sees it."""

from __future__ import annotations

import zlib

import aiohttp
import orjson
import pytest
import zstandard

from rxgateway.emulator import Fault, FaultKind, GatewayEmulator

from .client import GatewayClient, MakeEmulator, ready_client, resumed_client

#: GUILD_MESSAGES without GUILDS: READY is followed by no GUILD_CREATE.
NO_GUILD_CREATES = 512


@pytest.mark.parametrize("code", [4000, 4009, 1000, 1001, 4999])
async def test_close_with_any_code(emu: GatewayEmulator, http: aiohttp.ClientSession, code: int) -> None:
    client, _ = await ready_client(http, emu.url)
    assert emu.inject(Fault.close(code), shard=0) == [1]
    assert await client.closed() == code
    await emu.wait_for(lambda: emu.record.connections[0].closed_at)
    assert emu.record.connections[0].close_sent == code


async def test_drop_cuts_tcp_without_a_close_frame(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, ready = await ready_client(http, emu.url)
    emu.inject(Fault.drop())
    assert await client.closed() is None  # no close frame: aiohttp reports CLOSED/ERROR
    await emu.wait_for(lambda: emu.record.connections[0].closed_at)
    conn = emu.record.connections[0]
    assert conn.dropped and conn.close_sent is None
    resumer, replayed = await resumed_client(http, ready)  # the session survived
    assert replayed[-1]["t"] == "RESUMED"
    await resumer.close()


async def test_zombie_stops_acks(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=NO_GUILD_CREATES)
    await client.heartbeat(1)
    assert (await client.until(11))["op"] == 11
    emu.inject(Fault.zombie(), connection=1)
    await client.heartbeat(1)
    emu.dispatch("USER_UPDATE", {"id": "1"})  # still delivered; only ACKs stop
    assert (await client.receive())["t"] == "USER_UPDATE"
    beats = emu.record.connections[0].heartbeats
    assert beats[0].acked_at is not None and beats[1].acked_at is None
    await client.close()


async def test_no_ack_config_makes_every_connection_a_zombie(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(ack_heartbeats=False) as emu:
        client, _ = await ready_client(http, emu.url, intents=NO_GUILD_CREATES)
        await client.heartbeat(1)
        emu.dispatch("USER_UPDATE", {"id": "1"})
        assert (await client.receive())["t"] == "USER_UPDATE"  # no op 11 came first
        await client.close()


async def test_reconnect_sends_op7_then_closes_resumably(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, ready = await ready_client(http, emu.url)
    emu.inject(Fault.reconnect(), session=ready["d"]["session_id"])
    assert await client.until(7) == {"t": None, "s": None, "op": 7, "d": None}
    assert await client.closed() == 4000
    resumer, replayed = await resumed_client(http, ready)
    assert replayed[-1]["t"] == "RESUMED"
    await resumer.close()


@pytest.mark.parametrize("resumable", [True, False])
async def test_invalid_session(emu: GatewayEmulator, http: aiohttp.ClientSession, resumable: bool) -> None:
    client, ready = await ready_client(http, emu.url)
    emu.inject(Fault.invalid_session(resumable))
    assert (await client.until(9))["d"] is resumable
    assert await client.closed() == 4000
    session = emu.state.sessions.get(ready["d"]["session_id"], emu.state.clock())
    assert (session is not None) is resumable


async def test_corrupt_frame_breaks_the_clients_inflater(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    for compress in ("zlib-stream", "zstd-stream"):
        client, _ = await ready_client(http, emu.url, compress=compress, intents=NO_GUILD_CREATES)
        emu.inject(Fault.corrupt_frame(), connection=emu.record.connections[-1].id)
        with pytest.raises((zlib.error, zstandard.ZstdError)):
            await client.receive()
        await client.close()


async def test_invalid_json_arrives_intact_through_the_compression(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, compress="zlib-stream", intents=NO_GUILD_CREATES)
    emu.inject(Fault.invalid_json())
    with pytest.raises(orjson.JSONDecodeError):
        await client.receive()
    await client.close()


async def test_request_heartbeat_sends_op1(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url)
    emu.inject(Fault.request_heartbeat(), shard=0)
    assert await client.until(1) == {"t": None, "s": None, "op": 1, "d": None}
    assert (1 in [op for _, op in emu.record.connections[0].ops_sent])
    await client.close()


async def test_reconnect_before_hello_hits_the_next_connection(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    assert emu.inject(Fault.reconnect_before_hello()) == []
    first = await GatewayClient.connect(http, emu.url)
    assert (await first.receive())["op"] == 7
    assert await first.closed() == 4000
    second = await GatewayClient.connect(http, emu.url)
    assert (await second.receive())["op"] == 10
    await second.close()


async def test_faults_target_shards(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(guilds=2) as emu:
        zero, _ = await ready_client(http, emu.url, shard=[0, 2])
        one, _ = await ready_client(http, emu.url, shard=[1, 2])
        assert emu.inject(Fault.close(4009), shard=1) == [2]
        assert await one.closed() == 4009
        assert [c.close_sent for c in emu.record.for_shard(1)] == [4009]
        assert emu.inject(Fault.request_heartbeat()) == [1]  # every open connection
        assert (await zero.until(1))["op"] == 1
        assert emu.inject(Fault.close(), shard=5) == []
        await zero.close()


async def test_scheduled_faults_repeat(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url)
    emu.schedule_faults([Fault.request_heartbeat()], every_s=0.05)
    for _ in range(3):
        assert (await client.until(1))["op"] == 1
    await client.close()


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("close", Fault.close()),
        ("close:4009", Fault.close(4009)),
        ("invalid_session:true", Fault.invalid_session(True)),
        ("invalid_session", Fault.invalid_session(False)),
        ("slow_link:32", Fault.slow_link(32)),
        ("drop", Fault.drop()),
        ("corrupt_dispatch", Fault.corrupt_dispatch()),
    ],
)
def test_fault_parse(text: str, fault: Fault) -> None:
    assert Fault.parse(text) == fault


@pytest.mark.parametrize("text", ["explode", "close:abc", "close:999", "drop:1", "slow_link:0", "corrupt_dispatch:1"])
def test_fault_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        Fault.parse(text)


async def test_control_api_injects_faults(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url)
    async with http.post(f"{emu.http_url}/_emulator/faults", json={"fault": "close", "code": 4009, "shard": 0}) as r:
        assert r.status == 200 and await r.json() == {"connections": [1]}
    assert await client.closed() == 4009
    for body in ({"fault": "nope"}, {"fault": "close", "shard": "0"}, [1]):
        async with http.post(f"{emu.http_url}/_emulator/faults", json=body) as r:
            assert r.status == 400 and "error" in await r.json()


def test_every_fault_kind_has_a_constructor() -> None:
    made = {
        Fault.close().kind, Fault.drop().kind, Fault.zombie().kind, Fault.reconnect().kind,
        Fault.invalid_session().kind, Fault.corrupt_frame().kind, Fault.invalid_json().kind,
        Fault.request_heartbeat().kind, Fault.slow_link().kind, Fault.reconnect_before_hello().kind,
        Fault.raw(b"{}").kind, Fault.bad_hello().kind, Fault.corrupt_dispatch().kind,
    }  # fmt: skip
    assert made == set(FaultKind)
