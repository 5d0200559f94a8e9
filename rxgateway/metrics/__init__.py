"""Prometheus metrics: shards, groups, cluster members, identify queues, the event bus.

Optional: ``pip install 'rxgateway[metrics]'`` (prometheus-client). ``import
rxgateway`` never imports prometheus_client, and neither does this package until a
:class:`Metrics` is made. A shard nobody watches pays nothing: no sink, no counter,
no branch on its receive path.

Using it
--------
::

    from rxgateway.metrics import Metrics, MeteredQueue

    queue = MeteredQueue(InMemoryQueue())              # identifies and queue waits
    shards = await create_recommended(Config(token, intents, queue=queue))
    metrics = Metrics()                                 # its own CollectorRegistry
    metrics.watch(shards)                               # a Shard, a ShardGroup or a Member
    async with await metrics.serve(9464, host="0.0.0.0"), shards:
        await shards.closed()

``rxgateway cluster run --metrics-port 9464 [--metrics-host 0.0.0.0]`` does this for
a cluster member (its Redis queue metered). ``examples/grafana/rxgateway.json`` is a
Grafana dashboard of every family below.

How it is measured
------------------
Pull, at scrape time (:mod:`.collector`): state, dispatches, resumes, connections,
errors and latency are what each shard counts anyway (``shard.stats``,
``shard.state``, ``shard.latency``). Two things are counted as they happen, only
when watched: payloads by type, by one frame sink per watched shard (a prefix test,
a slice and a dict increment per dispatch, :mod:`.watch`; about 1 µs per event with
the shard's sink call, ``benchmarks/metrics_cost.py``), and heartbeat round trips,
observed when the sink sees an ACK (after the machine timed it). Identifies and
queue waits come from a :class:`MeteredQueue` around the shared queue. The bus
reports its lags: the publish lag from a
:class:`~rxgateway.bus.publisher.Publisher` given the metrics
(``ops.publish(broker, metrics=metrics)``; ``rxgateway cluster run --bus URL
--metrics-port N``), one observation per event the broker acknowledged
(:meth:`Metrics.observe_publish_lag`); the consumer lag from
:meth:`Metrics.watch_bus`, which polls the broker for a group's lag
(:class:`BusLagWatch`, :meth:`Metrics.set_consumer_lag`).
Counters of a shard a member hands off are kept (folded into a base once the shard
has ended) so they never go back.

``GET /metrics`` (:meth:`Metrics.serve`) is served by aiohttp on the running loop:
collection happens on the loop that owns the shards; the text is rendered in a
worker thread (:mod:`.server`).

Metric families
---------------
Labels: ``app`` (the cluster's key prefix, ``""`` outside a cluster), ``member``
(the member's id, ``""`` outside a cluster), ``shard`` (the shard number).

=============================================  =========  ============================  ==========================================
name                                           type       labels                        meaning
=============================================  =========  ============================  ==========================================
``rxgateway_shard_state``                      gauge      app, member, shard, state     1 for the shard's current state, 0 for the
                                                                                        others; ``state``: disconnected,
                                                                                        identifying, resuming, active,
                                                                                        fatally_closed, closed. Held shards only.
``rxgateway_events_total``                     counter    app, member, shard, type      payloads received by type: the dispatch
                                                                                        name (``MESSAGE_CREATE``, ``READY`` ...)
                                                                                        or ``GATEWAY_HELLO``,
                                                                                        ``GATEWAY_HEARTBEAT_ACK``,
                                                                                        ``GATEWAY_RECONNECT``,
                                                                                        ``GATEWAY_INVALIDATE_SESSION``,
                                                                                        ``GATEWAY_HEARTBEAT``; past 512 names
                                                                                        per shard, ``OTHER``
``rxgateway_shard_dispatches_total``           counter    app, member, shard            dispatches accepted (duplicates dropped)
``rxgateway_shard_resumes_total``              counter    app, member, shard            sessions resumed
``rxgateway_shard_connections_total``          counter    app, member, shard            websocket connections opened
``rxgateway_shard_reconnects_total``           counter    app, member, shard            connections after each shard object's
                                                                                        first (drops, zombies, op 7, op 9 ...)
``rxgateway_shard_errors_total``               counter    app, member, shard            recoverable errors reported as events
``rxgateway_shard_latency_seconds``            gauge      app, member, shard            last heartbeat round trip
``rxgateway_heartbeat_latency_seconds``        histogram  app, member                   every heartbeat round trip
``rxgateway_identifies_total``                 counter    app, member, shard            identify grants of the metered queue
``rxgateway_identify_queue_wait_seconds``      histogram  app, member                   wait of each granted ``acquire``
``rxgateway_identify_queue_waiting``           gauge      app, member                   ``acquire`` calls waiting now
``rxgateway_identify_queue_requests_total``    counter    app, member, outcome          ``acquire`` calls ended: granted, failed
                                                                                        (the queue raised), cancelled
``rxgateway_publish_lag_seconds``              histogram  app, member                   a dispatch's arrival at the shard to the
                                                                                        bus acknowledging its publish
``rxgateway_consumer_lag``                     gauge      app, member, group            entries a bus consumer group has not
                                                                                        processed yet: not delivered, plus
                                                                                        delivered and not acknowledged
``rxgateway_member_shard_changes_total``       counter    app, member, event            a member's ``counters``: claimed,
                                                                                        handed_off, let_go, lost, forwarded
``rxgateway_cluster_members``                  gauge      app, member                   live members at the last lease renewal
=============================================  =========  ============================  ==========================================

The queue, heartbeat and bus families carry :attr:`Metrics.app` and
:attr:`Metrics.member` (given, or the first watched member's). Counters of shards
watched directly (not through a member) are forgotten when the watch is disposed.
"""

from __future__ import annotations

from .buckets import Buckets
from .bus_lag import BusLagWatch
from .exporter import Metrics, require_prometheus
from .queue import MeteredQueue
from .server import MetricsServer

__all__ = ["Buckets", "BusLagWatch", "MeteredQueue", "Metrics", "MetricsServer", "require_prometheus"]
