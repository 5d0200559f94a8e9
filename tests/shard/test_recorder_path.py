"""A recorder attached to a shard costs it no change of path: the receive loop stays on
the machine's fast lane, the shard delivers the very events it delivers without one,
and the recording holds every payload the machine accepted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from rxgateway.config import Config
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.events.base import Dispatch, Event
from rxgateway.machine import ShardMachine
from rxgateway.protocol import EventTypeFlags, Intents, ShardId
from rxgateway.queue import InMemoryQueue
from rxgateway.record import Recorder, Recording
from rxgateway.shard import Shard

EVENTS = 2_000


async def run(tmp_path: Path | None, flags: EventTypeFlags) -> tuple[list[tuple[Any, ...]], int]:
    """One shard on a fresh emulator (same seed, so the same traffic), ``EVENTS``
    events; returns what it delivered, and the number of payloads recorded."""
    async with GatewayEmulator(heartbeat_interval_ms=10_000, identify_window_s=0.0, guilds=2, seed=7) as emu:
        config = Config(DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url, queue=InMemoryQueue(identify_interval=0.0))
        shard = Shard(ShardId(0, 1), config)
        seen: list[Event] = []
        shard.subscribe_flags(_Into(seen), flags)
        recorder = Recorder(tmp_path / "s.jsonl") if tmp_path is not None else None
        if recorder is not None:
            recorder.attach(shard)
        async with shard:
            await shard.ready(timeout=5)
            await emu.burst(EVENTS)
            sent = emu.record.connections[0].sequences
            async with asyncio.timeout(20):
                while shard.stats["dispatches"] < len(sent):
                    await asyncio.sleep(0.01)
        recorded = 0
        if recorder is not None:
            recorder.close()
            recorded = sum(1 for _ in Recording(tmp_path / "s.jsonl"))  # type: ignore[operator]
    # The dispatches (heartbeat ACKs come when they come). READY differs between two
    # runs by its session id and resume URL; the rest is byte for byte the same.
    delivered = [
        (type(e).__name__, e.sequence, e.name, e.raw if e.name != "READY" else None)
        for e in seen
        if isinstance(e, Dispatch)
    ]
    return delivered, recorded


class _Into:
    def __init__(self, into: list[Event]) -> None:
        self.into = into

    def on_next(self, event: Event) -> None:
        self.into.append(event)

    def on_error(self, error: Exception) -> None:
        raise AssertionError(error)

    def on_completed(self) -> None:
        pass


@pytest.mark.parametrize(
    "flags", [EventTypeFlags.all(), EventTypeFlags.MESSAGE_CREATE | EventTypeFlags.READY], ids=["all", "filtered"]
)
async def test_a_recorder_changes_neither_the_events_nor_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: EventTypeFlags
) -> None:
    general = [0]
    on_frame = ShardMachine.on_frame

    def counting_on_frame(self: ShardMachine, now: float, data: bytes | str) -> Any:
        general[0] += 1
        return on_frame(self, now, data)

    monkeypatch.setattr(ShardMachine, "on_frame", counting_on_frame)
    without, _ = await run(None, flags)
    with_recorder, recorded = await run(tmp_path, flags)
    assert general[0] == 0  # the receive loop never left its fast lane
    assert with_recorder == without
    assert len(without) > (EVENTS // 5 if flags != EventTypeFlags.all() else EVENTS)  # traffic flowed
    # Every payload the machine accepted: Hello, READY, the guilds, the burst, ACKs.
    assert recorded >= 1 + 1 + 2 + EVENTS
