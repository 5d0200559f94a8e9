"""Groups of shards: ``create_recommended``, ``create_range``, ``create_iterator`` and
the :class:`ShardGroup` they return, an Observable merging its shards' events.

Example::

    shards = await create_recommended(config)
    shards.pipe(on(EventTypeFlags.MESSAGE_CREATE)).subscribe(print)
    async with shards:
        await shards.closed()
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import aiohttp
import reactivex
from reactivex import abc
from reactivex.disposable import CompositeDisposable

from .config import DEFAULT_GATEWAY_URL, Config
from .errors import GatewayError
from .events.base import Event
from .fanout import ALL_BITS, Fanout
from .http import get_gateway_bot
from .machine.state import ShardState
from .protocol.close import CloseFrame
from .protocol.event_type import EventTypeFlags
from .protocol.shard_id import ShardId, shard_for_guild
from .sender import GroupSender
from .shard import Shard, exit_frame
from .stream import EventStream

PerShard = Callable[[ShardId, Config], Config]

__all__ = ["GroupSender", "PerShard", "ShardGroup", "bucket", "create_iterator", "create_range", "create_recommended"]


def bucket(bucket_id: int, buckets: int, total: int) -> range:
    """Shard numbers of ``bucket_id`` when ``0..total`` is split into ``buckets``
    consecutive ranges, the first ``total % buckets`` one longer (twilight's ``bucket``).

    Example::

        >>> len(bucket(0, 2, 25)), len(bucket(1, 2, 25))
        (13, 12)
    """
    if buckets < 1 or total < 1:
        raise ValueError("buckets and total must be at least 1")
    if not 0 <= bucket_id < buckets:
        raise ValueError(f"bucket_id must be in 0..{buckets - 1}, got {bucket_id}")
    q, r = divmod(total, buckets)
    start = bucket_id * q + min(r, bucket_id)
    return range(start, start + q + (1 if bucket_id < r else 0))


class ShardGroup(reactivex.Observable[Event]):
    """Shards that share a config and an identify queue, as one Observable of all
    their events (each event knows its ``shard``). Iterable over its shards."""

    def __init__(self, shards: Iterable[Shard]) -> None:
        super().__init__()
        self._shards = list(shards)
        if not self._shards:
            raise ValueError("a ShardGroup needs at least one shard")
        self._by_number = {s.id.number: s for s in self._shards}
        self._http: aiohttp.ClientSession | None = None
        self._started = False
        self.sender = GroupSender(self)

    def __iter__(self) -> Iterator[Shard]:
        return iter(self._shards)

    def __len__(self) -> int:
        return len(self._shards)

    def shard(self, shard: ShardId | int) -> Shard:
        """The shard with this number (or id)."""
        number = shard.number if isinstance(shard, ShardId) else shard
        try:
            return self._by_number[number]
        except KeyError:
            raise KeyError(f"no shard {number} in this group") from None

    def shard_for_guild(self, guild_id: int) -> Shard:
        """The shard that receives events of ``guild_id``."""
        total = self._shards[0].id.total
        return self.shard(shard_for_guild(guild_id, total))

    @property
    def states(self) -> reactivex.Observable[dict[ShardId, ShardState]]:
        """Every shard's state, as a map re-emitted on each change (first once every
        shard has reported its current state). An observer that raises is logged,
        unsubscribed from every shard and told through its ``on_error``."""
        count = len(self._shards)

        def subscribe(observer: abc.ObserverBase[dict[ShardId, ShardState]], scheduler: Any = None) -> abc.DisposableBase:
            current: dict[ShardId, ShardState] = {}
            disposables = CompositeDisposable()
            fanout = Fanout("group states")
            fanout.add(ALL_BITS, observer.on_next, observer.on_error, observer.on_completed)

            def watcher(shard_id: ShardId) -> Callable[[ShardState], None]:
                def on_state(state: ShardState) -> None:
                    current[shard_id] = state
                    if len(current) < count or not fanout:
                        return
                    fanout.deliver(ALL_BITS, dict(current))
                    if not fanout:  # it raised and was told: stop watching the shards
                        disposables.dispose()

                return on_state

            for shard in self._shards:
                disposables.add(shard.states.subscribe(watcher(shard.id), observer.on_error))
            return disposables

        return reactivex.create(subscribe)

    def _subscribe_core(
        self, observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        return self.subscribe_flags(observer, EventTypeFlags.all())

    def subscribe_flags(self, observer: abc.ObserverBase[Event], flags: EventTypeFlags | int) -> abc.DisposableBase:
        """Subscribe to ``flags`` on every shard; completes when all shards have ended,
        errors with the first fatal error."""
        remaining = [len(self._shards)]
        failed = [False]
        group = CompositeDisposable()

        def on_error(error: Exception) -> None:
            if not failed[0]:
                failed[0] = True
                group.dispose()  # the other shards stop parsing for this observer
                observer.on_error(error)

        def on_completed() -> None:
            remaining[0] -= 1
            if remaining[0] == 0 and not failed[0]:
                observer.on_completed()

        class _Inner(abc.ObserverBase[Event]):
            def on_next(self, value: Event) -> None:
                if not failed[0]:
                    observer.on_next(value)

            def on_error(self, error: Exception) -> None:
                on_error(error)

            def on_completed(self) -> None:
                on_completed()

        for shard in self._shards:
            group.add(shard.subscribe_flags(_Inner(), flags))
        return group

    def events(self, flags: EventTypeFlags | int = EventTypeFlags.all()) -> EventStream:
        """The events in ``flags`` from every shard, as an async iterator."""
        return EventStream(self, flags)

    async def start(self) -> None:
        """Start every shard. They identify through their shared queue, one per
        ``shard_id % max_concurrency`` bucket per 5 s."""
        if self._started:
            raise RuntimeError("this ShardGroup was already started")
        self._started = True
        # One client session for all shards; no cap on connections (aiohttp's default
        # of 100 would stall a group of more shards).
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        started: list[Shard] = []
        try:
            for shard in self._shards:
                await shard.start(http=self._http)
                started.append(shard)
        except BaseException:
            # Undo: the shards already running close, and the client session made here.
            for shard in started:
                shard.close()
            await asyncio.gather(*(s.closed() for s in started), return_exceptions=True)
            await self._http.close()
            self._http = None
            raise

    def close(self, frame: CloseFrame = CloseFrame.NORMAL) -> None:
        """Close every shard."""
        for shard in self._shards:
            shard.close(frame)

    async def closed(self) -> None:
        """Wait until every shard has ended; raises the first fatal error."""
        results = await asyncio.gather(*(s.closed() for s in self._shards), return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = None
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def ready(self, timeout: float | None = None) -> None:
        """Wait until every shard is Active."""
        await asyncio.gather(*(s.ready(timeout) for s in self._shards))

    async def __aenter__(self) -> ShardGroup:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close(exit_frame(self._shards[0].config, exc_info[0]))
        try:
            await self.closed()
        except GatewayError:
            if exc_info[0] is None:
                raise

    def __repr__(self) -> str:
        states: dict[str, int] = {}
        for s in self._shards:
            states[str(s.state)] = states.get(str(s.state), 0) + 1
        return f"ShardGroup({len(self._shards)} shards: {states})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{s.id}</td><td>{s.state}</td>"
            f"<td>{'-' if s.latency.average is None else f'{s.latency.average * 1000:.1f} ms'}</td>"
            f"<td>{s.stats['dispatches']}</td></tr>"
            for s in self._shards
        )
        return f"<table><tr><th>shard</th><th>state</th><th>latency</th><th>events</th></tr>{rows}</table>"


def create_iterator(
    numbers: Iterable[int], total: int, config: Config, per_shard: PerShard | None = None
) -> ShardGroup:
    """Shards ``numbers`` of ``total``, each from ``config`` (or ``per_shard(id, config)``,
    which should ``config.replace(...)`` so the queue stays shared)."""
    shards = []
    for number in numbers:
        shard_id = ShardId(number, total)
        shard_config = per_shard(shard_id, config) if per_shard else config
        if shard_config.queue is not config.queue:
            raise ValueError("per_shard must keep the shared queue (use config.replace)")
        shards.append(Shard(shard_id, shard_config))
    return ShardGroup(shards)


def create_range(
    numbers: range, total: int, config: Config, per_shard: PerShard | None = None
) -> ShardGroup:
    """Consecutive shards, e.g. ``create_range(bucket(0, 2, total), total, config)`` for
    the first of two processes."""
    if numbers.step != 1:
        raise ValueError("create_range takes consecutive shard numbers (step 1)")
    return create_iterator(numbers, total, config, per_shard)


async def create_recommended(
    config: Config, per_shard: PerShard | None = None, *, session: aiohttp.ClientSession | None = None
) -> ShardGroup:
    """Ask ``GET /gateway/bot`` for the recommended shard count and build them all.

    The queue is updated with the answer's session-start limit, and the answer's URL
    is used unless the config names its own ``gateway_url``.
    """
    info = await get_gateway_bot(config.token, api_url=config.api_url, session=session)
    limit = info.session_start_limit
    config.queue.update(
        max_concurrency=limit.max_concurrency,
        remaining=limit.remaining,
        reset_after=limit.reset_after,
        total=limit.total,
    )
    if config.gateway_url == DEFAULT_GATEWAY_URL and info.url:
        config = config.replace(gateway_url=info.url)
    return create_iterator(range(info.shards), info.shards, config, per_shard)
