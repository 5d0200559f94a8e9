"""A session store in memory: for tests, and for shards restarted within one process
(a :class:`~rxgateway.ShardGroup` rebuilt after a resharding, say). Nothing survives
the process.

Example::

    >>> import asyncio
    >>> from rxgateway.machine.session import Session
    >>> from rxgateway.protocol.shard_id import ShardId
    >>> from rxgateway.store import SessionRecord
    >>> store = MemorySessionStore()
    >>> async def demo() -> list[int]:
    ...     await store.save(SessionRecord.now(ShardId(0, 1), Session("a", 5), None))
    ...     await store.delete(ShardId(0, 1))
    ...     return list(store.records)
    >>> asyncio.run(demo())
    []
"""

from __future__ import annotations

from collections.abc import Mapping

from ..protocol.shard_id import ShardId
from .session_store import SESSION_MAX_AGE, SessionRecord, supersedes

__all__ = ["MemorySessionStore"]


class MemorySessionStore:
    """Records in a dict, written at once (there is nothing to batch): :meth:`flush`
    has nothing to do and nothing fails.

    Args:
        max_age: seconds a record stays resumable; older ones are not loaded.
    """

    def __init__(self, *, max_age: float = SESSION_MAX_AGE) -> None:
        if not max_age > 0:
            raise ValueError(f"max_age must be > 0 seconds, got {max_age!r}")
        self.max_age = float(max_age)
        self._records: dict[int, SessionRecord] = {}

    @property
    def records(self) -> Mapping[int, SessionRecord]:
        """A copy of the records held, by shard number."""
        return self._records.copy()

    async def load(self, shard: ShardId) -> SessionRecord | None:
        """The record of ``shard``, unless of another total or older than ``max_age``."""
        record = self._records.get(shard.number)
        if record is None or not record.resumable_by(shard, self.max_age):
            return None
        return record

    async def save(self, record: SessionRecord) -> None:
        """Keep ``record`` (replacing the shard's previous one, unless that is of the
        same session and further on)."""
        number = record.shard.number
        if supersedes(record, self._records.get(number)):
            self._records[number] = record

    async def delete(self, shard: ShardId) -> None:
        """Forget the record of ``shard``."""
        self._records.pop(shard.number, None)

    async def flush(self) -> None:
        """Nothing is ever pending."""

    async def aclose(self) -> None:
        """Nothing to release (the records stay readable)."""

    def __repr__(self) -> str:
        return f"MemorySessionStore({len(self._records)} records)"
