"""A hostile gateway: each bad input gives a typed error event or a log line with the
cause, the shard recovers, nothing already received is lost, nothing crashes."""

from __future__ import annotations

import logging
import struct
from typing import Any

import pytest

from rxgateway.emulator import Fault
from rxgateway.errors import CompressionError, DeserializationError
from rxgateway.events.base import Dispatch, GatewayErrorEvent
from rxgateway.machine import ShardState
from rxgateway.protocol import ShardId
from rxgateway.shard import Shard

from ..shard.test_shard_emulator import Collector, config_for, emulator, wait_until


async def run_with(fault: Fault, compression: str | None, *, reconnects: bool) -> tuple[Collector, Any]:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu, compression=compression))
        seen = Collector(shard)
        async with shard:
            await shard.ready(timeout=5)
            await emu.burst(100)
            await wait_until(lambda: seen.dispatches() >= 105)
            emu.inject(fault, shard=0)
            await emu.burst(100)
            if reconnects:
                await wait_until(lambda: len(emu.record.connections) >= 2, 10)
            await wait_until(lambda: seen.dispatches() >= 205 and shard.state == ShardState.ACTIVE, 15)
        assert len(seen.sessions) == 1
        seen.assert_exactly_once()
        assert emu.violations == []
        return seen, emu


def errors_of(seen: Collector) -> list[Exception]:
    return [e.error for e in seen.events if isinstance(e, GatewayErrorEvent)]


@pytest.mark.parametrize("compression", ["zstd-stream", "zlib-stream", None])
async def test_invalid_json_is_reported_and_resumed(compression: str | None) -> None:
    seen, _ = await run_with(Fault.invalid_json(), compression, reconnects=True)
    assert any(isinstance(e, DeserializationError) for e in errors_of(seen))


@pytest.mark.parametrize("compression", ["zstd-stream", "zlib-stream"])
async def test_corrupt_compressed_frame_is_reported_and_resumed(compression: str) -> None:
    seen, _ = await run_with(Fault.corrupt_frame(), compression, reconnects=True)
    assert any(isinstance(e, (CompressionError, DeserializationError)) for e in errors_of(seen))


async def test_unknown_opcode_is_reported_without_reconnecting() -> None:
    frame = b'{"op":42,"d":{"x":1},"s":null,"t":null}'
    seen, emu = await run_with(Fault.raw(frame), "zstd-stream", reconnects=False)
    assert len(emu.record.connections) == 1
    (error,) = errors_of(seen)
    assert isinstance(error, DeserializationError) and "42" in str(error)


async def test_unknown_dispatch_name_reaches_subscribers_as_unknown() -> None:
    async with emulator() as emu:
        async with Shard(ShardId(0, 1), config_for(emu)) as shard:
            seen = Collector(shard)
            await shard.ready(timeout=5)
            emu.dispatch("BRAND_NEW_EVENT", {"guild_id": str(emu.state.world.guilds[0].id), "x": 1})
            await wait_until(lambda: any(isinstance(e, Dispatch) and e.name == "BRAND_NEW_EVENT" for e in seen.events))
        (event,) = [e for e in seen.events if isinstance(e, Dispatch) and e.name == "BRAND_NEW_EVENT"]
        assert event.type.name == "UNKNOWN_DISPATCH" and event.raw["x"] == 1
        assert emu.violations == []


@pytest.mark.parametrize("interval", [0, -1000])
async def test_hello_with_unusable_interval_is_reported_and_retried(interval: int) -> None:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu))
        seen = Collector(shard)
        async with shard:
            await shard.ready(timeout=5)
            emu.inject(Fault.bad_hello(interval))
            emu.inject(Fault.drop(), shard=0)
            await wait_until(lambda: len(emu.record.connections) >= 3 and shard.state == ShardState.ACTIVE, 15)
        assert any("heartbeat_interval" in str(e) for e in errors_of(seen))
        assert emu.record.connections[-1].resumes[-1].accepted
        seen.assert_exactly_once()


async def test_oversized_frame_is_received_intact() -> None:
    big = "x" * (6 * 1024 * 1024)
    async with emulator() as emu:
        async with Shard(ShardId(0, 1), config_for(emu, compression="zlib-stream")) as shard:
            seen = Collector(shard)
            await shard.ready(timeout=5)
            guild = str(emu.state.world.guilds[0].id)
            emu.dispatch("GUILD_UPDATE", {"id": guild, "name": big})
            await wait_until(lambda: any(isinstance(e, Dispatch) and e.name == "GUILD_UPDATE" for e in seen.events))
        (event,) = [e for e in seen.events if isinstance(e, Dispatch) and e.name == "GUILD_UPDATE"]
        assert len(event.raw["name"]) == len(big)


async def test_binary_garbage_where_text_is_expected() -> None:
    seen, _ = await run_with(Fault.raw(b"\xff\xfe not json", frame="binary"), None, reconnects=True)
    assert any(isinstance(e, DeserializationError) for e in errors_of(seen))


@pytest.mark.parametrize("code", [999, 1005, 2999, 5000])
async def test_close_frame_with_an_invalid_code(code: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "rxgateway")
    frame = struct.pack("!H", code) + b"bad code"
    await run_with(Fault.raw(frame, frame="close"), "zstd-stream", reconnects=True)
    # Either aiohttp refuses the code (a websocket error, logged with its cause) or it
    # passes it on as a server close (logged with the code); both resume.
    messages = [r.getMessage() for r in caplog.records]
    assert any("websocket error" in m or f"code {code}" in m for m in messages), messages
