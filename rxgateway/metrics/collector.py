"""The prometheus_client side of :class:`~rxgateway.metrics.Metrics`: one custom
collector that builds every family at scrape time from what the shards, the metered
queues and the bus hooks already hold (see :mod:`rxgateway.metrics` for the list).

Imported only when a :class:`~rxgateway.metrics.Metrics` is made: the one module of
rxgateway that imports prometheus_client at its top.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ..machine.state import StateKind
from .buckets import Buckets

if TYPE_CHECKING:
    from .exporter import Metrics

__all__ = ["GatewayCollector"]

_SHARD = ["app", "member", "shard"]
_PROCESS = ["app", "member"]

#: ``shard.stats`` counters: family name, help.
_SHARD_COUNTERS = {
    "dispatches": ("rxgateway_shard_dispatches", "Dispatches the shard accepted (every type; duplicates dropped)."),
    "resumes": ("rxgateway_shard_resumes", "Sessions resumed (Resuming -> Active)."),
    "connections": ("rxgateway_shard_connections", "Websocket connections opened."),
    "reconnects": ("rxgateway_shard_reconnects", "Connections opened after the first of each shard object."),
    "errors": ("rxgateway_shard_errors", "Recoverable errors the shard reported as error events."),
}


class GatewayCollector(Collector):
    """Reads a :class:`~rxgateway.metrics.Metrics` at scrape time."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def describe(self) -> Iterator[Metric]:
        """The families, without samples: their names (so a registry refuses a second
        collector of the same names)."""
        yield from _Families().all()

    def collect(self) -> Iterator[Metric]:
        """Every family, with the samples of this moment."""
        metrics = self._metrics
        f = _Families()
        process = [metrics.app, metrics.member]

        for row in metrics.book.rows():
            labels = list(row.key)
            for name, family in f.shard_counters.items():
                family.add_metric(labels, row.counters[name])
            for type_name, n in sorted(row.types.items()):
                f.events.add_metric([*labels, type_name.decode(errors="replace")], n)
            if row.state is not None:
                kind = row.state.kind
                for each in StateKind:
                    f.state.add_metric([*labels, each.value], 1.0 if each is kind else 0.0)
            if row.latency is not None:
                f.latency.add_metric(labels, row.latency)
        _histogram(f.heartbeats, process, metrics.book.heartbeats)

        by_shard: dict[int, int] = {}
        outcomes = {"granted": 0, "failed": 0, "cancelled": 0}
        waiting = 0
        queues = metrics.queues()
        for queue in queues:
            for number, n in list(queue.by_shard.items()):
                by_shard[number] = by_shard.get(number, 0) + n
            outcomes["granted"] += queue.grants
            outcomes["failed"] += queue.failures
            outcomes["cancelled"] += queue.cancellations
            waiting += queue.waiting
        for number in sorted(by_shard):
            f.identifies.add_metric([*process, str(number)], by_shard[number])
        if queues:
            _histogram(f.identify_wait, process, *(q.wait for q in queues))
            f.identify_waiting.add_metric(process, waiting)
            for outcome, n in outcomes.items():
                f.identify_requests.add_metric([*process, outcome], n)

        if metrics.publish_lag.count:  # once a bus reports
            _histogram(f.publish_lag, process, metrics.publish_lag)
        for group, lag in sorted(metrics.consumer_lags().items()):
            f.consumer_lag.add_metric([*process, group], lag)

        for source in metrics.members():
            labels = [source.app, source.id]
            for event, n in dict(source.member.counters).items():
                f.member_changes.add_metric([*labels, event], n)
            f.cluster_members.add_metric(labels, len(source.member.members))

        yield from f.all()


class _Families:
    """One scrape's families, empty until filled."""

    def __init__(self) -> None:
        self.state = GaugeMetricFamily(
            "rxgateway_shard_state", "1 for the state the shard is in, 0 for the others.", labels=[*_SHARD, "state"]
        )
        self.events = CounterMetricFamily(
            "rxgateway_events",
            "Payloads received, by type: dispatch names, and GATEWAY_* for the other opcodes.",
            labels=[*_SHARD, "type"],
        )
        self.shard_counters = {key: CounterMetricFamily(name, doc, labels=_SHARD) for key, (name, doc) in _SHARD_COUNTERS.items()}
        self.latency = GaugeMetricFamily(
            "rxgateway_shard_latency_seconds", "The last heartbeat round trip of the shard's connection.", labels=_SHARD
        )
        self.heartbeats = HistogramMetricFamily(
            "rxgateway_heartbeat_latency_seconds", "Heartbeat round trips of every watched shard.", labels=_PROCESS
        )
        self.identifies = CounterMetricFamily(
            "rxgateway_identifies", "Identify grants given by the metered queue, by shard.", labels=_SHARD
        )
        self.identify_wait = HistogramMetricFamily(
            "rxgateway_identify_queue_wait_seconds", "Seconds each granted identify waited in the queue.", labels=_PROCESS
        )
        self.identify_waiting = GaugeMetricFamily(
            "rxgateway_identify_queue_waiting", "Shards waiting for an identify grant now.", labels=_PROCESS
        )
        self.identify_requests = CounterMetricFamily(
            "rxgateway_identify_queue_requests",
            "Identify queue requests by outcome: granted, failed, cancelled.",
            labels=[*_PROCESS, "outcome"],
        )
        self.publish_lag = HistogramMetricFamily(
            "rxgateway_publish_lag_seconds",
            "From a dispatch's arrival at the shard to the bus acknowledging its publish.",
            labels=_PROCESS,
        )
        self.consumer_lag = GaugeMetricFamily(
            "rxgateway_consumer_lag", "Entries a consumer group of the bus has yet to process.", labels=[*_PROCESS, "group"]
        )
        self.member_changes = CounterMetricFamily(
            "rxgateway_member_shard_changes",
            "A member's shards claimed, handed off, let go, lost, and commands forwarded.",
            labels=[*_PROCESS, "event"],
        )
        self.cluster_members = GaugeMetricFamily(
            "rxgateway_cluster_members", "Live members of the cluster at the member's last lease renewal.", labels=_PROCESS
        )

    def all(self) -> list[Metric]:
        return [
            self.state,
            self.events,
            *self.shard_counters.values(),
            self.latency,
            self.heartbeats,
            self.identifies,
            self.identify_wait,
            self.identify_waiting,
            self.identify_requests,
            self.publish_lag,
            self.consumer_lag,
            self.member_changes,
            self.cluster_members,
        ]


def _histogram(family: HistogramMetricFamily, labels: Sequence[str], *sources: Buckets) -> None:
    """Add the sum of ``sources`` (same bounds) as one histogram sample set."""
    total: list[tuple[float, int]] | None = None
    sum_value = 0.0
    for source in sources:
        buckets, s = source.snapshot()
        sum_value += s
        total = buckets if total is None else [(le, a + b) for (le, a), (_, b) in zip(total, buckets)]
    if total is None:
        return
    family.add_metric(
        list(labels),
        [("+Inf" if math.isinf(le) else repr(le), float(n)) for le, n in total],
        sum_value,
    )
