"""The gateway side of the bus: forward what shards receive, without parsing it, and
hand commands from the bus to the shards.

A :class:`Publisher` attaches to a ``Shard``, a ``ShardGroup`` or a cluster
``Member`` as a frame sink: the shard hands it every payload it accepted (after its
own duplicate check), as the inflated bytes, before any parse. The publisher reads the
dispatch's head with the envelope probe (type and sequence, no JSON parse), keeps the
types it was told to forward, and queues a :class:`~rxgateway.bus.bus_event.BusEvent`
with the shard, its session and the sequence. Only READY is parsed, for the new
session's id. A task publishes the queue in batches, so a slow broker never makes a
shard wait: the queue is bounded (:data:`MAX_PENDING`); a broker that stays down is
retried with backoff and reported; events dropped at the bound are counted and
reported, never lost silently.

Publish lag: given a :class:`~rxgateway.metrics.Metrics`, each batch the broker
acknowledged observes, for every event in it, the seconds from the event's arrival
(:attr:`BusEvent.published_at <rxgateway.bus.bus_event.BusEvent.published_at>`,
taken by the frame sink as the shard hands the payload over, on receipt) to the
acknowledgement: one observation per event, so the histogram's count is the number
of events the broker answered for (stored, duplicates and skipped alike) and its
distribution is the events' own, the first of a batch having waited longest. Without
a ``Metrics`` it costs one ``is None`` test per batch.

Commands: :meth:`Publisher.serve_commands` takes commands from the broker's command
subject/stream (and only there), hands each to its shard (through the cluster, for a
member) and answers the sender: delivered, or why not.

Example::

    publisher = Publisher(broker, flags=EventTypeFlags.MESSAGE_CREATE | EventTypeFlags.GUILD_CREATE)
    publisher.attach(member)          # or a Shard, or a ShardGroup
    ...
    await publisher.aclose()          # publishes what is queued, then stops
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import orjson
from reactivex import abc
from reactivex.disposable import CompositeDisposable, Disposable

from ..errors import BusError, CommandsNotSentError, GatewayError
from ..protocol.envelope import dispatch_probe, event_bit, read_envelope
from ..protocol.event_type import EventTypeFlags
from ..protocol.shard_id import ShardId
from .broker import Broker
from .bus_event import BusEvent

if TYPE_CHECKING:
    from ..cluster.member import Member
    from ..group import ShardGroup
    from ..metrics import Metrics
    from ..shard import Shard

__all__ = ["MAX_PENDING", "Publisher"]

log = logging.getLogger("rxgateway.bus")

#: Events queued for the broker at most. At the bound the oldest are dropped, counted
#: and reported: a shard never waits on the broker (principle 3), and memory stays
#: bounded while a broker is down.
MAX_PENDING: Final = 200_000
#: Events per publish call.
BATCH: Final = 512
#: Seconds between attempts while the broker refuses (doubling up to the cap).
RETRY_FIRST: Final = 0.1
RETRY_CAP: Final = 5.0
_DISPATCHES = int(EventTypeFlags.DISPATCHES)
_READY = "READY"

Report = Callable[[GatewayError], None]


class Publisher:
    """Forwards the dispatches of the shards it is attached to, unparsed.

    Args:
        broker: where to publish.
        flags: the dispatch types to forward (default: every dispatch).
        generation: the shard generation these shards belong to (resharding); for a
            cluster ``Member`` each shard's own generation is used (it holds two
            during a reshard: :meth:`Member.generation_of
            <rxgateway.cluster.member.Member.generation_of>`).
        on_error: called with each :class:`~rxgateway.errors.BusError` (a broker down,
            events dropped at the bound); logged in any case.
        max_pending: events queued at most (:data:`MAX_PENDING`).
        metrics: a :class:`~rxgateway.metrics.Metrics` to report the publish lag to
            (``rxgateway_publish_lag_seconds``, see the module); ``None``: not measured.

    ``stats`` counts events: ``queued``; ``published`` (stored as new by the broker);
    ``duplicates`` (keys the broker held already: a resume's replay); ``skipped``
    (events the broker can never take, such as one over the NATS server's
    ``max_payload``: logged by the broker, not duplicates); ``dropped`` (at the
    bound, with no known session, or given up on at close: reported); and
    ``failures``, publish calls that failed (retried).
    """

    def __init__(
        self,
        broker: Broker,
        *,
        flags: EventTypeFlags | int = EventTypeFlags.DISPATCHES,
        generation: int = 0,
        on_error: Report | None = None,
        max_pending: int = MAX_PENDING,
        metrics: Metrics | None = None,
    ) -> None:
        self.broker = broker
        self._metrics = metrics
        self._flags = int(flags) & _DISPATCHES
        self._generation = generation
        self._on_error = on_error
        self._max_pending = max_pending
        self._pending: deque[BusEvent] = deque()
        self._sessions: dict[ShardId, str] = {}
        self._lookups: list[Callable[[ShardId], str | None]] = []
        self._generation_lookups: list[Callable[[ShardId], int]] = []
        #: Each shard's generation, learned once per shard id (number and total).
        self._generations: dict[ShardId, int] = {}
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._idle: asyncio.Event | None = None
        self._closing = False
        #: Counters (see the class): queued, published (new at the broker), duplicates
        #: (keys the broker held already), skipped (events the broker can never take),
        #: dropped (at the bound), failures (publish calls that failed).
        self.stats = {"queued": 0, "published": 0, "duplicates": 0, "skipped": 0, "dropped": 0, "failures": 0}

    # ---------------------------------------------------------------- attach

    def attach(self, source: Shard | ShardGroup | Member) -> abc.DisposableBase:
        """Forward what ``source`` receives from now on, until disposed."""
        add = getattr(source, "add_frame_sink", None)
        disposables = CompositeDisposable()
        if add is not None:  # a Shard or a Member: one sink covers it
            disposables.add(add(self._sink))
        else:  # a ShardGroup: each of its shards
            for shard in source:  # type: ignore[union-attr]
                disposables.add(shard.add_frame_sink(self._sink))
        lookup = _session_lookup(source)
        self._lookups.append(lookup)
        generation_of = getattr(source, "generation_of", None)
        if generation_of is not None:
            self._generation_lookups.append(generation_of)
            disposables.add(Disposable(lambda: self._generation_lookups.remove(generation_of)))
        disposables.add(Disposable(lambda: self._lookups.remove(lookup) if lookup in self._lookups else None))
        self._ensure_task()
        return disposables

    def _session(self, shard: ShardId) -> str | None:
        known = self._sessions.get(shard)
        if known is not None:
            return known
        for lookup in self._lookups:
            found = lookup(shard)
            if found is not None:
                return found
        return None

    def _generation_of(self, shard: ShardId) -> int:
        generation = self._generation
        for lookup in self._generation_lookups:
            generation = lookup(shard)
        self._generations[shard] = generation
        return generation

    def _sink(self, shard: ShardId, _time_ns: int, payload: bytes) -> None:
        """A payload a shard accepted: queue it if it is a wanted dispatch. The hot
        path: one anchored match for the head, no JSON parse."""
        probed = dispatch_probe(payload)
        if probed is not None:
            name, sequence = probed
        else:
            try:
                op, seq, t = read_envelope(payload)
            except GatewayError:
                return
            if op != 0 or t is None or seq is None:
                return
            name, sequence = t, seq
            if name == _READY:  # a new session: learn its id (READY is parsed once)
                try:
                    session_id = orjson.loads(payload)["d"]["session_id"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    session_id = None
                if isinstance(session_id, str):
                    self._sessions[shard] = session_id
                self._generations.pop(shard, None)  # a new session: its generation is asked again
        if not event_bit(0, name) & self._flags:
            return
        session = self._session(shard)
        if session is None:
            log.error("shard %s: a %s with no known session was not published", shard, name)
            self.stats["dropped"] += 1
            return
        generation = self._generations.get(shard)
        if generation is None:
            generation = self._generation_of(shard)
        event = BusEvent(shard.number, shard.total, session, sequence, name, payload, generation, time.time())
        pending = self._pending
        if len(pending) >= self._max_pending:
            pending.popleft()
            self.stats["dropped"] += 1
            if self.stats["dropped"] in (1, 10, 100, 1000) or self.stats["dropped"] % 10_000 == 0:
                self._report(BusError(f"the broker is behind: {self.stats['dropped']} events dropped at the bound of {self._max_pending}"))
        pending.append(event)
        self.stats["queued"] += 1
        wake = self._wake
        if wake is not None and not wake.is_set():
            wake.set()

    # ----------------------------------------------------------- the sender task

    def _ensure_task(self) -> None:
        if self._task is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # started by the first flush() or attach() on a loop
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task = loop.create_task(self._run(), name="rxgateway publisher")

    async def _run(self) -> None:
        assert self._wake is not None and self._idle is not None
        delay = RETRY_FIRST
        while True:
            if not self._pending:
                self._idle.set()
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            self._idle.clear()
            batch = [self._pending[i] for i in range(min(BATCH, len(self._pending)))]
            try:
                new = await self.broker.publish(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stats["failures"] += 1
                if self.stats["failures"] in (1, 10) or self.stats["failures"] % 100 == 0:
                    error = exc if isinstance(exc, BusError) else BusError(f"publishing failed: {exc!r}")
                    self._report(error)
                if self._closing and delay >= RETRY_CAP:
                    self._report(BusError(f"closing with {len(self._pending)} events not published"))
                    self.stats["dropped"] += len(self._pending)
                    self._pending.clear()
                    continue
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_CAP)
                continue
            delay = RETRY_FIRST
            for _ in batch:  # the batch was the head of the queue
                self._pending.popleft()
            skipped = getattr(new, "skipped", 0)  # a Published; a plain int says none
            self.stats["published"] += new
            self.stats["skipped"] += skipped
            self.stats["duplicates"] += len(batch) - new - skipped
            if self._metrics is not None:
                self._observe_lag(batch)

    def _observe_lag(self, batch: list[BusEvent]) -> None:
        """The broker acknowledged ``batch`` now: each event's publish lag (wall clock,
        as ``published_at``; a clock stepped back counts 0)."""
        assert self._metrics is not None
        observe = self._metrics.observe_publish_lag
        now = time.time()
        for event in batch:
            lag = now - event.published_at
            observe(lag if lag > 0.0 else 0.0)

    def _report(self, error: BusError) -> None:
        log.error("%s", error)
        if self._on_error is not None:
            try:
                self._on_error(error)
            except Exception:
                log.exception("the publisher's on_error raised")

    async def flush(self) -> None:
        """Wait until everything queued so far is published (or dropped, reported)."""
        self._ensure_task()
        if self._wake is not None and self._pending:
            self._wake.set()
        if self._idle is not None and self._pending:
            self._idle.clear()
            await self._idle.wait()

    async def aclose(self) -> None:
        """Publish what is queued (giving up after the retries reach their cap while
        the broker is down: those are reported), then stop."""
        self._closing = True
        if self._task is None:
            return
        assert self._wake is not None
        self._wake.set()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    # -------------------------------------------------------------- commands

    async def serve_commands(self, source: Shard | ShardGroup | Member, *, group: str = "gateway", consumer: str) -> None:
        """Hand commands from the bus to ``source``'s shards until cancelled; each is
        answered (delivered, or why not)."""
        async for delivery in self.broker.serve_commands(group=group, consumer=consumer):
            command = delivery.command
            try:
                await _deliver(source, command.shard, command.data)
            except (CommandsNotSentError, KeyError, GatewayError) as exc:
                await delivery.answer(str(exc) or type(exc).__name__)
                continue
            await delivery.answer(None)


async def _deliver(source: Any, shard: int, data: bytes) -> None:
    """One command to its shard: through the cluster for a member, else to the local
    shard (``KeyError``/``CommandsNotSentError`` if this process does not hold it)."""
    route = getattr(source, "route", None)
    if route is not None:  # a Member: wherever the cluster holds the shard
        await route(shard, data)
        return
    if hasattr(source, "shard") and callable(source.shard):  # a ShardGroup
        target = source.shard(shard)
    elif source.id.number == shard:  # a Shard
        target = source
    else:
        raise CommandsNotSentError(f"shard {shard} is not held by this gateway process")
    if target.state.is_terminal:
        raise CommandsNotSentError(f"shard {shard} has closed")
    target.sender.send(data)


def _session_lookup(source: Any) -> Callable[[ShardId], str | None]:
    """How to find a shard's current session id in ``source``."""
    session_of = getattr(source, "session_of", None)
    if session_of is not None:  # a Member
        return session_of  # type: ignore[no-any-return]

    def lookup(shard_id: ShardId) -> str | None:
        try:
            shard = source.shard(shard_id.number) if hasattr(source, "shard") and callable(source.shard) else source
        except KeyError:
            return None
        if shard.id != shard_id:
            return None
        session = shard.session
        return session.id if session is not None else None

    return lookup
