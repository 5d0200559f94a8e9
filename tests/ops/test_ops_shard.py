"""with_shard() and by_shard()."""

from __future__ import annotations

from ops_support import MC, SHARD0, SHARD1, FakeShard, dispatch, message
from reactivex import operators as rx_ops
from reactivex.testing import ReactiveTest, TestScheduler
from reactivex.testing.marbles import marbles_testing

from rxgateway.ops import by_shard, on, with_shard

on_next, on_completed = ReactiveTest.on_next, ReactiveTest.on_completed

A = message("a", 1, SHARD0)
B = message("b", 1, SHARD1)
C = dispatch("READY", 2, SHARD0)
LOOKUP = {"a": A, "b": B, "c": C}


def test_with_shard_pairs_each_event_with_its_shard() -> None:
    with marbles_testing() as (start, cold, hot, exp):
        source = hot("-a-b-c-|", LOOKUP)
        expected = exp("-x-y-z-|", {"x": (SHARD0, A), "y": (SHARD1, B), "z": (SHARD0, C)})
        assert start(source.pipe(with_shard())) == expected


def test_with_shard_errors_on_a_value_without_a_shard() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(on_next(210, A), on_next(220, 42))
    messages = scheduler.start(lambda: source.pipe(with_shard())).messages
    assert messages[0] == on_next(210, (SHARD0, A))
    assert isinstance(messages[1].value.exception, TypeError)


def test_with_shard_after_on_still_pushes_down() -> None:
    shard = FakeShard()
    shard.pipe(on(MC), with_shard()).subscribe(lambda pair: None)
    assert shard.demand == MC


def test_by_shard_groups_by_shard_id() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, A), on_next(220, B), on_next(230, C), on_completed(240)
    )
    keys: list[object] = []

    def create():  # type: ignore[no-untyped-def]
        def per_group(group):  # type: ignore[no-untyped-def]
            keys.append(group.key)
            return group.pipe(rx_ops.map(lambda e: (group.key.number, e.sequence, e.name)))

        return source.pipe(by_shard(), rx_ops.flat_map(per_group))

    results = scheduler.start(create)
    assert keys == [SHARD0, SHARD1]
    assert results.messages == [
        on_next(210, (0, 1, "MESSAGE_CREATE")),
        on_next(220, (1, 1, "MESSAGE_CREATE")),
        on_next(230, (0, 2, "READY")),
        on_completed(240),
    ]
