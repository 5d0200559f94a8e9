"""The bounded task pool behind ``spawn`` and ``route``'s async handlers.

Rules of this module:

* It runs one asyncio task per submitted item, at most ``limit`` at once. Items over
  the limit wait in a FIFO queue and start, in order, as running tasks end; none is
  dropped while the pool is open. ``submit`` never blocks and never awaits.
* It owns every task it starts (trio's rule, DESIGN.md principle 2): ``close`` drops
  the queue and cancels the running tasks; ``join`` awaits them. No task outlives
  the pool unobserved, and no exception is left unretrieved.
* Results and failures are handed to the callbacks given at construction, from the
  tasks' done callbacks: on the event loop, never inside the producer's ``on_next``.
* An item submitted while a :class:`~rxgateway.receipts.Receipt` is current (an event
  from the bus) holds it until its task ended: released as a success when the task
  returned, as a failure when it raised, was cancelled or never started. The result
  callback runs with that receipt current again, so work it starts holds it too.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from ..receipts import Receipt, current_receipt, enter, leave

_T = TypeVar("_T")
_R = TypeVar("_R")

log = logging.getLogger("rxgateway.ops")

#: How many handler tasks ``spawn`` and each async ``route`` handler run at once by
#: default: enough for handlers that wait on I/O (REST calls) to overlap, few enough
#: that a burst of events (a GUILD_CREATE storm at startup) queues up instead of
#: starting thousands of tasks at once.
DEFAULT_MAX_CONCURRENCY = 16


def running_loop(operator: str) -> asyncio.AbstractEventLoop:
    """The running event loop, or a ``RuntimeError`` that says what to do."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            f"{operator}() runs handlers as asyncio tasks and must be subscribed on a running "
            "event loop: subscribe from a coroutine (or a notebook cell, which runs in one)"
        ) from None


def check_limit(max_concurrency: int) -> int:
    """Validate a concurrency bound."""
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
        raise ValueError(f"max_concurrency must be an int of at least 1, got {max_concurrency!r}")
    return max_concurrency


class _Job(Generic[_T, _R]):
    """A queued item: what to start, and how to release it if it never starts."""

    __slots__ = ("item", "start", "discard", "receipt")

    def __init__(
        self,
        item: _T,
        start: Callable[[_T], Awaitable[_R]],
        discard: Callable[[], None] | None,
        receipt: Receipt | None,
    ) -> None:
        self.item = item
        self.start = start
        self.discard = discard
        self.receipt = receipt

    def release(self, ok: bool) -> None:
        """Release the job's hold on its receipt, if it took one (exactly once)."""
        receipt, self.receipt = self.receipt, None
        if receipt is not None:
            receipt.release(ok)


class TaskPool(Generic[_T, _R]):
    """Runs ``start(item)`` as tasks, at most ``limit`` at once, in FIFO order.

    Args:
        loop: the loop tasks are created on.
        limit: the most tasks running at once.
        on_result: called with ``(item, result)`` when a task returns.
        on_failure: called with ``(item, exception)`` when ``start`` raises, returns
            something that is not awaitable, or the task raises (or cancels itself).
        on_idle: called when the last running task has ended and nothing is queued.
        on_released: called once, when the pool is closed and its last task has ended
            (at ``close`` itself when nothing was running).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        limit: int,
        on_result: Callable[[_T, _R], None],
        on_failure: Callable[[_T, BaseException], None],
        on_idle: Callable[[], None] | None = None,
        on_released: Callable[[], None] | None = None,
    ) -> None:
        self._loop = loop
        self._limit = check_limit(limit)
        self._on_result = on_result
        self._on_failure = on_failure
        self._on_idle = on_idle
        self._on_released = on_released
        self._queue: deque[_Job[_T, _R]] = deque()
        self._running: dict[asyncio.Future[_R], _Job[_T, _R]] = {}
        self._closed = False

    @property
    def running(self) -> int:
        """How many tasks are running now."""
        return len(self._running)

    @property
    def queued(self) -> int:
        """How many items wait for a free slot."""
        return len(self._queue)

    @property
    def idle(self) -> bool:
        """Nothing running, nothing queued."""
        return not self._running and not self._queue

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def submit(
        self,
        item: _T,
        start: Callable[[_T], Awaitable[_R]],
        discard: Callable[[], None] | None = None,
    ) -> None:
        """Run ``start(item)`` now if a slot is free, else queue it. ``discard`` is
        called instead if the pool is closed before it starts. Ignored once closed."""
        if self._closed:
            if discard is not None:
                discard()
            return
        receipt = current_receipt()
        if receipt is not None:
            receipt.hold()
        job = _Job(item, start, discard, receipt)
        if len(self._running) < self._limit:
            self._start(job)
        else:
            self._queue.append(job)

    def close(self) -> None:
        """Drop the queue and cancel the running tasks (``join`` awaits them)."""
        if self._closed:
            return
        self._closed = True
        queue, self._queue = self._queue, deque()
        for job in queue:
            if job.discard is not None:
                job.discard()
            job.release(False)
        for task in list(self._running):
            task.cancel()
        if not self._running and self._on_released is not None:
            self._call(self._on_released)

    async def join(self) -> None:
        """Wait until no task is running and nothing is queued (after :meth:`close`:
        until every cancelled task has ended)."""
        while self._running or self._queue:
            tasks = list(self._running)
            if tasks:
                await asyncio.wait(tasks)
            # Let the tasks' done callbacks run (they may start queued items).
            await asyncio.sleep(0)

    def _start(self, job: _Job[_T, _R]) -> None:
        try:
            awaitable = job.start(job.item)
            task: asyncio.Future[_R] = asyncio.ensure_future(awaitable, loop=self._loop)
        except Exception as exc:
            self._call(self._on_failure, job.item, exc)
            job.release(False)
            return
        self._running[task] = job
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[_R]) -> None:
        job = self._running.pop(task)
        item = job.item
        if self._closed:
            if not task.cancelled():
                task.exception()  # retrieved: a late failure after close is not reported
            job.release(False)
            if not self._running and self._on_released is not None:
                self._call(self._on_released)
            return
        if task.cancelled():
            self._call(self._on_failure, item, asyncio.CancelledError("the handler's task was cancelled"))
            job.release(False)
        else:
            error = task.exception()
            if error is not None:
                self._call(self._on_failure, item, error)
                job.release(False)
            elif job.receipt is None:
                self._call(self._on_result, item, task.result())
            else:
                previous = enter(job.receipt)  # work the result starts holds the receipt too
                try:
                    self._call(self._on_result, item, task.result())
                finally:
                    leave(previous)
                    job.release(True)
        while self._queue and len(self._running) < self._limit and not self._closed:
            self._start(self._queue.popleft())
        if not self._closed and self.idle and self._on_idle is not None:
            self._call(self._on_idle)

    @staticmethod
    def _call(callback: Callable[..., None], *args: Any) -> None:
        # The callbacks report errors themselves; this guard keeps the pool's
        # bookkeeping going if one of them has a bug.
        try:
            callback(*args)
        except Exception:
            log.exception("a task pool callback raised")


def close_awaitable(value: Any) -> None:
    """Close a coroutine that will never be awaited (no "never awaited" warning)."""
    if inspect.iscoroutine(value):
        value.close()
