"""Transport and payload compression (GATEWAY.md §7)."""

from __future__ import annotations

import zlib

import aiohttp
import pytest
import zstandard

from rxgateway.emulator import Fault, GatewayEmulator
from rxgateway.protocol import ALL_INTENTS

from .client import ZLIB_SUFFIX, GatewayClient, MakeEmulator, ready_client


@pytest.mark.parametrize("compress", [None, "zlib-stream", "zstd-stream"])
async def test_a_burst_round_trips_in_order(emu: GatewayEmulator, http: aiohttp.ClientSession, compress: str | None) -> None:
    client, _ = await ready_client(http, emu.url, compress=compress, intents=ALL_INTENTS)
    guilds = len(emu.state.world.guilds)
    await emu.burst(500, "all")
    seqs = [(await client.until(0))["s"] for _ in range(guilds + 500)]
    assert seqs == list(range(2, 2 + guilds + 500))
    await client.close()


async def test_zlib_stream_is_one_stream_with_a_sync_flush_per_payload(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    ws = await http.ws_connect(emu.url, params={"v": "10", "encoding": "json", "compress": "zlib-stream"})
    first = await ws.receive()
    assert first.type is aiohttp.WSMsgType.BINARY
    assert first.data[:1] == b"\x78" and first.data.endswith(ZLIB_SUFFIX)  # zlib header once (§7.1)
    inflater = zlib.decompressobj()
    assert b'"op":10' in inflater.decompress(first.data)
    await ws.send_str('{"op":1,"d":null}')
    ack = await ws.receive()
    assert ack.data[:1] != b"\x78" and ack.data.endswith(ZLIB_SUFFIX)
    assert b'"op":11' in inflater.decompress(ack.data)
    await ws.close()


async def test_zstd_stream_is_one_frame_with_a_block_per_payload(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    ws = await http.ws_connect(emu.url, params={"v": "10", "encoding": "json", "compress": "zstd-stream"})
    first = await ws.receive()
    assert first.data[:4] == b"\x28\xb5\x2f\xfd"  # the magic only once (§7.2)
    stream = zstandard.ZstdDecompressor().decompressobj()
    assert b'"op":10' in stream.decompress(first.data)
    await ws.send_str('{"op":1,"d":null}')
    ack = await ws.receive()
    assert ack.data[:4] != b"\x28\xb5\x2f\xfd"
    assert stream.decompress(ack.data) == b'{"t":null,"s":null,"op":11,"d":null}'
    await ws.close()


async def test_zlib_messages_split_over_frames_reassemble(make_emulator: MakeEmulator, http: aiohttp.ClientSession) -> None:
    async with make_emulator(zlib_split_bytes=64) as emu:
        client, ready = await ready_client(http, emu.url, compress="zlib-stream", intents=1)
        creates = [await client.dispatch("GUILD_CREATE") for _ in ready["d"]["guilds"]]
        assert all(c["d"]["channels"] for c in creates)
        assert max(client.frames_per_payload) > 10  # a GUILD_CREATE spans many frames
        await client.close()


async def test_slow_link_fault_splits_later_zlib_messages(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, compress="zlib-stream")
    assert emu.inject(Fault.slow_link(8), shard=0) == [emu.record.connections[0].id]
    emu.dispatch("USER_UPDATE", {"id": "1", "username": "a-long-enough-name-to-span-frames"})
    assert (await client.dispatch("USER_UPDATE"))["d"]["id"] == "1"
    assert client.frames_per_payload[-1] > 2
    await client.close()


async def test_slow_link_does_not_apply_to_zstd(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, compress="zstd-stream")
    assert emu.inject(Fault.slow_link()) == []
    await client.close()


async def test_payload_compression_zlibs_large_payloads_only(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client = await GatewayClient.connect(http, emu.url)
    await client.receive()
    await client.identify(intents=1, compress=True)
    kinds = []
    for _ in range(1 + len(emu.state.world.guilds)):  # READY and the GUILD_CREATEs
        msg = await client.ws.receive()
        kinds.append(msg.type)
        if msg.type is aiohttp.WSMsgType.BINARY:
            assert zlib.decompress(msg.data).startswith(b'{"t":"GUILD_CREATE"')
    await client.heartbeat()
    ack = await client.ws.receive()
    assert ack.type is aiohttp.WSMsgType.TEXT  # small: sent as it is
    assert aiohttp.WSMsgType.BINARY in kinds
    await client.close()


async def test_unknown_compress_or_encoding_is_refused_at_the_handshake(
    emu: GatewayEmulator, http: aiohttp.ClientSession
) -> None:
    for params in ({"v": "10", "compress": "brotli"}, {"v": "10", "encoding": "etf"}):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(emu.url, params=params)
        assert refused.value.status == 400
