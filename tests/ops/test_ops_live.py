"""The operators on a real Shard against the emulator over loopback: push-down,
route and spawn, and a clean end when the shard closes."""

from __future__ import annotations

import asyncio
from typing import Any

from ops_support import GC, MC, READY, Collect
from reactivex.subject import Subject

from rxgateway.config import Config
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.events.base import Dispatch
from rxgateway.ops import HandlerError, on, route, spawn
from rxgateway.protocol.intents import Intents
from rxgateway.protocol.shard_id import ShardId
from rxgateway.queue import InMemoryQueue
from rxgateway.shard import Shard

IDENTIFY_WINDOW = 0.2


async def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_route_and_spawn_on_a_live_shard() -> None:
    async with GatewayEmulator(heartbeat_interval_ms=400, identify_window_s=IDENTIFY_WINDOW, guilds=3) as emu:
        config = Config(
            DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url, queue=InMemoryQueue(identify_interval=IDENTIFY_WINDOW)
        )
        shard = Shard(ShardId(0, 1), config)

        guilds: list[str] = []
        ready = Collect()
        errors: Subject[HandlerError] = Subject()
        failures = Collect()
        errors.subscribe(failures)

        async def on_guild(event: Dispatch) -> None:
            await asyncio.sleep(0)
            guilds.append(event.raw["id"])

        routing = shard.pipe(route({GC: on_guild, READY: ready}, errors=errors))

        async def content_length(event: Dispatch) -> int:
            await asyncio.sleep(0)
            return len(event.raw["content"])

        lengths = spawn(content_length, max_concurrency=4)
        sizes = Collect()
        kinds: list[str] = []
        shard.pipe(on(MC)).subscribe(lambda e: kinds.append(e.name))
        shard.pipe(on(MC), lengths).subscribe(sizes)
        assert shard.demand == GC | READY | MC

        async with shard:
            await shard.ready(timeout=5)
            await wait_until(lambda: len(guilds) == 3)
            await emu.burst(200)  # messages, presences, typing
            await wait_until(lambda: len(kinds) > 0 and len(sizes.values) == len(kinds), 10)
            await asyncio.sleep(0.1)
        await routing.join()  # the shard closed: the route ended, its tasks are done
        await lengths.join()

        assert set(kinds) == {"MESSAGE_CREATE"}  # presences and typing were not asked for
        assert len(sizes.values) == len(kinds) and sizes.completed == 1
        assert len(ready.values) == 1 and ready.completed == 1
        assert routing.ended and routing.running == 0 and lengths.running == 0
        assert failures.values == []
        assert shard.demand == 0
        assert emu.violations == []
