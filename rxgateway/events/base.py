"""The event classes every shard emits: a base, the generic dispatch view, and the
gateway-level events (hello, heartbeats, reconnect, invalid session, close, state
changes, receive errors).

Events are thin: a few slots, nothing parsed that was not asked for. A dispatch keeps
the parsed ``d`` dict as :attr:`Dispatch.raw`; typed subclasses read fields from it on
access.

Example::

    shard.pipe(on(EventTypeFlags.GATEWAY_CLOSE)).subscribe(lambda e: print(e.code))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from ..errors import GatewayError
from ..machine.state import ShardState
from ..protocol import _extension
from ..protocol.event_type import EventType
from ..protocol.shard_id import ShardId


class Event:
    """Something a shard saw. ``shard`` is the shard's id; ``sequence`` the dispatch
    sequence number (``None`` for gateway-level events)."""

    __slots__ = ("shard",)

    type: ClassVar[EventType]

    def __init__(self, shard: ShardId) -> None:
        self.shard = shard

    @property
    def sequence(self) -> int | None:
        """The dispatch sequence number, ``None`` for gateway-level events."""
        return None

    def _fields(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        fields = "".join(f", {k}={v!r}" for k, v in self._fields().items())
        return f"{type(self).__name__}(shard={self.shard.number}{fields})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class Dispatch(Event):
    """An op 0 dispatch. ``raw`` is its ``d`` (a dict for every documented event),
    ``name`` its ``t``. Typed subclasses (``MessageCreate`` ...) add properties."""

    __slots__ = ("_sequence", "raw", "name", "_type")

    def __init__(self, shard: ShardId, sequence: int | None, name: str, raw: Any, type_: EventType) -> None:
        self.shard = shard
        self._sequence = sequence
        self.name = name
        self.raw = raw
        self._type = type_

    @property
    def type(self) -> EventType:  # type: ignore[override]
        """The event type (``EventType.UNKNOWN_DISPATCH`` for unknown names)."""
        return self._type

    @property
    def sequence(self) -> int | None:
        return self._sequence

    def _fields(self) -> dict[str, Any]:
        return {"sequence": self._sequence, "name": self.name}


#: The slots :meth:`Dispatch.__init__` stores its arguments in, in its arguments' order.
_DISPATCH_SLOTS = ("shard", "_sequence", "name", "raw", "_type")
#: What builds a dispatch: ``(shard, sequence, name, raw, type_)`` -> the event.
DispatchMaker = Callable[[ShardId, int | None, str, Any, EventType], Dispatch]
_makers: dict[type[Dispatch], DispatchMaker] = {}


_compiled = _extension.load()
_EventMaker: Callable[[type, tuple[str, ...]], Any] | None = None if _compiled is None else _compiled.EventMaker


def dispatch_maker(cls: type[Dispatch]) -> DispatchMaker:
    """What the receive path calls to build ``cls``'s events: ``cls`` itself, or a
    compiled twin of it where the optional extension ``rxgateway.protocol._cprobe`` is
    built (as for :data:`~rxgateway.protocol.envelope.compiled_probe_dispatch`).

    The twin stores the five arguments in the slots :meth:`Dispatch.__init__` stores
    them in, in one C call, without running ``__init__``: the same object, for about a
    third of the instructions. It is made only for a class that keeps
    :meth:`Dispatch.__init__` and ``object``'s ``__new__``; any other class is its own
    maker. One maker per class, made on first use.

    Example::

        >>> from rxgateway.events import MessageCreate
        >>> from rxgateway.protocol import ShardId
        >>> from rxgateway.protocol.event_type import EventType
        >>> make = dispatch_maker(MessageCreate)
        >>> event = make(ShardId(0, 1), 7, "MESSAGE_CREATE", {"content": "hi"}, EventType.MESSAGE_CREATE)
        >>> type(event).__name__, event.sequence, event.content
        ('MessageCreate', 7, 'hi')
    """
    maker = _makers.get(cls)
    if maker is None:
        maker = cls
        if _EventMaker is not None and cls.__init__ is Dispatch.__init__ and cls.__new__ is object.__new__:
            maker = _EventMaker(cls, _DISPATCH_SLOTS)
        _makers[cls] = maker
    return maker


class GatewayHello(Event):
    """Hello (op 10): the gateway greeted the shard."""

    __slots__ = ("heartbeat_interval",)
    type = EventType.GATEWAY_HELLO

    def __init__(self, shard: ShardId, heartbeat_interval: float) -> None:
        self.shard = shard
        #: Seconds between heartbeats.
        self.heartbeat_interval = heartbeat_interval

    def _fields(self) -> dict[str, Any]:
        return {"heartbeat_interval": self.heartbeat_interval}


class GatewayHeartbeat(Event):
    """The gateway asked for an immediate heartbeat (op 1); the shard sent one."""

    __slots__ = ()
    type = EventType.GATEWAY_HEARTBEAT


class GatewayHeartbeatAck(Event):
    """A heartbeat was acknowledged (op 11). ``latency`` is the round trip in seconds,
    or ``None`` for an ACK no beat asked for."""

    __slots__ = ("latency",)
    type = EventType.GATEWAY_HEARTBEAT_ACK

    def __init__(self, shard: ShardId, latency: float | None) -> None:
        self.shard = shard
        self.latency = latency

    def _fields(self) -> dict[str, Any]:
        return {"latency": self.latency}


class GatewayReconnect(Event):
    """The gateway asked the shard to reconnect and resume (op 7)."""

    __slots__ = ()
    type = EventType.GATEWAY_RECONNECT


class GatewayInvalidateSession(Event):
    """The session is invalid (op 9); ``resumable`` is its ``d``."""

    __slots__ = ("resumable",)
    type = EventType.GATEWAY_INVALIDATE_SESSION

    def __init__(self, shard: ShardId, resumable: bool) -> None:
        self.shard = shard
        self.resumable = resumable

    def _fields(self) -> dict[str, Any]:
        return {"resumable": self.resumable}


class GatewayClose(Event):
    """A connection ended. ``code`` is ``None`` when no close frame was exchanged (a
    dropped link, shown as 1006); ``initiator`` is ``"server"``, ``"client"`` or
    ``"transport"``."""

    __slots__ = ("code", "reason", "initiator")
    type = EventType.GATEWAY_CLOSE

    def __init__(self, shard: ShardId, code: int | None, reason: str, initiator: str) -> None:
        self.shard = shard
        self.code = code
        self.reason = reason
        self.initiator = initiator

    def _fields(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, "initiator": self.initiator}


class ShardStateChanged(Event):
    """The shard moved from ``old`` to ``new``."""

    __slots__ = ("old", "new")
    type = EventType.SHARD_STATE_CHANGED

    def __init__(self, shard: ShardId, old: ShardState, new: ShardState) -> None:
        self.shard = shard
        self.old = old
        self.new = new

    def _fields(self) -> dict[str, Any]:
        return {"old": str(self.old), "new": str(self.new)}


class GatewayErrorEvent(Event):
    """A recoverable receive error (bad compression, undecodable JSON, an unknown
    opcode); the shard carried on or resumed. ``error`` says why."""

    __slots__ = ("error",)
    type = EventType.GATEWAY_ERROR

    def __init__(self, shard: ShardId, error: GatewayError) -> None:
        self.shard = shard
        self.error = error

    def _fields(self) -> dict[str, Any]:
        return {"error": self.error}
