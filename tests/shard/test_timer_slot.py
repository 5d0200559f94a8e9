"""The driver's timer grid (:func:`rxgateway.shard.timer_slot`): a heartbeat deadline
fires at the end of its slot on a grid shared by every shard of the process, never
before the deadline and at most one slot after it; short deadlines keep their time."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from rxgateway.shard import TIMER_SLOT_MAX, TIMER_SLOT_SHARE, timer_slot

times = st.floats(min_value=0.0, max_value=1e7, allow_nan=False)
intervals = st.floats(min_value=0.001, max_value=600.0, allow_nan=False)
leads = st.floats(min_value=0.0, max_value=600.0, allow_nan=False)


def slot_of(interval: float) -> float:
    return min(interval * TIMER_SLOT_SHARE, TIMER_SLOT_MAX)


@given(times, leads, intervals)
def test_never_early_and_at_most_one_slot_late(now: float, lead: float, interval: float) -> None:
    deadline = now + lead
    at = timer_slot(deadline, now, interval)
    assert at >= deadline - 1e-6  # float rounding at most: the loop then re-arms
    assert at <= deadline + slot_of(interval) + 1e-6


@given(times, leads, intervals)
def test_a_deadline_within_one_slot_keeps_its_time(now: float, lead: float, interval: float) -> None:
    lead = min(lead, slot_of(interval) * 0.99)
    assert timer_slot(now + lead, now, interval) == now + lead


@given(times, leads)
def test_no_heartbeat_interval_means_the_exact_time(now: float, lead: float) -> None:
    assert timer_slot(now + lead, now, None) == now + lead
    assert timer_slot(now + lead, now, 0.0) == now + lead


def test_deadlines_in_one_slot_share_one_wake_up() -> None:
    # Shards whose beats fall in the same slot are woken together: same time, so the
    # event loop runs them in one pass.
    interval = 2.0
    slot = slot_of(interval)
    start = math.ceil(1000.0 / slot) * slot
    fired = {timer_slot(start + slot * k / 20, 900.0, interval) for k in range(1, 20)}
    assert len(fired) == 1
    (at,) = fired
    assert math.isclose(at, start + slot)
    assert math.isclose(timer_slot(start + slot * 1.05, 900.0, interval), start + 2 * slot)


def test_slot_width_is_capped_for_long_intervals() -> None:
    interval = 41.25  # Discord's: 1 % would be 0.41 s; the cap keeps beats within 0.25 s
    at = timer_slot(1000.01, 900.0, interval)
    assert at == 1000.25
    assert math.isclose(slot_of(interval), TIMER_SLOT_MAX)


async def test_shared_timers_fire_every_callback_of_a_slot_once_in_order() -> None:
    # The shards' timers on one loop (rxgateway.shard._SharedTimers): one loop timer
    # per fire time; every callback armed for it runs once, in the order armed, at
    # or after that time; a discarded one does not run; one that raises is logged
    # and the others still run.
    import asyncio
    import logging

    from rxgateway.shard import _SharedTimers

    loop = asyncio.get_running_loop()
    timers = _SharedTimers.of(loop)
    assert _SharedTimers.of(loop) is timers
    at = loop.time() + 0.05
    ran: list[tuple[str, float]] = []

    def callback(name: str):
        def run() -> None:
            ran.append((name, loop.time()))
            if name == "b":
                raise RuntimeError("a user's bug")

        return run

    a, b, c, d = (callback(n) for n in "abcd")
    for cb in (a, b, c, d):
        timers.add(loop, at, cb)
    timers.discard(at, d)
    timers.add(loop, at, a)  # armed again for the same time: still once
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("rxgateway.shard").addHandler(handler)
    try:
        await asyncio.sleep(0.15)
    finally:
        logging.getLogger("rxgateway.shard").removeHandler(handler)
    assert [name for name, _ in ran] == ["a", "b", "c"]
    assert all(when >= at - 1e-3 for _, when in ran)
    assert [r.exc_info[0] for r in records if r.exc_info] == [RuntimeError]
    timers.add(loop, loop.time() - 1.0, d)  # a time already past: the next pass
    await asyncio.sleep(0.01)
    assert [name for name, _ in ran] == ["a", "b", "c", "d"]
