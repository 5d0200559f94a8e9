"""The asyncio driver: a thin loop around :class:`~rxgateway.machine.ShardMachine`,
and the :class:`Shard` observable users subscribe to.

The driver owns the socket, the tasks and the one timer; the machine owns every
decision. Inbound frames go socket → machine → event layer → subscribers; commands
come back through :attr:`Shard.sender` into the machine, which decides when they may
be written. Heartbeats run from the event loop's timer, never from a consumer, so a
slow subscriber cannot starve them (DESIGN.md principle 3).

Example::

    async with Shard(ShardId(0, 1), config) as shard:
        async for event in shard.events(EventTypeFlags.MESSAGE_CREATE):
            print(event.raw["content"])
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
import reactivex
from reactivex import abc
from reactivex.disposable import Disposable

from .config import Config
from .errors import CommandsNotSentError, DeserializationError, GatewayError, ShardClosedError
from .events.base import (
    Event,
    GatewayClose,
    GatewayErrorEvent,
    ShardStateChanged,
)
from .events.build import DISPATCH_TABLE, UNKNOWN_DISPATCH, gateway_event
from .machine import (
    CancelIdentify,
    Close,
    Closed,
    Connect,
    Drop,
    Fatal,
    Latency,
    Output,
    Problem,
    Received,
    RequestIdentify,
    Send,
    Session,
    ShardMachine,
    ShardState,
    StateChanged,
)
from .protocol.close import CloseFrame
from .protocol.commands import Command, encode_raw
from .protocol.event_type import OPCODE_BITS, EventTypeFlags
from .protocol.shard_id import ShardId

log = logging.getLogger("rxgateway.shard")

_STATE_BIT = int(EventTypeFlags.SHARD_STATE_CHANGED)
_DISPATCHES = int(EventTypeFlags.DISPATCHES)
_CLOSE_BIT = int(EventTypeFlags.GATEWAY_CLOSE)
_ERROR_BIT = int(EventTypeFlags.GATEWAY_ERROR)
#: Per dispatch name: its flag bit, typed class and EventType, in one lookup per frame
#: (the table a replay uses too: rxgateway/events/build.py).
_DISPATCH = DISPATCH_TABLE
_UNKNOWN = UNKNOWN_DISPATCH
#: Recent aiohttp releases can hand text frames over as bytes (`decode_text=False`).
_TEXT_AS_BYTES = "decode_text" in inspect.signature(aiohttp.ClientSession.ws_connect).parameters
#: How long a client close handshake may take before the socket is abandoned.
CLOSE_TIMEOUT = 5.0
#: Every flag bit: what a ``states`` subscriber (which has no flags) is matched with.
_ALL_BITS = -1

Sink = Callable[[Any], None]
#: ``sink(shard_id, time_ns, payload)``: see :meth:`Shard.add_frame_sink`.
FrameSink = Callable[[ShardId, int, bytes], None]


class _Subscriber:
    """One consumer: the bits it wants and where events go."""

    __slots__ = ("flags", "on_next", "on_error", "on_completed")

    def __init__(
        self,
        flags: int,
        on_next: Sink,
        on_error: Callable[[Exception], None],
        on_completed: Callable[[], None],
    ) -> None:
        self.flags = flags
        self.on_next = on_next
        self.on_error = on_error
        self.on_completed = on_completed


class _Link:
    """One websocket connection: a writer task that sends frames in order, and the
    means to close or abandon the socket. User commands it could not write before
    the connection ended are handed back (:meth:`unsent`), never dropped."""

    # The writer waits on a list and one future rather than an asyncio.Queue: a Queue
    # holds four deques (~3 KiB per shard, times a thousand idle shards).
    __slots__ = ("ws", "_items", "_wake", "_writer", "_unsent")

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        #: ``(data, is_command)`` frames to send; a ``(code, reason)`` pair closes;
        #: ``None`` stops the writer.
        self._items: list[tuple[bytes, bool] | tuple[int, str] | None] = []
        self._wake: asyncio.Future[None] | None = None
        #: A command whose write failed: it may not have left, so it is handed back.
        self._unsent: bytes | None = None
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def _put(self, item: tuple[bytes, bool] | tuple[int, str] | None) -> None:
        self._items.append(item)
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def send(self, data: bytes, is_command: bool) -> None:
        self._put((data, is_command))

    def close(self, code: int, reason: str) -> None:
        self._put((code, reason))

    def drop(self) -> None:
        """Abandon the connection: shut the socket down with no close frame."""
        sock = self.ws.get_extra_info("socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._put(None)

    async def _write(self) -> None:
        ws, items = self.ws, self._items
        loop = asyncio.get_running_loop()
        while True:
            if not items:
                self._wake = loop.create_future()
                await self._wake
                continue
            item = items[0]
            if item is None:
                return
            first, second = item
            if isinstance(first, int):  # a close
                del items[0]
                try:
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await ws.close(code=first, message=str(second).encode())
                except (asyncio.TimeoutError, aiohttp.ClientError, OSError):
                    self.drop()
                return
            if ws.closed:
                return  # what is left stays in items: unsent
            del items[0]
            try:
                await ws.send_str(first.decode())
            except (aiohttp.ClientError, ConnectionError, RuntimeError, OSError) as exc:
                log.debug("send failed: %s", exc)
                if second:
                    self._unsent = first
                return

    def unsent(self) -> list[bytes]:
        """The user commands handed to this link and never written, in order (call
        after :meth:`finish`)."""
        out = [self._unsent] if self._unsent is not None else []
        out += [item[0] for item in self._items if item is not None and item[1] is True]
        self._items.clear()
        self._unsent = None
        return out

    async def finish(self) -> None:
        """Wait for the writer to end (after a close or drop), or stop it."""
        if not self._writer.done():
            self._put(None)
        try:
            await self._writer
        except asyncio.CancelledError:
            pass
        if not self.ws.closed:
            self.drop()


class ShardSender(abc.ObserverBase[Command | bytes | dict[str, Any]]):
    """The door commands come back through: an Observer, so
    ``commands.subscribe(shard.sender)`` works. Commands are queued while the shard is
    disconnected and sent in order once it is identified, within the rate limit.
    Errors and completion of a source do not close the shard."""

    def __init__(self, shard: Shard) -> None:
        self._shard = shard

    @property
    def shard_id(self) -> ShardId:
        """The shard this sender feeds."""
        return self._shard.id

    @property
    def is_closed(self) -> bool:
        """True once the shard has ended: sending would raise ``ShardClosedError``."""
        return self._shard.state.is_terminal

    def command(self, command: Command) -> None:
        """Queue a gateway command (``RequestGuildMembers``, ``UpdatePresence`` ...)."""
        if not isinstance(command, Command):
            raise TypeError(f"expected a gateway command, got {type(command).__name__}")
        self._shard._send(command.to_bytes())

    def send(self, payload: bytes | dict[str, Any]) -> None:
        """Queue a raw payload: a dict with ``op`` and ``d``, or its JSON bytes."""
        data = encode_raw(payload) if isinstance(payload, dict) else payload
        if not isinstance(data, bytes):
            raise TypeError("send() takes a dict or JSON bytes")
        self._shard._send(data)

    def close(self, frame: CloseFrame = CloseFrame.NORMAL) -> None:
        """Close the shard (see :meth:`Shard.close`)."""
        self._shard.close(frame)

    def on_next(self, value: Command | bytes | dict[str, Any]) -> None:
        if isinstance(value, Command):
            self.command(value)
        else:
            self.send(value)

    def on_error(self, error: Exception) -> None:
        log.warning("shard %s: a command source failed: %r (the shard goes on)", self._shard.id, error)

    def on_completed(self) -> None:
        pass


class EventStream(abc.ObserverBase[Event]):
    """An async iterator over a flag-aware source's events (a Shard or ShardGroup).

    Subscribes when created, buffers without bound, and unsubscribes when exhausted,
    on :meth:`aclose`, or on leaving ``async with``.
    """

    def __init__(self, source: Any, flags: EventTypeFlags | int) -> None:
        self._queue: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
        self._done = False
        self._disposable: abc.DisposableBase | None = None
        self._disposable = source.subscribe_flags(self, flags)

    def on_next(self, value: Event) -> None:
        self._queue.put_nowait((0, value))

    def on_error(self, error: Exception) -> None:
        self._queue.put_nowait((1, error))

    def on_completed(self) -> None:
        self._queue.put_nowait((2, None))

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        if self._done:
            raise StopAsyncIteration
        kind, value = await self._queue.get()
        if kind == 0:
            return value  # type: ignore[no-any-return]
        self._done = True
        self._dispose()
        if kind == 1:
            raise value
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop receiving."""
        self._done = True
        self._dispose()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _dispose(self) -> None:
        if self._disposable is not None:
            self._disposable.dispose()
            self._disposable = None


class Shard(reactivex.Observable[Event]):
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
        self._demand = 0
        self._link: _Link | None = None
        self._conn_task: asyncio.Task[None] | None = None
        self._identify_task: asyncio.Task[None] | None = None
        self._finish_task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Future[None] | None = None
        self._finishing = False
        self._error: GatewayError | None = None
        self.sender = ShardSender(self)
        self._id = shard_id
        #: Event subscribers and ``states`` subscribers: immutable snapshots, replaced
        #: (never mutated) as subscribers come and go, so delivery may iterate freely.
        self._snapshot: tuple[_Subscriber, ...] = ()
        self._state_subs: tuple[_Subscriber, ...] = ()
        self._states_done = False
        self._resumes = 0
        self._connections = 0
        self._errors = 0
        self._frame_sinks: tuple[FrameSink, ...] = ()

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
            sub = _Subscriber(_ALL_BITS, observer.on_next, observer.on_error, observer.on_completed)
            self._state_subs = (*self._state_subs, sub)
            self._deliver((sub,), _ALL_BITS, self.state)
            return Disposable(lambda: self._remove(sub))

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
        return EventTypeFlags(self._demand)

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
        self._feed(self._machine.start(self._loop.time()))

    def close(self, frame: CloseFrame = CloseFrame.NORMAL) -> None:
        """Close the shard. ``CloseFrame.NORMAL`` ends the session; ``CloseFrame.RESUME``
        keeps it, to be resumed later from :attr:`session` and :attr:`resume_url`."""
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
        self.close(CloseFrame.NORMAL)
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

    def subscribe_flags(self, observer: abc.ObserverBase[Event], flags: EventTypeFlags | int) -> abc.DisposableBase:
        """Subscribe ``observer`` to the event types in ``flags`` only (the demand API
        ``on()`` pushes its flags down through)."""
        sub = _Subscriber(int(flags), observer.on_next, observer.on_error, observer.on_completed)
        if self.state.is_terminal and self._done is not None and self._done.done():
            if self._error is not None:
                observer.on_error(self._error)
            else:
                observer.on_completed()
            return Disposable()
        self._snapshot = (*self._snapshot, sub)
        self._set_demand(self._demand | sub.flags)
        return Disposable(lambda: self._remove(sub))

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

    def _remove(self, sub: _Subscriber) -> None:
        """Unsubscribe ``sub``; the demand shrinks to what the others still want."""
        if sub in self._state_subs:
            self._state_subs = tuple(s for s in self._state_subs if s is not sub)
        if sub in self._snapshot:
            self._snapshot = tuple(s for s in self._snapshot if s is not sub)
            demand = 0
            for other in self._snapshot:
                demand |= other.flags
            self._set_demand(demand)

    def _set_demand(self, demand: int) -> None:
        """Record what subscribers want; the machine parses only those dispatches."""
        self._demand = demand
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
        one.
        """
        self._frame_sinks = (*self._frame_sinks, sink)

        def remove() -> None:
            self._frame_sinks = tuple(s for s in self._frame_sinks if s is not sink)

        return Disposable(remove)

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
                log.debug("shard %s: sending %s (%d bytes)", self.id, out.kind, len(out.data))
                self._link.send(out.data, is_command)
            elif is_command:
                unsent.append(out.data)
        elif isinstance(out, StateChanged):
            self._on_state(out)
        elif isinstance(out, Closed):
            if out.initiator == "client" and out.code is None:
                log.info("shard %s: dropping the connection: %s", self.id, out.reason)
            elif out.initiator != "client":
                log.info("shard %s: connection closed by the %s: code %s %r", self.id, out.initiator, out.code, out.reason)
            self._emit(_CLOSE_BIT, GatewayClose(self.id, out.code, out.reason, out.initiator))
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
            self._emit(_ERROR_BIT, GatewayErrorEvent(self.id, out.error))
        elif isinstance(out, Fatal):
            self._error = out.error
            log.error("shard %s: %s", self.id, out.error)

    def _now(self) -> float:
        return self._loop.time() if self._loop is not None else 0.0

    def _on_received(self, out: Received) -> None:
        if self._frame_sinks:  # a recorder is attached: it gets every payload, unparsed
            self._tap(out.raw)
        op = out.op
        if op == 0:
            name = out.name or ""
            bit, cls, type_ = _DISPATCH.get(name, _UNKNOWN)
            if not self._demand & bit:
                return  # nobody asked for this type: never parsed
            data = out.data
            if data is None:
                # Wanted since the machine read it: a subscriber came earlier in this
                # same list of outputs. Every dispatch the machine itself wanted arrives
                # parsed (an unreadable one never gets here: it is replayed).
                try:
                    data = orjson.loads(out.raw)
                except orjson.JSONDecodeError as exc:
                    error = DeserializationError(f"dispatch {name} is not valid JSON", out.raw)
                    error.__cause__ = exc
                    self._emit(_ERROR_BIT, GatewayErrorEvent(self._id, error))
                    return
            event = cls(self._id, out.sequence, name, data.get("d"), type_)
            # events.build.dispatch_event and _emit, inlined: this runs once per event.
            for sub in self._snapshot:
                if sub.flags & bit:
                    try:
                        sub.on_next(event)
                    except Exception as exc:
                        self._subscriber_failed(sub, exc)
            return
        bit = OPCODE_BITS.get(op, 0)
        if not self._demand & bit:
            return
        recent = self._machine.latency.recent if op == 11 else None
        interval = self._machine.heartbeat_interval if op == 10 else None
        gateway = gateway_event(
            self._id, op, out.raw, out.data, heartbeat_interval=interval, latency=recent[0] if recent else None
        )
        if gateway is not None:
            self._emit(bit, gateway)

    def _tap(self, payload: bytes) -> None:
        """Hand ``payload`` to every frame sink (see :meth:`add_frame_sink`)."""
        now = time.monotonic_ns()
        for sink in self._frame_sinks:
            try:
                sink(self._id, now, payload)
            except Exception:
                log.exception("shard %s: a frame sink raised; it is detached", self._id)
                self._frame_sinks = tuple(s for s in self._frame_sinks if s is not sink)

    def _on_state(self, out: StateChanged) -> None:
        log.debug("shard %s: %s -> %s", self.id, out.old, out.new)
        if out.old == ShardState.RESUMING and out.new == ShardState.ACTIVE:
            self._resumes += 1
        self._deliver(self._state_subs, _ALL_BITS, out.new)
        self._emit(_STATE_BIT, ShardStateChanged(self.id, out.old, out.new))
        if out.new.is_terminal:
            self._maybe_finish()

    def _emit(self, bit: int, event: Event) -> None:
        self._deliver(self._snapshot, bit, event)

    def _deliver(self, subscribers: tuple[_Subscriber, ...], bit: int, value: Any) -> None:
        """Hand ``value`` to every subscriber that wants ``bit``: the one delivery path
        (the receive loop inlines the same lines). ``subscribers`` is an immutable
        snapshot, so observers may subscribe and leave meanwhile; one that raises is
        unsubscribed and told, and the others still get the value."""
        for sub in subscribers:
            if sub.flags & bit:
                try:
                    sub.on_next(value)
                except Exception as exc:
                    self._subscriber_failed(sub, exc)

    def _subscriber_failed(self, sub: _Subscriber, exc: Exception) -> None:
        """A subscriber's bug must not reach the shard: it is unsubscribed and told."""
        log.error("shard %s: a subscriber raised; it is unsubscribed", self.id, exc_info=exc)
        self._remove(sub)
        try:
            sub.on_error(exc)
        except Exception:
            log.exception("shard %s: a subscriber's on_error raised", self.id)

    def _arm_timer(self) -> None:
        deadline = self._machine.deadline
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is not None and self._loop is not None:
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
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
        link = _Link(ws)
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

        The one hot loop of the library. A wanted dispatch comes back from
        ``machine.on_message`` as ``(sequence, name, d)`` and is delivered here, inline
        (``events.build.dispatch_event`` and ``_emit`` in one); an unwanted one as
        ``None``; anything else as the machine's list of outputs.
        """
        machine = self._machine
        on_message, on_frame = machine.on_message, machine.on_frame
        # The default loops' clock is time.monotonic (a C call, not a Python method).
        clock = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        receive, binary, text = ws.receive, aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT
        table, shard_id = _DISPATCH, self._id
        while True:
            msg = await receive()
            kind = msg.type
            if kind is binary or kind is text:
                if self._frame_sinks:  # a recorder wants every payload: the general path
                    self._feed(on_frame(clock(), msg.data))
                    continue
                out = on_message(clock(), msg.data)
                if out is None:
                    continue
                if isinstance(out, tuple):
                    seq, name, d = out
                    bit, cls, type_ = table[name]
                    event = cls(shard_id, seq, name, d, type_)
                    for sub in self._snapshot:
                        if sub.flags & bit:
                            try:
                                sub.on_next(event)
                            except Exception as exc:
                                self._subscriber_failed(sub, exc)
                else:
                    self._feed(out)
            elif kind is aiohttp.WSMsgType.CLOSE:
                return msg.data, msg.extra or ""
            else:  # CLOSING (we are closing), CLOSED (EOF), ERROR (transport)
                if kind is aiohttp.WSMsgType.ERROR:
                    log.warning("shard %s: websocket error: %r", self.id, msg.data)
                return None, ""

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
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
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
            if self._owns_http and self._http is not None:
                await self._http.close()
        finally:
            subscribers, self._snapshot = self._snapshot, ()
            self._demand = 0
            for sub in subscribers:
                try:
                    if self._error is not None:
                        sub.on_error(self._error)
                    else:
                        sub.on_completed()
                except Exception:
                    log.exception("shard %s: a subscriber raised on termination", self.id)
            states, self._state_subs = self._state_subs, ()
            self._states_done = True
            for sub in states:
                try:
                    sub.on_completed()
                except Exception:
                    log.exception("shard %s: a states subscriber raised on completion", self.id)
            assert self._done is not None
            if not self._done.done():
                self._done.set_result(None)

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


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Done callback of every task a shard starts: an exception nobody awaited is
    logged here rather than as "Task exception was never retrieved"."""
    if not task.cancelled() and task.exception() is not None:
        log.error("rxgateway task %s failed", task.get_name(), exc_info=task.exception())


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]
