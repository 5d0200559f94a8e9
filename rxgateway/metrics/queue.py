"""An identify queue that counts and times its grants: :class:`MeteredQueue`.

``MeteredQueue(inner)`` is a :class:`~rxgateway.queue.SessionQueue` that hands every
call to ``inner`` and notes, on the event loop, what came of each ``acquire``: the
seconds it waited, whether it was granted, failed (the queue raised, e.g. the daily
budget's floor) or was cancelled, and the grants per shard number. Share it exactly
as you would share the queue it wraps (``Config(queue=MeteredQueue(InMemoryQueue()))``
for a process, ``MeteredQueue(RedisQueue(...))`` for a cluster): one wrapper per
queue, handed to every shard. :class:`~rxgateway.metrics.Metrics` finds it in the
config of the shards it watches (or take it with ``Metrics.watch_queue``) and
exposes its numbers at scrape time; nothing here imports prometheus_client.

A grant is what the queue gives before an Identify is sent, so ``grants`` counts the
Identifies this process sent (a shard closed between the grant and the send is the
rare exception).

Example::

    >>> import asyncio
    >>> from rxgateway.protocol.shard_id import ShardId
    >>> from rxgateway.queue import InMemoryQueue
    >>> queue = MeteredQueue(InMemoryQueue())
    >>> asyncio.run(queue.acquire(ShardId(0, 1)))
    >>> queue.grants, queue.by_shard, queue.waiting
    (1, {0: 1}, 0)
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..protocol.shard_id import ShardId
from ..queue.session_queue import SessionQueue
from .buckets import IDENTIFY_WAIT_BUCKETS, Buckets

__all__ = ["MeteredQueue"]


class MeteredQueue:
    """A :class:`~rxgateway.queue.SessionQueue` wrapper that counts grants and times
    waits (see the module docstring). Other attributes (``status()``, ``remaining``,
    ``aclose()`` ...) are the inner queue's.

    Example::

        >>> from rxgateway.queue import InMemoryQueue, SessionQueue
        >>> isinstance(MeteredQueue(InMemoryQueue()), SessionQueue)
        True
    """

    def __init__(self, inner: SessionQueue) -> None:
        if isinstance(inner, MeteredQueue):
            raise TypeError("this queue is metered already")
        self._inner = inner
        #: Seconds each granted ``acquire`` waited.
        self.wait = Buckets(IDENTIFY_WAIT_BUCKETS)
        #: Grants per shard number.
        self.by_shard: dict[int, int] = {}
        self.grants = 0
        self.failures = 0
        self.cancellations = 0
        #: ``acquire`` calls waiting now.
        self.waiting = 0

    @property
    def inner(self) -> SessionQueue:
        """The queue that decides."""
        return self._inner

    async def acquire(self, shard: ShardId) -> None:
        """Wait for ``inner.acquire(shard)``; note how long and how it ended."""
        start = time.monotonic()
        self.waiting += 1
        try:
            await self._inner.acquire(shard)
        except asyncio.CancelledError:
            self.cancellations += 1
            raise
        except BaseException:
            self.failures += 1
            raise
        finally:
            self.waiting -= 1
        self.wait.observe(time.monotonic() - start)
        self.grants += 1
        number = shard.number
        self.by_shard[number] = self.by_shard.get(number, 0) + 1

    def update(self, *, max_concurrency: int, remaining: int, reset_after: float, total: int) -> None:
        """``inner.update(...)``."""
        self._inner.update(max_concurrency=max_concurrency, remaining=remaining, reset_after=reset_after, total=total)

    async def aclose(self) -> None:
        """Close the inner queue, if it has anything to close (a Redis client)."""
        aclose = getattr(self._inner, "aclose", None)
        if aclose is not None:
            await aclose()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)

    def __repr__(self) -> str:
        return f"MeteredQueue({self._inner!r}, grants={self.grants}, waiting={self.waiting})"
