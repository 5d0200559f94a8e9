"""on(flags): filtering by type bit, and pushing the flags down to the shard."""

from __future__ import annotations

import pytest
from ops_support import ALL, GC, GD, MC, READY, Collect, FakeShard, dispatch, message
from reactivex import operators as rx_ops
from reactivex.subject import Subject
from reactivex.testing import ReactiveTest, TestScheduler
from reactivex.testing.marbles import marbles_testing

from rxgateway.ops import FlagObservable, on
from rxgateway.protocol.event_type import EventTypeFlags

on_next, on_completed, on_error = ReactiveTest.on_next, ReactiveTest.on_completed, ReactiveTest.on_error

M1, M2 = message("a", 1), message("b", 4)
G = dispatch("GUILD_CREATE", 2)
R = dispatch("READY", 3)
LOOKUP = {"m": M1, "n": M2, "g": G, "r": R}


def test_keeps_only_the_flagged_types() -> None:
    with marbles_testing() as (start, cold, hot, exp):
        source = hot("-m-g-r-n-|", LOOKUP)
        expected = exp("-m-----n-|", LOOKUP)
        assert start(source.pipe(on(MC))) == expected


def test_a_union_of_flags_keeps_each() -> None:
    with marbles_testing() as (start, cold, hot, exp):
        source = hot("-m-g-r-n-|", LOOKUP)
        expected = exp("---g-r---|", LOOKUP)
        assert start(source.pipe(on(GC | READY))) == expected


def test_errors_and_completion_pass_through() -> None:
    boom = RuntimeError("fatal close")
    with marbles_testing() as (start, cold, hot, exp):
        source = hot("-g-m-#", LOOKUP, boom)
        assert start(source.pipe(on(MC))) == exp("---m-#", LOOKUP, boom)


def test_a_value_that_is_not_an_event_errors_the_stream() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(on_next(210, M1), on_next(220, "frame"), on_next(230, M2))
    results = scheduler.start(lambda: source.pipe(on(MC)))
    assert results.messages[0] == on_next(210, M1)
    assert results.messages[1].value.kind == "E"
    assert isinstance(results.messages[1].value.exception, TypeError)
    assert len(results.messages) == 2


def test_the_result_is_flag_aware_and_intersects() -> None:
    subject: Subject[object] = Subject()
    narrowed = on(MC | GC)(subject)  # type: ignore[arg-type]
    assert isinstance(narrowed, FlagObservable)
    seen = Collect()
    narrowed.subscribe_flags(seen, GC | READY)
    for event in (M1, G, R, M2):
        subject.on_next(event)
    assert seen.values == [G]  # MC is not asked for, READY is not kept


# ------------------------------------------------------------------ push-down


def test_flags_are_pushed_down_and_other_types_never_parsed() -> None:
    shard = FakeShard()
    seen = Collect()
    subscription = shard.pipe(on(MC)).subscribe(seen)
    assert shard.demand == MC
    shard.feed("MESSAGE_CREATE", 1)
    shard.feed("GUILD_CREATE", 2)
    shard.feed("READY", 3)
    assert shard.parsed == {"MESSAGE_CREATE": 1}  # the parser never saw the others
    assert [e.sequence for e in seen.values] == [1]
    subscription.dispose()
    assert shard.demand == 0
    shard.feed("MESSAGE_CREATE", 4)
    assert shard.parsed == {"MESSAGE_CREATE": 1}


def test_chained_on_pushes_down_the_intersection() -> None:
    shard = FakeShard()
    shard.pipe(on(MC | GC), on(GC | READY)).subscribe(Collect())
    assert shard.requests == [int(GC)]
    shard.feed("MESSAGE_CREATE")
    shard.feed("READY")
    assert not shard.parsed


def test_disjoint_chain_asks_for_nothing() -> None:
    shard = FakeShard()
    seen = Collect()
    shard.pipe(on(MC), on(GC)).subscribe(seen)
    assert shard.demand == 0
    shard.feed("MESSAGE_CREATE")
    assert not shard.parsed and not seen.values


def test_an_ordinary_operator_in_front_hides_the_shard() -> None:
    shard = FakeShard()
    shard.pipe(rx_ops.filter(lambda e: True), on(MC)).subscribe(Collect())
    assert shard.demand == ALL  # documented: put on() first


def test_demand_shrinks_when_the_last_interested_subscriber_leaves() -> None:
    """Virtual time: a GUILD_CREATE subscriber leaves at 400; frames after that are
    not parsed for it, while MESSAGE_CREATE still is."""
    scheduler = TestScheduler()
    shard = FakeShard()
    demand_at: dict[int, int] = {}

    def feed_at(time: int, name: str, seq: int) -> None:
        def action(_scheduler: object, _state: object = None) -> None:
            shard.feed(name, seq)
            demand_at[time] = shard.demand

        scheduler.schedule_absolute(time, action)

    guilds = Collect()
    guild_sub = []
    scheduler.schedule_absolute(150, lambda *_: guild_sub.append(shard.pipe(on(GC | GD)).subscribe(guilds)))
    scheduler.schedule_absolute(400, lambda *_: guild_sub[0].dispose())
    feed_at(300, "GUILD_CREATE", 1)
    feed_at(310, "MESSAGE_CREATE", 2)
    feed_at(500, "GUILD_CREATE", 3)
    feed_at(510, "MESSAGE_CREATE", 4)
    results = scheduler.start(lambda: shard.pipe(on(MC)), created=100, subscribed=200, disposed=1000)

    assert [(m.time, m.value.value.sequence) for m in results.messages] == [(310, 2), (510, 4)]
    assert [e.sequence for e in guilds.values] == [1]
    assert demand_at == {300: MC | GC | GD, 310: MC | GC | GD, 500: MC, 510: MC}
    assert shard.parsed == {"GUILD_CREATE": 1, "MESSAGE_CREATE": 2}  # seq 3 never parsed
    assert shard.demand == 0  # the test scheduler disposed the last one at 1000


def test_two_subscribers_to_one_on_each_push_down() -> None:
    shard = FakeShard()
    messages = shard.pipe(on(MC))
    a, b = messages.subscribe(Collect()), messages.subscribe(Collect())
    assert shard.requests == [int(MC), int(MC)]
    a.dispose()
    assert shard.demand == MC
    b.dispose()
    assert shard.demand == 0


def test_a_subscriber_bug_is_not_swallowed_by_on() -> None:
    shard = FakeShard()
    errors: list[Exception] = []

    def explode(_event: object) -> None:
        raise ValueError("subscriber bug")

    shard.pipe(on(MC)).subscribe(explode, errors.append)
    # reactivex does not catch on_next exceptions; the producer (the real Shard)
    # catches, logs and unsubscribes. Our fake lets it out.
    with pytest.raises(ValueError):
        shard.feed("MESSAGE_CREATE")


# ---------------------------------------------------------------- the real Shard


def test_on_pushes_down_to_a_real_shard_and_group() -> None:
    from rxgateway.config import Config
    from rxgateway.group import ShardGroup
    from rxgateway.protocol.intents import Intents
    from rxgateway.protocol.shard_id import ShardId
    from rxgateway.shard import Shard

    config = Config("token", Intents.GUILD_MESSAGES)
    shard = Shard(ShardId(0, 1), config)
    sub = shard.pipe(on(MC)).subscribe(lambda e: None)
    assert shard.demand == EventTypeFlags.MESSAGE_CREATE
    other = shard.pipe(on(GC), on(GC | MC)).subscribe(lambda e: None)
    assert shard.demand == MC | GC
    other.dispose()
    assert shard.demand == MC
    sub.dispose()
    assert shard.demand == 0

    group = ShardGroup([Shard(ShardId(0, 2), config), Shard(ShardId(1, 2), config)])
    sub = group.pipe(on(READY)).subscribe(lambda e: None)
    assert all(s.demand == READY for s in group)
    sub.dispose()
    assert all(s.demand == 0 for s in group)
