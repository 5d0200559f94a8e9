"""A member of a cluster: the shards its leases grant, as one Observable.

Any number of processes on any number of machines run a :class:`Member` each, with
the same Redis, ``app`` and shard total. Together they hold every shard exactly once:

- **Fair shares.** Each member renews its leases every ``ttl / 6`` seconds and learns
  who is alive (:mod:`~rxgateway.cluster.lease_table`); it holds its
  :func:`~rxgateway.cluster.leases.fair_share`, claiming free shards while short.
- **Failover.** A member that dies stops renewing: after the lease TTL its shards
  are free, and the survivors claim them and RESUME them from the session store.
- **Handoff.** A member that holds more than its share (one joined) closes the extra
  shards with ``CloseFrame.RESUME``, saves their sessions, then releases the leases:
  the new holder resumes them; nothing is identified again.
- **Never two holders.** A member that cannot renew lets its shards go before its
  leases could expire at the server (:class:`~rxgateway.cluster.leases.LeaseClock`).
  Redis down for less than that: shards keep running and leases are re-taken when it
  returns (a Redis restarted empty gives holders a grace to re-take theirs first).
- **Leaving.** :meth:`Member.close` (SIGTERM in ``rxgateway cluster run``) hands
  every shard off the same way, so a rolling restart costs no Identify.
- **Resharding** (zero downtime; reference/scaling.md §3.4). ``rxgateway cluster
  reshard --total N`` (:func:`~rxgateway.cluster.lease_table.start_reshard`, or the
  opt-in ``auto_reshard`` check of ``GET /gateway/bot``) writes a pending generation
  ``g+1`` of ``N`` shards next to the running one, once the identify budget is known
  to cover ``N`` plus the queue's floor. At its next renewal every member also holds
  its fair share of the new generation (its own leases and session records, the same
  shared identify queue), and records each new shard that became Active; the call
  that completes the set switches ``{app}:config`` atomically. Each member then moves
  its local subscribers to the new shards and closes the old ones with
  ``CloseFrame.NORMAL`` (those sessions are over) and releases their leases. A
  member that joins meanwhile, given either total, takes part in both generations.
  Until the switch, a member's Observable delivers the running (old) generation's
  events only, then the new one's: a subscriber never gets both copies of a
  dispatch from one member, and a member's view of the cluster moves once. Frame
  sinks (the bus's publisher) get both generations, tagged with each shard's
  generation (:meth:`Member.generation_of`); the bus consumer drops the second copy
  by content (:class:`~rxgateway.bus.bus.OverlapFilter`).

Events: subscribing to a member subscribes to every shard it holds now and later, with
the same flags (``member.pipe(on(flags))`` pushes the flags down to each shard); a
shard handed off stops delivering, without completing the subscriber. ``states`` maps
each held shard to its state. ``sender`` routes a command to the shard that owns the
guild, wherever in the cluster it is held (:class:`MemberSender`).

Example::

    config = Config(token, intents)
    member = Member(config, "redis://:pw@redis.internal:6379/0", total=16, app="mybot")
    member.pipe(on(EventTypeFlags.MESSAGE_CREATE)).subscribe(handle)
    async with member:                # joins, holds its share, until closed
        await member.closed()
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from typing import TYPE_CHECKING, Any, Final

import aiohttp
import orjson
import reactivex
from reactivex import abc
from reactivex.disposable import Disposable

from ..config import Config
from ..errors import CommandsNotSentError, GatewayError
from ..events.base import Event, GatewayErrorEvent
from ..fanout import ALL_BITS, Fanout
from ..http import get_gateway_bot
from ..machine.state import ShardState
from ..protocol.close import CloseFrame
from ..protocol.commands import Command, encode_raw
from ..protocol.event_type import EventTypeFlags
from ..protocol.shard_id import ShardId
from ..sender import command_targets
from ..queue import InMemoryQueue
from ..shard import CLOSE_TIMEOUT, FrameSink, Shard
from .lease_table import LeaseTable, Shape, TotalMismatchError, read_shape
from .lease_table import ReshardError, start_reshard
from .leases import LEASE_TTL, RETRY_INTERVAL, LeaseClock, fair_share, plan, renew_interval, reshard_target
from .redis_link import DEFAULT_APP, Keys, connect, redact_url
from .redis_queue import RedisQueue
from .redis_store import RedisSessionStore

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Member", "MemberSender"]

log = logging.getLogger("rxgateway.cluster")

#: Shards claimed in one round at most: a member that starts before the others (or
#: alone, for a moment) does not take everything only to hand most of it off again,
#: and one round stays short.
CLAIM_BATCH: Final = 64
#: Seconds a shard being handed off may take to end (its close, then its last session
#: save) before the member stops waiting; its lease then expires instead of being
#: released, so nobody resumes a session whose socket may still be open.
SHARD_END_TIMEOUT: Final = CLOSE_TIMEOUT + 1 + 10 + 5

#: Commands kept in a member's inbox stream at most (older ones are trimmed).
INBOX_LENGTH: Final = 10_000
#: Milliseconds an inbox read blocks before the reader checks whether it should stop.
INBOX_BLOCK_MS: Final = 1000
#: The largest gateway payload (GATEWAY.md: 4096 bytes); bigger inbox entries are refused.
MAX_COMMAND_BYTES: Final = 4096
_ERROR_BIT = int(EventTypeFlags.GATEWAY_ERROR)


def default_member_id() -> str:
    """``host:pid:random``: unique per process and per start."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class _Attachment:
    """One member subscriber: its flags, its observer, its subscription per shard."""

    __slots__ = ("flags", "observer", "per_shard")

    def __init__(self, flags: int, observer: abc.ObserverBase[Event]) -> None:
        self.flags = flags
        self.observer = observer
        self.per_shard: dict[int, abc.DisposableBase] = {}


class _Generation:
    """The shards of one shard generation this member holds, and what they share."""

    __slots__ = ("active_sent", "config", "number", "shards", "total")

    def __init__(self, number: int, total: int, config: Config) -> None:
        self.number = number
        self.total = total
        self.config = config
        self.shards: dict[int, Shard] = {}
        #: Shards of a pending generation already recorded as Active in Redis.
        self.active_sent: set[int] = set()

    def __repr__(self) -> str:
        return f"generation {self.number} ({self.total} shards)"


class Member(reactivex.Observable[Event]):
    """One process's part of a cluster on Redis; an Observable of its shards' events.

    Args:
        config: as for a shard. Its queue becomes a :class:`RedisQueue` and its session
            store a :class:`RedisSessionStore` on the same Redis and ``app``, unless
            the config names its own (a queue other than the default in-memory one).
        redis: a Redis URL (``redis://``, ``rediss://``; a password is never shown)
            or a redis-py asyncio client.
        total: the cluster's shard total; ``None``: the total the cluster already
            runs, else Discord's recommendation (``GET /gateway/bot``).
        app: the key prefix: two bots on one Redis use two names.
        member_id: this member's id (default ``host:pid:random``).
        lease_ttl: seconds a lease lasts unrenewed: the failover time.
        fetch_limits: ask ``GET /gateway/bot`` for the session-start limit at start
            (the queue's ``max_concurrency`` and daily budget).
        auto_reshard: check ``GET /gateway/bot`` every this many seconds (opt-in) and
            start a reshard when Discord recommends more shards than the cluster runs
            (rounded up to a multiple of ``max_concurrency``: large-bot sharding).
    """

    def __init__(
        self,
        config: Config,
        redis: str | Redis,
        *,
        total: int | None = None,
        app: str = DEFAULT_APP,
        member_id: str | None = None,
        lease_ttl: float = LEASE_TTL,
        fetch_limits: bool = True,
        auto_reshard: float | None = None,
    ) -> None:
        super().__init__()
        if total is not None and total < 1:
            raise ValueError(f"total must be at least 1, got {total}")
        self._url = redis if isinstance(redis, str) else None
        self._redis: Redis = connect(redis) if isinstance(redis, str) else redis
        self._keys = Keys(app)
        self.id = member_id or default_member_id()
        self._clock = LeaseClock(lease_ttl)
        self._table = LeaseTable(self._redis, self._keys, self.id, lease_ttl)
        changes: dict[str, Any] = {}
        if isinstance(config.queue, InMemoryQueue):
            changes["queue"] = RedisQueue(self._redis, app=app, owner=self.id)
        if config.session_store is None:
            changes["session_store"] = RedisSessionStore(self._redis, app=app, owner=self.id)
        self._config = config.replace(**changes) if changes else config
        #: What the member made itself (and closes); a queue or store handed in is the
        #: caller's to close.
        self.owns_queue = "queue" in changes
        self.owns_store = "session_store" in changes
        self._app = app
        self._total = total
        self._expected_total = total
        self._fetch_limits = fetch_limits
        #: Session stores made here, by generation (0 is the config's own).
        self._stores: dict[int, RedisSessionStore] = {}
        if self.owns_store:
            self._stores[0] = changes["session_store"]
        #: The running generation (its shard total is ``self._total``) and, during a
        #: reshard, the pending one (see :meth:`_follow`).
        self._cur = _Generation(0, total or 1, self._config)
        self._next: _Generation | None = None
        self._generation_by_total: dict[int, int] = {}
        self._checked = False
        self._wake = asyncio.Event()
        self._auto_reshard = auto_reshard
        self._next_auto: float | None = None
        self._attachments: list[_Attachment] = []
        #: Frame sinks given to every shard held, now and later (see add_frame_sink).
        self._frame_sinks: list[FrameSink] = []
        self._sink_disposables: dict[tuple[int, int], list[abc.DisposableBase]] = {}
        self._state_fanout = Fanout(f"member {self.id} states")
        self._http: aiohttp.ClientSession | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._inbox_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop = asyncio.Event()
        self._done: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._members: tuple[str, ...] = ()
        self._failovers = 0
        self.sender = MemberSender(self)
        #: Shards claimed / handed off / let go since start (for dashboards).
        self.counters = {
            "claimed": 0, "handed_off": 0, "let_go": 0, "lost": 0, "forwarded": 0, "switches": 0, "retired": 0,
        }  # fmt: skip
        #: When the last switch to a new generation was seen here (loop time), for tests.
        self.switched_at: float | None = None

    # ----------------------------------------------------------------- views

    @property
    def total(self) -> int | None:
        """The cluster's shard total (known once started): the running generation's."""
        return self._total

    @property
    def _shards(self) -> dict[int, Shard]:
        return self._cur.shards

    @property
    def generation(self) -> int:
        """The running shard generation (0 until the cluster first resharded)."""
        return self._cur.number

    @property
    def pending(self) -> tuple[int, int] | None:
        """``(generation, total)`` of a reshard under way, else ``None``."""
        nxt = self._next
        return None if nxt is None else (nxt.number, nxt.total)

    @property
    def pending_shards(self) -> dict[int, Shard]:
        """The shards of the pending generation held now (a copy; empty outside a reshard)."""
        return dict(self._next.shards) if self._next is not None else {}

    def generation_of(self, shard: ShardId) -> int:
        """The generation ``shard`` (number and total) belongs to in this cluster."""
        return self._generation_by_total.get(shard.total, self._cur.number)

    def _generations(self) -> list[_Generation]:
        return [self._cur] if self._next is None else [self._cur, self._next]

    @property
    def config(self) -> Config:
        """The config the member's shards are built from (with the Redis queue and store)."""
        return self._config

    @property
    def app(self) -> str:
        return self._keys.app

    @property
    def members(self) -> tuple[str, ...]:
        """The live members at the last renewal, this one included."""
        return self._members

    @property
    def shards(self) -> dict[int, Shard]:
        """The shards held now, by number (a copy)."""
        return dict(self._shards)

    @property
    def states(self) -> reactivex.Observable[dict[ShardId, ShardState]]:
        """The state of every shard held, re-emitted on every change and whenever a
        shard is claimed or handed off. A new subscriber gets the current map first."""

        def subscribe(observer: abc.ObserverBase[dict[ShardId, ShardState]], scheduler: Any = None) -> abc.DisposableBase:
            fanout = self._state_fanout
            sub = fanout.add(ALL_BITS, observer.on_next, observer.on_error, observer.on_completed)
            fanout.deliver_one(sub, self._state_map())
            return Disposable(lambda: fanout.remove(sub))

        return reactivex.create(subscribe)

    def _state_map(self) -> dict[ShardId, ShardState]:
        """Every shard held, of the running generation and of a pending one."""
        return {shard.id: shard.state for gen in self._generations() for _, shard in sorted(gen.shards.items())}

    # ------------------------------------------------------------- subscribing

    def _subscribe_core(self, observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None = None) -> abc.DisposableBase:
        return self.subscribe_flags(observer, EventTypeFlags.all())

    def subscribe_flags(self, observer: abc.ObserverBase[Event], flags: EventTypeFlags | int) -> abc.DisposableBase:
        """Subscribe ``observer`` to ``flags`` on every shard held, now and later.
        Completes when the member closes; errors with a fatal gateway error."""
        if self._done is not None and self._done.done():
            if self._error is not None:
                observer.on_error(self._error if isinstance(self._error, Exception) else RuntimeError(str(self._error)))
            else:
                observer.on_completed()
            return Disposable()
        attachment = _Attachment(int(flags), observer)
        self._attachments.append(attachment)
        for number, shard in self._shards.items():
            self._attach(attachment, number, shard)

        def dispose() -> None:
            if attachment in self._attachments:
                self._attachments.remove(attachment)
            for disposable in attachment.per_shard.values():
                disposable.dispose()
            attachment.per_shard.clear()

        return Disposable(dispose)

    def _attach(self, attachment: _Attachment, number: int, shard: Shard) -> None:
        member = self

        class _Relay(abc.ObserverBase[Event]):
            def on_next(self, value: Event) -> None:
                try:
                    attachment.observer.on_next(value)
                except Exception as exc:  # the subscriber's bug: it leaves, the member goes on
                    member._observer_failed(attachment, exc)

            def on_error(self, error: Exception) -> None:  # the shard ended fatally
                member._fail(error)

            def on_completed(self) -> None:
                pass  # a shard handed off ends; the member's stream goes on

        attachment.per_shard[number] = shard.subscribe_flags(_Relay(), attachment.flags)

    def _observer_failed(self, attachment: _Attachment, error: Exception) -> None:
        """A subscriber raised: it is unsubscribed from every shard and told, as a
        shard's own subscribers are (:class:`~rxgateway.fanout.Fanout`)."""
        log.error("member %s: a subscriber raised; it is unsubscribed", self.id, exc_info=error)
        if attachment in self._attachments:
            self._attachments.remove(attachment)
        for disposable in attachment.per_shard.values():
            disposable.dispose()
        attachment.per_shard.clear()
        try:
            attachment.observer.on_error(error)
        except Exception:
            log.exception("member %s: a subscriber's on_error raised", self.id)

    def add_frame_sink(self, sink: FrameSink) -> abc.DisposableBase:
        """Call ``sink(shard_id, time_ns, payload)`` for every payload any shard held
        receives, now and after claims, until disposed (see
        :meth:`Shard.add_frame_sink <rxgateway.shard.Shard.add_frame_sink>`): how a
        recorder or the bus's publisher follows the shards as leases move."""
        self._frame_sinks.append(sink)
        for gen in self._generations():
            for number, shard in gen.shards.items():
                self._sink_disposables.setdefault((gen.number, number), []).append(shard.add_frame_sink(sink))

        def remove() -> None:
            if sink in self._frame_sinks:
                self._frame_sinks.remove(sink)
            for gen in self._generations():
                for number, shard in gen.shards.items():  # rebuild: the others stay
                    for disposable in self._sink_disposables.pop((gen.number, number), []):
                        disposable.dispose()
                    self._sink_disposables[(gen.number, number)] = [shard.add_frame_sink(s) for s in self._frame_sinks]

        return Disposable(remove)

    def session_of(self, shard: ShardId) -> str | None:
        """The session id of ``shard`` if this member holds it and it has one."""
        for gen in self._generations():
            held = gen.shards.get(shard.number)
            if held is not None and held.id == shard:
                session = held.session
                return session.id if session is not None else None
        return None

    def _detach_shard(self, number: int, gen: _Generation | None = None) -> None:
        gen = gen or self._cur
        for sink_disposable in self._sink_disposables.pop((gen.number, number), []):
            sink_disposable.dispose()
        if gen is not self._cur:
            return  # subscribers are attached to the running generation only
        for attachment in self._attachments:
            disposable = attachment.per_shard.pop(number, None)
            if disposable is not None:
                disposable.dispose()

    def _report(self, shard: ShardId, error: GatewayError) -> None:
        """A member-level error (a command that could not be routed) to subscribers."""
        event = GatewayErrorEvent(shard, error)
        for attachment in list(self._attachments):
            if attachment.flags & _ERROR_BIT:
                try:
                    attachment.observer.on_next(event)
                except Exception:
                    log.exception("member %s: a subscriber raised on an error event", self.id)

    # -------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Join the cluster: learn the total and limits, then hold a fair share until
        :meth:`close`. Returns once the member runs (its shards connect meanwhile)."""
        # (the running generation and its total are learned from Redis here)
        if self._done is not None:
            raise RuntimeError(f"member {self.id} was already started")
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        try:
            await self._learn_limits()
        except BaseException:
            await self._http.close()
            self._done.set_result(None)
            raise
        self._loop_task = loop.create_task(self._run(), name=f"member {self.id}")
        self._inbox_task = loop.create_task(self._read_inbox(), name=f"member {self.id} inbox")

    async def _learn_limits(self) -> None:
        shape = await read_shape(self._redis, self._keys)
        if shape is not None and (self._total is None or shape.accepts(self._total)):
            # The running generation, even for a member given a reshard's new total:
            # it joins both (the first heartbeat checks a total that fits neither).
            self._total = shape.total
            self._set_current(_Generation(shape.generation, shape.total, self._config_for(shape.generation)))
        if not self._fetch_limits and self._total is not None:
            return
        info = await get_gateway_bot(self._config.token, api_url=self._config.api_url, session=self._http)
        limit = info.session_start_limit
        self._config.queue.update(
            max_concurrency=limit.max_concurrency,
            remaining=limit.remaining,
            reset_after=limit.reset_after,
            total=limit.total,
        )
        if self._total is None:
            self._total = info.shards
        if shape is None or not shape.accepts(self._total):
            self._set_current(_Generation(0, self._total, self._config_for(0)))

    def _set_current(self, gen: _Generation) -> None:
        self._cur = gen
        self._total = gen.total
        self._generation_by_total[gen.total] = gen.number

    def _config_for(self, generation: int) -> Config:
        """The config of one generation's shards: its own session records in Redis
        (when the member made the store; a store handed in is shared, and keeps its
        rule that a record of another total is never resumed)."""
        if generation == 0 or not self.owns_store:
            return self._config
        store = self._stores.get(generation)
        if store is None:
            store = self._stores[generation] = RedisSessionStore(
                self._redis, app=self._app, owner=self.id, generation=generation
            )
        return self._config.replace(session_store=store)

    def close(self) -> None:
        """Leave the cluster: hand every shard off (closed with ``CloseFrame.RESUME``,
        session saved, lease released) so other members resume them."""
        self._stop.set()
        self._wake.set()

    async def closed(self) -> None:
        """Wait until the member has left; raises the fatal error that ended it."""
        if self._done is None:
            raise RuntimeError(f"member {self.id} was never started")
        await asyncio.shield(self._done)
        if self._error is not None:
            raise self._error

    async def __aenter__(self) -> Member:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        try:
            await self.closed()
        except GatewayError:
            if exc_info[0] is None:
                raise

    async def aclose(self) -> None:
        """:meth:`close` and wait."""
        self.close()
        await self.closed()

    # ----------------------------------------------------------------- the loop

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = renew_interval(self._clock.ttl)
        try:
            while not self._stop.is_set():
                tick = asyncio.ensure_future(self._tick(loop))
                try:
                    # A long round (many shards to start or hand off on a busy machine)
                    # must not starve the renewals: keep the leases meanwhile.
                    while not (await asyncio.wait({tick}, timeout=interval))[0]:
                        await self._renew(loop)
                except BaseException:
                    tick.cancel()
                    await asyncio.gather(tick, return_exceptions=True)
                    raise
                delay = interval if tick.result() else RETRY_INTERVAL
                if self._auto_reshard is not None and not self._stop.is_set():
                    await self._check_recommendation(loop)
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()
        except Exception as exc:  # a bug of ours, or a fatal error: leave cleanly
            if self._error is None:
                self._error = exc
            log.exception("member %s: stopped by an error", self.id)
        finally:
            await self._leave()

    async def _renew(self, loop: asyncio.AbstractEventLoop) -> None:
        """Renew the leases held now, while a long round is under way. What it learns
        beyond that (losses, members, the shape) is left to the next round."""
        cur, nxt = self._cur, self._next
        sent = loop.time()
        try:
            await asyncio.wait_for(
                self._table.heartbeat(
                    sorted(cur.shards), cur.total, generation=cur.number,
                    next_held=sorted(nxt.shards) if nxt is not None else (),
                    next_generation=nxt.number if nxt is not None else 0, check=False,
                ),
                self._clock.ttl / 4,
            )  # fmt: skip
        except Exception as exc:
            log.warning("member %s: cannot renew leases at %s: %r", self.id, self._where(), exc)
            return
        self._clock.renewed(sent)

    async def _tick(self, loop: asyncio.AbstractEventLoop) -> bool:
        """One round: renew, follow the cluster's shape (a reshard), then move towards
        the fair share of each generation held. False if Redis failed."""
        assert self._total is not None
        cur, nxt = self._cur, self._next
        held = sorted(cur.shards)
        next_held = sorted(nxt.shards) if nxt is not None else []
        sent = loop.time()
        total = self._expected_total if not self._checked and self._expected_total is not None else cur.total
        try:
            beat = await asyncio.wait_for(
                self._table.heartbeat(
                    held, total, generation=cur.number, next_held=next_held,
                    next_generation=nxt.number if nxt is not None else 0, check=not self._checked,
                ),
                self._clock.ttl / 4,
            )  # fmt: skip
        except TotalMismatchError:
            raise
        except Exception as exc:
            log.warning("member %s: cannot renew leases at %s: %r", self.id, self._where(), exc)
            held_now = sum(len(gen.shards) for gen in self._generations())
            if held_now and self._clock.must_let_go(loop.time()):
                log.error("member %s: leases could expire: letting %d shards go", self.id, held_now)
                self.counters["let_go"] += held_now
                for gen in self._generations():
                    await self._close_and_save(tuple(gen.shards), "while Redis is unreachable", gen)
                self._clock.forget()
            return False
        self._checked = True
        self._clock.renewed(sent)
        self._members = beat.members
        losses: list[tuple[_Generation, int]] = [(cur, n) for n in beat.lost]
        if nxt is not None:
            losses += [(nxt, n) for n in beat.next_lost]
        for lost_gen, number in losses:
            log.error("member %s: shard %d of %s is held by another member now; closing it", self.id, number, lost_gen)
            self.counters["lost"] += 1
            await self._stop_shard(number, lost_gen)
        await self._follow(beat.shape)
        for gen in self._generations():
            if not await self._balance(gen, beat.members):
                return False
        if self._next is not None:
            await self._report_active(self._next)
        return True

    async def _balance(self, gen: _Generation, members: tuple[str, ...]) -> bool:
        """Claim or hand off shards of ``gen`` towards this member's fair share."""
        step = plan(gen.shards.keys(), fair_share(gen.total, members, self.id), CLAIM_BATCH)
        if step.release:
            await self._hand_off(step.release, gen)
        if step.claim:
            candidates = [n for n in range(gen.total) if n not in gen.shards]
            try:
                claimed = await self._table.claim(candidates, step.claim, generation=gen.number)
            except Exception as exc:
                log.warning("member %s: claiming shards failed: %r", self.id, exc)
                return False
            await asyncio.gather(*(self._start_shard(number, gen) for number in claimed))
            if len(claimed) == step.claim and len(gen.shards) < fair_share(gen.total, members, self.id):
                self._wake.set()  # a full batch and still short: the next round at once
        return True

    # ------------------------------------------------------------- resharding

    async def _follow(self, shape: Shape) -> None:
        """Follow the cluster's shape: start holding a pending generation, switch to
        it once the cluster did, drop it if the reshard was cancelled, and catch up
        with a generation this member missed."""
        cur, nxt = self._cur, self._next
        if shape.generation == cur.number:
            if shape.next_generation is None or shape.next_total is None:
                if nxt is not None:
                    log.warning("member %s: the reshard to %s was cancelled; closing its shards", self.id, nxt)
                    self._next = None
                    await self._retire(nxt)
                return
            if nxt is not None and nxt.number == shape.next_generation:
                return
            if nxt is not None:  # another pending generation than ours: ours is void
                self._next = None
                await self._retire(nxt)
            self._next = _Generation(shape.next_generation, shape.next_total, self._config_for(shape.next_generation))
            self._generation_by_total[shape.next_total] = shape.next_generation
            log.info("member %s: resharding from %s to %s", self.id, cur, self._next)
            return
        if nxt is not None and shape.generation == nxt.number:
            await self._switch()
            return
        # A generation this member never held (it was cut off meanwhile): start over.
        log.warning("member %s: the cluster runs generation %d; leaving %s", self.id, shape.generation, cur)
        self._next = None
        for gen in (cur, nxt):
            if gen is not None:
                await self._retire(gen)
        self._set_current(_Generation(shape.generation, shape.total, self._config_for(shape.generation)))
        await self._follow(shape)

    async def _switch(self) -> None:
        """The whole pending generation was Active: it becomes the running one. Local
        subscribers move to its shards, then the old generation's shards are closed
        with ``CloseFrame.NORMAL`` (their sessions are over) and their leases released."""
        old, new = self._cur, self._next
        assert new is not None
        for attachment in self._attachments:
            for disposable in attachment.per_shard.values():
                disposable.dispose()
            attachment.per_shard.clear()
        self._next = None
        self._set_current(new)
        for attachment in list(self._attachments):
            for number, shard in new.shards.items():
                self._attach(attachment, number, shard)
        self.counters["switches"] += 1
        self.switched_at = asyncio.get_running_loop().time()
        log.info("member %s: switched from %s to %s", self.id, old, new)
        await self._retire(old)

    async def _retire(self, gen: _Generation) -> None:
        """Close every shard of ``gen`` for good (1000) and release their leases."""
        numbers = tuple(gen.shards)
        shards = [gen.shards.pop(n) for n in numbers]
        for number in numbers:
            self._detach_shard(number, gen)
        for shard in shards:
            shard.close(CloseFrame.NORMAL)
        for shard in shards:
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT + 5):
                    await shard.closed()
            except Exception as exc:
                log.warning("member %s: shard %s ended with %r", self.id, shard.id, exc)
        self.counters["retired"] += len(shards)
        self._states_changed()
        try:
            await self._table.release(numbers, generation=gen.number)
        except Exception as exc:  # they expire on their own
            log.warning("member %s: releasing %s of %s failed (they expire): %r", self.id, list(numbers), gen, exc)

    def _shard_state(self, gen: _Generation, number: int, state: ShardState) -> None:
        self._states_changed()
        if state == ShardState.ACTIVE and gen is self._next and number not in gen.active_sent:
            self._spawn(self._report_active(gen))

    async def _report_active(self, gen: _Generation) -> None:
        """Record the Active shards of the pending ``gen`` in Redis; the call that
        completes the set switches the cluster, and this member follows at once."""
        numbers = [n for n, shard in gen.shards.items() if shard.state == ShardState.ACTIVE and n not in gen.active_sent]
        if not numbers or self._next is not gen:
            return
        gen.active_sent.update(numbers)
        try:
            switched = await self._table.mark_active(gen.number, numbers)
        except Exception as exc:
            gen.active_sent.difference_update(numbers)  # told again at the next tick
            log.warning("member %s: recording Active shards failed: %r", self.id, exc)
            return
        if switched:
            log.info("member %s: every shard of %s is Active: the cluster switches", self.id, gen)
            self._wake.set()  # follow at once; the others at their next renewal

    async def _check_recommendation(self, loop: asyncio.AbstractEventLoop) -> None:
        """Opt-in (``auto_reshard``): start a reshard when Discord recommends more shards."""
        now = loop.time()
        assert self._auto_reshard is not None
        if self._next_auto is not None and now < self._next_auto:
            return
        self._next_auto = now + self._auto_reshard
        if self._next is not None:
            return
        try:
            info = await get_gateway_bot(self._config.token, api_url=self._config.api_url, session=self._http)
        except Exception as exc:
            log.warning("member %s: GET /gateway/bot failed: %r", self.id, exc)
            return
        target = reshard_target(info.shards, self._cur.total, info.session_start_limit.max_concurrency)
        if target is None:
            return
        try:
            generation = await start_reshard(self._redis, self._keys, target)
        except ReshardError as exc:
            log.warning("member %s: no automatic reshard to %d shards: %s", self.id, target, exc)
            return
        log.info("member %s: Discord recommends %d shards: resharding to %d (generation %d)", self.id, info.shards, target, generation)
        self._wake.set()

    def _where(self) -> str:
        return redact_url(self._url) if self._url else "redis"

    async def _start_shard(self, number: int, gen: _Generation | None = None) -> None:
        assert self._http is not None
        gen = gen or self._cur
        shard = Shard(ShardId(number, gen.total), gen.config)
        gen.shards[number] = shard
        self.counters["claimed"] += 1
        if gen is self._cur:  # a pending generation's events reach subscribers after the switch
            for attachment in self._attachments:
                self._attach(attachment, number, shard)
        self._sink_disposables[(gen.number, number)] = [shard.add_frame_sink(sink) for sink in self._frame_sinks]
        shard.states.subscribe(lambda state: self._shard_state(gen, number, state), lambda _e: None)
        try:
            await shard.start(http=self._http)
        except Exception:
            log.exception("member %s: shard %d did not start; releasing it", self.id, number)
            gen.shards.pop(number, None)
            self._detach_shard(number, gen)
            await self._table.release([number], generation=gen.number)
        self._states_changed()

    def _states_changed(self) -> None:
        if self._state_fanout:
            self._state_fanout.deliver(ALL_BITS, self._state_map())

    async def _stop_shard(self, number: int, gen: _Generation | None = None) -> bool:
        """Close one shard with ``CloseFrame.RESUME`` and wait until it has ended (the
        shard saves its session to the store as it ends). False if it had not ended
        after :data:`SHARD_END_TIMEOUT`: its lease must then not be released early."""
        gen = gen or self._cur
        shard = gen.shards.pop(number, None)
        if shard is None:
            return True
        self._detach_shard(number, gen)
        # Saving is harmless even when another member holds the shard now: the store
        # never moves a session's sequence backwards.
        shard.close(CloseFrame.RESUME)
        ended = True
        try:
            async with asyncio.timeout(SHARD_END_TIMEOUT):
                await shard.closed()
        except TimeoutError:
            ended = False
            log.warning("member %s: shard %d has not ended after %.0f s; its lease is left to expire", self.id, number, SHARD_END_TIMEOUT)
        except Exception as exc:
            log.warning("member %s: shard %d ended with %r", self.id, number, exc)
        self._states_changed()
        return ended

    async def _close_and_save(self, numbers: tuple[int, ...], why: str, gen: _Generation | None = None) -> tuple[int, ...]:
        """Close these shards (RESUME) and wait until their sessions are written;
        returns those that ended."""
        gen = gen or self._cur
        ended = await asyncio.gather(*(self._stop_shard(n, gen) for n in numbers))
        store = gen.config.session_store
        if store is not None and numbers:
            try:
                await store.flush()
            except Exception as exc:
                log.error("member %s: saving sessions %s failed: %r", self.id, why, exc)
        return tuple(n for n, done in zip(numbers, ended) if done)

    async def _hand_off(self, numbers: tuple[int, ...], gen: _Generation | None = None) -> None:
        """Close, save, release: the next holder resumes. A shard whose socket has not
        ended keeps its lease until it expires: no one resumes it while it is open."""
        gen = gen or self._cur
        numbers = await self._close_and_save(numbers, "before handoff", gen)
        try:
            await self._table.release(numbers, generation=gen.number)
        except Exception as exc:  # they expire on their own
            log.warning("member %s: releasing %s failed (they expire): %r", self.id, list(numbers), exc)
        self.counters["handed_off"] += len(numbers)
        log.info("member %s: handed off shards %s of %s", self.id, list(numbers), gen)

    async def _leave(self) -> None:
        """Hand every shard off, leave the member list, end every task."""
        try:
            cur, nxt = self._cur, self._next
            numbers = tuple(cur.shards)
            next_numbers = tuple(nxt.shards) if nxt is not None else ()
            await self._close_and_save(numbers, "on leaving", cur)
            if nxt is not None:
                await self._close_and_save(next_numbers, "on leaving", nxt)
            try:
                await self._table.leave(
                    numbers, generation=cur.number, next_shards=next_numbers,
                    next_generation=nxt.number if nxt is not None else 0,
                )  # fmt: skip
            except Exception as exc:
                log.warning("member %s: leaving the member list failed (it expires): %r", self.id, exc)
            if self._inbox_task is not None:
                self._inbox_task.cancel()
                await asyncio.gather(self._inbox_task, return_exceptions=True)
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
        finally:
            await self._finish()

    async def _finish(self) -> None:
        error = self._error
        for attachment in self._attachments:
            try:
                if error is not None and isinstance(error, Exception):
                    attachment.observer.on_error(error)
                else:
                    attachment.observer.on_completed()
            except Exception:
                log.exception("member %s: a subscriber raised on termination", self.id)
        self._attachments.clear()
        self._state_fanout.finish()
        try:
            await self._close_clients()
        finally:
            assert self._done is not None
            if not self._done.done():
                self._done.set_result(None)

    async def _close_clients(self) -> None:
        try:
            store = self._config.session_store
            if store is not None and self.owns_store:
                await store.aclose()
            for generation, own in self._stores.items():
                if own is not store:
                    await own.aclose()
            queue = self._config.queue
            aclose = getattr(queue, "aclose", None)
            if aclose is not None and self.owns_queue:
                await aclose()
            if self._http is not None:
                await self._http.close()
            if self._url is not None:
                await self._redis.aclose()
        except Exception:
            log.exception("member %s: closing its clients failed", self.id)

    def _fail(self, error: Exception) -> None:
        """A shard ended with a fatal error (a refused token, say): the member ends."""
        if self._error is None:
            self._error = error
            log.error("member %s: a shard ended with %r; leaving the cluster", self.id, error)
        self._stop.set()

    # ------------------------------------------------------------- commands

    async def _read_inbox(self) -> None:
        """Commands other members routed here, for the shards this member holds."""
        key = self._keys.inbox(self.id)
        last = "$"
        while not self._stop.is_set():
            try:
                reply: Any = await self._redis.xread({key: last}, count=100, block=INBOX_BLOCK_MS)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("member %s: reading the inbox failed: %r", self.id, exc)
                await asyncio.sleep(RETRY_INTERVAL)
                continue
            for _stream, entries in reply or ():
                for entry_id, fields in entries:
                    last = entry_id
                    self._inbox_entry(fields)

    def _inbox_entry(self, fields: dict[Any, Any]) -> None:
        try:
            number = int(fields[b"shard"])
            data = bytes(fields[b"data"])
        except (KeyError, ValueError, TypeError):
            log.error("member %s: a malformed inbox entry was refused", self.id)
            return
        if len(data) > MAX_COMMAND_BYTES:
            log.error("member %s: an inbox command of %d bytes for shard %d was refused", self.id, len(data), number)
            return
        shard = self._shards.get(number)
        if shard is None:
            # Handed off since it was routed: route it again, once.
            if int(fields.get(b"hops", 0)) >= 1:
                error = CommandsNotSentError(f"a command for shard {number} found no holder")
                log.error("member %s: %s", self.id, error)
                return
            self._spawn(self._forward(number, data, hops=1))
            return
        shard.sender.send(data)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def route(self, shard: int, data: bytes) -> str:
        """Send the raw command ``data`` to shard ``shard`` wherever the cluster holds
        it; returns the holder's id. Raises
        :class:`~rxgateway.errors.CommandsNotSentError` when no member holds it."""
        return await self._forward(shard, data)

    async def _forward(self, number: int, data: bytes, *, hops: int = 0) -> str:
        """Send ``data`` to shard ``number`` wherever it is held; returns the holder.
        Raises :class:`CommandsNotSentError` when no member holds it."""
        shard = self._shards.get(number)
        if shard is not None:
            shard.sender.send(data)
            return self.id
        try:
            holder = await self._table.holder(number, generation=self._cur.number)
            if holder is None:
                raise CommandsNotSentError(f"shard {number} is held by no member right now (a failover may be under way)")
            if holder == self.id:  # claimed between the two looks
                local = self._shards.get(number)
                if local is None:
                    raise CommandsNotSentError(f"shard {number} is being started here; try again")
                local.sender.send(data)
                return holder
            fields = {"shard": number, "data": data, "from": self.id, "hops": hops}
            await self._redis.xadd(self._keys.inbox(holder), fields, maxlen=INBOX_LENGTH, approximate=True)  # type: ignore[arg-type]
        except CommandsNotSentError:
            raise
        except Exception as exc:
            raise CommandsNotSentError(f"routing a command to shard {number} failed: {exc!r}") from exc
        self.counters["forwarded"] += 1
        return holder

    def _route(self, number: int, data: bytes) -> None:
        """Fire and forget, errors reported as events (:meth:`MemberSender.command`)."""
        shard = self._shards.get(number)
        if shard is not None:
            shard.sender.send(data)
            return

        async def forward() -> None:
            try:
                await self._forward(number, data)
            except CommandsNotSentError as error:
                log.error("member %s: %s", self.id, error)
                assert self._total is not None
                self._report(ShardId(number, self._total), error)

        self._spawn(forward())

    def __repr__(self) -> str:
        return f"Member(id={self.id!r}, app={self.app!r}, redis={self._where()!r}, holds={sorted(self._shards)})"


class MemberSender:
    """Commands from a member, to whichever member holds the shard concerned.

    Guild commands go to the guild's shard; presence updates to every shard of the
    cluster; ``sender(n)`` targets shard ``n``. A shard held here gets the command at
    once; one held elsewhere through that member's inbox in Redis. ``command`` never
    blocks: a command that cannot be routed (no member holds the shard) is logged and
    delivered to subscribers as a ``GatewayErrorEvent`` of
    :class:`~rxgateway.errors.CommandsNotSentError`; ``await deliver(...)`` raises it.

    Example::

        member.sender.command(RequestGuildMembers(guild_id, query="", limit=0))
        holder = await member.sender.deliver(UpdateVoiceState(guild_id, channel_id=None))
    """

    def __init__(self, member: Member) -> None:
        self._member = member

    def _targets(self, command: Command) -> list[tuple[int, bytes]]:
        total = self._member.total
        if total is None:
            raise RuntimeError("the member has not started: its shard total is unknown")
        return command_targets(command, total)

    def command(self, command: Command) -> None:
        """Route ``command``; never blocks (see the class docstring)."""
        if not isinstance(command, Command):
            raise TypeError(f"expected a gateway command, got {type(command).__name__}")
        for number, data in self._targets(command):
            self._member._route(number, data)

    def send(self, shard: int, payload: bytes | dict[str, Any]) -> None:
        """Route a raw payload (a dict with ``op`` and ``d``, or its JSON) to shard ``shard``."""
        data = encode_raw(payload) if isinstance(payload, dict) else payload
        if not isinstance(data, bytes):
            raise TypeError("send() takes a dict or JSON bytes")
        orjson.loads(data)  # refuse what is not JSON here, not at the far end
        self._member._route(shard, data)

    async def deliver(self, command: Command) -> list[str]:
        """Route ``command`` and wait until it reached each holder (its id, in order);
        raises :class:`~rxgateway.errors.CommandsNotSentError` if a shard has none."""
        return [await self._member._forward(number, data) for number, data in self._targets(command)]

    def on_next(self, value: Command) -> None:
        self.command(value)

    def on_error(self, error: Exception) -> None:
        log.warning("a command source failed: %r (the member goes on)", error)

    def on_completed(self) -> None:
        pass

