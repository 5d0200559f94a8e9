"""The emulator's journal of each client: what it saw and did, as plain dataclasses
that tests query (``emu.record``). A recording of what a *client* received is
:mod:`rxgateway.record`'s business, not this module's.

Times are ``time.monotonic()`` seconds. One :class:`ConnectionRecord` per websocket,
one :class:`Violation` per rule a client broke (empty when clients behave).

Example::

    conn = emu.record.connections[-1]
    assert [i.bucket for i in conn.identifies] == [0]
    assert conn.close_sent == 4008
    assert not emu.violations
"""

from __future__ import annotations

import enum
from array import array
from dataclasses import dataclass, field
from typing import Any

from ..protocol import ShardId
from .faults import Fault


class ViolationKind(enum.Enum):
    """A rule of GATEWAY.md a client broke."""

    DECODE_ERROR = "decode_error"  # 4002: not JSON, not an object
    OVERSIZED_PAYLOAD = "oversized_payload"  # 4002: over 4096 bytes
    UNKNOWN_OPCODE = "unknown_opcode"  # 4001
    INVALID_PAYLOAD = "invalid_payload"  # 4001: bad ``d`` for a known op
    NOT_AUTHENTICATED = "not_authenticated"  # 4003: payload before Identify/Resume
    AUTHENTICATION_FAILED = "authentication_failed"  # 4004
    ALREADY_AUTHENTICATED = "already_authenticated"  # 4005
    INVALID_SEQUENCE = "invalid_sequence"  # 4007
    RATE_LIMITED = "rate_limited"  # 4008: over 120 payloads per 60 s
    INVALID_SHARD = "invalid_shard"  # 4010
    SHARDING_REQUIRED = "sharding_required"  # 4011
    INVALID_API_VERSION = "invalid_api_version"  # 4012
    INVALID_INTENTS = "invalid_intents"  # 4013
    DISALLOWED_INTENTS = "disallowed_intents"  # 4014
    IDENTIFY_CONCURRENCY = "identify_concurrency"  # op 9: a bucket identified twice in 5 s
    SESSION_START_LIMIT = "session_start_limit"  # the daily budget ran out
    MISSED_HEARTBEAT = "missed_heartbeat"  # no heartbeat within interval x 1.5
    PRESENCE_RATE_LIMITED = "presence_rate_limited"  # over 5 presence updates per 20 s
    MEMBERS_RATE_LIMITED = "members_rate_limited"  # all-members request within 30 s
    MEMBERS_INTENT_MISSING = "members_intent_missing"  # all members without GUILD_MEMBERS
    WRONG_SHARD = "wrong_shard"  # a guild request sent on a shard that does not own the guild


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: what, on which connection, when, and the close code it earned."""

    kind: ViolationKind
    connection_id: int
    time: float
    detail: str
    close_code: int | None = None
    shard: ShardId | None = None


@dataclass(frozen=True, slots=True)
class PayloadRecord:
    """A client payload as received: ``op`` is ``None`` if it could not be decoded."""

    time: float
    op: int | None
    size: int


@dataclass(slots=True)
class HeartbeatRecord:
    """A client heartbeat (op 1) and when it was acknowledged (``None``: never)."""

    time: float
    seq: int | None
    acked_at: float | None = None


@dataclass(frozen=True, slots=True)
class IdentifyRecord:
    """An Identify: ``accepted`` is False when it was refused (op 9 or a close)."""

    time: float
    shard: ShardId
    bucket: int
    intents: int
    token_prefixed: bool
    accepted: bool
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class ResumeRecord:
    """A Resume: how many dispatches it replayed, or why it failed.

    ``displaced`` is the id of a connection that still held the session when this
    Resume took it (Discord, like the emulator, closes that one): two live
    connections for one session, which a cluster handing shards over must never
    cause. ``None`` when the session was free."""

    time: float
    session_id: str
    seq: int
    accepted: bool
    replayed: int = 0
    displaced: int | None = None


@dataclass(frozen=True, slots=True)
class DispatchFaultRecord:
    """A fault fired by the dispatch count (``fault_every_dispatches``): when, which,
    after how many dispatches this connection had written (since the plan was set),
    and the sequence number of the last of them (the last one the client can have)."""

    time: float
    fault: Fault
    written: int
    seq: int


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A gateway command (op 3, 4, 8, 31, 43) and who sent it."""

    time: float
    connection_id: int
    shard: ShardId | None
    op: int
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Note:
    """Something a client sent that Discord accepts but GATEWAY.md does not describe
    (the legacy ``game`` key of a presence, a ``null`` status, ...): the emulator
    accepted it, read it as written in ``detail``, and noted it here instead of
    closing the connection."""

    time: float
    connection_id: int
    shard: ShardId | None
    op: int
    detail: str


@dataclass(frozen=True, slots=True)
class RestCall:
    """A REST request a client made under ``/api/v10``: ``path`` is relative to that
    base (``"/channels/123/messages"``), ``json`` the decoded body (``None`` without
    one, or when it was not JSON) and ``status`` the emulator's answer. The
    ``Authorization`` header (the token) is never kept."""

    time: float
    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message a bot created over REST (``POST /channels/{id}/messages``)."""

    time: float
    channel_id: int
    content: str
    payload: dict[str, Any]


@dataclass(slots=True)
class ReplayRecord:
    """A recording served to one session (``--replay``): how much of it, and why it
    stopped (``ended``: ``"recording ended"``, ``"session ended"``, ``"emulator
    stopped"``; ``None`` while it runs)."""

    started_at: float
    session_id: str
    shard: ShardId
    #: ``"shard"`` or ``"guild"`` (see :mod:`.playback`).
    route: str
    #: Dispatches of the recording meant for this session.
    scheduled: int
    sent: int = 0
    finished_at: float | None = None
    ended: str | None = None


@dataclass(slots=True)
class ConnectionRecord:
    """Everything about one websocket connection.

    ``sequences`` lists the dispatch sequence numbers handed to this connection for
    sending, in order, replays included (also those a close later dropped from its
    queue: ``dispatch_faults[-1].seq`` is the last one written before such a fault).
    ``ops_sent`` lists ``(time, op)`` of every non-dispatch payload sent (Hello, ACKs,
    op 7, op 9, heartbeat requests).
    """

    id: int
    path: str
    query: dict[str, str]
    compression: str | None
    opened_at: float
    shard: ShardId | None = None
    session_id: str | None = None
    closed_at: float | None = None
    #: The code the emulator closed with; ``None`` if it did not close first.
    close_sent: int | None = None
    #: The code of the client's close frame; ``None`` if it sent none.
    close_received: int | None = None
    #: True when the emulator dropped the TCP connection without a close frame.
    dropped: bool = False
    identifies: list[IdentifyRecord] = field(default_factory=list)
    resumes: list[ResumeRecord] = field(default_factory=list)
    payloads: list[PayloadRecord] = field(default_factory=list)
    heartbeats: list[HeartbeatRecord] = field(default_factory=list)
    commands: list[CommandRecord] = field(default_factory=list)
    sequences: array[int] = field(default_factory=lambda: array("q"))
    ops_sent: list[tuple[float, int]] = field(default_factory=list)
    #: Faults fired by the dispatch count, in order (see :class:`DispatchFaultRecord`).
    dispatch_faults: list[DispatchFaultRecord] = field(default_factory=list)
    #: Sequence numbers of the dispatches sent corrupt (the corrupt_dispatch fault).
    corrupted: list[int] = field(default_factory=list)

    def max_payloads_in(self, window_s: float = 60.0) -> int:
        """The most payloads received within any ``window_s`` (the quantity 4008 limits)."""
        times = [p.time for p in self.payloads]
        best = start = 0
        for end, t in enumerate(times):
            while t - times[start] >= window_s:
                start += 1
            best = max(best, end - start + 1)
        return best

    def payloads_per_minute(self) -> list[int]:
        """Payload counts for each minute since the connection opened."""
        counts: list[int] = []
        for p in self.payloads:
            minute = int((p.time - self.opened_at) // 60)
            counts.extend([0] * (minute + 1 - len(counts)))
            counts[minute] += 1
        return counts


@dataclass(slots=True)
class Record:
    """The emulator's whole record. ``violations`` is empty when every client behaved."""

    connections: list[ConnectionRecord] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    commands: list[CommandRecord] = field(default_factory=list)
    messages: list[SentMessage] = field(default_factory=list)
    #: Every REST request under ``/api/v10``, answered or not (unknown routes get 404).
    rest_calls: list[RestCall] = field(default_factory=list)
    #: What the emulator accepted leniently (see :class:`Note`); empty when every
    #: payload was exactly as GATEWAY.md describes.
    notes: list[Note] = field(default_factory=list)
    #: One per session a recording was served to (``--replay``).
    replays: list[ReplayRecord] = field(default_factory=list)

    def for_shard(self, number: int) -> list[ConnectionRecord]:
        """The connections that identified or resumed as shard ``number``."""
        return [c for c in self.connections if c.shard is not None and c.shard.number == number]

    def identifies(self) -> list[IdentifyRecord]:
        """Every Identify on every connection, in time order."""
        return sorted((i for c in self.connections for i in c.identifies), key=lambda i: i.time)

    def resumes(self) -> list[ResumeRecord]:
        """Every Resume on every connection, in time order."""
        return sorted((r for c in self.connections for r in c.resumes), key=lambda r: r.time)
