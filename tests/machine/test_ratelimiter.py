"""The command ratelimiter: twilight's ratelimiter.rs tests on a fake clock, and properties.

Times are sums of binary fractions (multiples of 1/64 s instead of twilight's 20 ms)
so the fake clock is exact and "released exactly 60 s later" can be asserted exactly.
"""

from __future__ import annotations

import copy
import doctest
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rxgateway.machine.ratelimiter as ratelimiter_module
from rxgateway.machine.ratelimiter import (
    MIN_NONRESERVED,
    MARGIN,
    PERIOD,
    PERMITS,
    CommandRatelimiter,
    nonreserved,
)

#: Twilight's tests use the usual Hello interval of 42.5 s (117 usable permits).
HEARTBEAT_INTERVAL = 42.5

#: How long a permit is held: Discord's window plus the margin for the time a payload
#: takes to reach the gateway after the limiter let it go.
HOLD = PERIOD + MARGIN

#: The fake clock's small step: 1/64 s, exact in binary (twilight uses 20 ms).
STEP = 1 / 64


class FakeClock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def test_margin_keeps_a_late_arrival_outside_the_gateways_window() -> None:
    """The gateway counts from receipt: a full burst decided at 0 and received up to
    MARGIN later must not share a 60 s window with the next one."""
    clock, limiter = FakeClock(), CommandRatelimiter(HEARTBEAT_INTERVAL)
    first = [clock.now for _ in range(limiter.max) if limiter.acquire(clock.now)]
    clock.advance(limiter.next_available(clock.now))
    assert limiter.acquire(clock.now)
    received_first = first[0] + MARGIN * 0.99  # the earlier payload, arriving late
    assert clock.now - received_first >= PERIOD
    assert 0 < MARGIN <= 2.0  # a margin, not a second window


def test_constants() -> None:
    assert (PERMITS, PERIOD, MIN_NONRESERVED) == (120, 60.0, 110)


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (float(2**64 - 1), 118),  # twilight's u64::MAX seconds
        (1e300, 118),
        (math.inf, 118),
        (3600.0, 118),
        (60.0, 118),
        (42.5, 117),
        (41.25, 117),
        (30.0, 117),
        (29.999, 116),
        (20.0, 116),
        (1.0, 110),
        (5e-324, 110),  # 60 / interval overflows to infinity
        (0.0, 110),
    ],
)
def test_nonreserved_commands(interval: float, expected: int) -> None:
    assert nonreserved(interval) == expected
    assert CommandRatelimiter(interval).max == expected


@pytest.mark.parametrize("interval", [-1.0, math.nan])
def test_invalid_interval_is_rejected(interval: float) -> None:
    with pytest.raises(ValueError):
        CommandRatelimiter(interval)


def test_full_reset() -> None:
    clock, limiter = FakeClock(), CommandRatelimiter(HEARTBEAT_INTERVAL)
    assert limiter.available(clock.now) == limiter.max
    for _ in range(limiter.max):
        assert limiter.acquire(clock.now)
    assert limiter.available(clock.now) == 0
    clock.advance(HOLD - 0.1)
    assert limiter.available(clock.now) == 0
    clock.advance(0.1)
    assert clock.now == HOLD
    assert limiter.available(clock.now) == limiter.max


@pytest.mark.parametrize("interval", [HEARTBEAT_INTERVAL, 60.0])
def test_half_reset(interval: float) -> None:
    clock, limiter = FakeClock(), CommandRatelimiter(interval)
    half = limiter.max // 2
    for _ in range(half):
        assert limiter.acquire(clock.now)
    assert limiter.available(clock.now) == limiter.max - half
    clock.advance(HOLD / 2)
    for _ in range(half):
        assert limiter.acquire(clock.now)
    assert limiter.available(clock.now) == limiter.max - 2 * half  # 0 when max is even
    clock.advance(HOLD / 2)
    assert limiter.available(clock.now) == limiter.max - half
    clock.advance(HOLD / 2)
    assert limiter.available(clock.now) == limiter.max


def test_constant_capacity() -> None:
    clock, limiter = FakeClock(), CommandRatelimiter(HEARTBEAT_INTERVAL)
    capacity = limiter.max
    for _ in range(capacity):
        assert limiter.acquire(clock.now)
    assert not limiter.acquire(clock.now)  # twilight waits here; we refuse
    clock.advance(limiter.next_available(clock.now))
    assert limiter.acquire(clock.now)
    assert limiter.max == capacity


def test_rebase() -> None:
    """Each permit is released exactly HOLD after it was taken: a sliding window."""
    clock, limiter = FakeClock(), CommandRatelimiter(HEARTBEAT_INTERVAL)
    for i in range(5):
        if i:
            clock.advance(STEP)
        assert limiter.acquire(clock.now)
    assert limiter.available(clock.now) == limiter.max - 5
    clock.advance(HOLD - 4 * STEP - STEP / 2)
    assert limiter.available(clock.now) == limiter.max - 5  # just before the first release
    clock.advance(STEP / 2)
    assert clock.now == HOLD
    assert limiter.available(clock.now) == limiter.max - 4  # exactly one released
    for _ in range(4):  # one new acquisition per remaining original permit
        assert limiter.acquire(clock.now)
        assert limiter.available(clock.now) == limiter.max - 5
        clock.advance(STEP)
        assert limiter.available(clock.now) == limiter.max - 4  # one more released


def test_spurious_queries_do_not_move_releases() -> None:
    clock, limiter = FakeClock(), CommandRatelimiter(HEARTBEAT_INTERVAL)
    for _ in range(limiter.max):
        limiter.acquire(clock.now)
    for _ in range(100):
        clock.advance(0.5)
        assert limiter.available(clock.now) == 0
        assert limiter.next_available(clock.now) == HOLD - clock.now
    clock.advance(HOLD - clock.now)
    assert limiter.available(clock.now) == limiter.max


def test_next_available() -> None:
    clock, limiter = FakeClock(), CommandRatelimiter(60.0)
    assert limiter.next_available(clock.now) == 0.0
    limiter.acquire(clock.now)
    clock.advance(10.0)
    for _ in range(limiter.max - 1):
        limiter.acquire(clock.now)
    assert limiter.next_available(clock.now) == 51.0
    clock.advance(51.0)
    assert limiter.next_available(clock.now) == 0.0
    assert limiter.available(clock.now) == 1
    assert limiter.to_dict(clock.now) == {"max": 118, "available": 1, "next_available": 0.0}


def test_next_available_lands_on_a_free_permit_despite_rounding() -> None:
    limiter = CommandRatelimiter(60.0)
    start = 0.1
    for _ in range(limiter.max):
        limiter.acquire(start)
    now = 16.3
    naive = (start + HOLD) - now
    assert now + naive < start + HOLD  # the float trap the correction avoids
    wait = limiter.next_available(now)
    assert wait > 0
    assert limiter.available(now + wait) == limiter.max


#: (time advance, acquisitions attempted at that instant): bursts of up to 130 attempts
#: saturate the limiter, and advances from 0 to 70 s cross window edges.
OPS = st.lists(
    st.tuples(
        st.one_of(st.just(0.0), st.floats(min_value=0.0, max_value=2.0), st.floats(min_value=0.0, max_value=70.0)),
        st.integers(min_value=0, max_value=130),
    ),
    max_size=40,
)
INTERVALS = st.sampled_from([0.0, 1.0, 29.999, 41.25, 60.0, math.inf])


@settings(max_examples=150, deadline=None, derandomize=True)
@given(interval=INTERVALS, ops=OPS)
def test_property_window_never_exceeds_max(interval: float, ops: list[tuple[float, int]]) -> None:
    limiter = CommandRatelimiter(interval)
    now, granted = 0.0, []
    for advance, attempts in ops:
        now += advance
        for _ in range(attempts):
            available = limiter.available(now)
            assert 0 <= available <= limiter.max
            ok = limiter.acquire(now)
            assert ok == (available > 0)
            if ok:
                granted.append(now)
                continue
            wait = limiter.next_available(now)
            assert wait > 0
            # Probe the future on a copy: time must never go backwards for a limiter.
            assert copy.deepcopy(limiter).available(now + wait) >= 1
            break
    # Any window [t, t + PERIOD + MARGIN) holds at most max grants, so a payload may
    # reach the gateway up to MARGIN late and still fall outside Discord's 60 s window
    # of the one it replaced (two pointers: times only grow).
    end = 0
    for start, t in enumerate(granted):
        while end < len(granted) and granted[end] < t + HOLD:
            end += 1
        assert end - start <= limiter.max


def test_docstring_examples() -> None:
    assert doctest.testmod(ratelimiter_module).failed == 0
