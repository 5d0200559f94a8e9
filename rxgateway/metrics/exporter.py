"""The public face of the metrics: :class:`Metrics` (see :mod:`rxgateway.metrics`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from reactivex import abc
from reactivex.disposable import Disposable

from ..cluster.member import Member
from ..group import ShardGroup
from ..protocol.event_type import EventTypeFlags
from ..queue.session_queue import SessionQueue
from ..shard import Shard
from .buckets import PUBLISH_LAG_BUCKETS, Buckets
from .bus_lag import DEFAULT_EVERY, BusLagWatch
from .queue import MeteredQueue
from .watch import Book, MemberSource

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

    from ..bus.bus import Bus

    from .server import MetricsServer

__all__ = ["Metrics", "require_prometheus"]

#: What to install when prometheus_client is missing.
INSTALL_HINT = "pip install 'rxgateway[metrics]'"


def require_prometheus() -> None:
    """Raise ``RuntimeError`` naming the extra to install, unless prometheus_client
    can be imported."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(f"metrics need prometheus-client: {INSTALL_HINT}") from exc


class Metrics:
    """Prometheus metrics of shards, groups, cluster members, identify queues and the
    event bus, read at scrape time (see :mod:`rxgateway.metrics` for every name).

    Args:
        registry: the ``prometheus_client.CollectorRegistry`` to register with
            (default: a new one of its own; pass ``prometheus_client.REGISTRY`` to
            join the process-wide default registry).
        app, member: the ``app`` and ``member`` labels of the families that are not
            per shard (identify queue, heartbeat histogram, bus). Default: those of
            the first :class:`~rxgateway.cluster.Member` watched, else ``""``.

    Raises ``RuntimeError`` if prometheus_client is not installed.

    Example::

        metrics = Metrics()
        metrics.watch(shards)                       # a Shard, a ShardGroup or a Member
        server = await metrics.serve(9464)          # GET http://127.0.0.1:9464/metrics
        ...
        await server.aclose()
    """

    def __init__(self, registry: CollectorRegistry | None = None, *, app: str | None = None, member: str | None = None) -> None:
        require_prometheus()
        from prometheus_client.registry import CollectorRegistry

        from .collector import GatewayCollector

        self.registry: CollectorRegistry = registry if registry is not None else CollectorRegistry()
        self._app = app
        self._member = member
        #: Every shard object watched.
        self.book = Book()
        self._members: list[MemberSource] = []
        self._queues: list[MeteredQueue] = []
        #: Seconds from a dispatch's arrival to the bus's publish acknowledgement.
        self.publish_lag = Buckets(PUBLISH_LAG_BUCKETS)
        self._consumer_lag: dict[str, float] = {}
        self._lag_watches: list[BusLagWatch] = []
        self._collector = GatewayCollector(self)
        self.registry.register(self._collector)

    # ----------------------------------------------------------------- labels

    @property
    def app(self) -> str:
        """The ``app`` label of the families that are not per shard."""
        if self._app is not None:
            return self._app
        return self._members[0].app if self._members else ""

    @property
    def member(self) -> str:
        """The ``member`` label of the families that are not per shard."""
        if self._member is not None:
            return self._member
        return self._members[0].id if self._members else ""

    # --------------------------------------------------------------- sources

    def watch(self, source: Shard | ShardGroup | Member) -> abc.DisposableBase:
        """Report ``source``'s shards: a :class:`~rxgateway.Shard`, every shard of a
        :class:`~rxgateway.ShardGroup`, or the shards a
        :class:`~rxgateway.cluster.Member` holds now and later. Each shard gets one
        frame sink (counting payloads by type); the rest is read at scrape time.
        A :class:`MeteredQueue` in a shard's (or the member's) config is reported
        too. Dispose the result to stop (the shards' series go away)."""
        book = self.book
        if isinstance(source, Member):
            follower = MemberSource(book, source)
            self._members.append(follower)

            def stop_member() -> None:
                follower.close()
                if follower in self._members:
                    self._members.remove(follower)

            return Disposable(stop_member)
        if isinstance(source, Shard):
            shards: list[Shard] = [source]
        elif isinstance(source, ShardGroup):
            shards = list(source)
        else:
            raise TypeError(f"watch() takes a Shard, a ShardGroup or a Member, not {type(source).__name__}")
        app = self._app or ""
        member = self._member or ""
        for shard in shards:
            book.attach(shard, (app, member, str(shard.id.number)))
        released = False

        def stop() -> None:
            nonlocal released
            if not released:
                released = True
                for shard in shards:
                    book.release(shard, keep=False)

        return Disposable(stop)

    def watch_queue(self, queue: MeteredQueue) -> None:
        """Report ``queue`` (one the watched shards' configs do not name, say)."""
        if not isinstance(queue, MeteredQueue):
            raise TypeError(f"watch_queue() takes a MeteredQueue, not {type(queue).__name__}")
        if not any(q is queue for q in self._queues):
            self._queues.append(queue)

    def meter(self, queue: SessionQueue) -> MeteredQueue:
        """``MeteredQueue(queue)``, reported by these metrics: put it in the config."""
        metered = queue if isinstance(queue, MeteredQueue) else MeteredQueue(queue)
        self.watch_queue(metered)
        return metered

    def queues(self) -> list[MeteredQueue]:
        """The metered queues reported: those given, and those in the configs of the
        watched shards and members (each once)."""
        found: dict[int, MeteredQueue] = {id(q): q for q in self._queues}
        for follower in list(self._members):
            queue = follower.member.config.queue
            if isinstance(queue, MeteredQueue):
                found.setdefault(id(queue), queue)
        for shard in list(self.book.live):
            queue = shard.config.queue
            if isinstance(queue, MeteredQueue):
                found.setdefault(id(queue), queue)
        return list(found.values())

    def members(self) -> list[MemberSource]:
        """The members watched (re-read first: a scrape never misses a claimed shard)."""
        followers = list(self._members)
        for follower in followers:
            follower.sync()
        return followers

    # ------------------------------------------------------------------- bus

    def observe_publish_lag(self, seconds: float) -> None:
        """The event bus published one dispatch ``seconds`` after it arrived at the
        shard (``rxgateway_publish_lag_seconds``). Call it on the event loop when the
        bus acknowledges the publish; it costs a ``bisect`` and two additions."""
        self.publish_lag.observe(seconds)

    def observe_publish_lag_since(self, arrived_ns: int) -> None:
        """:meth:`observe_publish_lag` from the arrival time a frame sink is handed
        (``time.monotonic_ns()``'s clock)."""
        self.publish_lag.observe((time.monotonic_ns() - arrived_ns) / 1e9)

    def set_consumer_lag(self, group: str, entries: float) -> None:
        """Consumer group ``group`` has ``entries`` left to process
        (``rxgateway_consumer_lag{group=...}``): what
        :meth:`Broker.group_lag <rxgateway.bus.broker.Broker.group_lag>` reads
        (:meth:`watch_bus` polls it). The last value is reported."""
        if entries != entries or entries < 0:
            raise ValueError(f"a consumer lag is a count >= 0, got {entries}")
        self._consumer_lag[str(group)] = float(entries)

    def watch_bus(
        self, bus: Bus, flags: EventTypeFlags | int = EventTypeFlags.all(), *, every: float = DEFAULT_EVERY
    ) -> BusLagWatch:
        """Report the consumer lag of ``bus``'s group for the event types ``flags``
        (those its consumers subscribe to: the broker keeps the lag per group and
        types), polled every ``every`` seconds (:mod:`rxgateway.metrics.bus_lag`).
        Call it on the running event loop; ``await watch.aclose()`` (or
        :meth:`close`) stops it and removes the series. One watch per group: a
        second one of the same group would set the same series.

        Raises ``ValueError`` for a fan-out bus (``group=None``): each fan-out
        subscriber reads on its own, there is no group to be behind.

        Example::

            bus = Bus(broker, group="moderation")
            watch = metrics.watch_bus(bus, EventTypeFlags.MESSAGE_CREATE, every=5)
        """
        from ..bus.bus import names_for  # the bus is optional: imported when used

        if bus.group is None:
            raise ValueError("watch_bus() needs a Bus with a group: a fan-out bus has no consumer group lag")
        watch = BusLagWatch(self, bus.broker, bus.group, names_for(int(flags)), every)
        self._lag_watches = [w for w in self._lag_watches if w.running]
        self._lag_watches.append(watch)
        return watch

    def clear_consumer_lag(self, group: str) -> None:
        """Stop reporting ``group`` (it was deleted)."""
        self._consumer_lag.pop(str(group), None)

    def consumer_lags(self) -> dict[str, float]:
        """The consumer lags reported, by group (a copy)."""
        return dict(self._consumer_lag)

    # ---------------------------------------------------------------- output

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition of the registry now, and its content type (``accept`` as an
        HTTP ``Accept`` header chooses the format)."""
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type

    async def serve(self, port: int = 0, host: str = "127.0.0.1") -> MetricsServer:
        """Serve ``GET /metrics`` at ``host:port`` on the running event loop (port 0:
        any free port, see ``server.port``). ``await server.aclose()`` stops it; see
        :mod:`rxgateway.metrics.server` for why not prometheus_client's thread."""
        from .server import start_server

        return await start_server(self.registry, port, host)

    def close(self) -> None:
        """Stop watching everything (sinks detached, bus lag polls cancelled) and
        leave the registry."""
        for lag_watch in self._lag_watches:
            lag_watch.dispose()
        self._lag_watches.clear()
        for follower in list(self._members):
            follower.close()
        self._members.clear()
        book = self.book
        for shard, watch in list(book.live.items()):
            watch.refs = 1
            book.release(shard, keep=False)
        for watch in book.retiring:
            watch.detach()
        book.retiring.clear()
        try:
            self.registry.unregister(self._collector)
        except KeyError:
            pass

    def __repr__(self) -> str:
        return f"Metrics(app={self.app!r}, member={self.member!r}, shards={len(self.book.live)}, queues={len(self.queues())})"
