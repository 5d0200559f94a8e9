"""Metrics of shards and groups against the emulator over a real loopback websocket,
scraped from the real HTTP endpoint; the emulator's record is the judge."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from rxgateway.emulator import Fault
from rxgateway.group import ShardGroup
from rxgateway.machine import ShardState
from rxgateway.metrics import MeteredQueue, Metrics
from rxgateway.protocol import ShardId
from rxgateway.queue import InMemoryQueue
from rxgateway.shard import Shard
from tests.shard.test_shard_emulator import IDENTIFY_WINDOW, config_for, emulator, wait_until

from .conftest import scrape

pytestmark = pytest.mark.timeout(60)


def metered() -> MeteredQueue:
    return MeteredQueue(InMemoryQueue(identify_interval=IDENTIFY_WINDOW))


async def test_a_scrape_agrees_with_the_emulator_after_a_known_burst() -> None:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu, queue=metered()))
        metrics = Metrics()
        metrics.watch(shard)
        async with await metrics.serve(0) as server, shard:
            await shard.ready(timeout=5)
            await emu.burst(200, mix="typing=1")
            await emu.burst(100, mix="presences=1")
            await wait_until(lambda: shard.stats["dispatches"] >= 305 and shard.latency.periods >= 1)
            got = await scrape(server.url)
            (conn,) = emu.record.connections
        labels = {"app": "", "member": "", "shard": "0"}
        types = got.by("rxgateway_events_total", "type", **labels)
        assert types["READY"] == 1 and types["GUILD_CREATE"] == 4
        assert types["TYPING_START"] == 200 and types["PRESENCE_UPDATE"] == 100
        assert types["GATEWAY_HELLO"] == 1
        dispatched = {t: n for t, n in types.items() if not t.startswith("GATEWAY_")}
        assert sum(dispatched.values()) == len(conn.sequences) == 305
        assert got.value("rxgateway_shard_dispatches_total", **labels) == 305
        assert got.value("rxgateway_identifies_total", **labels) == len(emu.record.identifies()) == 1
        assert got.value("rxgateway_identify_queue_requests_total", outcome="granted") == 1
        assert got.value("rxgateway_identify_queue_wait_seconds_count") == 1
        assert got.value("rxgateway_shard_connections_total", **labels) == 1
        assert got.value("rxgateway_shard_reconnects_total", **labels) == 0
        assert got.value("rxgateway_shard_resumes_total", **labels) == 0
        assert got.by("rxgateway_shard_state", "state", **labels) == {
            "disconnected": 0, "identifying": 0, "resuming": 0, "active": 1, "fatally_closed": 0, "closed": 0,
        }  # fmt: skip
        # Every round trip observed once: as many as the ACKs counted, no more than answered.
        beats = got.value("rxgateway_heartbeat_latency_seconds_count")
        assert 1 <= beats == types["GATEWAY_HEARTBEAT_ACK"]
        assert beats <= sum(1 for b in conn.heartbeats if b.acked_at is not None)
        assert got.value("rxgateway_shard_latency_seconds", **labels) >= 0
        assert got.series("rxgateway_publish_lag_seconds_count") == {}  # no bus reported yet
        assert emu.violations == []


async def test_a_resume_after_a_fault_is_counted_as_the_emulator_saw_it() -> None:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu, queue=metered()))
        metrics = Metrics()
        metrics.watch(shard)
        async with await metrics.serve(0) as server, shard:
            await shard.ready(timeout=5)
            emu.inject(Fault.reconnect(), shard=0)
            await wait_until(lambda: shard.stats["resumes"] >= 1 and shard.state == ShardState.ACTIVE, 15)
            got = await scrape(server.url)
            connections = len(emu.record.connections)
            resumes = [r for r in emu.record.resumes() if r.accepted]
            identifies = [i for i in emu.record.identifies() if i.accepted]
        labels = {"shard": "0"}
        assert got.value("rxgateway_shard_resumes_total", **labels) == len(resumes) >= 1
        assert got.value("rxgateway_shard_connections_total", **labels) == connections >= 2
        assert got.value("rxgateway_shard_reconnects_total", **labels) == connections - 1
        assert got.value("rxgateway_identifies_total", **labels) == len(identifies) == 1
        types = got.by("rxgateway_events_total", "type", **labels)
        assert types["GATEWAY_RECONNECT"] == 1
        assert types["RESUMED"] == len(resumes)
        assert types["GATEWAY_HELLO"] == connections
        assert got.value("rxgateway_shard_state", state="active", **labels) == 1
        assert emu.violations == []


async def test_a_shard_without_metrics_has_no_frame_sink_and_a_watch_removes_its_own() -> None:
    async with emulator() as emu:
        async with Shard(ShardId(0, 1), config_for(emu)) as shard:
            await shard.ready(timeout=5)
            assert shard._frame_sinks == () and shard._machine.tap is None
            watch = Metrics().watch(shard)
            assert len(shard._frame_sinks) == 1 and shard._machine.tap is not None
            watch.dispose()
            assert shard._frame_sinks == () and shard._machine.tap is None


async def test_a_group_is_reported_per_shard_and_the_server_stops_cleanly() -> None:
    async with emulator(shards=2) as emu:
        queue = metered()
        group = ShardGroup([Shard(ShardId(n, 2), config_for(emu, queue=queue)) for n in range(2)])
        metrics = Metrics(app="bot")
        metrics.watch(group)
        server = await metrics.serve(0)
        async with group:
            await asyncio.gather(*(s.ready(timeout=10) for s in group))
            await wait_until(lambda: sum(s.stats["dispatches"] for s in group) >= 2 + 4)  # READYs + the guilds
            got = await scrape(server.url)
        assert got.by("rxgateway_shard_state", "shard", state="active") == {"0": 1, "1": 1}
        assert got.by("rxgateway_identifies_total", "shard", app="bot") == {"0": 1, "1": 1}
        creates = got.by("rxgateway_events_total", "shard", type="GUILD_CREATE", app="bot")
        assert sum(creates.values()) == 4
        assert got.value("rxgateway_identify_queue_requests_total", outcome="granted") == len(emu.record.identifies()) == 2
        await server.aclose()
        with pytest.raises(aiohttp.ClientConnectionError):
            await scrape(server.url)
        await server.aclose()  # twice is harmless
