"""Heartbeats on a grid of phases (:mod:`rxgateway.machine.heartbeat`): every beat falls
on one of :data:`HEARTBEAT_PHASES` points per interval, never more than one interval
after the Hello or the beat before it, so a process's shards beat in a few groups."""

from __future__ import annotations

import random

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from rxgateway.config import Config
from rxgateway.machine import HEARTBEAT_PHASES, Send, ShardMachine, beat_time
from rxgateway.protocol import Intents, ShardId

nows = st.floats(min_value=0.0, max_value=1e7, allow_nan=False)
intervals = st.floats(min_value=0.01, max_value=600.0, allow_nan=False)
shares = st.floats(min_value=0.0, max_value=0.999999, allow_nan=False)


def on_grid(t: float, interval: float) -> bool:
    step = interval / HEARTBEAT_PHASES
    return abs(t / step - round(t / step)) < 1e-6


@given(nows, shares, intervals)
@example(now=1.9, share=0.0, interval=0.01)  # the point is 1.9000000000000001, a hair above ``at``
def test_a_beat_is_on_the_grid_within_one_interval_of_now(now: float, share: float, interval: float) -> None:
    at = now + interval * share
    t = beat_time(at, now, interval)
    step = interval / HEARTBEAT_PHASES
    assert now < t <= now + interval + 1e-9 * max(1.0, now)
    assert on_grid(t, interval)
    # A point within 1e-6 of a step above ``at`` counts as at or before it (the
    # grid's tolerance for a time computed a hair short of its point).
    if t <= at + 1e-6 * step:  # moved earlier: to the point at or before ``at``
        assert at - t < step + 1e-6 * step
    else:  # that point was not later than now: the same phase one interval on
        assert t - interval <= now * (1 + 1e-12) + 1e-9
        assert at - (t - interval) < step * (1 + 1e-6)


@given(nows, intervals, st.integers(min_value=1, max_value=200))
def test_a_phase_keeps_its_point_beat_after_beat(start: float, interval: float, beats: int) -> None:
    # On time (the timer fires within a step), each beat is exactly one interval after
    # the last: no drift off the point, however many beats.
    step = interval / HEARTBEAT_PHASES
    t = beat_time(start + interval / 2, start, interval)
    first = t
    for k in range(beats):
        fired = t + step * 0.5 * ((k * 7919) % 97) / 97
        t = beat_time(fired + interval, fired, interval)
    assert abs(t - (first + beats * interval)) < 1e-6 * max(interval, 1.0) * beats


def make(rng: float) -> ShardMachine:
    cfg = Config("secret-token", Intents.GUILDS, gateway_url="wss://gateway.test", compression=None)
    return ShardMachine(ShardId(0, 1), cfg, rng=lambda: rng)


def hello(interval_ms: int) -> bytes:
    return orjson.dumps({"op": 10, "d": {"heartbeat_interval": interval_ms}, "s": None, "t": None})


def opened(m: ShardMachine, now: float, interval_ms: int) -> None:
    m.start(now)
    m.on_connected(now)
    m.on_frame(now, hello(interval_ms))


def test_many_shards_beat_on_at_most_the_grid_s_points() -> None:
    # 200 shards whose Hellos came at random times over a minute, each with its own
    # jitter: their deadlines, equal floats wherever equal in time, take at most
    # HEARTBEAT_PHASES values per interval, for beat after beat.
    interval = 41.25
    draw = random.Random(7)
    machines = []
    for _ in range(200):
        m = make(draw.random())
        hello_at = 1000.0 + draw.random() * 60.0
        opened(m, hello_at, 41_250)
        first = m.deadline
        assert first is not None and hello_at < first <= hello_at + interval
        machines.append(m)
    now = 1060.0
    for _ in range(5):  # five intervals: fire every timer due, ACK every beat
        end = now + interval
        while True:
            due = [m for m in machines if m.deadline is not None and m.deadline <= end]
            if not due:
                break
            at = min(m.deadline for m in due if m.deadline is not None)
            for m in due:
                if m.deadline == at:
                    out = m.on_timeout(at + 0.003)  # the loop is a little late
                    assert [o.kind for o in out if isinstance(o, Send)] == ["heartbeat"]
                    m.on_frame(at + 0.01, orjson.dumps({"op": 11, "d": None}))
        now = end
        deadlines = {m.deadline for m in machines}
        assert len(deadlines) <= HEARTBEAT_PHASES
        assert all(d is not None and on_grid(d, interval) for d in deadlines)


def test_shards_whose_hellos_came_together_spread_evenly_over_the_phases() -> None:
    # Every Hello at the same instant, just after a point of the grid: the jittered
    # beats that fall before now move a whole interval on, keeping their phase, so
    # each phase gets about a quarter (not half of them in the next phase).
    interval, count = 41.25, 4000
    step = interval / HEARTBEAT_PHASES
    hello_at = 100 * step + 0.001
    draw = random.Random(11)
    phases: dict[int, int] = {}
    for _ in range(count):
        m = make(draw.random())
        opened(m, hello_at, 41_250)
        assert m.deadline is not None and hello_at < m.deadline <= hello_at + interval
        phase = round(m.deadline / step) % HEARTBEAT_PHASES
        phases[phase] = phases.get(phase, 0) + 1
    share = count / HEARTBEAT_PHASES
    assert len(phases) == HEARTBEAT_PHASES
    assert all(abs(n - share) < 0.15 * share for n in phases.values()), phases


def test_beats_stay_one_interval_apart_and_the_first_within_one_of_hello() -> None:
    for rng in (0.0, 0.01, 0.5, 0.874, 0.875, 0.999999):
        m = make(rng)
        opened(m, 12.34, 2_000)
        first = m.deadline
        assert first is not None and 12.34 < first <= 14.34
        out = m.on_timeout(first)
        assert any(isinstance(o, Send) and o.kind == "heartbeat" for o in out)
        m.on_frame(first + 0.01, orjson.dumps({"op": 11, "d": None}))
        assert m.deadline == first + 2.0
