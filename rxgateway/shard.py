"""The asyncio driver: a thin loop around :class:`~rxgateway.machine.ShardMachine`,
and the :class:`Shard` observable users subscribe to.

The driver owns the socket (:class:`~rxgateway.link.Link`), the tasks and the one
timer; the machine owns every decision. Inbound frames go socket → machine → event
layer → subscribers (:class:`~rxgateway.fanout.Fanout`, the one delivery path);
commands come back through :attr:`Shard.sender` (:mod:`rxgateway.sender`) into the
machine, which decides when they may be written. Heartbeats run from the event loop's
timer, never from a consumer, so a slow subscriber cannot starve them (DESIGN.md
principle 3). Every task has an owner: each connection task awaits the one before
it, and :meth:`Shard.closed` returns once all of them have ended.

With a session store (``Config(session_store=...)``, :mod:`rxgateway.store`) the
shard also keeps its session there, so a restarted process resumes it:

- :meth:`Shard.start` loads the shard's record (unless the config carries a
  ``session``) and resumes it on the first connection; a load that fails is reported
  as an error event and the shard identifies;
- when it becomes Active (READY, RESUMED) and at each heartbeat it saves the session
  (the store batches: nothing is written per event);
- when the machine drops the session (an Invalid Session that cannot be resumed, a
  close code that forbids resuming) the record is deleted;
- when the shard ends it saves the final record if closed with ``CloseFrame.RESUME``,
  else deletes it (``CloseFrame.NORMAL``, a fatal close), then flushes the store;
  :meth:`Shard.closed` returns after that, and a failure is delivered as an error
  event before the observers complete.

A shard without a store does none of this and pays nothing for it on the receive path.

Example::

    async with Shard(ShardId(0, 1), config) as shard:
        async for event in shard.events(EventTypeFlags.MESSAGE_CREATE):
            print(event.raw["content"])
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
import reactivex
from reactivex import abc
from reactivex.disposable import Disposable

from .config import Config
from .errors import CommandsNotSentError, GatewayError, SessionStoreError, ShardClosedError
from .events.base import Event, GatewayClose, ShardStateChanged
from .fanout import ALL_BITS, Fanout
from .intent_check import warn_missing_intents
from .link import CLOSE_TIMEOUT, Link
from .machine import (
    CancelIdentify,
    Close,
    Closed,
    Connect,
    Drop,
    Fatal,
    Latency,
    Output,
    Phase,
    Problem,
    Received,
    RequestIdentify,
    Send,
    Session,
    ShardMachine,
    ShardState,
    StateChanged,
)
from .ops._fused import FusedPipe, FusedSubscribe
from .protocol.close import CloseFrame
from .protocol.event_type import EventTypeFlags
from .protocol.opcode import OpCode
from .protocol.shard_id import ShardId
from .sender import ShardSender
from .store.session_store import SessionRecord, SessionStore
from .stream import EventStream

__all__ = ["CLOSE_TIMEOUT", "EventStream", "FrameSink", "Shard", "ShardSender"]

log = logging.getLogger("rxgateway.shard")

_STATE_BIT = int(EventTypeFlags.SHARD_STATE_CHANGED)
_DISPATCHES = int(EventTypeFlags.DISPATCHES)
_CLOSE_BIT = int(EventTypeFlags.GATEWAY_CLOSE)
_OP_HELLO = int(OpCode.HELLO)
_OP_ACK = int(OpCode.HEARTBEAT_ACK)
#: Every event type: what subscribing to the shard itself asks for.
_ALL_TYPES = int(EventTypeFlags.all())
#: Recent aiohttp releases can hand text frames over as bytes (`decode_text=False`).
_TEXT_AS_BYTES = "decode_text" in inspect.signature(aiohttp.ClientSession.ws_connect).parameters

#: ``sink(shard_id, time_ns, payload)``: see :meth:`Shard.add_frame_sink`.
FrameSink = Callable[[ShardId, int, bytes], None]

#: Seconds one call to a session store may take (a load at start, a save, the final
#: save and flush at close) before it counts as failed: a Redis that stopped
#: answering must not hold a shard's start or close for ever.
STORE_TIMEOUT = 10.0
#: What the store writer does next: save a record, or delete the shard's record.
_DELETE = "delete"


class _SharedTimers:
    """The shards' timers on one event loop: one loop timer per distinct fire time,
    however many shards wait for it.

    The machine puts heartbeats on a grid of phases (:mod:`rxgateway.machine.heartbeat`),
    so a thousand idle shards have a handful of distinct fire times: the loop's heap
    holds those, not a timer per shard, and wakes once for each. Re-arming a
    shard's timer (about once per heartbeat) is two dict operations instead of a heap
    push whose comparisons are Python calls (measured: 14 of the ~170 Python calls an
    idle shard made per beat, plus as many ``isinstance``). A fire time whose shards
    all moved away still fires, and finds nothing to do.

    The callbacks of one fire time run :data:`FIRE_BATCH` at a time, one batch per
    pass of the loop: a phase of thousands of shards beats in a few milliseconds'
    passes, and frames that arrive meanwhile wait for one batch, not for all.
    """

    __slots__ = ("_due",)

    #: Callbacks run per pass of the loop (about 50 µs each: a beat's send).
    FIRE_BATCH = 64

    #: One per loop, gone with it (so it holds no reference to its loop).
    _of_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SharedTimers] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        #: Fire time -> the callbacks due then, in the order they were armed.
        self._due: dict[float, dict[Callable[[], None], None]] = {}

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _SharedTimers:
        timers = cls._of_loop.get(loop)
        if timers is None:
            timers = cls._of_loop[loop] = cls()
        return timers

    def add(self, loop: asyncio.AbstractEventLoop, at: float, callback: Callable[[], None]) -> None:
        """Call ``callback()`` at ``loop``'s time ``at`` (once; :meth:`discard` cancels it)."""
        due = self._due.get(at)
        if due is None:
            due = self._due[at] = {}
            loop.call_at(at, self._fire, at)
        due[callback] = None

    def discard(self, at: float, callback: Callable[[], None]) -> None:
        due = self._due.get(at)
        if due is not None:
            due.pop(callback, None)

    def _fire(self, at: float) -> None:
        due = self._due.get(at)
        if due is None:
            return
        rest = len(due) > self.FIRE_BATCH
        if rest:  # the rest stay armed (and discardable) for the next pass
            batch: Iterable[Callable[[], None]] = list(itertools.islice(due, self.FIRE_BATCH))
            for callback in batch:
                del due[callback]
        else:
            del self._due[at]
            batch = due
        for callback in batch:
            try:
                callback()
            except Exception:  # one shard's failure must not cost the others their beat
                log.exception("a shard's timer raised; the other shards' timers go on")
        if rest:  # after what the batch made ready, and after the loop's next poll
            asyncio.get_running_loop().call_soon(self._fire, at)


class Shard(FusedSubscribe[Event]):
    """One gateway connection, as an Observable of its events.

    Many subscribers share the connection; its life is explicit: ``start`` /
    ``close`` / ``async with``. Subscribing to the shard itself asks for every event
    type; ``shard.pipe(on(flags))`` or ``shard.events(flags)`` ask only for ``flags``,
    and frames of types nobody asked for are never parsed.

    When the shard ends on a fatal close its subscribers get ``on_error`` with the
    typed error; after :meth:`close` they get ``on_completed``.
    """

    def __init__(
        self,
        shard_id: ShardId,
        config: Config,
        *,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__()
        self._machine = ShardMachine(shard_id, config)
        self._config = config
        self._http = http
        self._owns_http = http is None
        self._link: Link | None = None
        self._conn_task: asyncio.Task[None] | None = None
        self._identify_task: asyncio.Task[None] | None = None
        self._finish_task: asyncio.Task[None] | None = None
        #: The machine deadline the shard's timer is armed for (in :class:`_SharedTimers`).
        self._timer_at: float | None = None
        self._timers: _SharedTimers | None = None
        self._timer_callback = self._on_timer
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Future[None] | None = None
        self._finishing = False
        self._error: GatewayError | None = None
        self.sender = ShardSender(self)
        self._id = shard_id
        #: The subscribers of events (their union is what the machine parses) and of
        #: ``states``: every delivery goes through these two.
        self._fanout = Fanout(f"shard {shard_id}", self._set_demand)
        self._state_fanout = Fanout(f"shard {shard_id} states")
        self._states_done = False
        self._resumes = 0
        self._connections = 0
        self._errors = 0
        self._frame_sinks: tuple[FrameSink, ...] = ()
        #: The session store (None: nothing below is used), the change it has yet to
        #: be told, the task telling it (one at a time, in order), whether it may hold
        #: a record of this shard, and the frame the shard was closed with.
        self._store: SessionStore | None = config.session_store
        self._store_next: SessionRecord | str | None = None
        self._store_task: asyncio.Task[None] | None = None
        self._stored = False
        self._close_frame: CloseFrame | None = None

    # ------------------------------------------------------------ properties

    @property
    def id(self) -> ShardId:
        """This shard's ``[number, total]``."""
        return self._machine.shard_id

    @property
    def stats(self) -> dict[str, int]:
        """Counters for dashboards: dispatches received, resumes, connections opened,
        recoverable receive errors."""
        return {
            "dispatches": self._machine.dispatches,
            "resumes": self._resumes,
            "connections": self._connections,
            "errors": self._errors,
        }

    @property
    def config(self) -> Config:
        """The configuration this shard was built from."""
        return self._config

    @property
    def state(self) -> ShardState:
        """The current state."""
        return self._machine.state

    @property
    def states(self) -> reactivex.Observable[ShardState]:
        """The state as an Observable: a new subscriber gets the current state first,
        then every change; it completes when the shard has ended. An observer that
        raises is logged, unsubscribed and told through its ``on_error``; the shard
        goes on."""

        def subscribe(observer: abc.ObserverBase[ShardState], scheduler: Any = None) -> abc.DisposableBase:
            if self._states_done:
                observer.on_next(self.state)
                observer.on_completed()
                return Disposable()
            fanout = self._state_fanout
            sub = fanout.add(ALL_BITS, observer.on_next, observer.on_error, observer.on_completed)
            fanout.deliver_one(sub, self.state)
            return Disposable(lambda: fanout.remove(sub))

        return reactivex.create(subscribe)

    @property
    def session(self) -> Session | None:
        """The session (id, last sequence): persist it with ``resume_url`` to resume
        after a restart."""
        return self._machine.session

    @property
    def resume_url(self) -> str | None:
        """The session's ``resume_gateway_url``."""
        return self._machine.resume_url

    @property
    def latency(self) -> Latency:
        """Heartbeat round trips of the current connection."""
        return self._machine.latency

    @property
    def demand(self) -> EventTypeFlags:
        """The union of the event types current subscribers asked for: only these are
        parsed."""
        return EventTypeFlags(self._fanout.demand)

    @property
    def error(self) -> GatewayError | None:
        """The fatal error that ended the shard, if any."""
        return self._error

    # ------------------------------------------------------------- lifecycle

    async def start(self, *, http: aiohttp.ClientSession | None = None) -> None:
        """Start connecting; returns at once. Heartbeats, identify and reconnects run
        on the event loop until :meth:`close`. ``http`` shares a client session (a
        group passes one to all its shards); by default the shard makes its own."""
        if self._loop is not None:
            raise RuntimeError(f"shard {self.id} was already started")
        self._loop = asyncio.get_running_loop()
        self._done = self._loop.create_future()
        if http is not None:
            self._http, self._owns_http = http, False
        if self._http is None:
            self._http = aiohttp.ClientSession()
        store = self._store
        if store is not None and self._config.session is None:
            record = await self._load(store)
            if self._machine.phase is not Phase.NEW:  # closed while the store was loading
                self._maybe_finish()
                return
            if record is not None:
                self._machine.restore(record.session, record.resume_url)
        self._feed(self._machine.start(self._loop.time()))

    def close(self, frame: CloseFrame = CloseFrame.NORMAL) -> None:
        """Close the shard. ``CloseFrame.NORMAL`` ends the session; ``CloseFrame.RESUME``
        keeps it, to be resumed later from :attr:`session` and :attr:`resume_url` (and
        saves it, with a session store)."""
        if self._close_frame is None and not self._machine.state.is_terminal:
            self._close_frame = frame
        if self._loop is None:
            self._feed(self._machine.close(0.0, frame))
            return
        self._feed(self._machine.close(self._loop.time(), frame))

    async def closed(self) -> None:
        """Wait until the shard has ended and every task of it has finished. Raises the
        fatal error if the gateway ended it."""
        if self._done is None:
            raise RuntimeError(f"shard {self.id} was never started")
        await asyncio.shield(self._done)
        if self._error is not None:
            raise self._error

    async def wait_until(self, predicate: Callable[[ShardState], bool], timeout: float | None = None) -> ShardState:
        """Wait until the state satisfies ``predicate``; returns that state."""
        if predicate(self.state):
            return self.state
        future: asyncio.Future[ShardState] = asyncio.get_running_loop().create_future()

        def check(state: ShardState) -> None:
            if not future.done() and (predicate(state) or state.is_terminal):
                future.set_result(state)

        disposable = self.states.subscribe(check)
        try:
            state = await asyncio.wait_for(future, timeout)
        finally:
            disposable.dispose()
        if not predicate(state) and self._error is not None:
            raise self._error
        return state

    async def ready(self, timeout: float | None = None) -> None:
        """Wait until the shard is Active (READY or RESUMED)."""
        state = await self.wait_until(lambda s: s == ShardState.ACTIVE, timeout)
        if state != ShardState.ACTIVE:
            raise ShardClosedError(f"shard {self.id} ended before becoming active")

    async def __aenter__(self) -> Shard:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close(exit_frame(self._config, exc_info[0]))
        try:
            await self.closed()
        except GatewayError:
            if exc_info[0] is None:
                raise

    # ----------------------------------------------------------- consumers

    def _subscribe_core(
        self, observer: abc.ObserverBase[Event], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        return self.subscribe_flags(observer, EventTypeFlags.all())

    def _fused_pipe(self) -> FusedPipe:
        """Subscribing to the shard itself asks for every event type; plain functions
        are handed to the delivery path as they are (:mod:`rxgateway.ops._fused`)."""
        return FusedPipe(self, _ALL_TYPES)

    def subscribe_flags(self, observer: abc.ObserverBase[Event], flags: EventTypeFlags | int) -> abc.DisposableBase:
        """Subscribe ``observer`` to the event types in ``flags`` only (the demand API
        ``on()`` pushes its flags down through). Flags that the config's intents will
        not deliver (or deliver with blank content) are logged once as a warning
        (:mod:`rxgateway.intent_check`)."""
        if self.state.is_terminal and self._done is not None and self._done.done():
            if self._error is not None:
                observer.on_error(self._error)
            else:
                observer.on_completed()
            return Disposable()
        warn_missing_intents(flags, self._config)  # once per config and event type
        fanout = self._fanout
        sub = fanout.add(int(flags), observer.on_next, observer.on_error, observer.on_completed)
        return Disposable(lambda: fanout.remove(sub))

    def events(self, flags: EventTypeFlags | int = EventTypeFlags.all()) -> EventStream:
        """The events in ``flags`` from now on, as an async iterator (subscribed at
        this call, so nothing is missed between the call and the first ``await``).
        Events are buffered for a slow reader: the connection never waits on it. Ends
        after :meth:`close`; raises the fatal error if the gateway ended the shard.
        Leaving the loop early? ``await stream.aclose()`` or use ``async with``."""
        return EventStream(self, flags)

    async def next_event(self, flags: EventTypeFlags | int = EventTypeFlags.all(), timeout: float | None = None) -> Event:
        """The next event in ``flags``."""
        async with self.events(flags) as stream:
            try:
                return await asyncio.wait_for(stream.__anext__(), timeout)
            except StopAsyncIteration:
                raise ShardClosedError(f"shard {self.id} closed") from None

    def _set_demand(self, demand: int) -> None:
        """Subscribers came or went: the machine parses only the dispatches they want."""
        self._machine.wanted = demand & _DISPATCHES

    def add_frame_sink(self, sink: FrameSink) -> abc.DisposableBase:
        """Call ``sink(shard_id, time_ns, payload)`` for every payload this shard
        receives from now on, until the returned disposable is disposed.

        ``payload`` is the inflated bytes as the gateway sent them, handed over before
        any parse, whatever the subscribers want (a sink costs the shard no parsing);
        ``time_ns`` is the arrival time on ``time.monotonic_ns()``'s clock. Every
        payload the machine accepted is passed: dispatches (less the duplicates it
        dropped), Hello, Heartbeat ACK, Reconnect, Invalid Session ... not frames that
        failed to inflate or decode. The sink runs on the receive path: keep it quick.
        One that raises is logged and detached. :class:`rxgateway.record.Recorder` is
        one. The receive loop stays on its fast path: the machine hands the sinks each
        payload it accepts (:attr:`~rxgateway.machine.ShardMachine.tap`).
        """
        self._set_frame_sinks((*self._frame_sinks, sink))

        def remove() -> None:
            self._set_frame_sinks(tuple(s for s in self._frame_sinks if s is not sink))

        return Disposable(remove)

    def _set_frame_sinks(self, sinks: tuple[FrameSink, ...]) -> None:
        self._frame_sinks = sinks
        self._machine.tap = self._tap if sinks else None

    # ------------------------------------------------------------- internals

    def _send(self, data: bytes) -> None:
        loop = self._loop
        self._feed(self._machine.send(loop.time() if loop else 0.0, data))

    def _feed(self, outputs: list[Output]) -> None:
        """Carry out the machine's actions and forward its outputs, then re-arm the timer.

        Every output of the list is carried out, whatever happens to one of them:
        observers are guarded where they are called, and anything else that raises is
        logged and the list goes on (a skipped Send or Connect would stall the shard).
        """
        if len(outputs) == 1 and type(outputs[0]) is Received:  # the hot path: one dispatch
            try:
                self._on_received(outputs[0])
            finally:
                if self._machine.deadline != self._timer_at:
                    self._arm_timer()
            return
        unsent: list[bytes] = []
        for out in outputs:
            try:
                self._carry_out(out, unsent)
            except Exception:
                log.exception("shard %s: carrying out %s failed; going on", self.id, type(out).__name__)
        self._arm_timer()
        if unsent:  # commands released while no link was there: back to the machine
            self._feed(self._machine.on_unsent(self._now(), unsent))

    def _carry_out(self, out: Output, unsent: list[bytes]) -> None:
        """One action or output of the machine."""
        if type(out) is Received:  # the hot path: one per frame
            self._on_received(out)
        elif isinstance(out, Send):
            is_command = out.kind == "command"
            if self._link is not None:
                # Never the payload itself: Identify and Resume carry the token.
                if log.isEnabledFor(logging.DEBUG):  # a heartbeat per shard per beat: no call when off
                    log.debug("shard %s: sending %s (%d bytes)", self._id, out.kind, len(out.data))
                self._link.send(out.data, is_command)
            elif is_command:
                unsent.append(out.data)
            if self._store is not None and out.kind == "heartbeat":
                self._checkpoint()
        elif isinstance(out, StateChanged):
            self._on_state(out)
        elif isinstance(out, Closed):
            if out.initiator == "client" and out.code is None:
                log.info("shard %s: dropping the connection: %s", self.id, out.reason)
            elif out.initiator != "client":
                log.info("shard %s: connection closed by the %s: code %s %r", self.id, out.initiator, out.code, out.reason)
            self._fanout.deliver(_CLOSE_BIT, GatewayClose(self.id, out.code, out.reason, out.initiator))
        elif isinstance(out, Connect):
            self._connect(out)
        elif isinstance(out, Close):
            if self._link is not None:
                self._link.close(out.code, out.reason)
        elif isinstance(out, Drop):
            if self._link is not None:
                self._link.drop()
        elif isinstance(out, RequestIdentify):
            self._request_identify()
        elif isinstance(out, CancelIdentify):
            if self._identify_task is not None:
                self._identify_task.cancel()
                self._identify_task = None
        elif isinstance(out, Problem):
            self._errors += 1
            if isinstance(out.error, CommandsNotSentError):
                log.error("shard %s: %s", self.id, out.error)
            else:
                log.warning("shard %s: %s", self.id, out.error)
            self._fanout.error(self._id, out.error)
        elif isinstance(out, Fatal):
            self._error = out.error
            log.error("shard %s: %s", self.id, out.error)

    def _now(self) -> float:
        return self._loop.time() if self._loop is not None else 0.0

    def _on_received(self, out: Received) -> None:
        """A payload the machine answered with a list: its event, if anyone wants it."""
        op = out.op
        machine = self._machine
        recent = machine.latency.recent if op == _OP_ACK else None
        self._fanout.payload(
            self._id,
            op,
            out.sequence,
            out.name,
            out.raw,
            out.data,
            heartbeat_interval=machine.heartbeat_interval if op == _OP_HELLO else None,
            latency=recent[0] if recent else None,
        )

    def _tap(self, payload: bytes) -> None:
        """Hand ``payload`` to every frame sink (see :meth:`add_frame_sink`)."""
        now = time.monotonic_ns()
        for sink in self._frame_sinks:
            try:
                sink(self._id, now, payload)
            except Exception:
                log.exception("shard %s: a frame sink raised; it is detached", self._id)
                self._set_frame_sinks(tuple(s for s in self._frame_sinks if s is not sink))

    def _on_state(self, out: StateChanged) -> None:
        log.debug("shard %s: %s -> %s", self.id, out.old, out.new)
        if out.old == ShardState.RESUMING and out.new == ShardState.ACTIVE:
            self._resumes += 1
        if self._store is not None and not out.new.is_terminal:
            if out.new == ShardState.ACTIVE:
                self._checkpoint()
            elif self._stored and self._machine.session is None:
                self._store_change(_DELETE)  # the machine dropped the session
        self._state_fanout.deliver(ALL_BITS, out.new)
        self._fanout.deliver(_STATE_BIT, ShardStateChanged(self.id, out.old, out.new))
        if out.new.is_terminal:
            self._maybe_finish()

    def _arm_timer(self) -> None:
        deadline = self._machine.deadline
        if deadline == self._timer_at:
            return
        self._disarm_timer()
        loop = self._loop
        if deadline is not None and loop is not None:
            timers = self._timers
            if timers is None:
                timers = self._timers = _SharedTimers.of(loop)
            timers.add(loop, deadline, self._timer_callback)
            self._timer_at = deadline

    def _disarm_timer(self) -> None:
        if self._timer_at is not None and self._timers is not None:
            self._timers.discard(self._timer_at, self._timer_callback)
        self._timer_at = None

    def _on_timer(self) -> None:
        self._timer_at = None
        assert self._loop is not None
        self._feed(self._machine.on_timeout(self._loop.time()))

    def _connect(self, action: Connect) -> None:
        assert self._loop is not None
        log.debug("shard %s: connecting to %s", self.id, _strip_query(action.url))
        self._connections += 1
        # The new connection's task owns the previous one: it waits for it to end
        # first, so the machine hears of the old socket's end before the new one opens.
        task = self._loop.create_task(self._run_connection(action.url, self._conn_task))
        task.add_done_callback(_retrieve)
        self._conn_task = task

    async def _run_connection(self, url: str, previous: asyncio.Task[None] | None) -> None:
        if previous is not None and not previous.done():
            try:
                await asyncio.shield(previous)
            except asyncio.CancelledError:
                previous.cancel()
                raise
            except Exception:  # logged by its own done callback
                pass
        try:
            await self._connection(url)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug of ours: logged, and the machine hears of a drop
            log.exception("shard %s: the connection task failed", self.id)

    async def _connection(self, url: str) -> None:
        loop = asyncio.get_running_loop()
        assert self._http is not None
        kwargs: dict[str, Any] = {
            "max_msg_size": 0,  # GUILD_CREATE can be several MB
            "autoping": True,
            "proxy": self._config.proxy,
        }
        if _TEXT_AS_BYTES:  # an uncompressed payload stays bytes: no decode, no re-encode
            kwargs["decode_text"] = False
        if url.startswith("wss://"):
            kwargs["ssl"] = self._config.ssl_context()
        try:
            async with asyncio.timeout(self._config.connect_timeout):
                ws = await self._http.ws_connect(url, **kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure to open is a failed attempt
            log.warning("shard %s: connecting to %s failed: %r", self.id, _strip_query(url), exc)
            self._feed(self._machine.on_connect_failed(loop.time(), exc))
            return
        link = Link(ws)
        self._link = link
        code: int | None = None
        reason = ""
        try:
            self._feed(self._machine.on_connected(loop.time()))
            code, reason = await self._receive(ws, loop)
        finally:
            try:
                await link.finish()
            finally:
                if self._link is link:
                    self._link = None
                self._feed(self._machine.on_closed(loop.time(), code, reason))
                # Commands the link was handed but never wrote go back to the machine.
                self._feed(self._machine.on_unsent(loop.time(), link.unsent()))

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse, loop: asyncio.AbstractEventLoop) -> tuple[int | None, str]:
        """Hand every message to the machine until the connection ends; returns the
        close code and reason the gateway sent, if it sent one.

        The one hot loop of the library: a wanted dispatch comes back from
        ``machine.on_message`` as ``(sequence, name, d)`` and goes to
        :meth:`Fanout.dispatch <rxgateway.fanout.Fanout.dispatch>`; an unwanted one as
        ``None``; anything else as a :class:`~rxgateway.machine.Pending`, finished by
        ``machine.on_pending`` at the loop's time (read only then: a clock read per
        frame was ~1 % of a dispatch's instructions). A recorder attached changes
        nothing here (the machine taps the payloads).
        """
        on_message, on_pending = self._machine.on_message, self._machine.on_pending
        fanout = self._fanout
        routes_get = fanout.routes.get  # emptied in place as subscribers change, never replaced
        receive, binary, text = ws.receive, aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT
        shard_id = self._id
        while True:
            msg = await receive()
            kind = msg.type
            if kind is binary:
                out = on_message(msg.data)
            elif kind is text:  # never compressed: a payload as it is (as str from older aiohttp)
                data = msg.data
                out = on_message(data if type(data) is bytes else data.encode(), True)
            elif kind is aiohttp.WSMsgType.CLOSE:
                return msg.data, msg.extra or ""
            else:  # CLOSING (we are closing), CLOSED (EOF), ERROR (transport)
                if kind is aiohttp.WSMsgType.ERROR:
                    log.warning("shard %s: websocket error: %r", self.id, msg.data)
                return None, ""
            if out is None:
                continue
            if isinstance(out, tuple):
                # Fanout.dispatch, inlined (one Python call less per event): the same
                # route, event and guarded delivery.
                sequence, name, d = out
                make, type_, subscribers = routes_get(name) or fanout.route(name)
                if subscribers:
                    event = make(shard_id, sequence, name, d, type_)
                    for sub in subscribers:
                        try:
                            sub.on_next(event)
                        except Exception as exc:
                            fanout.failed(sub, exc)
            else:
                self._feed(on_pending(loop.time(), out))

    def _request_identify(self) -> None:
        assert self._loop is not None
        if self._identify_task is not None:
            self._identify_task.cancel()
        task = self._loop.create_task(self._identify())
        task.add_done_callback(_retrieve)
        self._identify_task = task

    async def _identify(self) -> None:
        """Wait for the queue's permit; a queue that raises is a machine input too."""
        try:
            await self._config.queue.acquire(self.id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._identify_task = None
            self._feed(self._machine.on_identify_failed(self._now(), exc))
            return
        self._identify_task = None
        self._feed(self._machine.on_identify_granted(self._now()))

    def _maybe_finish(self) -> None:
        """Once terminal: tell subscribers, and finish when the connection task ends."""
        if self._done is None or self._done.done() or self._finish_task is not None:
            return
        assert self._loop is not None
        self._finish_task = self._loop.create_task(self._finish())
        self._finish_task.add_done_callback(_retrieve)

    async def _finish(self) -> None:
        """End every task of the shard, then tell subscribers. ``_done`` is set whatever
        happens on the way, so :meth:`closed` always returns."""
        try:
            self._disarm_timer()
            identify = self._identify_task
            self._identify_task = None
            if identify is not None:
                identify.cancel()
                await asyncio.gather(identify, return_exceptions=True)
            task = self._conn_task
            if task is not None:
                try:
                    async with asyncio.timeout(CLOSE_TIMEOUT + 1):
                        await asyncio.shield(task)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                except Exception:  # logged by its done callback
                    pass
            if self._store is not None:
                await self._store_final(self._store)
            if self._owns_http and self._http is not None:
                await self._http.close()
        finally:
            store_task = self._store_task
            if store_task is not None and not store_task.done():  # only if _finish itself was cut short
                store_task.cancel()
            self._fanout.finish(self._error)
            self._states_done = True
            self._state_fanout.finish()
            assert self._done is not None
            if not self._done.done():
                self._done.set_result(None)

    # -------------------------------------------------------- session store

    async def _load(self, store: SessionStore) -> SessionRecord | None:
        """The record to resume, if the store has one for this very ``[number, total]``.
        A load that fails is reported; the shard identifies."""
        try:
            async with asyncio.timeout(STORE_TIMEOUT):
                record = await store.load(self._id)
        except Exception as exc:
            self._store_problem(exc, "loading its saved session failed; identifying instead")
            return None
        if record is None:
            return None
        self._stored = True
        if record.shard != self._id:  # the store's rule, kept here too: never another total
            log.warning("shard %s: the store handed back a record of shard %s; identifying instead", self.id, record.shard)
            return None
        log.info("shard %s: resuming the saved session at sequence %d", self.id, record.session.sequence)
        return record

    def _checkpoint(self) -> None:
        """Save the current session (Active, and at each heartbeat); the store batches."""
        machine = self._machine
        session = machine.session
        if session is not None:
            self._store_change(SessionRecord.now(self._id, session, machine.resume_url))

    def _store_change(self, change: SessionRecord | str) -> None:
        """Hand ``change`` (a record to save, or ``_DELETE``) to the store writer; it
        replaces a change not yet handed over (the last word wins)."""
        self._stored = isinstance(change, SessionRecord)
        self._store_next = change
        if self._store_task is None and self._loop is not None:
            task = self._loop.create_task(self._store_writer(), name=f"shard {self._id} session store")
            task.add_done_callback(_retrieve)
            self._store_task = task

    async def _store_writer(self) -> None:
        """Tell the store each change, in order, one at a time; report what fails."""
        store = self._store
        assert store is not None
        try:
            while self._store_next is not None:
                change, self._store_next = self._store_next, None
                try:
                    async with asyncio.timeout(STORE_TIMEOUT):
                        if isinstance(change, SessionRecord):
                            await store.save(change)
                        else:
                            await store.delete(self._id)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    what = "saving" if isinstance(change, SessionRecord) else "deleting"
                    self._store_problem(exc, f"{what} its session failed")
        finally:
            self._store_task = None

    async def _store_final(self, store: SessionStore) -> None:
        """The shard is over: save the session if it was closed to be resumed, else
        delete it; then flush the store. A failure is reported (the observers are told
        before they complete)."""
        machine = self._machine
        frame = self._close_frame
        if machine.state == ShardState.FATALLY_CLOSED or frame is None or not frame.keeps_session:
            self._store_change(_DELETE)
        elif machine.session is not None:
            self._checkpoint()
        # else: closed to resume before any session (or while loading): nothing to say.
        try:
            async with asyncio.timeout(STORE_TIMEOUT):
                task = self._store_task
                if task is not None:
                    await asyncio.shield(task)
                await store.flush()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._store_problem(exc, "saving its session at close failed")
        finally:
            task = self._store_task
            if task is not None and not task.done():  # timed out: it does not outlive the shard
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    def _store_problem(self, exc: BaseException, what: str) -> None:
        """Log and deliver a session store failure as an error event."""
        if isinstance(exc, TimeoutError):
            exc = SessionStoreError(f"the session store did not answer within {STORE_TIMEOUT:.0f} s")
        if isinstance(exc, SessionStoreError):
            error = exc
        else:
            error = SessionStoreError(f"the session store failed: {exc!r}")
            error.__cause__ = exc
        self._errors += 1
        log.warning("shard %s: %s: %s", self.id, what, error)
        self._fanout.error(self._id, error)

    def __repr__(self) -> str:
        session = self._machine.session
        return f"Shard(id={self.id!r}, state={self.state}, session={session.id if session else None})"

    def _repr_html_(self) -> str:
        latency = self.latency.average
        session = self._machine.session
        rows = [
            ("id", str(self.id)),
            ("state", str(self.state)),
            ("latency", f"{latency * 1000:.1f} ms" if latency is not None else "-"),
            ("session", session.id if session else "-"),
            ("sequence", str(session.sequence) if session else "-"),
            ("events seen", str(self.stats["dispatches"])),
        ]
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
        return f"<table>{body}</table>"


def exit_frame(config: Config, exc_type: object) -> CloseFrame:
    """How ``async with`` closes: ``CloseFrame.NORMAL`` (the session ends) when the
    block finished, ``CloseFrame.RESUME`` when it ended by an exception (a crash,
    Ctrl-C, a cancelled task) and a session store is configured, so the process that
    starts next resumes the session instead of identifying.

    Example::

        >>> from rxgateway import Config, Intents
        >>> from rxgateway.store import MemorySessionStore
        >>> config = Config("token", Intents.GUILDS, session_store=MemorySessionStore())
        >>> exit_frame(config, None).code, exit_frame(config, KeyboardInterrupt).code
        (1000, 4000)
    """
    if exc_type is not None and config.session_store is not None:
        return CloseFrame.RESUME
    return CloseFrame.NORMAL


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Done callback of every task a shard starts: an exception nobody awaited is
    logged here rather than as "Task exception was never retrieved"."""
    if not task.cancelled() and task.exception() is not None:
        log.error("rxgateway task %s failed", task.get_name(), exc_info=task.exception())


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]
