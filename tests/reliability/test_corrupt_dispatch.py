"""A corrupt dispatch is replayed, not lost: the emulator breaks one dispatch on the
wire (its replay buffer keeps the good copy); the shard reports it, leaves the
sequence where it was, resumes, and gets it again. Over a real loopback websocket."""

from __future__ import annotations

import asyncio

import pytest

from rxgateway.config import Config
from rxgateway.emulator import DEFAULT_TOKEN, Fault, GatewayEmulator
from rxgateway.errors import DeserializationError
from rxgateway.events.base import Dispatch, Event, GatewayErrorEvent
from rxgateway.machine import ShardState
from rxgateway.protocol import EventTypeFlags, Intents, ShardId
from rxgateway.queue import InMemoryQueue
from rxgateway.shard import Shard


class Seen:
    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.messages = 0
        self.errors: list[Exception] = []

    def on_next(self, event: Event) -> None:
        if isinstance(event, GatewayErrorEvent):
            self.errors.append(event.error)
        elif isinstance(event, Dispatch) and event.sequence is not None:
            self.seqs.append(event.sequence)
            self.messages += event.name == "MESSAGE_CREATE"

    def on_error(self, error: Exception) -> None:
        raise AssertionError(error)

    def on_completed(self) -> None:
        pass


@pytest.mark.parametrize("wanted", ["every-type", "message-create"])
@pytest.mark.parametrize("compression", ["zstd-stream", "zlib-stream", None])
async def test_a_corrupt_dispatch_is_replayed_and_nothing_is_lost(wanted: str, compression: str | None) -> None:
    async with GatewayEmulator(heartbeat_interval_ms=5_000, identify_window_s=0.0, guilds=2) as emu:
        config = Config(DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url, compression=compression, queue=InMemoryQueue(identify_interval=0.0))
        shard = Shard(ShardId(0, 1), config)
        seen = Seen()
        flags = EventTypeFlags.all() if wanted == "every-type" else EventTypeFlags.MESSAGE_CREATE | EventTypeFlags.GATEWAY_ERROR | EventTypeFlags.READY
        shard.subscribe_flags(seen, flags)
        async with shard:
            await shard.ready(timeout=5)
            emu.push(100, shard=0)
            async with asyncio.timeout(10):
                while seen.messages < 100:
                    await asyncio.sleep(0.01)
            assert emu.inject(Fault.corrupt_dispatch(), shard=0)
            emu.push(100, shard=0)
            async with asyncio.timeout(15):
                while seen.messages < 200 or shard.state != ShardState.ACTIVE:
                    await asyncio.sleep(0.01)
        corrupted = [seq for c in emu.record.connections for seq in c.corrupted]
        assert len(corrupted) == 1
        assert [type(e) for e in seen.errors] == [DeserializationError]
        assert seen.messages == 200
        messages = [s for s in seen.seqs if s > 1]  # READY is 1; GUILD_CREATEs only when wanted
        assert messages == sorted(set(messages)), "exactly once, in order"
        assert corrupted[0] in seen.seqs  # the broken one came back whole
        assert len(emu.record.connections) == 2  # one resume
        assert any(r.accepted for r in emu.record.connections[1].resumes)
        assert emu.violations == []
