"""Gateway opcodes (GATEWAY.md §2.2).

Example::

    >>> OpCode.HEARTBEAT_ACK.is_received
    True
"""

from __future__ import annotations

import enum


class OpCode(enum.IntEnum):
    """The ``op`` field of every gateway payload."""

    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE_UPDATE = 3
    VOICE_STATE_UPDATE = 4
    RESUME = 6
    RECONNECT = 7
    REQUEST_GUILD_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11
    REQUEST_SOUNDBOARD_SOUNDS = 31
    REQUEST_CHANNEL_INFO = 43

    @property
    def is_received(self) -> bool:
        """Whether a client receives this opcode from the gateway."""
        return self in _RECEIVED

    @property
    def is_sent(self) -> bool:
        """Whether a client may send this opcode to the gateway."""
        return self in _SENT


_RECEIVED = frozenset(
    {
        OpCode.DISPATCH,
        OpCode.HEARTBEAT,
        OpCode.RECONNECT,
        OpCode.INVALID_SESSION,
        OpCode.HELLO,
        OpCode.HEARTBEAT_ACK,
    }
)
_SENT = frozenset(
    {
        OpCode.HEARTBEAT,
        OpCode.IDENTIFY,
        OpCode.PRESENCE_UPDATE,
        OpCode.VOICE_STATE_UPDATE,
        OpCode.RESUME,
        OpCode.REQUEST_GUILD_MEMBERS,
        OpCode.REQUEST_SOUNDBOARD_SOUNDS,
        OpCode.REQUEST_CHANNEL_INFO,
    }
)

#: Opcodes a client may send (GATEWAY.md §4.2: any other op is closed with 4001).
SENDABLE_OPCODES: frozenset[int] = frozenset(int(op) for op in _SENT)

#: The gateway API version this library speaks (GATEWAY.md §1.2).
API_VERSION = 10
