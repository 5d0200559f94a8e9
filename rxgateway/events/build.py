"""How a received payload becomes an event: the one construction path that the live
shard (:mod:`rxgateway.shard`) and a replayed recording (:mod:`rxgateway.replay`)
share, so a replay emits exactly the events the live shard did.

The steps are the live shard's: the envelope (``op``, ``s``, ``t``) is read first
without parsing ``d``; the caller checks the event type's bit against what its
subscribers want; only then is the payload parsed and handed to the class of its
``t`` (:data:`DISPATCH_TABLE`) as a thin typed view. These functions are the last
step. They are pure: the caller passes what only it knows (the machine's heartbeat
interval, the measured latency).

Both run the same three steps::

    bit, cls, type_ = DISPATCH_TABLE.get(name, UNKNOWN_DISPATCH)   # op 0; else OPCODE_BITS
    if wanted & bit:
        event = dispatch_event(shard, seq, name, raw, data, cls, type_)
"""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import DeserializationError
from ..protocol.event_type import EventType, EventTypeFlags
from ..protocol.shard_id import ShardId
from .base import (
    Dispatch,
    Event,
    GatewayHeartbeat,
    GatewayHeartbeatAck,
    GatewayHello,
    GatewayInvalidateSession,
    GatewayReconnect,
)
from .registry import DISPATCH_CLASSES
from .view import UnknownDispatch

__all__ = ["DISPATCH_TABLE", "UNKNOWN_DISPATCH", "dispatch_event", "gateway_event", "received_event"]

#: Per dispatch name: its flag bit, typed class and EventType, in one lookup per frame.
DISPATCH_TABLE: dict[str, tuple[int, type[Dispatch], EventType]] = {
    name: (int(EventTypeFlags[cls.type.name]), cls, cls.type) for name, cls in DISPATCH_CLASSES.items()
}
#: The entry of a name not in :data:`DISPATCH_TABLE` (and of a dispatch without ``t``).
UNKNOWN_DISPATCH: tuple[int, type[Dispatch], EventType] = (
    int(EventTypeFlags.UNKNOWN_DISPATCH),
    UnknownDispatch,
    EventType.UNKNOWN_DISPATCH,
)

_OP_DISPATCH = 0
_OP_HEARTBEAT = 1
_OP_RECONNECT = 7
_OP_INVALID_SESSION = 9
_OP_HELLO = 10
_OP_HEARTBEAT_ACK = 11


def dispatch_event(
    shard: ShardId,
    sequence: int | None,
    name: str,
    raw: bytes,
    data: dict[str, Any] | None,
    cls: type[Dispatch],
    type_: EventType,
) -> Dispatch:
    """The typed event of one op 0 payload, once its type is known to be wanted.

    ``cls`` and ``type_`` are the name's entry of :data:`DISPATCH_TABLE` (the caller
    looked it up for the bit); ``raw`` is the payload, ``data`` its parse when someone
    already made it (the machine parses READY), else ``None`` and ``raw`` is parsed
    here. Raises :class:`~rxgateway.errors.DeserializationError` (keeping ``raw`` as
    its ``payload``) when ``raw`` is not JSON.

    Example::

        >>> raw = b'{"op":0,"s":9,"t":"SOMETHING_NEW","d":{}}'
        >>> bit, cls, type_ = DISPATCH_TABLE.get("SOMETHING_NEW", UNKNOWN_DISPATCH)
        >>> dispatch_event(ShardId(1, 2), 9, "SOMETHING_NEW", raw, None, cls, type_)
        UnknownDispatch(shard=1, seq=9, name='SOMETHING_NEW', keys=[])
    """
    if data is None:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise DeserializationError(f"dispatch {name} is not valid JSON", raw) from exc
    return cls(shard, sequence, name, data.get("d"), type_)


def gateway_event(
    shard: ShardId,
    op: int,
    raw: bytes,
    data: dict[str, Any] | None,
    *,
    heartbeat_interval: float | None = None,
    latency: float | None = None,
) -> Event | None:
    """The gateway-level event of a payload with opcode ``op`` (not 0), or ``None``
    for an opcode a client is never sent.

    * op 10 Hello: ``heartbeat_interval`` in seconds when the caller knows it (the
      machine's), else read from the payload (``0.0`` when it is unusable);
    * op 11 Heartbeat ACK: ``latency``, the round trip in seconds if measured;
    * op 9 Invalid Session: ``resumable`` is ``d is true``;
    * op 1 and op 7 carry nothing.

    ``data`` is the parsed payload if the caller has it; otherwise op 9 and op 10
    parse ``raw`` (and may raise :class:`~rxgateway.errors.DeserializationError`).

    Example::

        >>> gateway_event(ShardId(0, 1), 9, b'{"op":9,"d":true}', None)
        GatewayInvalidateSession(shard=0, resumable=True)
    """
    if op == _OP_HEARTBEAT_ACK:
        return GatewayHeartbeatAck(shard, latency)
    if op == _OP_HEARTBEAT:
        return GatewayHeartbeat(shard)
    if op == _OP_RECONNECT:
        return GatewayReconnect(shard)
    if op == _OP_HELLO:
        if heartbeat_interval is None:
            heartbeat_interval = _interval(_parsed(raw, data))
        return GatewayHello(shard, heartbeat_interval)
    if op == _OP_INVALID_SESSION:
        return GatewayInvalidateSession(shard, _parsed(raw, data).get("d") is True)
    return None


def received_event(
    shard: ShardId, op: int, sequence: int | None, name: str | None, raw: bytes, data: dict[str, Any] | None
) -> Event | None:
    """Any received payload as its event, whatever its type: the two functions above
    with the table lookup in front (no latency is known; Hello's interval is read
    from the payload). Raises :class:`~rxgateway.errors.DeserializationError`.

    Example::

        >>> raw = b'{"op":0,"s":5,"t":"MESSAGE_CREATE","d":{"id":"1"}}'
        >>> e = received_event(ShardId(0, 1), 0, 5, "MESSAGE_CREATE", raw, None)
        >>> type(e).__name__, e.sequence, e.raw
        ('MessageCreate', 5, {'id': '1'})
        >>> received_event(ShardId(0, 1), 10, None, None, b'{"op":10,"d":{"heartbeat_interval":41250}}', None)
        GatewayHello(shard=0, heartbeat_interval=41.25)
    """
    if op == _OP_DISPATCH:
        name = name or ""
        _, cls, type_ = DISPATCH_TABLE.get(name, UNKNOWN_DISPATCH)
        return dispatch_event(shard, sequence, name, raw, data, cls, type_)
    return gateway_event(shard, op, raw, data)


def _parsed(raw: bytes, data: dict[str, Any] | None) -> dict[str, Any]:
    if data is not None:
        return data
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DeserializationError("gateway payload is not valid JSON", raw) from exc
    if not isinstance(parsed, dict):
        raise DeserializationError("gateway payload is not a JSON object", raw)
    return parsed


def _interval(data: dict[str, Any]) -> float:
    """Hello's ``d.heartbeat_interval`` in seconds; ``0.0`` when it is missing or unusable."""
    d = data.get("d")
    interval_ms = d.get("heartbeat_interval") if isinstance(d, dict) else None
    if isinstance(interval_ms, bool) or not isinstance(interval_ms, (int, float)) or interval_ms <= 0:
        return 0.0
    return interval_ms / 1000.0
