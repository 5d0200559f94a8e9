"""What travels on the bus: one dispatch, as the bytes the gateway sent, with the
metadata a consumer needs to rebuild the same event a local shard gives.

The payload is the inflated dispatch frame exactly as received
(``{"t":"MESSAGE_CREATE","s":42,"op":0,"d":{...}}``): the gateway side never parses
it. The metadata travels beside it (NATS headers, Redis stream fields): the shard
``[number, total]``, the session id, the sequence, the event type, the shard
generation (resharding) and when it was published.

Its **key** ``shard:session:sequence`` names one dispatch of one session: a resume
replays the same keys, so the broker stores each once (JetStream's ``Nats-Msg-Id``,
a ``SET NX`` on Redis) and a consumer drops what it has already handled.

Commands travel the other way: :func:`command_problem` is the one check both brokers
run on a command, when it is sent and again when the gateway side reads it from the
bus (never trusting the sender): an id, a shard, at most :data:`MAX_COMMAND_BYTES`
of JSON that is a gateway payload (an integer ``op``, not one of :data:`REFUSED_OPS`,
and a ``d``).

Example::

    >>> event = BusEvent(3, 16, "9f1c", 42, "MESSAGE_CREATE", b'{"t":"MESSAGE_CREATE","s":42,"op":0,"d":{}}')
    >>> event.key
    '3:9f1c:42'
    >>> BusEvent.from_fields(event.fields(), event.payload) == event
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import orjson

from ..protocol.opcode import OpCode

__all__ = ["COMMAND_ID", "MAX_COMMAND_BYTES", "REFUSED_OPS", "BusEvent", "check_event_name", "command_problem"]

#: The largest gateway payload Discord accepts (GATEWAY.md: 4096 bytes); a command
#: from the bus that is larger is refused before it reaches a shard.
MAX_COMMAND_BYTES: Final = 4096

#: Event names are upper-case words (they become NATS subject tokens and Redis keys).
_NAME = re.compile(r"^[A-Z0-9_]{1,64}$")

#: A command's id: it becomes a header value (NATS) and part of a key name (Redis).
COMMAND_ID: Final = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")

#: Opcodes a command from the bus may not carry: the shard's own (heartbeat, identify,
#: resume: an IDENTIFY on a live session makes Discord close it) and those only the
#: gateway sends. Any other (presence, voice state, member requests, and opcodes
#: Discord adds later) passes.
REFUSED_OPS: Final = frozenset(
    int(op)
    for op in (
        OpCode.DISPATCH, OpCode.HEARTBEAT, OpCode.IDENTIFY, OpCode.RESUME,
        OpCode.RECONNECT, OpCode.INVALID_SESSION, OpCode.HELLO, OpCode.HEARTBEAT_ACK,
    )
)  # fmt: skip


def check_event_name(name: str) -> str:
    """``name`` if it is a valid event type name, else ``ValueError``.

    Example::

        >>> check_event_name("MESSAGE_CREATE")
        'MESSAGE_CREATE'
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"not an event type name: {name!r}")
    return name


def command_problem(command_id: object, shard: object, data: bytes) -> str | None:
    """Why a command must not reach a shard, or ``None`` when it may: its id (see
    :data:`COMMAND_ID`), its shard (an integer >= 0) and its ``data`` (at most
    :data:`MAX_COMMAND_BYTES`, a JSON object with an integer ``op`` not in
    :data:`REFUSED_OPS`, and a ``d``). The reason names the size, never the content:
    it is logged and sent back to the sender.

    Example::

        >>> command_problem("c-1", 0, b'{"op":3,"d":{}}') is None
        True
        >>> command_problem("c-1", 0, b'{"op":2,"d":{"token":"..."}}')
        'op 2, which only the shard or the gateway sends'
    """
    if not isinstance(command_id, str) or not COMMAND_ID.match(command_id):
        return "a command id must be 1-128 letters, digits or '_.:-'"
    if isinstance(shard, bool) or not isinstance(shard, int) or shard < 0:
        return "the shard must be an integer >= 0"
    size = len(data)
    if size > MAX_COMMAND_BYTES:
        return f"a command of {size} bytes is over the gateway's {MAX_COMMAND_BYTES}-byte limit"
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return f"a command of {size} bytes that is not JSON"
    if not isinstance(payload, dict):
        return f"a command of {size} bytes that is not a JSON object"
    op = payload.get("op")
    if isinstance(op, bool) or not isinstance(op, int) or "d" not in payload:
        return f"a command of {size} bytes without an integer op and a d"
    if op in REFUSED_OPS:
        return f"op {op}, which only the shard or the gateway sends"
    return None


@dataclass(frozen=True, slots=True)
class BusEvent:
    """One dispatch on the bus: its origin, its type, and its bytes."""

    shard: int
    total: int
    session: str
    sequence: int
    name: str
    payload: bytes
    generation: int = 0
    #: ``time.time()`` when the gateway side queued it for publishing: as the shard
    #: handed the payload over, on receipt (the publisher's frame sink), so the
    #: publish lag (:class:`~rxgateway.bus.publisher.Publisher`) runs from arrival.
    published_at: float = field(default=0.0, compare=False)

    @property
    def key(self) -> str:
        """``shard:session:sequence``: the same dispatch always has the same key."""
        return f"{self.shard}:{self.session}:{self.sequence}"

    def fields(self) -> dict[str, str]:
        """The metadata as strings (NATS headers, Redis stream fields).

        Example::

            >>> BusEvent(0, 1, "s", 1, "READY", b"{}").fields()["key"]
            '0:s:1'
        """
        return {
            "key": self.key,
            "shard": str(self.shard),
            "total": str(self.total),
            "session": self.session,
            "sequence": str(self.sequence),
            "name": self.name,
            "generation": str(self.generation),
            "published_at": repr(self.published_at),
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, str], payload: bytes) -> BusEvent:
        """Rebuild from :meth:`fields`; ``ValueError`` when something is missing or
        wrong (a malformed message is refused, never half-read)."""
        try:
            event = cls(
                shard=int(fields["shard"]),
                total=int(fields["total"]),
                session=str(fields["session"]),
                sequence=int(fields["sequence"]),
                name=check_event_name(str(fields["name"])),
                payload=bytes(payload),
                generation=int(fields.get("generation", "0")),
                published_at=float(fields.get("published_at", "0")),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"a bus message without {exc}") from exc
        if not (0 <= event.shard < event.total) or event.sequence < 0 or not event.session:
            raise ValueError(f"a bus message with impossible metadata: {event.key} of {event.total}")
        return event
