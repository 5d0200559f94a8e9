"""The identify queue contract, and Discord's numbers behind it (GATEWAY.md §5.2, §5.3).

Every Identify needs a grant. Discord allows one Identify per rate-limit key
(``shard_number % max_concurrency``) per :data:`IDENTIFY_INTERVAL`, and ``total``
Identifies per :data:`LIMIT_PERIOD` for the whole application. A
:class:`SessionQueue` enforces both for every shard that shares it: in one process
(:class:`~rxgateway.queue.memory.InMemoryQueue`) or, later, across machines
(Redis). Resumes need no grant.

The contract is deliberately small, two calls, so a networked implementation can
honour it exactly.

Example::

    >>> from rxgateway.queue import InMemoryQueue
    >>> isinstance(InMemoryQueue(), SessionQueue)
    True
"""

from __future__ import annotations

from typing import Final, Protocol, runtime_checkable

from rxgateway.protocol.shard_id import ShardId

__all__ = ["IDENTIFY_INTERVAL", "IDENTIFY_MARGIN", "LIMIT_PERIOD", "SessionQueue", "check_limits"]

#: Seconds between two Identifies of the same rate-limit key (GATEWAY.md §5.3).
IDENTIFY_INTERVAL: Final = 5.0

#: Seconds added to :data:`IDENTIFY_INTERVAL` by default. Discord measures the
#: spacing when the Identifies *arrive*, we when we grant: in between lie event-loop
#: lag (another shard parsing a large READY) and network jitter, which differ from
#: one shard to the next. A quarter second absorbs that and costs 5 % of start-up
#: time with ``max_concurrency`` 1; exceeding the limit costs an op 9 and a retry.
IDENTIFY_MARGIN: Final = 0.25

#: Seconds in Discord's daily identify window (24 h, GATEWAY.md §5.2).
LIMIT_PERIOD: Final = 86400.0


def check_limits(max_concurrency: int, remaining: int, reset_after: float, total: int) -> None:
    """Raise ``ValueError`` unless these are session-start numbers a queue can take
    (what :meth:`SessionQueue.update` and every queue's constructor check).

    Example::

        >>> check_limits(16, 990, 3600.0, 1000)
        >>> check_limits(1, 5, 0.0, 4)
        Traceback (most recent call last):
        ValueError: need 0 <= remaining <= total, got remaining=5, total=4
    """
    if max_concurrency < 0:
        raise ValueError(f"max_concurrency must be >= 0, got {max_concurrency}")
    if not 0 <= remaining <= total:
        raise ValueError(f"need 0 <= remaining <= total, got remaining={remaining}, total={total}")
    if not reset_after >= 0:
        raise ValueError(f"reset_after must be >= 0 seconds, got {reset_after}")


@runtime_checkable
class SessionQueue(Protocol):
    """Grants shards their turn to Identify.

    Example::

        >>> import asyncio
        >>> from rxgateway.queue import InMemoryQueue
        >>> async def identify(queue: SessionQueue) -> str:
        ...     await queue.acquire(ShardId(0, 1))  # wait for our turn
        ...     return "send Identify now"
        >>> asyncio.run(identify(InMemoryQueue()))
        'send Identify now'
    """

    async def acquire(self, shard: ShardId) -> None:
        """Wait until ``shard`` may Identify; return as the grant.

        Cancelling the wait consumes nothing: the waiter leaves its place and the
        next one moves up. Once ``acquire`` returns, the grant is spent.
        """
        ...

    def update(self, *, max_concurrency: int, remaining: int, reset_after: float, total: int) -> None:
        """Take fresh ``session_start_limit`` numbers from ``GET /gateway/bot``.

        ``reset_after`` is in **seconds** (Discord sends milliseconds).
        ``max_concurrency`` 0 turns the queue off: every request is granted at once.
        """
        ...
