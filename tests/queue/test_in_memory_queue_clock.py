"""The in-memory identify queue on a fake clock: exact grant times, and properties
over random schedules of arrivals, cancellations and clock moves (hypothesis).

The queue takes every decision from its injected ``clock``; only its sleeping uses
the event loop's timers. A test moves the fake clock forward, calls
:meth:`InMemoryQueue.recheck` so the waiters read it, and lets the ready tasks run.
No real time passes, so grant times are exact and these tests cannot be slowed into
failing. (The real-clock tests, with lower bounds only, are in
``test_in_memory_queue.py``.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxgateway.protocol.shard_id import ShardId
from rxgateway.queue import InMemoryQueue

#: A hung queue must fail its test, not the whole run.
pytestmark = pytest.mark.timeout(60)

#: Shards of the property tests (keys are ``number % max_concurrency``).
SHARDS = 8


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        assert seconds >= 0, "a clock must never go backwards"
        self.now += seconds


def shard(number: int) -> ShardId:
    return ShardId(number, SHARDS)


async def settle(progress: Callable[[], Any] = lambda: None, *, quiet: int = 4, cap: int = 1000) -> None:
    """Run the ready tasks until ``progress()`` stays the same for ``quiet`` loop
    iterations (woken waiters have granted themselves or gone back to sleep)."""
    last, still = progress(), 0
    for _ in range(cap):
        await asyncio.sleep(0)
        now = progress()
        still = still + 1 if now == last else 0
        last = now
        if still >= quiet:
            return
    raise AssertionError("the queue never settled")


@dataclass
class Run:
    """Drives one queue on a fake clock and logs every grant as (arrival, time)."""

    queue: InMemoryQueue
    clock: FakeClock
    grants: list[tuple[int, float]] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)

    @classmethod
    def make(cls, max_concurrency: int = 1, remaining: int = 1000, reset_after: float = 86400.0,
             total: int = 1000, **options: Any) -> Run:  # fmt: skip
        clock = FakeClock()
        options.setdefault("margin", 0.0)
        queue = InMemoryQueue(max_concurrency, remaining, reset_after, total, clock=clock, **options)
        return cls(queue, clock)

    def arrive(self, number: int) -> asyncio.Task[None]:
        arrival = len(self.tasks)

        async def wait() -> None:
            await self.queue.acquire(shard(number))
            self.grants.append((arrival, self.clock.now))  # same step as the grant

        task = asyncio.get_running_loop().create_task(wait())
        self.tasks.append(task)
        self.numbers.append(number)
        return task

    def progress(self) -> tuple[int, int, int]:
        return len(self.grants), self.queue.waiting, sum(t.done() for t in self.tasks)

    async def settle(self) -> None:
        await settle(self.progress)

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.queue.recheck()
        await self.settle()

    def granted(self) -> list[int]:
        return [arrival for arrival, _ in self.grants]

    def times(self) -> list[float]:
        return [t for _, t in self.grants]


# -- exact times ---------------------------------------------------------------------------


async def test_grants_come_exactly_one_spacing_apart() -> None:
    run = Run.make(1, identify_interval=5.0, margin=0.25)
    start = run.clock.now
    for _ in range(3):
        run.arrive(0)
    await run.settle()
    assert run.granted() == [0]
    await run.advance(5.2)
    assert run.granted() == [0]  # 5.2 < 5.0 + 0.25
    await run.advance(0.05)
    assert run.granted() == [0, 1]
    await run.advance(5.25)
    assert run.granted() == [0, 1, 2]
    assert run.times() == [start, start + 5.2 + 0.05, start + 5.2 + 0.05 + 5.25]
    assert run.queue.remaining == 997 and run.queue.waiting == 0


async def test_a_timer_that_fires_early_only_rechecks() -> None:
    # The real timer of a 0.01 s fake wait fires while the fake clock stands still:
    # the waiter re-reads the clock and waits on, it does not grant itself.
    run = Run.make(1, identify_interval=0.01)
    run.arrive(0)
    waiter = run.arrive(0)
    await run.settle()
    await asyncio.sleep(0.05)  # real time: the timer fires, probably several times
    await run.settle()
    assert run.granted() == [0] and not waiter.done()
    await run.advance(0.01)
    assert run.granted() == [0, 1]


async def test_cancelled_head_the_next_goes_when_the_head_would_have() -> None:
    run = Run.make(1, 10, 60.0, 10, identify_interval=2.5)
    first = run.arrive(0)
    head = run.arrive(0)
    behind = run.arrive(0)
    await run.settle()
    assert first.done() and run.queue.waiting == 2
    await run.advance(1.0)
    head.cancel()
    await run.settle()
    assert head.cancelled() and not behind.done()
    await run.advance(1.4)
    assert not behind.done()  # 2.4 s since the grant: not yet
    await run.advance(0.1)
    assert behind.done() and run.granted() == [0, 2]
    assert run.times()[1] - run.times()[0] == pytest.approx(2.5)
    assert run.queue.remaining == 8 and run.queue.waiting == 0


async def test_a_woken_head_cancelled_before_it_runs_hands_over_at_once() -> None:
    run = Run.make(1, identify_interval=5.0)
    for _ in range(3):
        run.arrive(0)
    await run.settle()
    run.clock.advance(5.0)
    run.queue.recheck()  # wakes the head...
    run.tasks[1].cancel()  # ...which is cancelled before it gets to run
    await run.settle()  # no recheck: the cancellation itself must wake the next one
    assert run.tasks[1].cancelled() and run.granted() == [0, 2]
    assert run.queue.remaining == 998


async def test_an_empty_budget_waits_for_reset_after_exactly() -> None:
    run = Run.make(1, 0, 30.0, 3, identify_interval=5.0)
    start = run.clock.now
    run.arrive(0)
    await run.advance(29.9)
    assert run.grants == []
    await run.advance(0.1)
    assert run.times() == [start + 29.9 + 0.1]
    assert run.queue.remaining == 2


async def test_a_window_opens_at_the_first_grant_and_lasts_limit_period() -> None:
    run = Run.make(1, 2, 0.0, 2, identify_interval=1.0, limit_period=100.0)
    await run.advance(50.0)  # nothing is running yet: the window starts at the grant
    opened = run.clock.now
    for _ in range(3):
        run.arrive(0)
    await run.settle()
    assert run.times() == [opened]
    await run.advance(1.0)
    assert len(run.grants) == 2 and run.queue.remaining == 0
    await run.advance(98.0)  # 99 s into the window
    assert len(run.grants) == 2
    await run.advance(1.0)
    assert len(run.grants) == 3 and run.times()[2] == opened + 1.0 + 98.0 + 1.0
    assert run.queue.remaining == 1


async def test_keys_wait_side_by_side() -> None:
    run = Run.make(2, identify_interval=5.0)
    for number in (0, 1, 2, 3, 4):
        run.arrive(number)
    await run.settle()
    assert run.granted() == [0, 1]
    await run.advance(5.0)
    assert run.granted() == [0, 1, 2, 3]
    await run.advance(5.0)
    assert run.granted() == [0, 1, 2, 3, 4]


async def test_new_max_concurrency_waits_one_spacing_from_the_latest_grant() -> None:
    run = Run.make(1, identify_interval=5.0)
    run.arrive(0)
    await run.settle()
    await run.advance(2.0)
    run.arrive(1)
    await run.settle()
    run.queue.update(max_concurrency=2, remaining=999, reset_after=60.0, total=1000)
    await run.settle()
    assert run.granted() == [0]  # key 1 is new, but the last grant was 2 s ago
    await run.advance(3.0)
    assert run.granted() == [0, 1]


async def test_recheck_on_an_idle_or_disabled_queue_does_nothing() -> None:
    run = Run.make(0)
    run.queue.recheck()
    await asyncio.wait_for(run.queue.acquire(shard(3)), 1)  # granted, on the spot
    idle = Run.make(2)
    idle.queue.recheck()
    assert idle.queue.waiting == 0 and idle.queue.remaining == 1000


# -- properties ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    max_concurrency: int
    identify_interval: float
    margin: float
    total: int
    remaining: int
    reset_after: float
    limit_period: float

    @property
    def spacing(self) -> float:
        return self.identify_interval + self.margin


@st.composite
def limits(draw: st.DrawFn) -> Limits:
    total = draw(st.sampled_from([1, 2, 3, 1000]))  # tight budgets, and one that is no limit
    return Limits(
        max_concurrency=draw(st.integers(1, 3)),
        identify_interval=draw(st.sampled_from([0.0, 0.5, 5.0])),
        margin=draw(st.sampled_from([0.0, 0.25])),
        total=total,
        remaining=draw(st.integers(0, min(total, 3)) | st.just(total)),
        reset_after=draw(st.sampled_from([0.0, 3.0, 20.0])),
        limit_period=draw(st.sampled_from([10.0, 30.0])),
    )


@dataclass(frozen=True)
class Round:
    """One step of a script: shards arrive, the clock moves and the waiters read it,
    perhaps a waiter is cancelled (before the move, or after it, when the head may
    have been woken but has not run yet), then every ready task runs."""

    arrivals: list[int]
    move: float
    cancel: int | None
    cancel_after_move: bool


def rounds(limits: Limits) -> st.SearchStrategy[list[Round]]:
    """Scripts whose moves land around the spacing and the windows, where the queue decides."""
    spacing, reset_after, period = limits.spacing, limits.reset_after, limits.limit_period
    moves = st.sampled_from([
        0.0, spacing / 2, spacing * 0.99, spacing, spacing * 1.5,
        reset_after * 0.95, reset_after, period * 0.95, period,
    ]) | st.floats(0.0, 2 * period)  # fmt: skip
    one = st.builds(
        Round,
        arrivals=st.lists(st.integers(0, SHARDS - 1), max_size=3),
        move=moves,
        cancel=st.none() | st.none() | st.just(0) | st.integers(0, 100),  # 0: the oldest, often a head
        cancel_after_move=st.booleans(),
    )
    return st.lists(one, max_size=15)


scenarios = limits().flatmap(lambda l: st.tuples(st.just(l), rounds(l)))


def check_spacing_and_fifo(run: Run, limits: Limits) -> None:
    last: dict[int, tuple[int, float]] = {}
    for arrival, time in run.grants:
        key = run.numbers[arrival] % limits.max_concurrency
        if key in last:
            previous, at = last[key]
            assert arrival > previous, f"key {key}: arrival {arrival} granted after {previous}"  # FIFO
            assert time >= at + limits.spacing, f"key {key}: grants at {at} and {time}"
        last[key] = (arrival, time)


def check_budget(run: Run, limits: Limits, start: float) -> None:
    """Replay the grants through the documented daily windows: none overdraws one."""
    budget = limits.remaining
    end = start + limits.reset_after if limits.remaining < limits.total else None
    for time in run.times():
        if end is not None and time >= end:
            budget, end = limits.total, None
        if end is None:
            end = time + limits.limit_period
        budget -= 1
        assert budget >= 0, f"grant at {time} overdraws the window ending {end}"
    assert 0 <= run.queue.remaining <= limits.total


def check_nobody_waits_for_nothing(run: Run, limits: Limits, cancelled: set[int]) -> None:
    """After the tasks settle, a key still waiting is waiting for a reason: its
    spacing since its last grant, or the budget's refill."""
    last: dict[int, float] = {}
    for arrival, time in run.grants:
        last[run.numbers[arrival] % limits.max_concurrency] = time
    waiting_keys = {
        run.numbers[i] % limits.max_concurrency
        for i, task in enumerate(run.tasks)
        if not task.done() and i not in cancelled
    }
    now = run.clock.now
    for key in waiting_keys:
        spaced = key not in last or now >= last[key] + limits.spacing
        assert not spaced or run.queue.remaining == 0, f"key {key} waits with budget and spacing available"
    for i in cancelled:
        assert run.tasks[i].cancelled()
        assert i not in run.granted()


async def play(limits: Limits, script: list[Round]) -> None:
    run = Run.make(
        limits.max_concurrency, limits.remaining, limits.reset_after, limits.total,
        identify_interval=limits.identify_interval, margin=limits.margin, limit_period=limits.limit_period,
    )  # fmt: skip
    start = run.clock.now
    cancelled: set[int] = set()

    def cancel(choice: int | None) -> None:
        pending = [i for i, task in enumerate(run.tasks) if not task.done()]
        if choice is not None and pending:
            i = pending[choice % len(pending)]
            run.tasks[i].cancel()
            cancelled.add(i)

    for step in script:
        for number in step.arrivals:
            run.arrive(number)
        await run.settle()
        if not step.cancel_after_move:
            cancel(step.cancel)
        run.clock.advance(step.move)
        run.queue.recheck()
        if step.cancel_after_move:
            cancel(step.cancel)
        await run.settle()
        check_nobody_waits_for_nothing(run, limits, cancelled)
        check_spacing_and_fifo(run, limits)
        check_budget(run, limits, start)
    await run.settle()
    check_nobody_waits_for_nothing(run, limits, cancelled)
    # Liveness: with time, every waiter that was not cancelled is granted.
    leap = max(limits.spacing, limits.limit_period, limits.reset_after) + 1.0
    for _ in range(len(run.tasks) + 2):
        if all(task.done() for task in run.tasks):
            break
        await run.advance(leap)
    assert all(task.done() for task in run.tasks)
    assert sorted(run.granted()) == [i for i in range(len(run.tasks)) if i not in cancelled]
    assert run.queue.waiting == 0
    check_spacing_and_fifo(run, limits)
    check_budget(run, limits, start)


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios)
def test_property_spacing_fifo_budget_and_cancellation(scenario: tuple[Limits, list[Round]]) -> None:
    asyncio.run(play(*scenario))


@settings(max_examples=100, deadline=None)
@given(
    limits=limits(),
    arrivals=st.lists(st.integers(0, SHARDS - 1), min_size=1, max_size=20),
    cancel=st.sets(st.integers(0, 19)),
)
def test_property_cancelling_any_waiters_never_blocks_the_rest(
    limits: Limits, arrivals: list[int], cancel: set[int]
) -> None:
    async def scenario() -> None:
        run = Run.make(
            limits.max_concurrency, limits.remaining, limits.reset_after, limits.total,
            identify_interval=limits.identify_interval, margin=limits.margin, limit_period=limits.limit_period,
        )  # fmt: skip
        for number in arrivals:
            run.arrive(number)
        await run.settle()
        gone = {i for i in cancel if i < len(run.tasks) and not run.tasks[i].done()}
        for i in gone:
            run.tasks[i].cancel()
        await run.settle()
        check_nobody_waits_for_nothing(run, limits, gone)
        leap = max(limits.spacing, limits.limit_period, limits.reset_after) + 1.0
        for _ in range(len(run.tasks) + 2):
            await run.advance(leap)
        assert sorted(run.granted()) == [i for i in range(len(run.tasks)) if i not in gone]
        check_spacing_and_fifo(run, limits)

    asyncio.run(scenario())
