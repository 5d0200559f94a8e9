"""The in-memory identify queue: twilight's queue scenarios on a scaled-down clock,
cancellation, the daily budget, and a 16-shard start.

Real asyncio time with a 0.1 s interval instead of 5 s. Assertions are about order
and lower bounds on spacing, never upper bounds, so a slow machine cannot fail
them (a reference time is read *before* the grant it stands for, so a preemption
between the two cannot make it late); exact grant times are checked on a fake clock in
``test_in_memory_queue_clock.py``. "At once" is checked without a clock: the
``acquire`` coroutine must finish on its first step, without suspending.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Coroutine
from typing import Any

import pytest

import rxgateway.queue as queue_package
from rxgateway.protocol.shard_id import ShardId
from rxgateway.queue import IDENTIFY_INTERVAL, LIMIT_PERIOD, InMemoryQueue, SessionQueue

#: The identify interval of these tests (Discord's is 5 s).
INTERVAL = 0.1

#: Slack on lower bounds. A grant and its timestamp are taken in the same step of
#: the event loop, so this only absorbs timer and float rounding.
EPS = 0.005

#: Limit for "eventually": far above anything expected, it only stops a hung test.
PATIENCE = 5.0

Grant = tuple[int, float]

#: A queue that stops granting makes a test hang: fail it quickly instead.
pytestmark = pytest.mark.timeout(2 * PATIENCE)


def shard(number: int) -> ShardId:
    return ShardId(number, 64)


def make(
    max_concurrency: int = 1,
    remaining: int = 1000,
    reset_after: float = LIMIT_PERIOD,
    total: int = 1000,
    **options: Any,
) -> InMemoryQueue:
    options.setdefault("identify_interval", INTERVAL)
    options.setdefault("margin", 0.0)
    clock = LastRead()
    queue = InMemoryQueue(max_concurrency, remaining, reset_after, total, clock=clock, **options)
    CLOCKS[queue] = clock
    return queue


class LastRead:
    """``time.monotonic``, remembering the last value it gave the queue."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def __call__(self) -> float:
        self.last = time.monotonic()
        return self.last


#: The clock of each queue made by :func:`make`.
CLOCKS: weakref.WeakKeyDictionary[InMemoryQueue, LastRead] = weakref.WeakKeyDictionary()


def at_once(coro: Coroutine[Any, Any, None]) -> bool:
    """Whether ``coro`` finishes on its first step (granted without waiting)."""
    try:
        coro.send(None)
    except StopIteration:
        return True
    coro.close()
    return False


async def settle() -> None:
    """Let every task that is ready run (woken waiters grant themselves)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def timed(queue: InMemoryQueue, number: int, log: list[Grant]) -> None:
    """Acquire, and log the grant at the time the queue read when it decided: no
    preemption after the grant can make that time late (and a gap look short)."""
    await queue.acquire(shard(number))
    log.append((number, CLOCKS[queue].last))  # the grant's read: acquire returns in that same step


def grant_times(log: list[Grant], number: int) -> list[float]:
    return [t for n, t in log if n == number]


# -- twilight's scenarios ----------------------------------------------------------------


async def test_disabled_is_instant() -> None:
    queue = make(0, 0, 0.0, 0)
    assert all(at_once(queue.acquire(shard(0))) for _ in range(50))
    budgeted = make(0, 5, 60.0, 10)
    assert all(at_once(budgeted.acquire(shard(n))) for n in range(20))
    assert budgeted.remaining == 5  # the budget is not used


async def test_update_fills_bucket() -> None:
    # As twilight: the update lands before the queue has served anyone.
    queue = make(1, 10, 60.0, 10, identify_interval=PATIENCE * 2)
    tasks = [asyncio.create_task(queue.acquire(shard(n))) for n in (0, 1)]
    queue.update(max_concurrency=2, remaining=10, reset_after=60.0, total=10)
    await settle()
    assert all(task.done() for task in tasks)
    # And with both already waiting in one key (budget empty): update re-sorts them.
    queue = make(1, 0, 60.0, 10)
    tasks = [asyncio.create_task(queue.acquire(shard(n))) for n in (0, 1)]
    await settle()
    assert queue.waiting == 2 and not any(task.done() for task in tasks)
    queue.update(max_concurrency=2, remaining=10, reset_after=60.0, total=10)
    await settle()
    assert all(task.done() for task in tasks)
    assert queue.remaining == 8


async def test_same_id_is_serial() -> None:
    queue = make(1, 1000, 0.0, 1000)
    log: list[Grant] = []
    await asyncio.gather(timed(queue, 0, log), timed(queue, 0, log))
    first, second = grant_times(log, 0)
    assert second - first >= INTERVAL - EPS


async def test_different_id_is_parallel() -> None:
    # No runner: an idle key grants on the spot, in arrival order (twilight's runner
    # would serve key 0 first; nothing in Discord's rules depends on that).
    queue = make(2)
    assert at_once(queue.acquire(shard(1)))
    assert at_once(queue.acquire(shard(0)))
    # Keys wait side by side: key 1's second grant precedes key 0's third.
    interval = 2 * INTERVAL
    queue = make(2, identify_interval=interval)
    log: list[Grant] = []
    await asyncio.gather(*(timed(queue, n, log) for n in (0, 1, 0, 1, 0)))
    key0, key1 = grant_times(log, 0), grant_times(log, 1)
    assert key1[1] < key0[2]
    assert key0[1] - key0[0] >= interval - EPS and key0[2] - key0[1] >= interval - EPS
    assert key1[1] - key1[0] >= interval - EPS


async def test_reset_after_refills() -> None:
    reset_after = 3 * INTERVAL
    start = time.monotonic()
    queue = make(1, 0, reset_after, 1)
    await queue.acquire(shard(0))
    assert time.monotonic() - start >= reset_after - EPS
    assert queue.remaining == 0


async def test_reset_after_started() -> None:
    period = 4 * INTERVAL
    queue = make(1, 1, 0.0, 1, limit_period=period)
    log: list[Grant] = []
    await asyncio.sleep(period / 2)  # a window starts at the first grant, not at creation
    first = time.monotonic()  # before the grant: a lower bound on its time
    assert at_once(queue.acquire(shard(0)))
    await timed(queue, 0, log)
    assert log[0][1] - first >= period - EPS


async def test_multi_bucket() -> None:
    queue = make(4)
    log: list[Grant] = []
    first = time.monotonic()  # before the grants: a lower bound on their time
    for number in (0, 1, 3):
        assert at_once(queue.acquire(shard(number)))
    await timed(queue, 3, log)
    assert log[0][1] - first >= INTERVAL - EPS


# -- cancellation ------------------------------------------------------------------------


async def test_cancelled_head_consumes_nothing_and_the_next_moves_up() -> None:
    interval = 2.5 * INTERVAL
    queue = make(1, 10, 60.0, 10, identify_interval=interval)
    log: list[Grant] = []
    granted_at = time.monotonic()  # read before the grant: never later than it
    assert at_once(queue.acquire(shard(0)))
    head = asyncio.create_task(queue.acquire(shard(0)))
    behind = asyncio.create_task(timed(queue, 0, log))
    await asyncio.sleep(interval / 2)
    head.cancel()
    with pytest.raises(asyncio.CancelledError):
        await head
    await asyncio.wait_for(behind, PATIENCE)
    assert log[0][1] - granted_at >= interval - EPS
    # That its turn came exactly when the head's would have (not an interval later)
    # is a timing claim: test_in_memory_queue_clock.py checks it on a fake clock.
    assert queue.remaining == 8 and queue.waiting == 0


async def test_cancelled_waiter_behind_the_head_leaves_cleanly() -> None:
    queue = make(1, 10, 60.0, 10)
    assert at_once(queue.acquire(shard(0)))
    head = asyncio.create_task(queue.acquire(shard(0)))
    behind = asyncio.create_task(queue.acquire(shard(1)))
    await settle()
    assert queue.waiting == 2
    behind.cancel()
    await settle()
    assert queue.waiting == 1 and behind.cancelled()
    await asyncio.wait_for(head, PATIENCE)
    assert queue.remaining == 8 and queue.waiting == 0


async def test_cancelled_while_the_budget_is_empty() -> None:
    reset_after = 3 * INTERVAL
    queue = make(1, 0, reset_after, 1)
    waiter = asyncio.create_task(queue.acquire(shard(0)))
    await settle()
    waiter.cancel()
    await settle()
    assert waiter.cancelled() and queue.waiting == 0
    await asyncio.sleep(reset_after)
    assert queue.remaining == 1  # refilled, nothing taken by the cancelled waiter
    assert at_once(queue.acquire(shard(0)))
    assert queue.remaining == 0


async def test_woken_then_cancelled_before_running_takes_no_grant() -> None:
    queue = make(1, 0, 60.0, 1)
    waiter = asyncio.create_task(queue.acquire(shard(0)))
    await settle()
    queue.update(max_concurrency=1, remaining=1, reset_after=60.0, total=1)  # wakes it
    waiter.cancel()  # before it gets to run
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert queue.remaining == 1
    assert at_once(queue.acquire(shard(0)))
    assert queue.remaining == 0


async def test_timeout_leaves_the_queue_clean() -> None:
    queue = make(1, 10, 60.0, 10, identify_interval=PATIENCE * 2)
    assert at_once(queue.acquire(shard(0)))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.acquire(shard(0)), INTERVAL / 2)
    assert queue.waiting == 0 and queue.remaining == 9
    assert asyncio.all_tasks() == {asyncio.current_task()}


# -- the daily budget and update() ---------------------------------------------------------


async def test_update_works_while_the_budget_is_empty() -> None:
    """Twilight's runner blocks, update() included, until the daily reset."""
    queue = make(2, 2, 60.0, 2)
    tasks = [asyncio.create_task(queue.acquire(shard(n))) for n in range(4)]
    await settle()
    assert [task.done() for task in tasks] == [True, True, False, False]
    assert queue.remaining == 0 and queue.waiting == 2
    queue.update(max_concurrency=2, remaining=5, reset_after=60.0, total=5)
    await asyncio.wait_for(asyncio.gather(*tasks), PATIENCE)
    assert queue.remaining == 3


async def test_window_refills_lazily() -> None:
    period = 2 * INTERVAL
    queue = make(1, 1, 0.0, 1, limit_period=period)
    assert at_once(queue.acquire(shard(0)))
    assert queue.remaining == 0
    await asyncio.sleep(period + EPS)
    assert queue.remaining == 1


async def test_turning_the_queue_off_releases_every_waiter() -> None:
    queue = make(1, 0, 60.0, 10)
    tasks = [asyncio.create_task(queue.acquire(shard(n))) for n in range(5)]
    await settle()
    assert queue.waiting == 5
    queue.update(max_concurrency=0, remaining=7, reset_after=60.0, total=10)
    await settle()
    assert all(task.done() and task.exception() is None for task in tasks)
    assert queue.remaining == 7 and queue.waiting == 0


async def test_new_max_concurrency_keeps_one_interval_after_the_last_grant() -> None:
    queue = make(1)
    log: list[Grant] = []
    granted_at = time.monotonic()  # read before the grant: never later than it
    assert at_once(queue.acquire(shard(0)))
    queue.update(max_concurrency=2, remaining=999, reset_after=60.0, total=1000)
    await timed(queue, 1, log)
    assert log[0][1] - granted_at >= INTERVAL - EPS


# -- a whole start-up -----------------------------------------------------------------------


async def test_sixteen_shards_with_max_concurrency_four() -> None:
    queue = make(4, 1000, LIMIT_PERIOD, 1000)
    log: list[Grant] = []
    await asyncio.wait_for(asyncio.gather(*(timed(queue, n, log) for n in range(16))), PATIENCE)
    assert queue.remaining == 1000 - 16
    for key in range(4):
        grants = [(n, t) for n, t in log if n % 4 == key]
        assert [n for n, _ in grants] == [key, key + 4, key + 8, key + 12]  # FIFO within a key
        times = [t for _, t in grants]
        assert all(b - a >= INTERVAL - EPS for a, b in zip(times, times[1:]))
    # The four keys start together: every first grant precedes every second one.
    firsts = [t for n, t in log if n < 4]
    seconds = [t for n, t in log if 4 <= n < 8]
    assert max(firsts) < min(seconds)
    assert asyncio.all_tasks() == {asyncio.current_task()}


# -- the contract ------------------------------------------------------------------------------


async def test_default_margin_widens_the_interval() -> None:
    queue = make(identify_interval=INTERVAL, margin=INTERVAL)
    log: list[Grant] = []
    granted_at = time.monotonic()  # read before the grant: never later than it
    assert at_once(queue.acquire(shard(0)))
    await timed(queue, 0, log)
    assert log[0][1] - granted_at >= 2 * INTERVAL - EPS


def test_protocol_and_exports() -> None:
    queue = InMemoryQueue()
    assert isinstance(queue, SessionQueue)
    assert (IDENTIFY_INTERVAL, LIMIT_PERIOD) == (5.0, 86400.0)
    assert {"SessionQueue", "InMemoryQueue", "IDENTIFY_INTERVAL", "LIMIT_PERIOD"} <= set(queue_package.__all__)
    assert (queue.max_concurrency, queue.remaining, queue.total, queue.waiting) == (1, 1000, 1000, 0)
    assert repr(queue) == "InMemoryQueue(max_concurrency=1, remaining=1000, total=1000, waiting=0)"


@pytest.mark.parametrize(
    ("args", "options"),
    [
        ((1, 11, 60.0, 10), {}),
        ((-1, 1, 60.0, 10), {}),
        ((1, -1, 60.0, 10), {}),
        ((1, 1, -1.0, 10), {}),
        ((1, 1, 60.0, 10), {"identify_interval": -1.0}),
        ((1, 1, 60.0, 10), {"margin": -1.0}),
        ((1, 1, 60.0, 10), {"limit_period": 0.0}),
    ],
)
def test_invalid_settings(args: tuple[int, int, float, int], options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        InMemoryQueue(*args, **options)


def test_invalid_update_changes_nothing() -> None:
    queue = InMemoryQueue(2, 5, 60.0, 10)
    with pytest.raises(ValueError):
        queue.update(max_concurrency=4, remaining=20, reset_after=60.0, total=10)
    assert (queue.max_concurrency, queue.remaining, queue.total) == (2, 5, 10)


def test_docstring_examples() -> None:
    import doctest

    import rxgateway.queue.session_queue as base_module
    import rxgateway.queue.memory as memory_module

    for module in (queue_package, base_module, memory_module):
        assert doctest.testmod(module).failed == 0
