"""The fused path (rxgateway.ops._fused) against plain reactivex: the same marbles
through ``shard.pipe(on(..), filter(..), map(..)).subscribe(fns)`` on a real Shard
(delivered by its fanout, as the receive loop does) and through reactivex's own
operators on a Subject give the same notifications: values and their order, errors
from a predicate, a mapper or the subscriber, completion, disposal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import reactivex.operators as rx_ops
from ops_support import MC, READY, dispatch, message
from reactivex import Observable, abc
from reactivex.subject import Subject

from rxgateway import ops
from rxgateway.config import Config
from rxgateway.events.base import Event
from rxgateway.group import create_range
from rxgateway.ops._fused import FusedObservable
from rxgateway.protocol.event_type import EventType, EventTypeFlags
from rxgateway.protocol.intents import Intents
from rxgateway.protocol.shard_id import ShardId
from rxgateway.shard import Shard

MC_BIT = int(EventTypeFlags.MESSAGE_CREATE)
BITS = {EventType.MESSAGE_CREATE: MC_BIT, EventType.READY: int(EventTypeFlags.READY),
        EventType.GUILD_CREATE: int(EventTypeFlags.GUILD_CREATE)}  # fmt: skip


class Boom(Exception):
    """A user's bug."""


def shard() -> Shard:
    return Shard(ShardId(0, 1), Config("secret-token", Intents.all(), compression=None))


def record() -> tuple[list[tuple[str, Any]], dict[str, Callable[..., None]]]:
    """A notification log and the three functions that fill it."""
    log: list[tuple[str, Any]] = []
    fns: dict[str, Callable[..., None]] = {
        "on_next": lambda v: log.append(("next", v)),
        "on_error": lambda e: log.append(("error", e)),
        "on_completed": lambda: log.append(("completed", None)),
    }
    return log, fns


#: A marble: ("next", event) | ("error", exc) | ("completed", None) | ("dispose", None).
Marble = list[tuple[str, Any]]


def through_reactivex(marbles: Marble, stages: list[Callable[[Any], Any]], flags: int, fns: dict[str, Any]) -> None:
    """The marbles through a Subject and reactivex's operators (on = a bit filter)."""
    subject: Subject[Event] = Subject()
    plain_on = rx_ops.filter(lambda e: bool(BITS.get(e.type, 0) & flags))
    disposable = subject.pipe(plain_on, *stages).subscribe(**fns)
    for kind, value in marbles:
        if kind == "next":
            subject.on_next(value)
        elif kind == "error":
            subject.on_error(value)
        elif kind == "completed":
            subject.on_completed()
        else:
            disposable.dispose()


def through_fused(marbles: Marble, stages: list[Callable[[Any], Any]], flags: int, fns: dict[str, Any]) -> Shard:
    """The same marbles through a Shard's fanout and the fused path."""
    source = shard()
    piped = source.pipe(ops.on(flags), *stages)
    disposable = piped.subscribe(**fns)
    fanout = source._fanout
    for kind, value in marbles:
        if kind == "next":
            fanout.deliver(BITS[value.type], value)
        elif kind == "error":
            fanout.finish(value)
        elif kind == "completed":
            fanout.finish()
        else:
            disposable.dispose()
    return source


def same(marbles: Marble, stages: Callable[[], list[Callable[[Any], Any]]], flags: int = MC_BIT,
         fns: Callable[[list[tuple[str, Any]]], dict[str, Any]] | None = None) -> tuple[list[Any], Shard]:  # fmt: skip
    """Run both; assert the logs are equal; return the log and the shard."""
    plain_log, plain_fns = record()
    fused_log, fused_fns = record()
    if fns is not None:
        plain_fns, fused_fns = fns(plain_log), fns(fused_log)
    through_reactivex(marbles, stages(), flags, plain_fns)
    source = through_fused(marbles, stages(), flags, fused_fns)
    assert fused_log == plain_log
    return fused_log, source


M1, M2, M3, M4 = (message(f"m{i}", seq=i) for i in range(1, 5))
R = dispatch("READY", seq=9)
G = dispatch("GUILD_CREATE", seq=10, id="1")


def test_on_alone_passes_the_same_values_in_order_then_completes() -> None:
    log, source = same([("next", M1), ("next", G), ("next", M2), ("next", R), ("completed", None)], list)
    assert log == [("next", M1), ("next", M2), ("completed", None)]
    assert source.demand == 0  # the subscriber left the shard at completion


def test_on_with_several_flags() -> None:
    log, _ = same([("next", R), ("next", M1), ("next", G)], list, flags=MC_BIT | int(READY))
    assert [v for _, v in log] == [R, M1]


def test_filter_and_map_chain() -> None:
    def stages() -> list[Callable[[Any], Any]]:
        return [ops.filter(lambda m: m.content != "m2"), ops.map(lambda m: m.content.upper())]

    log, _ = same([("next", M1), ("next", M2), ("next", M3), ("completed", None)], stages)
    assert log == [("next", "M1"), ("next", "M3"), ("completed", None)]


def test_a_predicate_that_raises_ends_the_subscription() -> None:
    error = Boom("predicate")

    def predicate(m: Any) -> bool:
        if m.content == "m2":
            raise error
        return True

    log, source = same([("next", M1), ("next", M2), ("next", M3), ("completed", None)],
                       lambda: [ops.filter(predicate), ops.map(lambda m: m.sequence)])  # fmt: skip
    assert log == [("next", 1), ("error", error)]
    assert source.demand == 0  # disposed: the shard stops parsing for it


def test_a_mapper_that_raises_ends_the_subscription() -> None:
    error = Boom("mapper")

    def mapper(m: Any) -> int:
        if m.sequence == 3:
            raise error
        return int(m.sequence)

    log, source = same([("next", M1), ("next", M3), ("next", M4)], lambda: [ops.map(mapper)])
    assert log == [("next", 1), ("error", error)]
    assert source.demand == 0


@pytest.mark.parametrize("chained", [False, True], ids=["on", "on-filter-map"])
def test_a_subscriber_that_raises_is_told_and_gets_nothing_more(chained: bool) -> None:
    error = Boom("subscriber")

    def fns(log: list[tuple[str, Any]]) -> dict[str, Any]:
        def on_next(value: Any) -> None:
            log.append(("next", value))
            if len(log) == 2:
                raise error

        return {"on_next": on_next, "on_error": lambda e: log.append(("error", e))}

    def stages() -> list[Callable[[Any], Any]]:
        return [ops.filter(lambda m: True), ops.map(lambda m: m)] if chained else []

    # reactivex lets the subscriber's exception out of Subject.on_next; the shard's
    # fanout catches it, unsubscribes and tells on_error. Compare with the Subject's
    # raise turned into the same on_error, as the shard's guard does.
    fused_log: list[tuple[str, Any]] = []
    source = through_fused([("next", M1), ("next", M2), ("next", M3), ("completed", None)], stages(), MC_BIT, fns(fused_log))
    assert fused_log == [("next", M1), ("next", M2), ("error", error)]
    assert source.demand == 0


def test_the_source_error_reaches_the_subscriber_once() -> None:
    error = Boom("fatal close")
    log, _ = same([("next", M1), ("error", error), ("next", M2)],
                  lambda: [ops.filter(lambda m: True), ops.map(lambda m: m.sequence)])  # fmt: skip
    assert log == [("next", 1), ("error", error)]


def test_nothing_after_dispose() -> None:
    log, source = same([("next", M1), ("dispose", None), ("next", M2), ("completed", None)],
                       lambda: [ops.map(lambda m: m.sequence)])  # fmt: skip
    assert log == [("next", 1)]
    assert source.demand == 0


def test_disposed_by_another_subscriber_during_the_same_delivery() -> None:
    """The fanout walks a snapshot of its subscribers: one disposed by an earlier
    subscriber's callback in the same delivery must not get the value."""
    source = shard()
    got: list[Any] = []
    later: list[abc.DisposableBase] = []
    source.pipe(ops.on(MC)).subscribe(lambda e: later[0].dispose())
    later.append(source.pipe(ops.on(MC)).subscribe(got.append))
    source._fanout.deliver(MC_BIT, M1)
    assert got == []
    assert len(source._fanout) == 1


def test_the_fused_path_is_taken_and_the_function_is_the_subscriber() -> None:
    source = shard()
    seen: list[Any] = []
    piped = source.pipe(ops.on(MC))
    piped.subscribe(seen.append)
    (sub,) = source._fanout.subscribers
    assert sub.on_next == seen.append  # no observer wrapper in between
    chained = source.pipe(ops.on(MC), ops.filter(lambda m: True), ops.map(lambda m: m))
    assert isinstance(chained, FusedObservable)
    assert source.demand == MC_BIT


def test_an_observer_or_a_scheduler_takes_reactivex_path_with_the_same_values() -> None:
    from reactivex.scheduler import ImmediateScheduler

    source = shard()
    got: list[Any] = []

    class Sink(abc.ObserverBase[Any]):
        def on_next(self, value: Any) -> None:
            got.append(("observer", value))

        def on_error(self, error: Exception) -> None:
            got.append(("error", error))

        def on_completed(self) -> None:
            got.append(("completed", None))

    piped = source.pipe(ops.on(MC), ops.map(lambda m: m.sequence))
    piped.subscribe(Sink())
    piped.subscribe(lambda v: got.append(("scheduled", v)), scheduler=ImmediateScheduler())
    source._fanout.deliver(MC_BIT, M1)
    source._fanout.finish()
    assert got == [("observer", 1), ("scheduled", 1), ("completed", None)]


def test_filter_and_map_elsewhere_are_reactivex_own() -> None:
    subject: Subject[int] = Subject()
    piped = subject.pipe(ops.filter(lambda x: x > 1), ops.map(lambda x: -x))
    assert not isinstance(piped, FusedObservable)
    got: list[int] = []
    piped.subscribe(got.append)
    for x in (1, 2, 3):
        subject.on_next(x)
    assert got == [-2, -3]


def test_a_group_fuses_too_and_completes_when_every_shard_has() -> None:
    group = create_range(range(2), 2, Config("secret-token", Intents.all(), compression=None))
    log, fns = record()
    group.pipe(ops.on(MC), ops.map(lambda m: m.sequence)).subscribe(**fns)
    first, second = list(group)
    first._fanout.deliver(MC_BIT, M1)
    second._fanout.deliver(MC_BIT, M2)
    first._fanout.finish()
    assert log == [("next", 1), ("next", 2)]
    second._fanout.finish()
    assert log == [("next", 1), ("next", 2), ("completed", None)]


def test_typed_pipeline_stays_an_observable() -> None:
    source = shard()
    piped: Observable[str] = source.pipe(ops.on(MC), ops.map(lambda m: m.content))
    got: list[str] = []
    piped.pipe(ops.take(1)).subscribe(got.append)  # reactivex's path after a non-fused operator
    source._fanout.deliver(MC_BIT, M1)
    source._fanout.deliver(MC_BIT, M2)
    assert got == ["m1"]


def test_of_type_fused_keeps_the_same_values_as_its_observer_path() -> None:
    from ops_support import MessageCreate as TypedMessage

    plain: list[Any] = []
    subject: Subject[Event] = Subject()
    subject.pipe(ops.of_type(TypedMessage), ops.map(lambda m: m.content)).subscribe(plain.append)
    source = shard()
    fused: list[Any] = []
    piped = source.pipe(ops.of_type(TypedMessage), ops.map(lambda m: m.content))
    assert isinstance(piped, FusedObservable)
    piped.subscribe(fused.append)
    plain_dispatch = dispatch("MESSAGE_CREATE", seq=5, content="untyped")  # not an instance of the class
    for event in (M1, plain_dispatch, G, M2):
        subject.on_next(event)
        if BITS[event.type] & source.demand:
            source._fanout.deliver(BITS[event.type], event)
    assert fused == plain == ["m1", "m2"]
    assert source.demand == MC_BIT


def test_shard_subscribe_with_functions_is_fused_with_the_same_notifications() -> None:
    error = Boom("subscriber")
    marbles = [M1, G, M2]

    def fns(log: list[tuple[str, Any]]) -> dict[str, Any]:
        def on_next(value: Any) -> None:
            log.append(("next", value))
            if value is M2:
                raise error

        return {"on_next": on_next, "on_error": lambda e: log.append(("error", e)),
                "on_completed": lambda: log.append(("completed", None))}  # fmt: skip

    source = shard()
    fused_log: list[tuple[str, Any]] = []
    source.subscribe(**fns(fused_log))
    (sub,) = source._fanout.subscribers
    assert getattr(sub.on_next, "__name__", "") == "on_next"  # the function itself, no wrapper
    for event in marbles:
        source._fanout.deliver(BITS[event.type], event)
    source._fanout.finish()
    # Through reactivex: the same callbacks on a Subject, its raise turned into on_error
    # the way the shard's guard does it (unsubscribe, then on_error).
    plain_log: list[tuple[str, Any]] = []
    subject: Subject[Event] = Subject()
    callbacks = fns(plain_log)
    disposable = subject.subscribe(**callbacks)
    for event in marbles:
        try:
            subject.on_next(event)
        except Boom as exc:
            disposable.dispose()
            callbacks["on_error"](exc)
    subject.on_completed()
    assert fused_log == plain_log == [("next", M1), ("next", G), ("next", M2), ("error", error)]
    assert source.demand == 0
