"""The bus fed by a cluster of real processes (``rxgateway cluster run --bus URL``):
a member SIGKILLed under traffic, its shards resumed by the survivors from saved
sessions (so they replay what the dead member had already published), and a consumer
that still sees every sequence of every session exactly once."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import pytest

from rxgateway.bus import Bus, JetStreamBroker, RedisStreamsBroker
from rxgateway.events.base import Dispatch
from rxgateway.tools.nats_server import NatsServer
from rxgateway.tools.redis_server import RedisServer

from ..cluster.harness import Cluster
from ..cluster.test_cluster_processes import assert_clean, cluster_emulator

pytestmark = pytest.mark.timeout(240)

TOTAL = 8


@pytest.mark.parametrize("kind", ["nats", "redis"])
async def test_a_killed_gateway_member_loses_and_repeats_nothing_on_the_bus(
    kind: str, nats_server: NatsServer, redis_server: RedisServer, app: str
) -> None:
    bus_url = nats_server.url if kind == "nats" else redis_server.url
    broker = JetStreamBroker(bus_url, app=app) if kind == "nats" else RedisStreamsBroker(bus_url, app=app)
    bus = Bus(broker)
    got: dict[tuple[int, int], int] = defaultdict(int)

    def on_event(event: Any) -> None:
        if isinstance(event, Dispatch) and event.sequence is not None:
            got[(event.shard.number, event.sequence)] += 1

    bus.subscribe(on_event)
    await bus.started(timeout=20)  # the subscription is in place before anything is published
    try:
        async with cluster_emulator(shards=TOTAL, max_concurrency=4, replay_buffer_length=None) as emu, Cluster(
            emu, redis_server.url, app, total=TOTAL, extra=("--bus", bus_url)
        ) as cluster:
            members = [await cluster.spawn() for _ in range(3)]
            await cluster.wait_all_active(90)
            emu.start_traffic(300.0)
            await asyncio.sleep(2.0)
            victim = max(members, key=lambda m: len(m.holds))
            lost = set(victim.holds)
            await cluster.kill(victim)
            await cluster.wait(
                lambda: lost <= {c.shard.number for c in emu.record.connections[-20:] if c.shard and c.resumes}
                and cluster.all_active(),
                cluster.lease_ttl + 30,
                "the victim's shards resumed",
            )
            await asyncio.sleep(1.0)
            emu.stop_traffic()
            await asyncio.sleep(1.0)
            expected = {(s.shard.number, n) for s in emu.state.sessions for n in range(1, s.seq + 1)}
            await cluster.wait(lambda: set(got) >= expected, 40, "every sequence on the bus")
            assert set(got) == expected
            assert [k for k, n in got.items() if n != 1] == []
            assert len([i for i in emu.record.identifies() if i.accepted]) == TOTAL  # resumed, not identified
            replayed = sum(r.replayed for r in emu.record.resumes() if r.accepted)
            assert replayed > 0  # the survivors replayed what the dead member had received
            assert_clean(emu)
    finally:
        await bus.aclose()
        await broker.aclose()
