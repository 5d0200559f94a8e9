"""What the replay tests share: a live session against the emulator, recorded, and
a collector that counts what a source emitted the way the tests compare it."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reactivex import abc

from rxgateway.config import Config
from rxgateway.emulator import DEFAULT_TOKEN, Fault, GatewayEmulator
from rxgateway.events.base import Dispatch, Event, GatewayClose, GatewayHello, ShardStateChanged
from rxgateway.group import create_recommended
from rxgateway.machine import ShardState
from rxgateway.protocol import EventTypeFlags, Intents
from rxgateway.queue import InMemoryQueue
from rxgateway.record import Recorder

#: Shards of the live session; enough that routing and interleaving matter.
SHARDS = 3
#: Test-sized timings: heartbeats (and so ACKs) every 300 ms, quick identifies and resumes.
EMULATOR = {
    "shards": SHARDS,
    "max_concurrency": SHARDS,
    "heartbeat_interval_ms": 300,
    "identify_window_s": 0.1,
    "reconnect_close_delay_s": 0.2,
    "invalid_session_close_delay_s": 0.2,
    "guilds": 9,
}
IDENTIFY_WINDOW = 0.1
#: Bound on every wait for an effect on loopback.
TIMEOUT = 15.0
#: The session ends with this many events per second for this long.
TRAFFIC_RATE = 500.0
TRAFFIC_SECONDS = 0.6
#: Events that are not payloads: a recording cannot hold them.
NOT_RECORDED = (ShardStateChanged, GatewayClose)


def key(event: Event) -> str:
    """How events are counted: a dispatch by its name, any other by its class."""
    return event.name if isinstance(event, Dispatch) else type(event).__name__


class Collector(abc.ObserverBase[Event]):
    """Everything a source emitted, less what no recording holds."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.completed = asyncio.Event() if _in_loop() else None
        self.done = False
        self.error: Exception | None = None

    def on_next(self, value: Event) -> None:
        if not isinstance(value, NOT_RECORDED):
            self.events.append(value)

    def on_error(self, error: Exception) -> None:
        self.error = error
        self._finish()

    def on_completed(self) -> None:
        self._finish()

    def _finish(self) -> None:
        self.done = True
        if self.completed is not None:
            self.completed.set()

    @property
    def counts(self) -> Counter[str]:
        return Counter(key(e) for e in self.events)

    def sequences(self) -> dict[int, list[int]]:
        """Per shard number, the dispatch sequence numbers in order."""
        out: dict[int, list[int]] = {}
        for e in self.events:
            if isinstance(e, Dispatch) and e.sequence is not None:
                out.setdefault(e.shard.number, []).append(e.sequence)
        return out

    def hellos(self) -> list[tuple[int, float]]:
        return [(e.shard.number, e.heartbeat_interval) for e in self.events if isinstance(e, GatewayHello)]


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@dataclass
class LiveSession:
    """A recorded live session and what its subscribers saw."""

    path: Path
    live: Collector
    #: What the emulator recorded against the client (each one's repr): a failure says what.
    violations: list[str]
    faults: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


async def record_live_session(path: Path) -> LiveSession:
    """Three shards on the emulator, recorded from before they connect: a burst, a
    reconnect request, a heartbeat request and a resumable invalid session, another
    burst, a dropped connection, a last burst, paced traffic; then a clean close."""
    async with GatewayEmulator(**EMULATOR) as emu:
        config = Config(
            DEFAULT_TOKEN,
            Intents.all(),
            gateway_url=emu.url,
            api_url=emu.api_url,
            queue=InMemoryQueue(identify_interval=IDENTIFY_WINDOW),
        )
        group = await create_recommended(config)
        recorder = Recorder(path, meta={"test": "live session"})
        recorder.attach(group)
        live = Collector()
        group.subscribe_flags(live, EventTypeFlags.all())

        def resumed(count: int) -> bool:
            active = all(s.state == ShardState.ACTIVE for s in group)
            return active and live.counts["RESUMED"] >= count

        async with group:
            await group.ready(timeout=TIMEOUT)
            await emu.burst(400)
            emu.inject(Fault.reconnect(), shard=0)
            emu.inject(Fault.request_heartbeat(), shard=2)
            emu.inject(Fault.invalid_session(resumable=True), shard=2)
            await emu.burst(300)
            await emu.wait_for(lambda: resumed(2), timeout=TIMEOUT)
            emu.inject(Fault.drop(), shard=1)
            await emu.burst(300)
            await emu.wait_for(lambda: resumed(3), timeout=TIMEOUT)
            await emu.burst(200)
            emu.start_traffic(TRAFFIC_RATE)  # and some paced traffic, for the paced replays
            await asyncio.sleep(TRAFFIC_SECONDS)
            emu.stop_traffic()
            await asyncio.sleep(0.3)  # let the last frames arrive (the comparison holds regardless)
        assert recorder.closed, "the recorder closes itself when its shards end"
        return LiveSession(
            path, live, [repr(v) for v in emu.violations], ["reconnect", "request_heartbeat", "invalid_session", "drop"]
        )
