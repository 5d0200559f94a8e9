"""The in-process identify queue, shared by every shard of one application.

Theory of operation. There is no runner task: each waiting ``acquire`` call does
its own waiting, so nothing is left running when shards go away. Waiters sit in one
FIFO per rate-limit key (``shard.number % max_concurrency``). Only the head of a
key's FIFO watches the clock; it sleeps until its key's interval has passed and the
daily budget allows, then grants itself, leaves, and wakes the next head. Sleeping
is a future plus a ``call_later`` timer that the waiter itself cancels, and any
state change (a grant, a cancellation, :meth:`InMemoryQueue.update`) wakes the
waiters concerned so they re-check. Keys proceed in parallel.

The daily budget: ``remaining`` falls by one per grant. A window starts at the
first grant after a refill and lasts ``limit_period`` (24 h); when it ends,
``remaining`` is ``total`` again. When the numbers given say a window is already
running (``remaining < total``), it ends ``reset_after`` seconds from then.
``reset_after`` times only that running window, never a later one: Discord's
windows are 24 h, and reusing a short ``reset_after`` for each new window would
let the bot spend ``total`` several times a day, which gets its token reset. An
empty budget only holds the heads of the keys until the refill: unlike twilight's
runner, :meth:`~InMemoryQueue.update` and cancellations still work meanwhile.

A queue belongs to one event loop. Times are seconds of the queue's clock:
``time.monotonic()`` unless another is given (``clock=``). Every decision reads that
clock; only the sleeping is done by the event loop's timers, for the number of
clock seconds the decision asked for. With a clock that does not follow the loop's
(a fake clock in a test), the timers may wake a waiter too early, which just
re-checks and sleeps again, or too late: after moving such a clock forward, call
:meth:`InMemoryQueue.recheck` so the waiters read it.

Example::

    >>> import asyncio
    >>> from rxgateway.protocol.shard_id import ShardId
    >>> async def start() -> int:
    ...     queue = InMemoryQueue(max_concurrency=2, identify_interval=0.01, margin=0.0)
    ...     await asyncio.gather(*(queue.acquire(ShardId(n, 4)) for n in range(4)))
    ...     return queue.remaining
    >>> asyncio.run(start())
    996
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Final

from rxgateway.protocol.shard_id import ShardId

from .session_queue import IDENTIFY_INTERVAL, IDENTIFY_MARGIN, LIMIT_PERIOD, check_limits

__all__ = ["DEFAULT_TOTAL", "InMemoryQueue"]

#: Discord's default daily identify budget (GATEWAY.md §5.2), used until
#: :meth:`InMemoryQueue.update` brings the real numbers.
DEFAULT_TOTAL: Final = 1000

#: How long a waiter sleeps when only another event can help it (it is not the head
#: of its key, or the budget is 0 with no refill scheduled).
_FOREVER: Final = math.inf


class _Waiter:
    """One pending ``acquire``: its shard, arrival order, key and wake-up future."""

    __slots__ = ("key", "order", "queued", "shard", "wake")

    def __init__(self, shard: ShardId, order: int, key: int) -> None:
        self.shard = shard
        self.order = order
        self.key = key
        self.queued = True
        self.wake: asyncio.Future[None] | None = None


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)



class InMemoryQueue:
    """Identify grants for the shards of one process: one per key per interval,
    FIFO within a key, within the daily budget.

    ``max_concurrency`` 0 disables the queue (every request is granted at once and
    the budget is not used). ``identify_interval`` plus ``margin`` is the spacing
    per key; ``limit_period`` the length of a daily window. ``clock`` returns the
    current time in seconds and must never go backwards (default
    ``time.monotonic``); see the module docstring for other clocks.

    Example::

        >>> queue = InMemoryQueue(max_concurrency=16, remaining=1990, reset_after=3600.0, total=2000)
        >>> queue.max_concurrency, queue.remaining, queue.waiting
        (16, 1990, 0)
    """

    def __init__(
        self,
        max_concurrency: int = 1,
        remaining: int = DEFAULT_TOTAL,
        reset_after: float = LIMIT_PERIOD,
        total: int = DEFAULT_TOTAL,
        *,
        identify_interval: float = IDENTIFY_INTERVAL,
        margin: float = IDENTIFY_MARGIN,
        limit_period: float = LIMIT_PERIOD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_limits(max_concurrency, remaining, reset_after, total)
        if not (identify_interval >= 0 and margin >= 0 and limit_period > 0):
            raise ValueError("identify_interval and margin must be >= 0, limit_period > 0")
        self._clock = clock
        self._max_concurrency = max_concurrency
        self._spacing = identify_interval + margin
        self._limit_period = limit_period
        self._fifos: dict[int, deque[_Waiter]] = {}
        self._last_grant: dict[int, float] = {}
        self._arrivals = itertools.count()
        self._remaining = remaining
        self._total = total
        self._window_end: float | None = None
        self._set_budget(remaining, reset_after, total, clock())

    def __repr__(self) -> str:
        return (
            f"InMemoryQueue(max_concurrency={self._max_concurrency}, remaining={self.remaining}, "
            f"total={self._total}, waiting={self.waiting})"
        )

    @property
    def max_concurrency(self) -> int:
        """Rate-limit keys; 0 when the queue is off.

        Example::

            >>> InMemoryQueue(0).max_concurrency
            0
        """
        return self._max_concurrency

    @property
    def remaining(self) -> int:
        """Identifies left in the current daily window.

        Example::

            >>> InMemoryQueue(remaining=5, total=10).remaining
            5
        """
        self._refill(self._clock())
        return self._remaining

    @property
    def total(self) -> int:
        """Identifies per daily window.

        Example::

            >>> InMemoryQueue().total
            1000
        """
        return self._total

    @property
    def waiting(self) -> int:
        """Requests waiting for a grant.

        Example::

            >>> InMemoryQueue().waiting
            0
        """
        return sum(len(fifo) for fifo in self._fifos.values())

    async def acquire(self, shard: ShardId) -> None:
        """Wait until ``shard`` may Identify. Cancelling consumes nothing.

        Example::

            >>> import asyncio
            >>> asyncio.run(InMemoryQueue().acquire(ShardId(0, 1)))
        """
        if self._max_concurrency == 0:
            return
        waiter = _Waiter(shard, next(self._arrivals), shard.number % self._max_concurrency)
        self._fifos.setdefault(waiter.key, deque()).append(waiter)
        try:
            # Not queued any more: update() turned the queue off, which grants all.
            while waiter.queued:
                delay = self._try_grant(waiter)
                if delay is None:
                    return
                await self._sleep(waiter, delay)
        finally:
            if waiter.queued:
                self._leave(waiter)

    def update(self, *, max_concurrency: int, remaining: int, reset_after: float, total: int) -> None:
        """Take fresh ``session_start_limit`` numbers (``reset_after`` in seconds).

        A new ``max_concurrency`` re-sorts the waiters into the new keys in arrival
        order; each new key then waits one interval from the latest grant.

        Example::

            >>> queue = InMemoryQueue()
            >>> queue.update(max_concurrency=4, remaining=999, reset_after=600.0, total=1000)
            >>> queue.max_concurrency, queue.remaining
            (4, 999)
        """
        check_limits(max_concurrency, remaining, reset_after, total)
        self._set_budget(remaining, reset_after, total, self._clock())
        if max_concurrency != self._max_concurrency:
            self._rebalance(max_concurrency)
        self.recheck()

    def recheck(self) -> None:
        """Make the waiters at the head of each key read the clock again now.

        The queue's own timers do this when a wait should be over; call it after
        moving an injected clock forward (a test's fake clock) so that waiters whose
        time has come are granted without waiting for a real timer.

        Example::

            >>> import asyncio
            >>> now = [0.0]
            >>> async def second_grant_at() -> float:
            ...     queue = InMemoryQueue(identify_interval=5.0, margin=0.0, clock=lambda: now[0])
            ...     await queue.acquire(ShardId(0, 1))  # granted at once, at 0.0
            ...     second = asyncio.create_task(queue.acquire(ShardId(0, 1)))
            ...     await asyncio.sleep(0)  # it waits: 5 s to go on the fake clock
            ...     now[0] = 5.0  # five fake seconds later, in no real time
            ...     queue.recheck()
            ...     await second
            ...     return now[0]
            >>> asyncio.run(second_grant_at())
            5.0
        """
        for fifo in list(self._fifos.values()):
            self._wake(fifo[0])

    # -- internals ---------------------------------------------------------------

    def _set_budget(self, remaining: int, reset_after: float, total: int, now: float) -> None:
        self._remaining = remaining
        self._total = total
        # Discord's reset_after times a window already running; with a full budget
        # none is, and the next grant starts one.
        self._window_end = now + reset_after if remaining < total else None

    def _refill(self, now: float) -> None:
        if self._window_end is not None and now >= self._window_end:
            self._remaining = self._total
            self._window_end = None

    def _try_grant(self, waiter: _Waiter) -> float | None:
        """Grant ``waiter`` if it may go now (``None``), else the seconds to sleep."""
        fifo = self._fifos[waiter.key]
        if fifo[0] is not waiter:
            return _FOREVER
        now = self._clock()
        self._refill(now)
        if self._remaining <= 0:
            return _FOREVER if self._window_end is None else self._window_end - now
        last = self._last_grant.get(waiter.key)
        if last is not None and now < last + self._spacing:
            return last + self._spacing - now
        self._remaining -= 1
        if self._window_end is None:
            self._window_end = now + self._limit_period
        self._last_grant[waiter.key] = now
        self._leave(waiter)
        return None

    def _leave(self, waiter: _Waiter) -> None:
        """Take ``waiter`` out of its FIFO; wake the next head if it was the head."""
        waiter.queued = False
        fifo = self._fifos[waiter.key]
        was_head = fifo[0] is waiter
        fifo.remove(waiter)
        if not fifo:
            del self._fifos[waiter.key]
        elif was_head:
            self._wake(fifo[0])

    def _rebalance(self, max_concurrency: int) -> None:
        waiters = sorted((w for fifo in self._fifos.values() for w in fifo), key=lambda w: w.order)
        latest = max(self._last_grant.values(), default=None)
        self._max_concurrency = max_concurrency
        self._fifos = {}
        self._last_grant = {}
        if max_concurrency == 0:
            for waiter in waiters:
                waiter.queued = False
                self._wake(waiter)
            return
        if latest is not None:
            self._last_grant = dict.fromkeys(range(max_concurrency), latest)
        for waiter in waiters:
            waiter.key = waiter.shard.number % max_concurrency
            self._fifos.setdefault(waiter.key, deque()).append(waiter)
            self._wake(waiter)

    @staticmethod
    def _wake(waiter: _Waiter) -> None:
        if waiter.wake is not None:
            _resolve(waiter.wake)

    @staticmethod
    async def _sleep(waiter: _Waiter, delay: float) -> None:
        """Sleep ``delay`` seconds, or until woken; the timer never outlives the call."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        waiter.wake = future
        timer = None if delay == _FOREVER else loop.call_later(delay, _resolve, future)
        try:
            await future
        finally:
            waiter.wake = None
            if timer is not None:
                timer.cancel()
