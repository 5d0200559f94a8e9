"""``rxgateway cluster run --metrics-port``: a member process serves /metrics for the
shards it holds (a real process, a real Redis, the emulator in this process)."""

from __future__ import annotations

import os

import pytest

from rxgateway.emulator import GatewayEmulator
from rxgateway.tools.redis_server import RedisServer
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
