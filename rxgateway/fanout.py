"""Delivery to observers: the one path by which a value reaches a subscriber.

A :class:`Fanout` holds the subscribers of one source (a shard's events, a shard's
states, a replay), each with the event-type bits it asked for, and hands values to
them. Every delivery in the package goes through it, so every observer is treated the
same way (DESIGN.md principle 8):

- the subscriber list is an immutable tuple, replaced (never mutated) as subscribers
  come and go, so an observer may subscribe or leave in the middle of a delivery;
- an observer that raises is logged, unsubscribed and told through its ``on_error``,
  and the others still get the value; nothing it does reaches the producer;
- the union of the bits (:attr:`Fanout.demand`) is reported on every change, which is
  how a shard parses only what somebody wants.

It also builds events, in one place: :meth:`Fanout.dispatch` turns a dispatch the
machine read (``sequence, name, d``) into its typed view and delivers it (the receive
loop's hot path), :meth:`Fanout.payload` does the same for any received payload (a
recorded frame, a gateway-level opcode). The live shard and a replayed recording both
use them, so a replay emits exactly the events the live shard did.

Example::

    >>> from rxgateway.protocol import EventTypeFlags, ShardId
    >>> fanout = Fanout("example")
    >>> seen = []
    >>> sub = fanout.add(int(EventTypeFlags.MESSAGE_CREATE), seen.append, print, lambda: None)
    >>> fanout.dispatch(ShardId(0, 1), 7, "MESSAGE_CREATE", {"content": "hi"})
    >>> fanout.dispatch(ShardId(0, 1), 8, "TYPING_START", {})   # not wanted: not built
    >>> [(e.name, e.sequence) for e in seen]
    [('MESSAGE_CREATE', 7)]
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson

from .errors import DeserializationError, GatewayError
from .events.base import DispatchMaker, GatewayErrorEvent, dispatch_maker
from .events.build import DISPATCH_TABLE, UNKNOWN_DISPATCH, gateway_event
from .protocol.event_type import OPCODE_BITS, EventType, EventTypeFlags
from .protocol.opcode import OpCode
from .protocol.shard_id import ShardId

__all__ = ["ALL_BITS", "Fanout", "Subscriber"]

log = logging.getLogger("rxgateway.fanout")

#: The bits of a subscriber that wants everything (a ``states`` subscriber has no flags).
ALL_BITS = -1
_ERROR_BIT = int(EventTypeFlags.GATEWAY_ERROR)
_DISPATCH = int(OpCode.DISPATCH)
_TABLE_GET = DISPATCH_TABLE.get


def _ignore(value: Any) -> None:
    """What a removed subscriber's ``on_next`` becomes."""


class Subscriber:
    """One observer of a :class:`Fanout`: the bits it wants and its three callbacks."""

    __slots__ = ("flags", "on_next", "on_error", "on_completed")

    def __init__(
        self,
        flags: int,
        on_next: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        on_completed: Callable[[], None],
    ) -> None:
        self.flags = flags
        self.on_next = on_next
        self.on_error = on_error
        self.on_completed = on_completed


class Fanout:
    """The subscribers of one source, and the one function that hands them values.

    ``owner`` names the source in logs; ``on_demand(bits)`` is called whenever the union
    of the subscribers' bits changes.
    """

    __slots__ = ("subscribers", "demand", "routes", "_owner", "_on_demand")

    def __init__(self, owner: str, on_demand: Callable[[int], None] | None = None) -> None:
        #: The current subscribers, an immutable snapshot.
        self.subscribers: tuple[Subscriber, ...] = ()
        #: The union of their bits.
        self.demand = 0
        #: What :meth:`route` found for each dispatch name it was asked for since the
        #: subscribers last changed: a cache, emptied (in place) on every change.
        self.routes: dict[str, tuple[DispatchMaker, EventType, tuple[Subscriber, ...]]] = {}
        self._owner = owner
        self._on_demand = on_demand

    def __len__(self) -> int:
        return len(self.subscribers)

    def add(
        self,
        flags: int,
        on_next: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        on_completed: Callable[[], None],
    ) -> Subscriber:
        """Subscribe; returns the handle :meth:`remove` takes."""
        sub = Subscriber(int(flags), on_next, on_error, on_completed)
        self.subscribers = (*self.subscribers, sub)
        self.routes.clear()
        self._set_demand(self.demand | sub.flags)
        return sub

    def remove(self, sub: Subscriber) -> None:
        """Unsubscribe ``sub`` (nothing if it already left); the demand shrinks to what
        the others still want."""
        if sub not in self.subscribers:
            return
        self.subscribers = tuple(s for s in self.subscribers if s is not sub)
        self.routes.clear()
        # A delivery already under way walks the old tuple: it must not reach ``sub``
        # any more (a subscriber disposed by another's callback gets nothing after).
        sub.on_next = _ignore
        demand = 0
        for other in self.subscribers:
            demand |= other.flags
        self._set_demand(demand)

    def deliver(self, bit: int, value: Any) -> None:
        """Hand ``value`` to every subscriber that wants ``bit``."""
        for sub in self.subscribers:
            if sub.flags & bit:
                try:
                    sub.on_next(value)
                except Exception as exc:
                    self._failed(sub, exc)

    def deliver_one(self, sub: Subscriber, value: Any) -> None:
        """Hand ``value`` to ``sub`` alone (a ``states`` subscriber's first value), with
        the same guard as :meth:`deliver`."""
        try:
            sub.on_next(value)
        except Exception as exc:
            self._failed(sub, exc)

    def route(self, name: str) -> tuple[DispatchMaker, EventType, tuple[Subscriber, ...]]:
        """``(make, type_, subscribers)`` for a dispatch called ``name``: what builds its
        event (``make(shard, sequence, name, d, type_)``, the event class or its
        compiled twin, see :func:`~rxgateway.events.base.dispatch_maker`), its
        :class:`~rxgateway.protocol.EventType`, and the subscribers that want it, in
        subscription order (empty: nobody does, build nothing).

        Kept in :attr:`routes` for the names the library knows, until the subscribers
        change, so the receive path tests no event-type bits per event: a bit past 62
        is a Python int of three digits, and each ``&`` on one makes a new object.

        Example::

            >>> from rxgateway.protocol import EventTypeFlags
            >>> fanout = Fanout("example")
            >>> sub = fanout.add(int(EventTypeFlags.MESSAGE_CREATE), print, print, print)
            >>> make, type_, subs = fanout.route("MESSAGE_CREATE")
            >>> type_.value, subs == (sub,)
            ('MESSAGE_CREATE', True)
            >>> type(make(ShardId(0, 1), 7, "MESSAGE_CREATE", {}, type_)).__name__
            'MessageCreate'
            >>> fanout.route("TYPING_START")[2]
            ()
        """
        route = self.routes.get(name)
        if route is None:
            bit, cls, type_ = _TABLE_GET(name, UNKNOWN_DISPATCH)
            route = (dispatch_maker(cls), type_, tuple(sub for sub in self.subscribers if sub.flags & bit))
            if name in DISPATCH_TABLE:  # not a name the gateway made up: the cache stays bounded
                self.routes[name] = route
        return route

    def dispatch(self, shard: ShardId, sequence: int | None, name: str, d: Any) -> None:
        """Build the typed event of a dispatch whose ``d`` is already parsed, and deliver
        it, if anyone wants its type. The receive loop's hot path: one :meth:`route`,
        one small object, one pass over the subscribers that want it."""
        make, type_, subscribers = self.routes.get(name) or self.route(name)
        if not subscribers:
            return
        event = make(shard, sequence, name, d, type_)
        for sub in subscribers:
            try:
                sub.on_next(event)
            except Exception as exc:
                self._failed(sub, exc)

    def payload(
        self,
        shard: ShardId,
        op: int,
        sequence: int | None,
        name: str | None,
        raw: bytes,
        data: dict[str, Any] | None,
        *,
        heartbeat_interval: float | None = None,
        latency: float | None = None,
    ) -> None:
        """Build and deliver the event of any received payload: a dispatch (``raw``
        parsed here when ``data`` is ``None`` and its type is wanted) or a gateway-level
        opcode (:func:`~rxgateway.events.build.gateway_event`). Nothing is parsed for a
        type nobody wants; a payload that does not parse becomes a
        :class:`~rxgateway.events.base.GatewayErrorEvent`."""
        try:
            if op == _DISPATCH:
                name = name or ""
                if not self.route(name)[2]:
                    return
                if data is None:
                    try:
                        data = orjson.loads(raw)
                    except orjson.JSONDecodeError as exc:
                        raise DeserializationError(f"dispatch {name} is not valid JSON", raw) from exc
                self.dispatch(shard, sequence, name, data.get("d"))
                return
            bit = OPCODE_BITS.get(op, 0)
            if not self.demand & bit:
                return
            event = gateway_event(shard, op, raw, data, heartbeat_interval=heartbeat_interval, latency=latency)
        except DeserializationError as error:
            self.error(shard, error)
            return
        if event is not None:
            self.deliver(bit, event)

    def error(self, shard: ShardId, error: GatewayError) -> None:
        """Deliver ``error`` as a :class:`~rxgateway.events.base.GatewayErrorEvent`."""
        if self.demand & _ERROR_BIT:
            self.deliver(_ERROR_BIT, GatewayErrorEvent(shard, error))

    def finish(self, error: Exception | None = None) -> None:
        """The source is over: every subscriber gets ``on_error(error)`` or
        ``on_completed()``, and leaves."""
        subscribers, self.subscribers = self.subscribers, ()
        self.routes.clear()
        self._set_demand(0)
        for sub in subscribers:
            sub.on_next = _ignore
            try:
                if error is not None:
                    sub.on_error(error)
                else:
                    sub.on_completed()
            except Exception:
                log.exception("%s: a subscriber raised on termination", self._owner)

    def failed(self, sub: Subscriber, exc: Exception) -> None:
        """``sub.on_next`` raised ``exc``: unsubscribe ``sub`` and tell it (for a
        caller that delivers inline, like the shard's receive loop)."""
        self._failed(sub, exc)

    def _failed(self, sub: Subscriber, exc: Exception) -> None:
        """A subscriber's bug must not reach the source: it is unsubscribed and told."""
        log.error("%s: a subscriber raised; it is unsubscribed", self._owner, exc_info=exc)
        self.remove(sub)
        try:
            sub.on_error(exc)
        except Exception:
            log.exception("%s: a subscriber's on_error raised", self._owner)

    def _set_demand(self, demand: int) -> None:
        if demand != self.demand:
            self.demand = demand
            if self._on_demand is not None:
                self._on_demand(demand)
