"""A member's metrics: the shards it holds now and later, on a real Redis and the
emulator (two members in one event loop, as tests/cluster/test_member.py runs them)."""

from __future__ import annotations

from typing import Any

import pytest

from rxgateway import Config, Intents
from rxgateway.cluster.member import Member
from rxgateway.cluster.redis_queue import RedisQueue
from rxgateway.emulator import GatewayEmulator
from rxgateway.emulator.settings import DEFAULT_TOKEN
from rxgateway.metrics import MeteredQueue, Metrics
from rxgateway.tools.redis_server import RedisServer
from tests.cluster.harness import IDENTIFY_MARGIN, IDENTIFY_WINDOW
from tests.cluster.test_member import TOTAL, settled, wait_until

from .conftest import scrape

pytestmark = pytest.mark.timeout(90)


#: Queues handed to members by this module's tests: the caller's to close.
_queues: list[Any] = []


@pytest.fixture(autouse=True)
async def _close_queues() -> Any:
    yield
    while _queues:
        await _queues.pop().aclose()


def member(emu: GatewayEmulator, url: str, app: str, name: str) -> Member:
    queue = MeteredQueue(RedisQueue(url, app=app, identify_interval=IDENTIFY_WINDOW, margin=IDENTIFY_MARGIN))
    _queues.append(queue)  # the member closes only what it made
    config = Config(DEFAULT_TOKEN, Intents.GUILDS, gateway_url=emu.url, api_url=emu.api_url, queue=queue)
    return Member(config, url, total=TOTAL, app=app, member_id=name, lease_ttl=3.0)


@pytest.fixture
async def emu() -> Any:
    async with GatewayEmulator(
        shards=TOTAL, max_concurrency=2, identify_window_s=IDENTIFY_WINDOW, heartbeat_interval_ms=1000, guilds=8
    ) as emulator:
        yield emulator


async def test_a_member_is_reported_for_the_shards_it_holds_now_and_later(
    emu: GatewayEmulator, redis_server: RedisServer, app: str
) -> None:
    a = member(emu, redis_server.url, app, "a")
    metrics = Metrics()
    metrics.watch(a)  # before it holds anything: every shard is picked up as claimed
    server = await metrics.serve(0)
    try:
        async with a:
            await wait_until(lambda: settled(a))
            got = await scrape(server.url)
            labels = {"app": app, "member": "a"}
            assert got.by("rxgateway_shard_state", "shard", state="active", **labels) == {str(n): 1 for n in range(TOTAL)}
            # The sink was there before each shard's first frame: its Hello and READY.
            assert got.by("rxgateway_events_total", "shard", type="GATEWAY_HELLO", **labels) == {str(n): 1 for n in range(TOTAL)}
            assert got.by("rxgateway_events_total", "shard", type="READY", **labels) == {str(n): 1 for n in range(TOTAL)}
            identifies = got.by("rxgateway_identifies_total", "shard", **labels)
            assert identifies == {str(i.shard.number): 1 for i in emu.record.identifies() if i.accepted}
            assert got.value("rxgateway_member_shard_changes_total", event="claimed", **labels) == TOTAL
            assert got.value("rxgateway_cluster_members", **labels) == 1

            b = member(emu, redis_server.url, app, "b")
            async with b:  # a hands half its shards to b
                await wait_until(lambda: settled(a, b))
                await wait_until(lambda: all(w.shard.state.is_terminal for w in metrics.book.retiring) or not metrics.book.retiring)
                got = await scrape(server.url)
                held = {str(n) for n in a.shards}
                assert set(got.by("rxgateway_shard_state", "shard", state="active", **labels)) == held
                assert len(held) == TOTAL // 2
                # The counters of the shards handed off stay, and never go back.
                assert got.by("rxgateway_events_total", "shard", type="READY", **labels) == {str(n): 1 for n in range(TOTAL)}
                assert got.value("rxgateway_member_shard_changes_total", event="handed_off", **labels) == TOTAL // 2
                assert got.value("rxgateway_cluster_members", **labels) == 2
                assert not metrics.book.retiring  # the scrape folded them
                assert len(metrics.book.live) == TOTAL // 2
                await b.config.queue.aclose()
        assert emu.violations == []
    finally:
        await server.aclose()
        await a.config.queue.aclose()
