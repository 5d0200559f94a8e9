"""Progress is a live session: a long replay cut again and again still gets through.

After an outage the gateway replays the whole backlog on Resume and sends RESUMED only
at its end; a gateway node that goes away every ~1,500 events (op 7, op 9 d=true, close
4000, a TCP drop, in turn) cuts each replay short. Every cut connection delivered new
events, so the shard reconnects at once and resumes from where it stopped: 30,000
events arrive exactly once, in about the time the stream itself takes.

Run with ``-s`` to see the figures (seconds with the faults, and without them).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from rxgateway.config import Config
from rxgateway.emulator import DEFAULT_TOKEN, Fault, GatewayEmulator
from rxgateway.events.base import Dispatch, Event
from rxgateway.machine import ShardState
from rxgateway.protocol import Intents, ShardId
from rxgateway.queue import InMemoryQueue
from rxgateway.shard import Shard

BACKLOG = 30_000
FAULT_EVERY = 1_500
CUTS = ["reconnect", "invalid_session:true", "close:4000", "drop"]


class Sequences:
    """The sequence of every dispatch, in arrival order (RESUMED is numbered too)."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.readies = 0
        self.messages = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, Dispatch) and event.sequence is not None:
            if event.name == "READY":
                self.readies += 1
            elif event.name == "MESSAGE_CREATE":
                self.messages += 1
            self.seqs.append(event.sequence)

    def exactly_once(self) -> bool:
        return self.seqs == list(range(1, len(self.seqs) + 1))


async def replay_backlog(compression: str, faults: bool) -> tuple[float, Sequences, Shard, GatewayEmulator, int]:
    """Connect, go away, let ``BACKLOG`` events pile up, come back; returns the
    seconds from the outage's end to the last event, and what was seen."""
    emu = GatewayEmulator(
        heartbeat_interval_ms=5_000,
        identify_window_s=0.0,
        reconnect_close_delay_s=0.5,
        invalid_session_close_delay_s=0.5,
        guilds=2,
        replay_buffer_length=BACKLOG + 1_000,
    )
    await emu.start()
    config = Config(DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url, compression=compression, queue=InMemoryQueue(identify_interval=0.0))
    shard = Shard(ShardId(0, 1), config)
    seen = Sequences()
    shard.subscribe(seen)
    await shard.start()
    await shard.ready(timeout=10)
    await emu.wait_for(lambda: len(seen.seqs) >= 3, timeout=10)  # READY + 2 GUILD_CREATE
    if faults:
        emu.schedule_dispatch_faults(FAULT_EVERY, CUTS)
    emu.inject(Fault.drop(), shard=0)
    start = time.perf_counter()
    pushed = emu.push(BACKLOG, "MESSAGE_CREATE", shard=0)  # before the shard is back: a backlog
    assert pushed == BACKLOG
    async with asyncio.timeout(90):
        while seen.messages < BACKLOG:
            await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start
    emu.stop_dispatch_faults()
    connections = len(emu.record.connections)
    return elapsed, seen, shard, emu, connections


@pytest.mark.timeout(240)
@pytest.mark.parametrize("compression", ["zstd-stream", "zlib-stream"])
async def test_thirty_thousand_events_through_a_replay_cut_every_1500(compression: str) -> None:
    clean, clean_seen, shard, emu, _ = await replay_backlog(compression, faults=False)
    shard.close()
    await shard.closed()
    await emu.stop()
    assert clean_seen.exactly_once() and clean_seen.messages == BACKLOG

    chaos, seen, shard, emu, connections = await replay_backlog(compression, faults=True)
    try:
        assert seen.readies == 1, "the session must survive every cut"
        assert seen.exactly_once(), "every event exactly once, in order"
        assert seen.messages == BACKLOG
        cuts = connections - 2  # the first connection and the one dropped by hand
        assert cuts >= BACKLOG // FAULT_EVERY - 1
        resumes = [r for c in emu.record.connections for r in c.resumes]
        assert resumes and all(r.accepted for r in resumes)
        assert not any(c.identifies for c in emu.record.connections[1:])
        # The last connection gets its RESUMED once the faults stop and it is idle.
        await shard.wait_until(lambda s: s == ShardState.ACTIVE, timeout=30)
        assert emu.violations == []
    finally:
        shard.close()
        await shard.closed()
        await emu.stop()
    print(
        f"\n{compression}: {BACKLOG} events replayed through {cuts} cuts (faults every {FAULT_EVERY}) "
        f"in {chaos:.2f} s; without faults {clean:.2f} s; ratio {chaos / clean:.2f}"
    )
