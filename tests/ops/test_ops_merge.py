"""merge(*sources): a merged stream that keeps demand push-down."""

from __future__ import annotations

from ops_support import ALL, GC, MC, READY, SHARD0, SHARD1, Collect, FakeShard, dispatch, message
from reactivex.subject import Subject
from reactivex.testing.marbles import marbles_testing

from rxgateway.ops import FlagObservable, merge, on

A, B = message("a", 1, SHARD0), message("b", 1, SHARD1)
G, R = dispatch("GUILD_CREATE", 2, SHARD0), dispatch("READY", 3, SHARD1)
LOOKUP = {"a": A, "b": B, "g": G, "r": R}


def test_interleaves_and_completes_when_all_complete() -> None:
    with marbles_testing() as (start, cold, hot, exp):
        left = hot("-a---g-|", LOOKUP)
        right = hot("---b-----r-|", LOOKUP)
        assert start(merge(left, right)) == exp("-a-b-g---r-|", LOOKUP)


def test_errors_with_the_first_error() -> None:
    boom = RuntimeError("fatal")
    with marbles_testing() as (start, cold, hot, exp):
        left = hot("-a---#", LOOKUP, boom)
        right = hot("---b-----r-|", LOOKUP)
        assert start(merge(left, right)) == exp("-a-b-#", LOOKUP, boom)


def test_operator_form() -> None:
    with marbles_testing() as (start, cold, hot, exp):
        left = hot("-a---g-|", LOOKUP)
        right = hot("---b---|", LOOKUP)
        assert start(left.pipe(merge(right))) == exp("-a-b-g-|", LOOKUP)


def test_no_sources_completes() -> None:
    seen = Collect()
    merge().subscribe(seen)
    assert seen.completed == 1 and not seen.values


def test_on_after_merge_pushes_down_to_every_source() -> None:
    one, two = FakeShard(SHARD0), FakeShard(SHARD1)
    merged = merge(one, two)
    assert isinstance(merged, FlagObservable)
    seen = Collect()
    sub = merged.pipe(on(MC)).subscribe(seen)
    assert one.demand == MC and two.demand == MC
    one.feed("MESSAGE_CREATE", 1)
    two.feed("GUILD_CREATE", 2)
    two.feed("MESSAGE_CREATE", 3)
    assert [(e.shard, e.sequence) for e in seen.values] == [(SHARD0, 1), (SHARD1, 3)]
    assert not two.parsed["GUILD_CREATE"]
    sub.dispose()
    assert one.demand == 0 and two.demand == 0


def test_plain_subscribe_asks_for_everything() -> None:
    one = FakeShard()
    merge(one).subscribe(Collect())
    assert one.demand == ALL


def test_a_plain_source_among_them_is_filtered() -> None:
    shard, subject = FakeShard(SHARD0), Subject()  # type: ignore[var-annotated]
    seen = Collect()
    merge(shard, subject).subscribe_flags(seen, MC | READY)
    assert shard.demand == MC | READY
    subject.on_next(G)  # not asked for: filtered out
    subject.on_next(R)
    shard.feed("MESSAGE_CREATE", 9)
    assert [e.sequence for e in seen.values] == [3, 9]


def test_merges_of_merges_intersect() -> None:
    a, b, c = FakeShard(), FakeShard(), FakeShard()
    merge(merge(a, b).pipe(on(MC | GC)), c).pipe(on(GC)).subscribe(Collect())
    assert (a.demand, b.demand, c.demand) == (GC, GC, GC)


def test_completion_needs_every_source() -> None:
    one, two = FakeShard(), FakeShard()
    seen = Collect()
    merge(one, two).subscribe(seen)
    one.complete()
    assert seen.completed == 0
    two.complete()
    assert seen.completed == 1


def test_an_error_disposes_the_other_sources() -> None:
    one, two = FakeShard(), FakeShard()
    seen = Collect()
    merge(one, two).subscribe(seen)
    one.fail(RuntimeError("x"))
    assert len(seen.errors) == 1 and two.demand == 0
