"""Sessions as the server keeps them: what survives a dropped connection (GATEWAY.md
§3.6, §3.9, §12.7). (A client's view of its session is :class:`rxgateway.Session`.)

A :class:`ServerSession` holds its bot, intents, shard, sequence counter and a replay
buffer of the dispatches it was sent. It lives while a connection is attached; once
detached it can be resumed for the resume window, and events routed to it meanwhile
are buffered. The buffer holds the last ``replay_buffer_length`` dispatches (``None``:
all of them), so a Resume after a long outage replays a backlog of any length that fits.

The sequence starts at 1 (READY) and grows by one per dispatch, RESUMED included
(§3.5, §3.6 [EMU]). A dispatch's envelope is built here, keys in the order Discord's
gateway sends them: ``{"t":…,"s":…,"op":0,"d":…}``.

Example::

    session = store.create(account, identify)
    session.push(OutgoingDispatch.build("USER_UPDATE", {...}))   # s = 1, buffered, sent if attached
    session.frames_after(0)                  # -> [b'{"t":"USER_UPDATE","s":1,...}']
"""

from __future__ import annotations

import itertools
import uuid
from collections import deque
from collections.abc import Iterator
from typing import Any, Protocol

from ..protocol import Intents, ShardId
from .accounts import BotAccount
from .dispatch import OutgoingDispatch
from .faults import DispatchFaultPlan


class Outlet(Protocol):
    """Where an attached session's dispatches go: its connection."""

    def send_dispatch(self, seq: int, frame: bytes) -> None: ...

    async def drained(self) -> None:
        """Return once the outlet's backlog is low again (a feeder's back-pressure)."""
        ...


class ServerSession:
    """One gateway session on the server's side (§12.7: session_id → token, intents,
    shard, seq, buffer, expiry)."""

    __slots__ = (
        "account", "bot_id", "buffer", "connection", "dispatch_fault_plan", "dispatch_faults_fired", "expires_at",
        "id", "intents", "large_threshold", "presence", "reads_content", "seq", "shard",
    )  # fmt: skip

    def __init__(
        self, account: BotAccount, intents: int, shard: ShardId, large_threshold: int, replay_length: int | None
    ) -> None:
        self.id = uuid.uuid4().hex
        self.account = account
        self.bot_id = account.user.id
        self.intents = intents
        self.reads_content = bool(intents & Intents.MESSAGE_CONTENT)
        self.shard = shard
        self.large_threshold = large_threshold
        self.presence: dict[str, Any] | None = None
        self.seq = 0
        self.buffer: deque[bytes] = deque(maxlen=replay_length)
        self.connection: Outlet | None = None
        #: When a detached session stops being resumable (``None`` while attached).
        self.expires_at: float | None = None
        #: Faults the dispatch count fired on this session's connections so far under
        #: ``dispatch_fault_plan`` (the position in its cycle, see
        #: :class:`~.faults.DispatchFaultPlan`); a new plan starts its cycle afresh.
        self.dispatch_fault_plan: DispatchFaultPlan | None = None
        self.dispatch_faults_fired = 0

    def push(self, dispatch: OutgoingDispatch) -> None:
        """Deliver ``dispatch`` if this session's intents allow it: number it, buffer
        it for replay, and hand it to the connection if one is attached."""
        needed = dispatch.intents
        if needed and not needed & self.intents and dispatch.self_member != self.bot_id:
            return
        data = dispatch.data
        exempt = dispatch.content_exempt
        if exempt is not None and not self.reads_content and self.bot_id not in exempt:
            data = dispatch.blanked()
        self.seq = seq = self.seq + 1
        frame = b'{"t":"%b","s":%d,"op":0,"d":%b}' % (dispatch.t_bytes, seq, data)
        self.buffer.append(frame)
        if self.connection is not None:
            self.connection.send_dispatch(seq, frame)

    def can_replay_from(self, seq: int) -> bool:
        """Whether every dispatch after ``seq`` is still in the replay buffer."""
        return self.seq - len(self.buffer) <= seq

    def frames_after(self, seq: int) -> list[bytes]:
        """The buffered dispatches with a sequence above ``seq``, in order."""
        missed = self.seq - seq
        return list(itertools.islice(self.buffer, len(self.buffer) - missed, None)) if missed > 0 else []


class SessionStore:
    """Every live session, and the shard index that routes guild events to them."""

    def __init__(self, resume_window_s: float, replay_length: int | None) -> None:
        self._resume_window_s = resume_window_s
        self._replay_length = replay_length
        self._sessions: dict[str, ServerSession] = {}
        #: num_shards -> shard number -> sessions (§6.1: each session routes by its own count).
        self._index: dict[int, dict[int, list[ServerSession]]] = {}

    def __iter__(self) -> Iterator[ServerSession]:
        return iter(list(self._sessions.values()))

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, session: object) -> bool:
        """Whether ``session`` is still alive (not deleted)."""
        return isinstance(session, ServerSession) and self._sessions.get(session.id) is session

    def create(self, account: BotAccount, intents: int, shard: ShardId, large_threshold: int) -> ServerSession:
        session = ServerSession(account, intents, shard, large_threshold, self._replay_length)
        self._sessions[session.id] = session
        self._index.setdefault(shard.total, {}).setdefault(shard.number, []).append(session)
        return session

    def get(self, session_id: str, now: float) -> ServerSession | None:
        """The session, unless it is unknown, deleted or expired."""
        session = self._sessions.get(session_id)
        if session is not None and session.expires_at is not None and now >= session.expires_at:
            self.delete(session)
            return None
        return session

    def detach(self, session: ServerSession, now: float) -> None:
        """The connection went away without 1000/1001: resumable until the window ends."""
        session.connection = None
        session.expires_at = now + self._resume_window_s

    def delete(self, session: ServerSession) -> None:
        """Forget ``session`` (client close 1000/1001, op 9 d:false, expiry)."""
        if self._sessions.pop(session.id, None) is not None:
            by_number = self._index[session.shard.total]
            by_number[session.shard.number].remove(session)
            if not by_number[session.shard.number]:
                del by_number[session.shard.number]
            if not by_number:
                del self._index[session.shard.total]

    def sweep(self, now: float) -> None:
        """Delete every detached session whose resume window has passed."""
        for session in list(self._sessions.values()):
            if session.expires_at is not None and now >= session.expires_at:
                self.delete(session)

    def route(self, dispatch: OutgoingDispatch) -> None:
        """Push ``dispatch`` to every session whose shard owns its guild (shard 0 when
        it has none), each session judged by its own ``num_shards`` (§6.1)."""
        guild_id = dispatch.guild_id
        for total, by_number in self._index.items():
            number = 0 if guild_id is None else (guild_id >> 22) % total
            for session in by_number.get(number, ()):
                session.push(dispatch)
