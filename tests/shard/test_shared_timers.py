"""The shards' timers on one event loop (:class:`rxgateway.shard._SharedTimers`): one
loop timer per distinct fire time, however many shards wait for it."""

from __future__ import annotations

import asyncio
import logging

from rxgateway.shard import _SharedTimers


async def test_shared_timers_fire_every_callback_of_a_fire_time_once_in_order() -> None:
    # One loop timer per fire time; every callback armed for it runs once, in the
    # order armed, at or after that time; a discarded one does not run; one that
    # raises is logged and the others still run.
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


async def test_a_crowded_fire_time_runs_in_batches_with_other_work_between() -> None:
    # 200 callbacks at one time run FIRE_BATCH per pass of the loop, in the order
    # armed, each once; what the loop had ready meanwhile (a frame's callback) runs
    # between two batches; one discarded while it waits for its batch does not run.
    loop = asyncio.get_running_loop()
    timers = _SharedTimers.of(loop)
    batch = _SharedTimers.FIRE_BATCH
    assert 200 > 2 * batch
    at = loop.time() + 0.02
    waiting = batch + 5  # in the second batch
    ran: list[int | str] = []
    callbacks: list = []

    def callback(k: int):
        def run() -> None:
            ran.append(k)
            if k == 0:
                loop.call_soon(ran.append, "other")  # work the loop has ready meanwhile
                timers.discard(at, callbacks[waiting])

        return run

    callbacks.extend(callback(k) for k in range(200))
    for cb in callbacks:
        timers.add(loop, at, cb)
    await asyncio.sleep(0.1)
    assert [x for x in ran if x != "other"] == [k for k in range(200) if k != waiting]
    assert ran.index("other") == batch  # after the first batch, before the second
