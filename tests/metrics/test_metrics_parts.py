"""The parts without a network: histograms, the metered queue, the bus API, the
sink's reading of payloads, the exposition formats, and the optional dependency."""

from __future__ import annotations

import asyncio
import gzip
import subprocess
import sys

import aiohttp
import pytest

from rxgateway.config import Config
from rxgateway.errors import IdentifyQueueError
from rxgateway.machine.latency import Latency
from rxgateway.metrics import Buckets, MeteredQueue, Metrics
from rxgateway.metrics.watch import MAX_TYPES, Book
from rxgateway.protocol import Intents, ShardId
from rxgateway.queue import InMemoryQueue, SessionQueue
from rxgateway.shard import Shard

from .conftest import Scrape


def rendered(metrics: Metrics) -> Scrape:
    body, content_type = metrics.render()
    return Scrape(body.decode(), content_type)


class Refusing:
    """A queue whose daily budget is gone."""

    async def acquire(self, shard: ShardId) -> None:
        raise IdentifyQueueError("the daily identify budget is spent")

    def update(self, *, max_concurrency: int, remaining: int, reset_after: float, total: int) -> None:
        pass


def test_buckets_are_cumulative_with_inf_last_and_ignore_nan() -> None:
    buckets = Buckets((0.1, 1.0))
    for value in (0.1, 0.5, 7.0, float("nan")):
        buckets.observe(value)
    assert buckets.snapshot() == ([(0.1, 1), (1.0, 2), (float("inf"), 3)], 7.6)
    assert buckets.count == 3
    with pytest.raises(ValueError):
        Buckets((1.0, 0.5))


async def test_the_metered_queue_counts_grants_failures_and_cancellations() -> None:
    queue = MeteredQueue(InMemoryQueue(identify_interval=0.05))
    assert isinstance(queue, SessionQueue)
    await queue.acquire(ShardId(0, 2))
    await queue.acquire(ShardId(1, 2))  # waits one window
    waiter = asyncio.ensure_future(queue.acquire(ShardId(0, 2)))
    await asyncio.sleep(0)
    assert queue.waiting == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    failing = MeteredQueue(Refusing())
    with pytest.raises(IdentifyQueueError):
        await failing.acquire(ShardId(1, 2))
    assert (failing.grants, failing.failures, failing.waiting) == (0, 1, 0)
    assert (queue.grants, queue.failures, queue.cancellations, queue.waiting) == (2, 0, 1, 0)
    assert queue.by_shard == {0: 1, 1: 1}
    assert queue.wait.count == 2 and queue.wait.snapshot()[1] >= 0.04  # the second one waited a window
    assert queue.max_concurrency == 1  # anything else is the inner queue's
    with pytest.raises(TypeError):
        MeteredQueue(queue)  # type: ignore[arg-type]

    metrics = Metrics(app="bot", member="m")
    assert metrics.meter(queue) is queue
    got = rendered(metrics)
    assert got.by("rxgateway_identifies_total", "shard", app="bot", member="m") == {"0": 1, "1": 1}
    metrics.watch_queue(failing)
    got = rendered(metrics)
    assert got.by("rxgateway_identify_queue_requests_total", "outcome") == {"granted": 2, "failed": 1, "cancelled": 1}
    assert got.value("rxgateway_identify_queue_wait_seconds_count") == 2
    assert got.value("rxgateway_identify_queue_waiting") == 0


def test_the_bus_reports_publish_lag_and_consumer_lag() -> None:
    metrics = Metrics(app="bot", member="m")
    for seconds in (0.0004, 0.003, 0.003, 2.0):
        metrics.observe_publish_lag(seconds)
    metrics.set_consumer_lag("indexer", 120)
    metrics.set_consumer_lag("moderation", 0)
    got = rendered(metrics)
    buckets = got.by("rxgateway_publish_lag_seconds_bucket", "le", app="bot", member="m")
    assert buckets["0.0005"] == 1 and buckets["0.005"] == 3 and buckets["2.5"] == 4 and buckets["+Inf"] == 4
    assert got.value("rxgateway_publish_lag_seconds_count") == 4
    assert got.value("rxgateway_publish_lag_seconds_sum") == pytest.approx(2.0064)
    assert got.by("rxgateway_consumer_lag", "group") == {"indexer": 120, "moderation": 0}
    metrics.clear_consumer_lag("moderation")
    metrics.observe_publish_lag_since(0)  # an arrival long ago: the last bucket
    got = rendered(metrics)
    assert got.by("rxgateway_consumer_lag", "group") == {"indexer": 120}
    assert got.value("rxgateway_publish_lag_seconds_count") == 5
    with pytest.raises(ValueError):
        metrics.set_consumer_lag("indexer", -1)


def test_the_sink_reads_every_layout_and_caps_the_names() -> None:
    shard = Shard(ShardId(3, 4), Config("token", Intents.GUILDS))
    book = Book()
    watch = book.attach(shard, ("", "", "3"))
    (sink,) = shard._frame_sinks
    payloads = [
        b'{"t":"MESSAGE_CREATE","s":1,"op":0,"d":{"content":"hi"}}',  # the gateway's layout
        b'{"t":"MESSAGE_CREATE","s":2,"op":0,"d":{}}',
        b'{"op":0,"s":3,"t":"TYPING_START","d":{}}',  # another layout: read_envelope
        b'{"t":"READY","s":4,"op":0,"d":{}}',
        b'{"op":10,"d":{"heartbeat_interval":41250}}',
        b'{"op":7,"d":null}',
        b'{"op":0,"s":5,"t":null,"d":{}}',
    ]
    for payload in payloads:
        sink(shard.id, 0, payload)
    assert watch.types == {
        b"MESSAGE_CREATE": 2, b"TYPING_START": 1, b"READY": 1,
        b"GATEWAY_HELLO": 1, b"GATEWAY_RECONNECT": 1, b"UNKNOWN_DISPATCH": 1,
    }  # fmt: skip
    for n in range(MAX_TYPES + 10):
        sink(shard.id, 0, b'{"t":"MADE_UP_%d","s":9,"op":0,"d":{}}' % n)
    assert len(watch.types) == MAX_TYPES + 1 and watch.types[b"OTHER"] == 10 + 6


def test_round_trips_are_observed_once_whether_the_ack_or_the_scrape_sees_them_first() -> None:
    shard = Shard(ShardId(0, 1), Config("token", Intents.GUILDS))
    book = Book()
    watch = book.attach(shard, ("", "", "0"))
    (sink,) = shard._frame_sinks
    latency: Latency = shard.latency
    latency.record_sent(1.0)
    latency.record_received(1.25)
    sink(shard.id, 0, b'{"op":11,"d":null}')  # the machine timed it, then the sink sees the ACK
    book.rows()  # a scrape finds nothing new
    latency.record_sent(2.0)
    latency.record_received(2.5)
    book.rows()  # the scrape sees this one first
    sink(shard.id, 0, b'{"op":11,"d":null}')
    expected = [(b, (b >= 0.25) + (b >= 0.5)) for b in book.heartbeats.bounds]
    assert book.heartbeats.snapshot() == (expected, 0.75)
    assert watch.types == {b"GATEWAY_HEARTBEAT_ACK": 2}
    (row,) = book.rows()
    assert row.latency == 0.5 and row.counters["connections"] == 0


async def test_the_server_speaks_openmetrics_and_gzip_and_only_at_metrics() -> None:
    metrics = Metrics()
    metrics.set_consumer_lag("g", 1)
    async with await metrics.serve(0) as server, aiohttp.ClientSession(auto_decompress=False) as http:
        openmetrics = {"Accept": "application/openmetrics-text; version=1.0.0", "Accept-Encoding": "identity"}
        async with http.get(server.url, headers=openmetrics) as r:
            assert r.headers["Content-Type"].startswith("application/openmetrics-text")
            assert (await r.text()).endswith("# EOF\n")
        async with http.get(server.url, headers={"Accept-Encoding": "gzip"}) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            assert b'rxgateway_consumer_lag{app="",group="g",member=""} 1.0' in gzip.decompress(await r.read())
        async with http.get(server.url.replace("/metrics", "/")) as r:
            assert r.status == 404


def test_two_metrics_cannot_share_a_registry_and_close_leaves_it() -> None:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry()
    first = Metrics(registry)
    with pytest.raises(ValueError):  # prometheus_client: duplicated timeseries
        Metrics(registry)
    first.close()
    Metrics(registry)


def test_import_rxgateway_never_imports_prometheus_client_and_metrics_say_what_to_install() -> None:
    code = (
        "import sys\n"
        "import rxgateway, rxgateway.metrics, rxgateway.tools.cluster_cli\n"
        "assert 'prometheus_client' not in sys.modules, 'imported'\n"
        "sys.modules['prometheus_client'] = None\n"
        "from rxgateway.metrics import Metrics, MeteredQueue\n"
        "from rxgateway.queue import InMemoryQueue\n"
        "MeteredQueue(InMemoryQueue())\n"
        "try:\n"
        "    Metrics()\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "pip install 'rxgateway[metrics]'" in done.stdout


def test_the_dashboard_queries_exactly_the_metrics_we_export() -> None:
    import doctest
    import json
    import re
    from pathlib import Path

    import rxgateway.metrics as package
    from rxgateway.metrics import buckets, collector, exporter, queue, server, watch

    dashboard = json.loads((Path(__file__).parents[2] / "examples" / "grafana" / "rxgateway.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", ())]
    for expr in exprs:
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr
    used = {re.sub(r"_(total|bucket|count|sum)$", "", name) for e in exprs for name in re.findall(r"rxgateway_\w+", e)}
    families = {f.name for f in collector.GatewayCollector(Metrics()).describe()}
    assert used == families
    # ... and the module docstring lists every one of them.
    assert all(f"``{name}" in (package.__doc__ or "") for name in families)
    for module in (package, buckets, collector, exporter, queue, server, watch):
        assert doctest.testmod(module).failed == 0
