"""Receipts: a source learns when the work an event started has ended, through
``spawn`` and ``route``'s task pools, chains of them, failures and disposal; a source
without receipts is untouched."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from reactivex import operators as rx_ops
from reactivex.subject import Subject

from rxgateway import ops
from rxgateway.events import MessageCreate
from rxgateway.events.base import Dispatch
from rxgateway.protocol.event_type import EventType
from rxgateway.protocol.shard_id import ShardId
from rxgateway.receipts import Receipt, current_receipt, deliver


class Source:
    """A subject that delivers each value inside a receipt, recording how each settled."""

    def __init__(self) -> None:
        self.subject: Subject[Any] = Subject()
        self.settled: dict[Any, bool] = {}

    def send(self, value: Any) -> Receipt:
        receipt = Receipt(lambda ok: self.settled.__setitem__(value, ok))
        deliver(receipt, self.subject.on_next, value)
        return receipt


async def settle(loop_turns: int = 5) -> None:
    for _ in range(loop_turns):
        await asyncio.sleep(0)


def test_a_receipt_settles_once_every_hold_is_released() -> None:
    outcomes: list[bool] = []
    receipt = Receipt(outcomes.append)
    receipt.hold()
    receipt.hold()
    receipt.seal()
    receipt.release(True)
    assert outcomes == [] and receipt.holds == 1 and not receipt.settled
    receipt.release(False)
    assert outcomes == [False] and receipt.settled
    with pytest.raises(RuntimeError):
        receipt.release(True)
    with pytest.raises(RuntimeError):
        receipt.hold()


def test_with_nothing_holding_it_a_receipt_settles_when_on_next_returns() -> None:
    source = Source()
    seen: list[int] = []
    source.subject.pipe(rx_ops.filter(lambda v: v % 2 == 0)).subscribe(seen.append)
    source.send(1)
    source.send(2)
    assert source.settled == {1: True, 2: True} and seen == [2]
    assert current_receipt() is None


def test_an_on_next_that_raises_settles_as_failed() -> None:
    outcomes: list[bool] = []
    receipt = Receipt(outcomes.append)

    def boom(_value: object) -> None:
        raise ValueError("the observer's bug")

    with pytest.raises(ValueError):
        deliver(receipt, boom, 1)
    assert outcomes == [False] and current_receipt() is None


async def test_spawn_holds_the_receipt_until_its_task_ended() -> None:
    source = Source()
    gate = asyncio.Event()

    async def handler(value: int) -> int:
        await gate.wait()
        return value

    results: list[int] = []
    source.subject.pipe(ops.spawn(handler)).subscribe(results.append)
    receipt = source.send(7)
    await settle()
    assert source.settled == {} and receipt.holds == 1  # still running: not acknowledged
    gate.set()
    await settle()
    assert source.settled == {7: True} and results == [7]


async def test_a_queued_event_holds_too_and_a_failed_handler_settles_as_failed() -> None:
    source = Source()
    failures: Subject[Any] = Subject()
    reported: list[Any] = []
    failures.subscribe(reported.append)

    async def handler(value: int) -> int:
        await asyncio.sleep(0)
        if value == 2:
            raise RuntimeError("handler failed")
        return value

    source.subject.pipe(ops.spawn(handler, max_concurrency=1, errors=failures)).subscribe()
    for value in (1, 2, 3):
        source.send(value)
    assert source.settled == {}  # 1 runs, 2 and 3 wait: all held
    for _ in range(50):
        await asyncio.sleep(0)
        if len(source.settled) == 3:
            break
    assert source.settled == {1: True, 2: False, 3: True}
    assert len(reported) == 1


async def test_a_chain_of_spawns_holds_until_the_last_handler_ended() -> None:
    source = Source()
    second = asyncio.Event()

    async def first(value: int) -> int:
        await asyncio.sleep(0)
        return value * 10

    async def then(value: int) -> int:
        await second.wait()
        return value

    done: list[int] = []
    source.subject.pipe(ops.spawn(first), ops.spawn(then)).subscribe(done.append)
    source.send(1)
    await settle(10)
    assert source.settled == {} and done == []  # first ended, then still waits
    second.set()
    await settle(10)
    assert source.settled == {1: True} and done == [10]


async def test_disposing_before_the_work_ran_settles_as_failed() -> None:
    source = Source()

    async def handler(value: int) -> None:
        await asyncio.sleep(10)

    subscription = source.subject.pipe(ops.spawn(handler, max_concurrency=1)).subscribe()
    source.send(1)  # running
    source.send(2)  # queued
    await settle()
    subscription.dispose()
    await settle()
    assert source.settled == {1: False, 2: False}


async def test_route_s_async_handlers_hold_the_receipt_and_its_sync_ones_do_not() -> None:
    source = Source()
    gate = asyncio.Event()
    sync_seen: list[Any] = []

    async def slow(event: Any) -> None:
        await gate.wait()

    table = {MessageCreate: slow, Dispatch: sync_seen.append}
    routing = source.subject.pipe(ops.route(table))
    message = MessageCreate(ShardId(0, 1), 5, "MESSAGE_CREATE", {"id": "1", "channel_id": "2", "content": "hi"}, EventType.MESSAGE_CREATE)
    source.send(message)
    await settle()
    assert sync_seen == [message] and source.settled == {}
    gate.set()
    await settle()
    assert source.settled == {message: True}
    await routing.aclose()


async def test_a_local_source_takes_no_hold() -> None:
    subject: Subject[int] = Subject()
    seen: list[Receipt | None] = []

    async def handler(value: int) -> None:
        seen.append(current_receipt())

    spawning = ops.spawn(handler)
    subject.pipe(spawning).subscribe()
    subject.on_next(1)
    await spawning.join()
    assert seen == [None]
