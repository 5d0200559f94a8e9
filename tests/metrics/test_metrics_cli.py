"""``rxgateway cluster run --metrics-port``: a member process serves /metrics for the
shards it holds (a real process, a real Redis, the emulator in this process)."""

from __future__ import annotations

import asyncio
import os

import pytest

from rxgateway.emulator import GatewayEmulator
from rxgateway.tools.nats_server import NatsServer
from rxgateway.tools.redis_server import RedisServer
from tests.bus.conftest import nats_server  # noqa: F401  (fixture)
from tests.cluster.harness import IDENTIFY_WINDOW, Cluster

from .conftest import scrape

pytestmark = pytest.mark.timeout(90)

TOTAL = 2
PREFIX = "rxgateway: metrics at "


async def test_cluster_run_serves_metrics_for_the_shards_it_holds(redis_server: RedisServer, app: str) -> None:
    async with GatewayEmulator(shards=TOTAL, max_concurrency=2, identify_window_s=IDENTIFY_WINDOW, guilds=4) as emu:
        async with Cluster(emu, redis_server.url, app, total=TOTAL, extra=("--metrics-port", "0")) as cluster:
            process = await cluster.spawn()
            await cluster.wait_all_active(timeout=40)
            urls = [line[len(PREFIX):] for line in process.stderr if line.startswith(PREFIX)]
            assert len(urls) == 1 and urls[0].startswith("http://127.0.0.1:"), process.stderr
            got = await scrape(urls[0])
            labels = {"app": app, "member": f"m1-{os.getpid()}"}
            shards = {str(n): 1.0 for n in range(TOTAL)}
            assert got.by("rxgateway_shard_state", "shard", state="active", **labels) == shards
            assert got.by("rxgateway_events_total", "shard", type="READY", **labels) == shards
            identifies = [i for i in emu.record.identifies() if i.accepted]
            assert got.by("rxgateway_identifies_total", "shard", **labels) == {str(i.shard.number): 1.0 for i in identifies}
            assert got.value("rxgateway_identify_queue_requests_total", outcome="granted", **labels) == len(identifies) == TOTAL
            assert got.value("rxgateway_shard_connections_total", **labels) == len(emu.record.connections)
            assert await cluster.terminate(process) == 0
        assert not [line for line in process.stderr if "Traceback" in line or "Unclosed" in line], process.stderr
        assert emu.violations == []


async def test_with_a_bus_the_member_reports_the_publish_lag_of_every_dispatch(
    redis_server: RedisServer, nats_server: NatsServer, app: str  # noqa: F811
) -> None:
    pytest.importorskip("nats")
    async with GatewayEmulator(shards=TOTAL, max_concurrency=2, identify_window_s=IDENTIFY_WINDOW, guilds=4) as emu:
        extra = ("--metrics-port", "0", "--bus", nats_server.url)
        async with Cluster(emu, redis_server.url, app, total=TOTAL, extra=extra) as cluster:
            process = await cluster.spawn()
            await cluster.wait_all_active(timeout=40)
            (url,) = [line[len(PREFIX):] for line in process.stderr if line.startswith(PREFIX)]
            labels = {"app": app, "member": f"m1-{os.getpid()}"}
            before = (await scrape(url)).value("rxgateway_shard_dispatches_total", **labels)
            assert before >= TOTAL + 4  # the READYs and GUILD_CREATEs
            await emu.burst(60, "messages=1")
            # every dispatch the shards accepted is published, and observed once
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while True:
                got = await scrape(url)
                dispatches = got.value("rxgateway_shard_dispatches_total", **labels)
                observed = got.series("rxgateway_publish_lag_seconds_count", **labels)
                if dispatches > before and list(observed.values()) == [dispatches]:
                    break
                assert loop.time() < deadline, f"{dispatches} dispatches, publish lag observed {observed}"
                await asyncio.sleep(0.1)
            assert got.value("rxgateway_publish_lag_seconds_bucket", le="+Inf", **labels) == dispatches
            assert got.value("rxgateway_publish_lag_seconds_sum", **labels) > 0
            assert await cluster.terminate(process) == 0
        assert not [line for line in process.stderr if "Traceback" in line or "Unclosed" in line], process.stderr
        assert emu.violations == []
