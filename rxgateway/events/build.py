"""The tables and builders of events: which class each dispatch name becomes, and the
gateway-level events (Hello, Heartbeat ACK, op 1, op 7, op 9).

These are pure. Building and delivering happen in one place,
:class:`rxgateway.fanout.Fanout`, which the live shard and a replayed recording share,
so a replay emits exactly the events the live shard did: the envelope (``op``, ``s``,
``t``) is read first without parsing ``d``; the type's bit is checked against what
the subscribers want; only then is the payload parsed and handed to the class of its
``t`` as a thin typed view::

    bit, cls, type_ = DISPATCH_TABLE.get(name, UNKNOWN_DISPATCH)   # op 0; else OPCODE_BITS
    if wanted & bit:
        event = cls(shard, sequence, name, d, type_)
"""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import DeserializationError
from ..protocol.event_type import EventType, EventTypeFlags
from ..protocol.opcode import OpCode
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

__all__ = ["DISPATCH_TABLE", "UNKNOWN_DISPATCH", "gateway_event"]

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

_OP_HEARTBEAT = int(OpCode.HEARTBEAT)
_OP_RECONNECT = int(OpCode.RECONNECT)
_OP_INVALID_SESSION = int(OpCode.INVALID_SESSION)
_OP_HELLO = int(OpCode.HELLO)
_OP_HEARTBEAT_ACK = int(OpCode.HEARTBEAT_ACK)


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
