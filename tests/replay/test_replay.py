"""Replaying a recorded live session: the same events as live, in virtual time, at a
pace, and parsing only what a pipeline asks for."""

from __future__ import annotations

import asyncio
import doctest
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from reactivex.testing import ReactiveTest, TestScheduler

from rxgateway import ops
from rxgateway import fanout
from rxgateway.events import build
from rxgateway.events.base import Dispatch, Event, GatewayErrorEvent, GatewayHeartbeatAck, GatewayHello
from rxgateway.events.messages import MessageCreate
from rxgateway.protocol import EventTypeFlags, ShardId
from rxgateway.protocol.envelope import read_envelope
from rxgateway.record import Recorder, Recording
from rxgateway.replay import FAST_BATCH, replay

from .support import Collector, LiveSession, key

on_next, on_completed = ReactiveTest.on_next, ReactiveTest.on_completed
S0, S1 = ShardId(0, 2), ShardId(1, 2)
SECOND = 1_000_000_000


def frame(op: int, t: str | None = None, s: int | None = None, **d: object) -> bytes:
    return orjson.dumps({"t": t, "s": s, "op": op, "d": d or None})


def message(s: int, content: str, shard_guild: int = 1) -> bytes:
    d = {"id": str(s), "channel_id": "7", "guild_id": str(shard_guild), "content": content,
         "author": {"id": "9", "username": "u"}}  # fmt: skip
    return orjson.dumps({"t": "MESSAGE_CREATE", "s": s, "op": 0, "d": d})


def write(path: Path, frames: list[tuple[int, ShardId, bytes]], **options: object) -> Path:
    """A recording of ``frames`` (``t_ns`` from the recording's start, shard, payload)."""
    with Recorder(path, **options) as recorder:  # type: ignore[arg-type]
        origin = recorder._origin_ns
        for t_ns, shard, payload in frames:
            recorder.write(shard, origin + t_ns, payload)
    return path


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """Hello, READY, three messages and a typing event on two shards, over 3 s."""
    return write(
        tmp_path / "small.jsonl.zst",
        [
            (SECOND // 10, S0, frame(10, heartbeat_interval=41250)),
            (SECOND // 2, S0, frame(0, "READY", 1, session_id="a", v=10)),
            (SECOND * 3 // 2, S0, message(2, "one")),
            (SECOND * 3 // 2, S1, frame(0, "TYPING_START", 1, channel_id="7", user_id="9", timestamp=1)),
            (SECOND * 2, S1, message(2, "two")),
            (SECOND * 3, S0, frame(11)),
        ],
    )


# -- the live session ------------------------------------------------------------


async def test_replay_emits_what_the_live_shards_emitted(session: LiveSession) -> None:
    assert session.violations == []
    out = Collector()
    replay(session.path, speed=None).subscribe(out)
    await asyncio.wait_for(out.completed.wait(), 10)  # type: ignore[union-attr]
    assert out.error is None
    assert out.counts == session.live.counts
    assert out.sequences() == session.live.sequences()
    assert out.hellos() == session.live.hellos()
    # The faults are in it: a reconnect request, a heartbeat request, an invalid
    # session and the resumes that followed them.
    for name in ("GatewayReconnect", "GatewayHeartbeat", "GatewayInvalidateSession", "RESUMED", "GUILD_CREATE"):
        assert out.counts[name] >= 1, name
    assert {e.shard.number for e in out.events} == {0, 1, 2}
    # Typed views, as live; a replayed ACK has no latency (heartbeats sent are not recorded).
    assert all(isinstance(e, MessageCreate) for e in out.events if key(e) == "MESSAGE_CREATE")
    assert all(e.latency is None for e in out.events if isinstance(e, GatewayHeartbeatAck))
    live_order = [(e.shard.number, key(e), e.sequence) for e in session.live.events]
    assert [(e.shard.number, key(e), e.sequence) for e in out.events] == live_order


def test_replay_without_a_loop_runs_to_the_end_within_subscribe(session: LiveSession) -> None:
    out = Collector()
    replay(session.path, speed=None).subscribe(out)
    assert out.done and out.error is None
    assert out.counts == session.live.counts


def test_virtual_time_puts_each_event_at_its_recorded_offset(session: LiveSession) -> None:
    offsets = [f.t_ns for f in Recording(session.path)]
    for speed in (1.0, 2.5):
        scheduler = TestScheduler()
        horizon = 200 + offsets[-1] / SECOND / speed + 1
        results = scheduler.start(lambda: replay(session.path, speed=speed, scheduler=scheduler), disposed=horizon)
        events = results.messages[:-1]
        assert len(events) == len(offsets)  # every payload of this session is an event
        assert [m.time for m in events] == pytest.approx([200 + t / SECOND / speed for t in offsets], abs=2e-6)
        assert all(a.time <= b.time for a, b in zip(events, events[1:]))
        assert results.messages[-1].value.kind == "C"
        assert results.messages[-1].time == pytest.approx(events[-1].time)
        assert [key(m.value.value) for m in events] == [key(e) for e in session.live.events]


def test_virtual_time_test_of_a_pipeline(small: Path) -> None:
    scheduler = TestScheduler()
    contents = replay(small, scheduler=scheduler).pipe(
        ops.on(EventTypeFlags.MESSAGE_CREATE), ops.map(lambda e: (e.shard.number, e.content))
    )
    results = scheduler.start(lambda: contents, disposed=1000)
    assert results.messages == [
        on_next(201.5, (0, "one")),
        on_next(202.0, (1, "two")),
        on_completed(203.0),
    ]


def test_virtual_time_disposal_stops_the_replay(small: Path) -> None:
    scheduler = TestScheduler()
    results = scheduler.start(lambda: replay(small, scheduler=scheduler), disposed=201.6)
    assert [key(m.value.value) for m in results.messages] == ["GatewayHello", "READY", "MESSAGE_CREATE", "TYPING_START"]


def test_as_fast_as_possible_under_virtual_time_is_one_instant(session: LiveSession) -> None:
    scheduler = TestScheduler()
    results = scheduler.start(lambda: replay(session.path, speed=None, scheduler=scheduler))
    assert {m.time for m in results.messages} == {200.0}
    assert len(results.messages) == len(session.live.events) + 1 > FAST_BATCH


# -- pace ----------------------------------------------------------------------


async def test_paced_replay_keeps_order_and_scales_time(tmp_path: Path) -> None:
    count = 11
    path = write(tmp_path / "paced.jsonl.zst", [(i * SECOND // 10, S0, message(i + 1, str(i))) for i in range(count)])
    for speed, span in ((4.0, 0.25), (1.0, 1.0)):
        out = Collector()
        arrivals: list[float] = []
        start = time.monotonic()
        replay(path, speed=speed).pipe(ops.do_action(lambda _: arrivals.append(time.monotonic() - start))).subscribe(out)
        await asyncio.wait_for(out.completed.wait(), 10)  # type: ignore[union-attr]
        assert [e.sequence for e in out.events] == list(range(1, count + 1))
        # Generous bounds: never early, and not absurdly late on a loaded machine.
        assert span * 0.95 <= arrivals[-1] < span + 2.0, (speed, arrivals)
        assert arrivals[count // 2] >= span / 2 * 0.95


async def test_the_live_session_replayed_four_times_as_fast(session: LiveSession) -> None:
    span = list(Recording(session.path))[-1].t_ns / SECOND
    out = Collector()
    start = time.monotonic()
    replay(session.path, speed=4.0).subscribe(out)
    await asyncio.wait_for(out.completed.wait(), span + 10)  # type: ignore[union-attr]
    elapsed = time.monotonic() - start
    assert span / 4 * 0.95 <= elapsed < span / 4 + 2.0, (span, elapsed)
    assert [(e.shard.number, key(e), e.sequence) for e in out.events] == [
        (e.shard.number, key(e), e.sequence) for e in session.live.events
    ]


async def test_async_iteration_of_a_replay(small: Path) -> None:
    names = [key(e) async for e in replay(small, speed=None).events(EventTypeFlags.READY | EventTypeFlags.MESSAGE_CREATE)]
    assert names == ["READY", "MESSAGE_CREATE", "MESSAGE_CREATE"]


# -- parse on demand -----------------------------------------------------------


def test_push_down_parses_only_the_wanted_type(session: LiveSession, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: Counter[str] = Counter()
    real_loads = orjson.loads

    class CountingOrjson:
        JSONDecodeError = orjson.JSONDecodeError

        @staticmethod
        def loads(data: bytes) -> object:
            parsed[read_envelope(data).t or "?"] += 1
            return real_loads(data)

    monkeypatch.setattr(fanout, "orjson", CountingOrjson)  # where events are built
    out = Collector()
    replay(session.path, speed=None).pipe(
        ops.on(EventTypeFlags.MESSAGE_CREATE | EventTypeFlags.GUILD_CREATE),
        ops.on(EventTypeFlags.MESSAGE_CREATE),
    ).subscribe(out)
    wanted = session.live.counts["MESSAGE_CREATE"]
    assert out.done and len(out.events) == wanted > 0
    assert all(isinstance(e, MessageCreate) for e in out.events)
    assert parsed == Counter({"MESSAGE_CREATE": wanted})  # nothing else went through the parser


def test_replay_is_flag_aware_and_cold(small: Path) -> None:
    source = replay(small, speed=None)
    assert isinstance(source, ops.FlagObservable)
    first, second = Collector(), Collector()
    source.subscribe_flags(first, EventTypeFlags.GATEWAY_HELLO | EventTypeFlags.GATEWAY_HEARTBEAT_ACK)
    source.subscribe(second)
    assert [key(e) for e in first.events] == ["GatewayHello", "GatewayHeartbeatAck"]
    hello = first.events[0]
    assert isinstance(hello, GatewayHello) and hello.heartbeat_interval == 41.25
    assert len(second.events) == 6


def test_an_undecodable_dispatch_becomes_an_error_event_as_live(tmp_path: Path) -> None:
    broken = b'{"t":"MESSAGE_CREATE","s":1,"op":0,"d":{"content":"' + b"x" * 300 + b'",}}'
    path = write(tmp_path / "broken.jsonl.zst", [(0, S0, broken), (1, S0, message(2, "ok"))])
    out = Collector()
    replay(path, speed=None).subscribe(out)
    assert isinstance(out.events[0], GatewayErrorEvent) and isinstance(out.events[1], MessageCreate)
    unwanted = Collector()
    replay(path, speed=None).subscribe_flags(unwanted, EventTypeFlags.MESSAGE_CREATE)
    assert [e.sequence for e in unwanted.events] == [2]


def test_a_subscriber_that_raises_gets_on_error(small: Path) -> None:
    errors: list[Exception] = []

    def explode(event: Event) -> None:
        raise RuntimeError("boom")

    replay(small, speed=None).subscribe(explode, errors.append)
    assert [str(e) for e in errors] == ["boom"]


def test_bad_arguments(small: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        replay(small, speed=0)
    (tmp_path / "not.jsonl").write_bytes(b'{"hello": 1}\n')
    from rxgateway.record import RecordingError

    with pytest.raises(RecordingError):
        replay(tmp_path / "not.jsonl")
    assert replay(small, speed=float("inf")).speed is None


def test_the_shared_construction_path_examples_run() -> None:
    for module in (build, fanout):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_events_are_built_as_the_shard_builds_them(small: Path) -> None:
    out = Collector()
    replay(small, speed=None).subscribe(out)
    for event in out.events:
        if isinstance(event, Dispatch):
            _, cls, type_ = build.DISPATCH_TABLE.get(event.name, build.UNKNOWN_DISPATCH)
            assert type(event) is cls and event.type is type_
