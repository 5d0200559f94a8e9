"""spawn(handler): bounded, owned asyncio tasks; results downstream; errors aside."""

from __future__ import annotations

import asyncio
import logging

import pytest
from ops_support import Collect, message
from reactivex.subject import Subject
from reactivex.testing import ReactiveTest, TestScheduler

from rxgateway.ops import HandlerError, spawn

on_next, on_completed = ReactiveTest.on_next, ReactiveTest.on_completed


async def settle(rounds: int = 5) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def test_results_are_emitted_and_on_next_never_blocks() -> None:
    started: list[int] = []

    async def double(x: int) -> int:
        started.append(x)
        await asyncio.sleep(0)
        return x * 2

    source: Subject[int] = Subject()
    out = Collect()
    op = spawn(double)
    source.pipe(op).subscribe(out)
    source.on_next(1)
    source.on_next(2)
    assert started == []  # on_next returned before any handler ran
    await op.join()
    assert sorted(out.values) == [2, 4]


async def test_bounded_concurrency_fifo_starts_and_nothing_dropped() -> None:
    gate = asyncio.Event()
    in_flight = 0
    peak = 0
    starts: list[int] = []

    async def handler(x: int) -> int:
        nonlocal in_flight, peak
        starts.append(x)
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await gate.wait()
            await asyncio.sleep(0.001 * (x % 3))  # finish out of order
            return x
        finally:
            in_flight -= 1

    source: Subject[int] = Subject()
    out = Collect()
    op = spawn(handler, max_concurrency=3)
    source.pipe(op).subscribe(out)
    for x in range(10):
        source.on_next(x)
    await settle()
    assert starts == [0, 1, 2]
    assert op.running == 3 and op.queued == 7
    gate.set()
    source.on_completed()
    await op.join()
    assert peak == 3
    assert starts == list(range(10))  # FIFO
    assert sorted(out.values) == list(range(10))
    assert out.completed == 1


async def test_handler_errors_go_to_the_error_stream_not_downstream() -> None:
    async def handler(x: int) -> int:
        if x == 2:
            raise ValueError("bad event")
        return x

    errors: Subject[HandlerError] = Subject()
    failures = Collect()
    errors.subscribe(failures)
    source: Subject[int] = Subject()
    out = Collect()
    op = spawn(handler, errors=errors)
    source.pipe(op).subscribe(out)
    for x in (1, 2, 3):
        source.on_next(x)
    source.on_completed()
    await op.join()
    assert sorted(out.values) == [1, 3]
    assert out.errors == [] and out.completed == 1
    [failure] = failures.values
    assert isinstance(failure, HandlerError)
    assert failure.event == 2 and failure.handler is handler and failure.key is None
    assert isinstance(failure.error, ValueError) and failure.__cause__ is failure.error


async def test_without_an_error_stream_failures_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(x: int) -> int:
        raise KeyError(x)

    source: Subject[int] = Subject()
    op = spawn(handler)
    source.pipe(op).subscribe(Collect())
    with caplog.at_level(logging.ERROR, logger="rxgateway.ops"):
        source.on_next(7)
        await op.join()
    [record] = [r for r in caplog.records if r.name == "rxgateway.ops"]
    assert record.levelno == logging.ERROR and "KeyError(7)" in record.getMessage()
    assert record.exc_info is not None


async def test_a_handler_that_is_not_async_is_reported() -> None:
    def not_async(x: int) -> int:
        return x

    errors: Subject[HandlerError] = Subject()
    failures = Collect()
    errors.subscribe(failures)
    source: Subject[int] = Subject()
    out = Collect()
    op = spawn(not_async, errors=errors)  # type: ignore[arg-type]
    source.pipe(op).subscribe(out)
    source.on_next(1)
    source.on_completed()
    await op.join()
    assert isinstance(failures.values[0].error, TypeError)
    assert out.completed == 1


async def test_dispose_cancels_running_tasks_and_drops_the_queue() -> None:
    started: list[int] = []
    cancelled: list[int] = []

    async def handler(x: int) -> int:
        started.append(x)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(x)
            raise
        return x

    errors: Subject[HandlerError] = Subject()
    failures = Collect()
    errors.subscribe(failures)
    source: Subject[int] = Subject()
    out = Collect()
    op = spawn(handler, max_concurrency=2, errors=errors)
    subscription = source.pipe(op).subscribe(out)
    for x in range(5):
        source.on_next(x)
    await settle()
    assert started == [0, 1]
    subscription.dispose()
    assert op.queued == 0
    await op.join()
    assert sorted(cancelled) == [0, 1]
    assert op.running == 0
    await settle()
    assert started == [0, 1]  # the queued ones never started
    assert failures.values == []  # a cancellation we asked for is no failure
    assert out.values == [] and out.completed == 0 and out.errors == []
    source.on_next(9)
    await settle()
    assert started == [0, 1]  # unsubscribed from the source


async def test_completion_waits_for_in_flight_tasks() -> None:
    gate = asyncio.Event()

    async def handler(x: int) -> int:
        await gate.wait()
        return x

    source: Subject[int] = Subject()
    out = Collect()
    op = spawn(handler)
    source.pipe(op).subscribe(out)
    source.on_next(1)
    source.on_completed()
    await settle()
    assert out.completed == 0
    gate.set()
    await op.join()
    await settle()
    assert out.values == [1] and out.completed == 1


async def test_a_source_error_arrives_after_the_in_flight_tasks() -> None:
    gate = asyncio.Event()

    async def handler(x: int) -> int:
        await gate.wait()
        return x

    source: Subject[int] = Subject()
    out = Collect()
    op = spawn(handler)
    source.pipe(op).subscribe(out)
    source.on_next(1)
    boom = RuntimeError("fatal close")
    source.on_error(boom)
    await settle()
    assert out.errors == []
    gate.set()
    await op.join()
    await settle()
    assert out.values == [1] and out.errors == [boom]


async def test_a_handler_cancelling_itself_is_reported() -> None:
    async def handler(x: int) -> int:
        raise asyncio.CancelledError()

    errors: Subject[HandlerError] = Subject()
    failures = Collect()
    errors.subscribe(failures)
    source: Subject[int] = Subject()
    op = spawn(handler, errors=errors)
    source.pipe(op).subscribe(Collect())
    source.on_next(1)
    await op.join()
    assert isinstance(failures.values[0].error, asyncio.CancelledError)


async def test_virtual_time_source_feeds_real_tasks() -> None:
    """A marble-style hot source on the test scheduler drives the operator; the
    handlers then run as real tasks on the loop."""
    scheduler = TestScheduler()
    events = [message(f"m{i}", i) for i in range(4)]
    source = scheduler.create_hot_observable(
        *[on_next(210 + 10 * i, e) for i, e in enumerate(events)], on_completed(300)
    )

    async def content(event: object) -> str:
        await asyncio.sleep(0)
        return event.content  # type: ignore[attr-defined,no-any-return]

    out = Collect()
    op = spawn(content, max_concurrency=2)
    source.pipe(op).subscribe(out)
    scheduler.advance_to(300)
    assert out.values == []  # nothing ran inside the producer
    await op.join()
    await settle()
    assert sorted(out.values) == ["m0", "m1", "m2", "m3"] and out.completed == 1


async def test_a_downstream_bug_is_reported_and_the_tasks_go_on() -> None:
    async def handler(x: int) -> int:
        return x

    errors: Subject[HandlerError] = Subject()
    failures = Collect()
    errors.subscribe(failures)
    source: Subject[int] = Subject()
    seen: list[int] = []

    def on_result(x: int) -> None:
        seen.append(x)
        if x == 1:
            raise ValueError("subscriber bug")

    op = spawn(handler, errors=errors)
    source.pipe(op).subscribe(on_result)
    source.on_next(1)
    source.on_next(2)
    await op.join()
    assert seen == [1, 2]
    assert isinstance(failures.values[0].error, ValueError)


def test_subscribing_without_a_running_loop_is_a_clear_error() -> None:
    async def handler(x: int) -> int:
        return x

    source: Subject[int] = Subject()
    out = Collect()
    source.pipe(spawn(handler)).subscribe(out)  # reactivex: a subscribe failure is on_error
    [error] = out.errors
    assert isinstance(error, RuntimeError) and "running event loop" in str(error)
    with pytest.raises(RuntimeError, match="running event loop"):
        source.pipe(spawn(handler)).subscribe(lambda x: None)  # no on_error: raised


def test_max_concurrency_must_be_positive() -> None:
    async def handler(x: int) -> int:
        return x

    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            spawn(handler, max_concurrency=bad)  # type: ignore[arg-type]
