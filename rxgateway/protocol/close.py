"""Close codes (GATEWAY.md §4) and the close frames a client sends (§3.9).

Every code the gateway uses has a :class:`CloseAction`: what a client does next.

Example::

    >>> CloseCode.SESSION_TIMED_OUT.action
    <CloseAction.REIDENTIFY: 'reidentify'>
    >>> close_action(1006)
    <CloseAction.RESUME: 'resume'>
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar


class CloseAction(enum.Enum):
    """What a client does after the gateway closed its connection with a code."""

    #: Reconnect to ``resume_gateway_url`` and send Resume (op 6); the session is kept.
    RESUME = "resume"
    #: Reconnect to the cached gateway URL and Identify (op 2); the session is dropped.
    REIDENTIFY = "reidentify"
    #: Do not reconnect: the shard ends with a fatal error.
    FATAL = "fatal"


class CloseCode(enum.IntEnum):
    """The gateway's application close codes (GATEWAY.md §4.1). There is no 4006."""

    UNKNOWN_ERROR = 4000
    UNKNOWN_OPCODE = 4001
    DECODE_ERROR = 4002
    NOT_AUTHENTICATED = 4003
    AUTHENTICATION_FAILED = 4004
    ALREADY_AUTHENTICATED = 4005
    INVALID_SEQUENCE = 4007
    RATE_LIMITED = 4008
    SESSION_TIMED_OUT = 4009
    INVALID_SHARD = 4010
    SHARDING_REQUIRED = 4011
    INVALID_API_VERSION = 4012
    INVALID_INTENTS = 4013
    DISALLOWED_INTENTS = 4014

    @property
    def action(self) -> CloseAction:
        """What the client does next (GATEWAY.md §3.10)."""
        return _ACTIONS[self]

    @property
    def is_fatal(self) -> bool:
        """True for 4004 and 4010–4014: reconnecting cannot help."""
        return _ACTIONS[self] is CloseAction.FATAL


_ACTIONS: dict[CloseCode, CloseAction] = {
    CloseCode.UNKNOWN_ERROR: CloseAction.RESUME,
    CloseCode.UNKNOWN_OPCODE: CloseAction.RESUME,
    CloseCode.DECODE_ERROR: CloseAction.RESUME,
    # 4003: "the session was invalidated" - the session is gone, start anew.
    CloseCode.NOT_AUTHENTICATED: CloseAction.REIDENTIFY,
    CloseCode.AUTHENTICATION_FAILED: CloseAction.FATAL,
    CloseCode.ALREADY_AUTHENTICATED: CloseAction.RESUME,
    # 4007 and 4009 mean the session cannot continue. twilight keeps the session and
    # pays an extra round trip (a doomed Resume answered by op 9); we drop it at once.
    CloseCode.INVALID_SEQUENCE: CloseAction.REIDENTIFY,
    CloseCode.RATE_LIMITED: CloseAction.RESUME,
    CloseCode.SESSION_TIMED_OUT: CloseAction.REIDENTIFY,
    CloseCode.INVALID_SHARD: CloseAction.FATAL,
    CloseCode.SHARDING_REQUIRED: CloseAction.FATAL,
    CloseCode.INVALID_API_VERSION: CloseAction.FATAL,
    CloseCode.INVALID_INTENTS: CloseAction.FATAL,
    CloseCode.DISALLOWED_INTENTS: CloseAction.FATAL,
}

#: The codes that end a shard for good.
FATAL_CLOSE_CODES: frozenset[int] = frozenset(int(c) for c, a in _ACTIONS.items() if a is CloseAction.FATAL)


def close_action(code: int | None) -> CloseAction:
    """What a client does after the gateway closed with ``code``.

    ``None`` (no close frame: a dropped TCP connection, 1006) and any code outside
    the gateway's table, server-sent 1000/1001 included (GATEWAY.md §4.1 note), mean
    "reconnect and try to resume": a failed resume falls back to Identify on op 9.
    """
    if code is None:
        return CloseAction.RESUME
    try:
        return CloseCode(code).action
    except ValueError:
        return CloseAction.RESUME


@dataclass(frozen=True, slots=True)
class CloseFrame:
    """A close frame a client sends.

    Codes 1000 and 1001 end the session server-side at once (the bot shows offline);
    any other code keeps it resumable for a while (GATEWAY.md §3.9).

    Example::

        shard.close(CloseFrame.NORMAL)    # shut down for good
        shard.close(CloseFrame.RESUME)    # keep the session, e.g. to persist it
    """

    code: int
    reason: str = ""

    NORMAL: ClassVar[CloseFrame]
    RESUME: ClassVar[CloseFrame]

    def __post_init__(self) -> None:
        if not isinstance(self.code, int) or isinstance(self.code, bool):
            raise TypeError(f"close code must be an int, got {type(self.code).__name__}")
        # RFC 6455 §7.4: 1000-1003, 1007-1014 and 3000-4999 may be sent in a close frame.
        if not (1000 <= self.code <= 1003 or 1007 <= self.code <= 1014 or 3000 <= self.code <= 4999):
            raise ValueError(f"close code {self.code} cannot be sent in a close frame (RFC 6455 §7.4)")
        if not isinstance(self.reason, str):
            raise TypeError(f"close reason must be a str, got {type(self.reason).__name__}")
        if len(self.reason.encode()) > 123:
            raise ValueError("a close reason is at most 123 bytes (RFC 6455 §5.5)")

    @property
    def keeps_session(self) -> bool:
        """False for 1000/1001, which invalidate the session; True otherwise."""
        return self.code not in (1000, 1001)


CloseFrame.NORMAL = CloseFrame(1000, "closing connection")
CloseFrame.RESUME = CloseFrame(4000, "resuming connection")
