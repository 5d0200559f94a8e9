"""route(table): keys, handlers, isolation, one disposable, push-down."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from ops_support import (
    ALL,
    GC,
    GD,
    MC,
    Collect,
    FakeShard,
    GuildCreate,
    MessageCreate,
    dispatch,
    guild_create,
    message,
)
from reactivex import operators as rx_ops
from reactivex.subject import Subject
from reactivex.testing import ReactiveTest, TestScheduler

from rxgateway.events.base import Event, GatewayHeartbeatAck
from rxgateway.ops import HandlerError, Routing, pipeline, route
from rxgateway.protocol.event_type import EventType, EventTypeFlags
from rxgateway.protocol.shard_id import ShardId

on_next, on_completed, on_error = ReactiveTest.on_next, ReactiveTest.on_completed, ReactiveTest.on_error
AUDITED = 42


def error_stream() -> tuple[Subject[HandlerError], Collect]:
    errors: Subject[HandlerError] = Subject()
    failures = Collect()
    errors.subscribe(failures)
    return errors, failures


async def settle(rounds: int = 5) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


def test_keys_select_by_class_flags_and_predicate_in_virtual_time() -> None:
    """The example of the brief, with sync handlers, on a marble source."""
    scheduler = TestScheduler()
    m_other, m_audited = message("x", 1, guild_id=7), message("y", 2, guild_id=AUDITED)
    g_create, g_delete = guild_create(AUDITED, 3), dispatch("GUILD_DELETE", 4, id=str(AUDITED))
    ack = GatewayHeartbeatAck(ShardId(0, 1), 0.05)
    source = scheduler.create_hot_observable(
        on_next(210, m_other), on_next(220, ack), on_next(230, m_audited),
        on_next(240, g_create), on_next(250, g_delete), on_completed(300),
    )
    messages: list[Event] = []
    guilds = Collect()
    audited: list[tuple[int, Event]] = []
    errors, failures = error_stream()
    table: dict[Any, Any] = {
        MessageCreate: messages.append,
        GC | GD: guilds,
        lambda e: e.guild_id == AUDITED: lambda e: audited.append((scheduler.clock, e)),
    }
    holder: list[Routing] = []
    scheduler.schedule_absolute(200, lambda *_: holder.append(source.pipe(route(table, errors=errors))))
    scheduler.start()

    assert messages == [m_other, m_audited]
    assert guilds.values == [g_create, g_delete] and guilds.completed == 1
    # fan-out: the audited message reaches both keys; the GUILD_CREATE has guild_id too;
    # the ack and the plain GUILD_DELETE have no guild_id: no match, and no error
    assert audited == [(230, m_audited), (240, g_create)]
    assert failures.values == []
    assert holder[0].ended


def test_a_raising_handler_does_not_stop_the_others_or_itself() -> None:
    source: Subject[Event] = Subject()
    errors, failures = error_stream()
    good: list[Event] = []
    calls: list[int | None] = []

    def flaky(e: Event) -> None:
        calls.append(e.sequence)
        if e.sequence == 1:
            raise ValueError("bug")

    source.pipe(route({MC: flaky, MessageCreate: good.append}, errors=errors))
    m1, m2 = message("a", 1), message("b", 2)
    source.on_next(m1)
    source.on_next(m2)
    assert good == [m1, m2]
    assert calls == [1, 2]  # the failing handler still gets later events
    [failure] = failures.values
    assert failure.key == MC and failure.event is m1 and failure.handler is flaky
    assert isinstance(failure.error, ValueError)
    assert "flaky" in str(failure)


def test_failures_are_logged_without_an_error_stream(caplog: pytest.LogCaptureFixture) -> None:
    source: Subject[Event] = Subject()

    def broken(e: Event) -> None:
        raise ZeroDivisionError()

    source.pipe(route({MC: broken}))
    with caplog.at_level(logging.ERROR, logger="rxgateway.ops"):
        source.on_next(message())
    [record] = [r for r in caplog.records if r.name == "rxgateway.ops"]
    assert record.levelno == logging.ERROR and "ZeroDivisionError" in record.getMessage()


def test_predicates_attribute_error_is_no_match_other_errors_reported() -> None:
    source: Subject[Event] = Subject()
    errors, failures = error_stream()
    hits: list[Event] = []

    def strict(e: Any) -> bool:
        if e.sequence == 2:
            raise RuntimeError("predicate bug")
        return True

    source.pipe(route([(lambda e: e.guild_id == 1, hits.append), (strict, hits.append)], errors=errors))
    ready, m = dispatch("READY", 1), message("a", 2, guild_id=1)
    source.on_next(ready)  # no guild_id: no match for the first key; strict matches
    source.on_next(m)  # first key matches; strict raises: reported, no match
    assert hits == [ready, m]
    [failure] = failures.values
    assert failure.event is m and failure.handler is strict and isinstance(failure.error, RuntimeError)


def test_tuple_keys_narrow_before_the_predicate_and_push_down() -> None:
    shard = FakeShard()
    seen: list[Event] = []
    looked_at: list[Event] = []

    def predicate(m: MessageCreate) -> bool:
        looked_at.append(m)
        return m.content.startswith("!")

    routing = shard.pipe(route({(MessageCreate, predicate): seen.append}))
    assert shard.demand == MC
    shard.feed("MESSAGE_CREATE", 1)  # content "m1": no
    shard.feed("GUILD_CREATE", 2)  # not even parsed
    assert len(looked_at) == 1 and seen == [] and not shard.parsed["GUILD_CREATE"]
    routing.dispose()


def test_push_down_is_the_union_of_class_and_flag_keys() -> None:
    shard = FakeShard()
    routing = shard.pipe(route({MessageCreate: print, GC | GD: print, EventType.READY: print}))
    assert shard.demand == MC | GC | GD | EventTypeFlags.READY
    shard.feed("TYPING_START")
    assert not shard.parsed
    routing.dispose()
    assert shard.demand == 0


def test_a_predicate_key_asks_for_everything() -> None:
    shard = FakeShard()
    shard.pipe(route({MessageCreate: print, (lambda e: True): print}))
    assert shard.demand == ALL


def test_one_disposable_stops_every_handler_and_pipeline() -> None:
    source: Subject[Event] = Subject()
    plain: list[Event] = []
    observer = Collect()
    piped: list[Event] = []
    routing = source.pipe(
        route({
            MC: plain.append,
            MessageCreate: observer,
            (lambda e: True): pipeline(rx_ops.map(lambda e: e), sink=piped.append),
        })
    )
    assert isinstance(routing, Routing)
    source.on_next(message("a", 1))
    assert len(plain) == len(observer.values) == len(piped) == 1
    routing.dispose()
    assert routing.is_disposed
    source.on_next(message("b", 2))
    assert len(plain) == len(observer.values) == len(piped) == 1
    assert not source.observers


def test_observers_get_the_end_of_the_source() -> None:
    for end in ("completed", "error"):
        source: Subject[Event] = Subject()
        observer = Collect()
        source.pipe(route({MC: observer}))
        if end == "completed":
            source.on_completed()
            assert observer.completed == 1
        else:
            boom = RuntimeError("fatal")
            source.on_error(boom)
            assert observer.errors == [boom]


def test_pipelines_transform_and_report_their_errors() -> None:
    source: Subject[Event] = Subject()
    errors, failures = error_stream()
    commands: list[str] = []
    self_subscribed: list[int | None] = []
    other: list[Event] = []

    def parse(m: MessageCreate) -> str:
        if m.content == "!crash":
            raise ValueError("pipeline bug")
        return m.content[1:]

    routing = source.pipe(
        route(
            {
                MessageCreate: pipeline(
                    rx_ops.filter(lambda m: m.content.startswith("!")), rx_ops.map(parse), sink=commands.append
                ),
                MC: pipeline(lambda s: s.pipe(rx_ops.take(1)).subscribe(lambda e: self_subscribed.append(e.sequence))),
                (lambda e: True): other.append,
            },
            errors=errors,
        )
    )
    for i, text in enumerate(["hello", "!ping", "!crash", "!pong"]):
        source.on_next(message(text, i))
    assert commands == ["ping"]  # the pipeline stopped at its error (Rx semantics)
    assert self_subscribed == [0]
    assert len(other) == 4  # the other handlers went on
    [failure] = failures.values
    assert isinstance(failure.error, ValueError) and failure.key is MessageCreate and failure.event is None
    routing.dispose()


def test_a_pipeline_sink_that_raises_is_reported_and_the_pipeline_goes_on() -> None:
    source: Subject[Event] = Subject()
    errors, failures = error_stream()
    got: list[int | None] = []

    def sink(seq: int | None) -> None:
        got.append(seq)
        if seq == 1:
            raise KeyError("sink bug")

    source.pipe(route({MC: pipeline(rx_ops.map(lambda e: e.sequence), sink=sink)}, errors=errors))
    source.on_next(message("a", 1))
    source.on_next(message("b", 2))
    assert got == [1, 2]
    assert failures.values[0].handler is sink and failures.values[0].event == 1


def test_pipelines_complete_with_the_source() -> None:
    source: Subject[Event] = Subject()
    sink = Collect()
    source.pipe(route({MC: pipeline(rx_ops.count(), sink=sink)}))
    source.on_next(message())
    source.on_next(message())
    source.on_completed()
    assert sink.values == [2] and sink.completed == 1


def test_bad_tables_are_type_errors() -> None:
    with pytest.raises(TypeError):
        route({})
    with pytest.raises(TypeError):
        route({"MESSAGE_CREATE": print})
    with pytest.raises(TypeError):
        route({MC: 42})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        route({int: print})
    with pytest.raises(TypeError):
        route({(MC,): print})
    with pytest.raises(ValueError):
        route({EventTypeFlags(0): print})
    with pytest.raises(TypeError):
        pipeline()
    source: Subject[Event] = Subject()
    with pytest.raises(TypeError):
        source.pipe(route({MC: pipeline(lambda s: 42)}))


# ------------------------------------------------------------------ async handlers


async def test_async_handlers_run_as_bounded_tasks_and_join_waits() -> None:
    gate = asyncio.Event()
    in_flight = peak = 0
    done: list[int | None] = []

    async def on_message(m: MessageCreate) -> None:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await gate.wait()
        in_flight -= 1
        done.append(m.sequence)

    source: Subject[Event] = Subject()
    routing = source.pipe(route({MessageCreate: on_message}, max_concurrency=2))
    for i in range(5):
        source.on_next(message("a", i))
    await settle()
    assert routing.running == 2 and done == []
    gate.set()
    source.on_completed()
    await routing.join()
    assert peak == 2 and done == [0, 1, 2, 3, 4]


async def test_async_handler_errors_are_reported_with_the_key() -> None:
    async def on_message(m: MessageCreate) -> None:
        if m.sequence == 1:
            raise ValueError("async bug")

    errors, failures = error_stream()
    seen: list[Event] = []
    source: Subject[Event] = Subject()
    routing = source.pipe(route({MessageCreate: on_message, MC: seen.append}, errors=errors))
    source.on_next(message("a", 1))
    source.on_next(message("b", 2))
    source.on_completed()
    await routing.join()
    assert len(seen) == 2
    [failure] = failures.values
    assert failure.key is MessageCreate and failure.event.sequence == 1


async def test_a_function_returning_a_coroutine_runs_as_a_task() -> None:
    ran: list[int | None] = []

    async def reply(m: MessageCreate) -> None:
        ran.append(m.sequence)

    source: Subject[Event] = Subject()
    routing = source.pipe(route({MessageCreate: lambda m: reply(m)}))
    source.on_next(message("a", 3))
    assert ran == []
    source.on_completed()
    await routing.join()
    assert ran == [3]


async def test_aclose_cancels_tasks_and_waits_for_them() -> None:
    cancelled: list[int | None] = []

    async def slow(m: MessageCreate) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(m.sequence)
            raise

    shard = FakeShard()
    routing = shard.pipe(route({MessageCreate: slow}, max_concurrency=1))
    shard.feed("MESSAGE_CREATE", 1)
    shard.feed("MESSAGE_CREATE", 2)  # queued
    await settle()
    await routing.aclose()
    assert cancelled == [1] and routing.running == 0 and shard.demand == 0
    await routing.join()  # returns at once after a dispose


async def test_join_raises_the_source_error_after_the_tasks() -> None:
    finished: list[int | None] = []

    async def handler(m: MessageCreate) -> None:
        await asyncio.sleep(0.001)
        finished.append(m.sequence)

    source: Subject[Event] = Subject()
    routing = source.pipe(route({MessageCreate: handler}))
    source.on_next(message("a", 1))
    boom = RuntimeError("fatal close")
    source.on_error(boom)
    with pytest.raises(RuntimeError, match="fatal close"):
        await routing.join()
    assert finished == [1]


def test_async_handlers_need_a_running_loop() -> None:
    async def handler(e: Event) -> None:
        pass

    source: Subject[Event] = Subject()
    with pytest.raises(RuntimeError, match="running event loop"):
        source.pipe(route({MC: handler}))
    assert not source.observers


def test_a_coroutine_returned_without_a_loop_is_reported_and_closed() -> None:
    async def reply(e: Event) -> None:
        pass

    errors, failures = error_stream()
    source: Subject[Event] = Subject()
    source.pipe(route({MC: lambda e: reply(e)}, errors=errors))
    source.on_next(message())
    assert isinstance(failures.values[0].error, RuntimeError)


async def test_the_brief_example_end_to_end() -> None:
    on_message_seen: list[int | None] = []

    async def on_message(m: MessageCreate) -> None:
        await asyncio.sleep(0)
        on_message_seen.append(m.sequence)

    guilds = Collect()
    audit: list[Event] = []
    errors, failures = error_stream()
    shard = FakeShard()
    routing = shard.pipe(
        route(
            {
                MessageCreate: on_message,
                EventTypeFlags.GUILD_CREATE | EventTypeFlags.GUILD_DELETE: guilds,
                lambda e: e.guild_id == 4: audit.append,
            },
            errors=errors,
        )
    )
    assert shard.demand == ALL  # a predicate key sees everything
    for seq, name in enumerate(["MESSAGE_CREATE", "GUILD_CREATE", "READY", "GUILD_CREATE"], 1):
        shard.feed(name, seq)
    shard.complete()
    await routing.join()
    assert on_message_seen == [1]
    assert [e.sequence for e in guilds.values] == [2, 4] and guilds.completed == 1
    assert [e.sequence for e in audit] == [4]  # FakeShard's GUILD_CREATE n has id n
    assert failures.values == []
    assert isinstance(guilds.values[0], GuildCreate)


async def test_async_with_closes_the_route() -> None:
    cancelled: list[int | None] = []

    async def slow(m: MessageCreate) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(m.sequence)
            raise

    shard = FakeShard()
    async with shard.pipe(route({MessageCreate: slow})) as routing:
        shard.feed("MESSAGE_CREATE", 1)
        await settle()
        assert routing.running == 1
    assert routing.is_disposed and cancelled == [1] and shard.demand == 0
