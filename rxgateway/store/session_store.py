"""The session store contract: where shards keep what they need to resume after a
process restart (reference/scaling.md §3.3).

A shard whose config names a store (``Config(session_store=...)``) loads its record
when it starts and resumes instead of identifying; it saves the session when it
becomes Active and at each heartbeat, saves it for good when closed with
``CloseFrame.RESUME``, and deletes it when the session ends (``CloseFrame.NORMAL``, a
fatal close, an Invalid Session that cannot be resumed). See :mod:`rxgateway.shard`.

A :class:`SessionRecord` holds the session id, the last sequence, the resume URL and
the shard's ``[number, total]``; never the token. A record saved for another shard
total is never resumed: Discord routes guilds by ``guild_id >> 22 % total``, so a
session of another total carries other guilds (discord.js checks the same).

Writes are batched: :meth:`SessionStore.save` may only buffer the record, replacing
the one the same shard buffered before; the store writes what is pending at most
once per ``interval`` and on :meth:`SessionStore.flush`. A stale sequence costs only
a longer replay on resume, so nothing is written per dispatch.

Example::

    >>> import asyncio
    >>> from rxgateway.store import MemorySessionStore
    >>> async def demo() -> int | None:
    ...     store = MemorySessionStore()
    ...     await store.save(SessionRecord.now(ShardId(0, 2), Session("9f1c", 41), "wss://r.example"))
    ...     record = await store.load(ShardId(0, 2))
    ...     other_total = await store.load(ShardId(0, 4))      # never resumed
    ...     return record.session.sequence if record and other_total is None else None
    >>> asyncio.run(demo())
    41
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable
from urllib.parse import urlsplit

from ..machine.session import Session
from ..protocol.shard_id import MAX_TOTAL, ShardId

__all__ = ["SAVE_INTERVAL", "SESSION_MAX_AGE", "SessionRecord", "SessionStore", "default_owner", "supersedes"]

#: Seconds a saved record stays usable (the Redis TTL; older records are not loaded).
#: Discord keeps a dropped session resumable for "a few minutes" (GATEWAY.md §3.9, no
#: number given), counted from when the connection ended; the last save before that
#: may be one heartbeat (~41 s) plus one batch interval earlier. Ten minutes covers
#: both with room to spare; a record a little too old costs one refused Resume (op 9),
#: then an Identify, which is what its absence would cost anyway.
SESSION_MAX_AGE: Final = 600.0

#: Seconds between two batched writes of a store (the most a record waits to be
#: written after a save). One write per second per store, whatever the number of
#: shards or events: a thousand shards beating every 41 s make ~25 saves a second,
#: written as one batch.
SAVE_INTERVAL: Final = 1.0

_owner: list[str] = []


def default_owner() -> str:
    """``host:pid`` of this process: what a record's ``owner`` says by default, so an
    operator can tell which process saved it.

    Example::

        >>> default_owner().endswith(f":{os.getpid()}")
        True
    """
    if not _owner:
        _owner.append(f"{socket.gethostname()}:{os.getpid()}")
    return _owner[0]


def _check_url(url: object) -> str | None:
    """What is wrong with ``url`` as a resume URL, if anything."""
    if not isinstance(url, str):
        return f"resume_url must be a string or null, got {type(url).__name__}"
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        return f"resume_url must be a ws:// or wss:// URL with a host, got {url[:100]!r}"
    return None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """What a shard saves to resume later: its ``[number, total]``, the session (id and
    last sequence), the session's ``resume_gateway_url``, when it was saved
    (``time.time()``, wall clock, so it means something to another process) and who
    saved it (``host:pid``). No token: a record is safe to log.

    Example::

        >>> r = SessionRecord(ShardId(1, 4), Session("ab12", 7), "wss://resume.example", 1700000000.0)
        >>> SessionRecord.from_dict(r.to_dict()) == r
        True
        >>> r.to_dict()["shard"]
        [1, 4]
    """

    shard: ShardId
    session: Session
    resume_url: str | None
    saved_at: float
    owner: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.shard, ShardId):
            raise TypeError(f"shard must be a ShardId, got {type(self.shard).__name__}")
        if not isinstance(self.session, Session):
            raise TypeError(f"session must be a Session, got {type(self.session).__name__}")
        if self.resume_url is not None:
            problem = _check_url(self.resume_url)
            if problem is not None:
                raise ValueError(problem)
        saved_at = self.saved_at
        if isinstance(saved_at, bool) or not isinstance(saved_at, (int, float)) or not math.isfinite(saved_at) or saved_at < 0:
            raise ValueError(f"saved_at must be a finite time in seconds >= 0, got {saved_at!r}")
        if self.owner is not None and not isinstance(self.owner, str):
            raise TypeError(f"owner must be a string or None, got {type(self.owner).__name__}")

    @classmethod
    def now(cls, shard: ShardId, session: Session, resume_url: str | None, owner: str | None = None) -> SessionRecord:
        """A record saved now, by this process unless ``owner`` says otherwise.

        Example::

            >>> SessionRecord.now(ShardId(0, 1), Session("a", 1), None).owner == default_owner()
            True
        """
        return cls(shard, session, resume_url, time.time(), owner if owner is not None else default_owner())

    def age(self, now: float | None = None) -> float:
        """Seconds since it was saved (``now`` defaults to ``time.time()``)."""
        return (time.time() if now is None else now) - self.saved_at

    def resumable_by(self, shard: ShardId, max_age: float | None = None, now: float | None = None) -> bool:
        """Whether ``shard`` may resume this record: the same number *and* total, and
        (when ``max_age`` is given) saved less than ``max_age`` seconds ago.

        Example::

            >>> r = SessionRecord(ShardId(0, 2), Session("a", 1), None, 100.0)
            >>> r.resumable_by(ShardId(0, 2)), r.resumable_by(ShardId(0, 4))
            (True, False)
            >>> r.resumable_by(ShardId(0, 2), max_age=60, now=200.0)
            False
        """
        if self.shard != shard:
            return False
        return max_age is None or self.age(now) < max_age

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: ``shard`` ``[number, total]``, ``session_id``,
        ``sequence``, ``resume_url``, ``saved_at``, ``owner``."""
        return {
            "shard": [self.shard.number, self.shard.total],
            "session_id": self.session.id,
            "sequence": self.session.sequence,
            "resume_url": self.resume_url,
            "saved_at": self.saved_at,
            "owner": self.owner,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionRecord:
        """Rebuild a record from :meth:`to_dict`'s form (other keys are ignored). Any
        problem raises ``ValueError`` naming the field.

        Example::

            >>> SessionRecord.from_dict({"shard": [0, 1], "session_id": "a", "sequence": 2,
            ...                          "resume_url": None, "saved_at": 1.5}).session
            Session(id='a', sequence=2)
            >>> SessionRecord.from_dict({"shard": [3, 2], "session_id": "a", "sequence": 2, "saved_at": 1})
            Traceback (most recent call last):
            ...
            ValueError: invalid session record: shard [3, 2] is not [number, total] with 0 <= number < total
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"invalid session record: expected an object, got {type(data).__name__}")
        missing = [key for key in ("shard", "session_id", "sequence", "saved_at") if key not in data]
        if missing:
            raise ValueError(f"invalid session record: missing {', '.join(repr(key) for key in missing)}")
        shard = data["shard"]
        if (
            not isinstance(shard, (list, tuple))
            or len(shard) != 2
            or not all(type(n) is int for n in shard)
            or not 0 <= shard[0] < shard[1] <= MAX_TOTAL
        ):
            raise ValueError(f"invalid session record: shard {shard!r} is not [number, total] with 0 <= number < total")
        try:
            session = Session.from_dict({"id": data["session_id"], "sequence": data["sequence"]})
        except ValueError as exc:
            raise ValueError(f"invalid session record: {exc}") from None
        resume_url = data.get("resume_url")
        if resume_url is not None:
            problem = _check_url(resume_url)
            if problem is not None:
                raise ValueError(f"invalid session record: {problem}")
        owner = data.get("owner")
        if owner is not None and not isinstance(owner, str):
            raise ValueError(f"invalid session record: owner must be a string or null, got {type(owner).__name__}")
        try:
            return cls(ShardId(shard[0], shard[1]), session, resume_url, data["saved_at"], owner)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid session record: {exc}") from None


def supersedes(new: SessionRecord, old: SessionRecord | None) -> bool:
    """Whether saving ``new`` over ``old`` is right: always, unless both are of the
    same session and ``new`` is further back (a store never moves a session's sequence
    backwards, so a late save of a stale copy, from a process that held the shard
    before, changes nothing).

    Example::

        >>> a5 = SessionRecord(ShardId(0, 1), Session("a", 5), None, 1.0)
        >>> a3 = SessionRecord(ShardId(0, 1), Session("a", 3), None, 2.0)
        >>> b1 = SessionRecord(ShardId(0, 1), Session("b", 1), None, 2.0)
        >>> supersedes(a3, a5), supersedes(a5, a3), supersedes(b1, a5), supersedes(a5, None)
        (False, True, True, True)
    """
    if old is None or old.session.id != new.session.id:
        return True
    return new.session.sequence >= old.session.sequence


@runtime_checkable
class SessionStore(Protocol):
    """Where shards save their sessions, to resume them after a restart.

    Implementations: :class:`~rxgateway.store.MemorySessionStore` (one process, for
    tests and for shards restarted within it), :class:`~rxgateway.store.FileSessionStore`
    (one process on one machine, restarted), and
    :class:`~rxgateway.cluster.redis_store.RedisSessionStore` (any number of processes).
    One store serves every shard of a config; all methods are coroutines, called on
    the shards' event loop.

    Rules every implementation keeps:

    - :meth:`load` never returns a record of another shard total (nor number), nor
      one older than the store's ``max_age``; it returns ``None`` instead.
    - :meth:`save` may buffer: a later save of the same shard replaces a pending one;
      pending records are written within the store's interval and by :meth:`flush`.
    - A save never moves a session's sequence backwards (:func:`supersedes`): a stale
      copy of the same session, saved late by a process that held the shard before,
      changes nothing.
    - Nothing is dropped silently: a write that fails is kept, retried and logged;
      :meth:`flush` raises :class:`~rxgateway.errors.SessionStoreError` while it
      fails, and :meth:`save` raises it once per shard during such a failure (the
      record is kept all the same) so each shard reports it as an error event.

    Example::

        >>> from rxgateway.store import MemorySessionStore
        >>> isinstance(MemorySessionStore(), SessionStore)
        True
    """

    async def load(self, shard: ShardId) -> SessionRecord | None:
        """The record ``shard`` may resume, or ``None`` (none saved, another total,
        too old). Raises :class:`~rxgateway.errors.SessionStoreError` if it cannot tell."""
        ...

    async def save(self, record: SessionRecord) -> None:
        """Save ``record`` for ``record.shard`` (possibly buffered)."""
        ...

    async def delete(self, shard: ShardId) -> None:
        """Forget the record of ``shard`` (its session is over; possibly buffered)."""
        ...

    async def flush(self) -> None:
        """Write everything pending now. Raises
        :class:`~rxgateway.errors.SessionStoreError` if that fails (it stays pending)."""
        ...

    async def aclose(self) -> None:
        """Flush, then release what the store holds (a file, a connection)."""
        ...
