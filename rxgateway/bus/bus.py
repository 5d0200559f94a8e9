"""The consumer side of the bus: the same typed events a local shard gives, from
whichever process holds the shards, and commands back.

A :class:`Bus` is an Observable of events, flag-aware like a shard:
``bus.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE))`` asks the broker for that type only
(a subject filter, a stream per type), so nothing else crosses the wire. Each event is
rebuilt from the bytes the gateway received (``.shard``, ``.sequence``, ``.raw``, the
typed view), so a pipeline moves from a local shard to a remote one unchanged.

Delivery is at least once from the broker; the bus makes it once per consumer: a key
(``shard:session:sequence``) already handled is dropped (a bounded memory of
:data:`DEDUP_KEYS` keys), and the broker stores each key once (resume replays).
An event is acknowledged after the work it started has finished: after the
observer's ``on_next`` returned, or, when the pipeline runs async handlers with
``ops.spawn`` or ``ops.route``, after every handler task it started ended
(:mod:`rxgateway.receipts`), or with :meth:`Bus.consume` after the handler finished.
A consumer killed mid-handler gets the event again, from another member of its group;
a handler that raised has its event delivered again (up to the broker's delivery
limit, then it is given up and logged). A consumer killed after its
handler finished and before the acknowledgement reached the broker can see that one
event again (at least once is the guarantee there).

Resharding: while two shard generations run side by side, each dispatch reaches the
bus twice, with different keys. A consumer that has seen events of two generations
recently drops the second copy *by content* (type and ``d`` bytes) within
``overlap_window`` seconds (:class:`OverlapFilter`, counted as ``stats["copies"]``);
outside an overlap this costs one comparison per event. The filter is per consumer:
in a work-sharing group the two copies of a dispatch may go to two consumers of the
group, which then both handle it (use fan-out, or idempotent handlers, across a
reshard).

``group=None`` (the default) is fan-out: this consumer sees every event from now on.
``group="name"`` shares the work among every consumer of that group, wherever they run.

Example::

    bus = Bus(JetStreamBroker("nats://127.0.0.1:4222", app="mybot"), group="moderation")
    bus.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(moderate)
    await bus.sender.deliver(RequestGuildMembers(guild_id, query="", limit=0))
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import os
import socket
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final

import orjson
import reactivex
from reactivex import abc
from reactivex.disposable import Disposable

from ..errors import BusError, CommandsNotSentError, GatewayError
from ..events.base import Event, GatewayErrorEvent
from ..fanout import Fanout
from ..protocol.commands import Command, encode_raw
from ..protocol.envelope import DISPATCH_HEAD
from ..protocol.event_type import DISPATCH_BITS, EventTypeFlags
from ..protocol.shard_id import ShardId
from ..receipts import Receipt, enter, leave
from ..sender import command_targets
from ..stream import EventStream
from .broker import Broker, BusCommand, Delivery
from .bus_event import MAX_COMMAND_BYTES, BusEvent

__all__ = ["DEDUP_KEYS", "OVERLAP_CONTENTS", "OVERLAP_RECENT", "OVERLAP_WINDOW", "Bus", "BusSender", "OverlapFilter"]

log = logging.getLogger("rxgateway.bus")

#: Keys a consumer remembers to drop redeliveries and replays (about 10 MB).
DEDUP_KEYS: Final = 100_000
#: Resharding: two copies of one dispatch, from two shard generations, are recognised
#: when they reach a consumer within this many seconds of each other (their publishers'
#: lag apart). An overlap ends once one generation was not seen for this long.
OVERLAP_WINDOW: Final = 10.0
#: Contents remembered at most during an overlap (16-byte digests and counts, about
#: 20 MB): past it the oldest are forgotten even within the window.
OVERLAP_CONTENTS: Final = 100_000
#: Events of the last generation kept (references, no copy, no hash) outside an
#: overlap, so that copies that arrived just before the first event of a new generation
#: are recognised too.
OVERLAP_RECENT: Final = 4096
#: Seconds a command waits for the gateway's answer.
COMMAND_TIMEOUT: Final = 10.0
#: Seconds before a subscription whose broker failed tries again (doubling, capped).
RESUBSCRIBE_FIRST: Final = 0.2
RESUBSCRIBE_CAP: Final = 5.0
_DISPATCHES = int(EventTypeFlags.DISPATCHES)
_ERROR_BIT = int(EventTypeFlags.GATEWAY_ERROR)
_NAMES_BY_BIT = {bit: raw.decode() for raw, bit in DISPATCH_BITS.items()}


def names_for(flags: int) -> frozenset[str] | None:
    """The dispatch names in ``flags``; ``None`` when every dispatch is wanted.

    Example::

        >>> sorted(names_for(int(EventTypeFlags.MESSAGE_CREATE | EventTypeFlags.READY)))
        ['MESSAGE_CREATE', 'READY']
        >>> names_for(int(EventTypeFlags.all())) is None
        True
    """
    if flags & _DISPATCHES == _DISPATCHES:
        return None
    return frozenset(name for bit, name in _NAMES_BY_BIT.items() if bit & flags)


def _default_consumer() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class _Seen:
    """The keys a consumer already handled, the oldest forgotten first."""

    __slots__ = ("keys", "limit")

    def __init__(self, limit: int) -> None:
        self.keys: OrderedDict[str, None] = OrderedDict()
        self.limit = limit

    def add(self, key: str) -> bool:
        """True if ``key`` is new (and remember it)."""
        if key in self.keys:
            return False
        self.keys[key] = None
        if len(self.keys) > self.limit:
            self.keys.popitem(last=False)
        return True

    def forget(self, key: str) -> None:
        """Take ``key`` back: its event was not handled and will come again."""
        self.keys.pop(key, None)


class _Settle:
    """The settle callback of one delivery's :class:`~rxgateway.receipts.Receipt`:
    kept for the pump to await when the receipt settled during ``on_next`` (nothing
    async held it), else acknowledged (or retried) from a task of its own."""

    __slots__ = ("bus", "delivery", "seen", "inline", "ok")

    def __init__(self, bus: Bus, delivery: Delivery, seen: _Seen) -> None:
        self.bus = bus
        self.delivery = delivery
        self.seen = seen
        self.inline = True
        self.ok: bool | None = None

    def __call__(self, ok: bool) -> None:
        if self.inline:
            self.ok = ok
        else:
            self.bus._spawn(self.bus._settle(self.delivery, ok, self.seen))


def content_digest(name: str, payload: bytes) -> bytes:
    """A digest of a dispatch's content: its type and the bytes of its ``d``, which the
    gateway writes identically for every session it sends the dispatch to (only
    ``s`` differs). A payload in another layout is parsed and its ``d`` re-serialised.

    Example::

        >>> a = content_digest("MESSAGE_CREATE", b'{"t":"MESSAGE_CREATE","s":7,"op":0,"d":{"id":"1"}}')
        >>> a == content_digest("MESSAGE_CREATE", b'{"t":"MESSAGE_CREATE","s":90,"op":0,"d":{"id":"1"}}')
        True
    """
    head = DISPATCH_HEAD.match(payload)
    if head is not None:
        data = payload[head.end() :].rstrip()[:-1]
    else:
        try:
            data = orjson.dumps(orjson.loads(payload).get("d"))
        except (orjson.JSONDecodeError, AttributeError, TypeError):
            data = payload
    return hashlib.blake2b(name.encode() + b"\0" + data, digest_size=16).digest()


class OverlapFilter:
    """Drops the second copy of a dispatch that two shard generations both received
    during a reshard (their shard, session and sequence differ; the content does not).

    Outside an overlap (one generation seen) it costs one comparison and one append
    to a bounded ring of references (:data:`OVERLAP_RECENT`). An event of another
    generation starts an overlap: from then on each event's content (type and ``d``
    bytes, :func:`content_digest`) is counted per generation, the ring's events of the
    last ``window`` seconds (by their ``published_at``) first. A copy is delivered
    when its generation has now seen that content more often than any other
    generation has: so each dispatch is delivered once, whichever generation's copy
    comes first, and two distinct dispatches with equal content still twice.

    Bounds: a content is remembered ``window`` seconds after it was first seen, and
    at most ``limit`` contents. The overlap ends, and the memory is freed, once a
    generation was not seen for ``window`` seconds. Two copies further apart than the
    window (a publisher stalled that long) are both delivered: at least once holds.

    Example::

        >>> f = OverlapFilter(window=10.0, clock=lambda: 0.0)
        >>> old = BusEvent(0, 4, "a", 9, "TYPING_START", b'{"t":"TYPING_START","s":9,"op":0,"d":{"x":1}}', 0)
        >>> new = BusEvent(1, 8, "b", 3, "TYPING_START", b'{"t":"TYPING_START","s":3,"op":0,"d":{"x":1}}', 1)
        >>> f.admit(old), f.admit(new), f.overlapping
        (True, False, True)
    """

    __slots__ = ("clock", "contents", "generation", "last_seen", "limit", "overlapping", "recent", "window")

    def __init__(
        self,
        window: float = OVERLAP_WINDOW,
        *,
        limit: int = OVERLAP_CONTENTS,
        recent: int = OVERLAP_RECENT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.limit = limit
        self.clock = clock
        #: The one generation seen, outside an overlap.
        self.generation: int | None = None
        self.recent: deque[BusEvent] = deque(maxlen=recent)
        self.overlapping = False
        #: During an overlap: generation -> when last seen; digest -> [first seen, counts].
        self.last_seen: dict[int, float] = {}
        self.contents: OrderedDict[bytes, tuple[float, dict[int, int]]] = OrderedDict()

    def admit(self, event: BusEvent) -> bool:
        """True to deliver ``event``, False for a copy already delivered from another
        generation."""
        if not self.overlapping:
            generation = event.generation
            if generation == self.generation or self.generation is None:
                self.generation = generation
                self.recent.append(event)
                return True
            self._begin(event)
        return self._count(event, self.clock())

    def _begin(self, first: BusEvent) -> None:
        now = self.clock()
        self.overlapping = True
        assert self.generation is not None
        self.last_seen = {self.generation: now, first.generation: now}
        since = first.published_at - self.window
        for earlier in self.recent:
            if earlier.published_at >= since:
                self._count(earlier, now)
        self.recent.clear()

    def _count(self, event: BusEvent, now: float) -> bool:
        generation = event.generation
        last_seen = self.last_seen
        last_seen[generation] = now
        contents = self.contents
        while contents:  # forget what is older than the window, then past the bound
            first = next(iter(contents.values()))[0]
            if now - first <= self.window and len(contents) < self.limit:
                break
            contents.popitem(last=False)
        digest = content_digest(event.name, event.payload)
        entry = contents.get(digest)
        if entry is None:
            contents[digest] = (now, {generation: 1})
            admitted = True
        else:
            counts = entry[1]
            mine = counts.get(generation, 0) + 1
            counts[generation] = mine
            admitted = mine > max((c for g, c in counts.items() if g != generation), default=0)
        stale = [g for g, seen in last_seen.items() if now - seen > self.window]
        for g in stale:
            del last_seen[g]
        if stale and len(last_seen) == 1:  # one generation left: the overlap is over
            self.overlapping = False
            self.generation = generation
            self.contents = OrderedDict()
            self.last_seen = {}
        return admitted


class Bus(reactivex.Observable[Event]):
    """Events from the bus as an Observable, and :attr:`sender` for commands back.

    Args:
        broker: a :class:`~rxgateway.bus.broker.Broker` (NATS JetStream, Redis Streams).
        group: ``None`` for fan-out, or the name of a work-sharing group.
        consumer: this consumer's name within its group (default host-pid-random).
        total: the shard total, for routing commands (learned from events otherwise).
        overlap_window: resharding (see :class:`OverlapFilter`): seconds within which
            two generations' copies of one dispatch are recognised as one.
    """

    def __init__(
        self,
        broker: Broker,
        *,
        group: str | None = None,
        consumer: str | None = None,
        total: int | None = None,
        overlap_window: float = OVERLAP_WINDOW,
    ) -> None:
        super().__init__()
        self.broker = broker
        self.group = group
        self.consumer = consumer or _default_consumer()
        self.total = total
        self._tasks: set[asyncio.Task[None]] = set()
        #: One future per subscription, done once it reads the broker (see started()).
        self._starting: set[asyncio.Future[None]] = set()
        self.sender = BusSender(self)
        self.overlap_window = overlap_window
        #: Counters: delivered (to observers), duplicates (dropped by key), copies
        #: (dropped by content during a reshard's overlap), failed handlers.
        self.stats = {"delivered": 0, "duplicates": 0, "copies": 0, "failed_handlers": 0}

    def _subscribe_core(self, observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None = None) -> abc.DisposableBase:
        return self.subscribe_flags(observer, EventTypeFlags.all())

    def subscribe_flags(self, observer: abc.ObserverBase[Event], flags: EventTypeFlags | int) -> abc.DisposableBase:
        """Deliver the events of ``flags`` only: the broker is asked for those types."""
        fanout = Fanout(f"bus {self.broker.app}")
        fanout.add(int(flags), observer.on_next, observer.on_error, observer.on_completed)

        try:
            starting = self._new_start()
        except RuntimeError:
            raise RuntimeError("subscribe to a Bus from a running event loop") from None
        task = self._spawn(self._pump(int(flags), fanout, None, starting))

        def stop() -> None:
            task.cancel()

        return Disposable(stop)

    def events(self, flags: EventTypeFlags | int = EventTypeFlags.all()) -> EventStream:
        """The events in ``flags`` as an async iterator (``async for event in ...``)."""
        return EventStream(self, flags)

    async def consume(
        self,
        flags: EventTypeFlags | int,
        handler: Callable[[Event], Awaitable[Any]],
        *,
        concurrency: int = 1,
    ) -> None:
        """Run ``handler`` for every event of ``flags`` until cancelled, at most
        ``concurrency`` at once; each is acknowledged after its handler finished. A
        handler that raises is logged and its event delivered again (to any consumer of
        the group)."""
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        fanout = Fanout(f"bus {self.broker.app} consumer")
        queue: list[Event] = []
        fanout.add(int(flags), queue.append, lambda _e: None, lambda: None)
        slots = asyncio.Semaphore(concurrency)
        running: set[asyncio.Task[None]] = set()

        async def run_one(event: Event, delivery: Delivery, seen: _Seen) -> None:
            try:
                await handler(event)
            except Exception:
                log.exception("bus %s: a handler raised; the event will be delivered again", self.broker.app)
                await self._settle(delivery, False, seen)
            else:
                self.stats["delivered"] += 1
                await self._settle(delivery, True, seen)
            finally:
                slots.release()

        async def on_delivery(delivery: Delivery, seen: _Seen) -> bool:
            queue.clear()
            self._build(fanout, delivery)
            if not queue:
                return True  # not wanted after all (an unknown type): acked by the pump
            await slots.acquire()
            task = asyncio.get_running_loop().create_task(run_one(queue[0], delivery, seen))
            running.add(task)
            task.add_done_callback(running.discard)
            return False

        try:
            await self._pump(int(flags), fanout, on_delivery)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("subscribe to a Bus from a running event loop") from None
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _build(self, fanout: Fanout, delivery: Delivery) -> None:
        event = delivery.event
        if self.total is None:
            self.total = event.total
        fanout.payload(ShardId(event.shard, event.total), 0, event.sequence, event.name, event.payload, None)

    def _new_start(self) -> asyncio.Future[None]:
        """A future done once a new subscription reads the broker (see :meth:`started`)."""
        starting: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._starting.add(starting)
        return starting

    async def _pump(
        self,
        flags: int,
        fanout: Fanout,
        on_delivery: Callable[[Delivery, _Seen], Awaitable[bool]] | None,
        starting: asyncio.Future[None] | None = None,
    ) -> None:
        """Read the broker for ``flags`` and hand each new event to ``fanout`` (or to
        ``on_delivery``, which acks itself when it returns False), re-subscribing
        after a broker failure; ends when cancelled or when no observer is left."""
        names = names_for(flags)
        seen = _Seen(DEDUP_KEYS)
        if starting is None:
            starting = self._new_start()
        overlap = OverlapFilter(self.overlap_window)
        delay = RESUBSCRIBE_FIRST
        try:
            while fanout:
                try:
                    subscription = self.broker.subscribe(names, group=self.group, consumer=self.consumer)
                    async with contextlib.aclosing(subscription):  # type: ignore[type-var]
                        start = getattr(subscription, "start", None)
                        if start is not None:  # from here on, nothing published is missed
                            await start()
                        self._mark_started(starting)
                        async for delivery in subscription:
                            delay = RESUBSCRIBE_FIRST
                            if not seen.add(delivery.event.key):
                                self.stats["duplicates"] += 1
                                await delivery.ack()
                                continue
                            if not overlap.admit(delivery.event):
                                self.stats["copies"] += 1
                                await delivery.ack()
                                continue
                            if on_delivery is not None:
                                if await on_delivery(delivery, seen):
                                    await delivery.ack()
                                continue
                            settle = _Settle(self, delivery, seen)
                            receipt = Receipt(settle)
                            previous = enter(receipt)
                            try:
                                self._build(fanout, delivery)
                            finally:
                                leave(previous)
                                receipt.seal()
                            settle.inline = False
                            self.stats["delivered"] += 1
                            if settle.ok is not None:  # nothing async held it: settle in order
                                await self._settle(delivery, settle.ok, seen)
                            if not fanout:
                                return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    error = exc if isinstance(exc, GatewayError) else BusError(f"reading the bus failed: {exc!r}")
                    log.warning("bus %s: %s; subscribing again in %.1f s", self.broker.app, error, delay)
                    if fanout.demand & _ERROR_BIT:
                        fanout.deliver(_ERROR_BIT, GatewayErrorEvent(ShardId(0, 1), error))
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RESUBSCRIBE_CAP)
        finally:
            self._mark_started(starting)
            fanout.finish()

    async def _settle(self, delivery: Delivery, ok: bool, seen: _Seen) -> None:
        """Acknowledge a handled event, or hand back one whose handler failed."""
        try:
            if ok:
                await delivery.ack()
            else:
                self.stats["failed_handlers"] += 1
                seen.forget(delivery.event.key)
                await delivery.retry()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the broker went away: it redelivers what was not acked
            log.warning("bus %s: settling %s failed: %r", self.broker.app, delivery.event.key, exc)

    def _mark_started(self, starting: asyncio.Future[None]) -> None:
        if not starting.done():
            starting.set_result(None)
        self._starting.discard(starting)

    async def started(self, timeout: float | None = None) -> None:
        """Wait until every subscription made so far reads the broker: what is
        published from then on reaches it (a fan-out subscriber sees only what comes
        after it started). ``asyncio.TimeoutError`` after ``timeout`` seconds.

        Example::

            bus.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(handle)
            await bus.started()
            async with shards: ...          # nothing they publish is missed
        """
        pending = list(self._starting)
        if pending:
            await asyncio.wait_for(asyncio.gather(*pending), timeout)

    async def aclose(self) -> None:
        """Stop every subscription of this bus (observers complete)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def __repr__(self) -> str:
        return f"Bus({self.broker!r}, group={self.group!r}, consumer={self.consumer!r})"


class BusSender:
    """Commands from any process, to the shard that owns the guild wherever the
    gateway holds it: through the broker's command subject/stream, answered by the
    gateway side. ``await deliver(...)`` raises
    :class:`~rxgateway.errors.CommandsNotSentError` with the gateway's reason (or on a
    timeout); ``command(...)`` does not wait and logs a failure.

    Example::

        await bus.sender.deliver(RequestGuildMembers(guild_id, query="", limit=0))
        await bus.sender.send(0, {"op": 3, "d": {...}})
    """

    def __init__(self, bus: Bus) -> None:
        self._bus = bus

    async def deliver(self, command: Command, *, timeout: float = COMMAND_TIMEOUT) -> None:
        """Send ``command`` to its shard(s) and wait until the gateway handed it over."""
        if not isinstance(command, Command):
            raise TypeError(f"expected a gateway command, got {type(command).__name__}")
        total = self._bus.total
        if total is None:
            raise CommandsNotSentError("the shard total is unknown: pass Bus(total=...) or receive an event first")
        for shard, data in command_targets(command, total):
            await self._send(shard, data, timeout)

    async def send(self, shard: int, payload: bytes | dict[str, Any], *, timeout: float = COMMAND_TIMEOUT) -> None:
        """Send a raw payload (a dict with ``op`` and ``d``, or its JSON) to ``shard``."""
        data = encode_raw(payload) if isinstance(payload, dict) else payload
        if not isinstance(data, bytes):
            raise TypeError("send() takes a dict or JSON bytes")
        await self._send(shard, data, timeout)

    async def _send(self, shard: int, data: bytes, timeout: float) -> None:
        if len(data) > MAX_COMMAND_BYTES:
            raise CommandsNotSentError(f"a command of {len(data)} bytes is over the gateway's {MAX_COMMAND_BYTES}")
        await self._bus.broker.send_command(BusCommand(uuid.uuid4().hex, shard, data), timeout=timeout)

    def command(self, command: Command) -> None:
        """Send without waiting; a failure is logged."""

        async def run() -> None:
            try:
                await self.deliver(command)
            except GatewayError as error:
                log.error("bus %s: a command was not sent: %s", self._bus.broker.app, error)

        self._bus._spawn(run())
