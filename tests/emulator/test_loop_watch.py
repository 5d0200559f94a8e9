"""The emulator's own stalls are not the client's fault (loop_watch.py).

These tests hold the one event loop up with ``time.sleep`` (the emulator and the test
client share it), so that a payload the client sent in time waits in its socket and is
read late: as thousands of connections opening at once, or a full garbage collection,
hold up a busy emulator. The identify and heartbeat tests fail without the allowance
they check; the others check that the allowance stays within what the loop lost.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from rxgateway.emulator import ViolationKind
from rxgateway.emulator.loop_watch import PERIOD, TOLERANCE, LoopWatch

from .client import GatewayClient, MakeEmulator, ready_client


async def on_time(watch: LoopWatch) -> bool:
    """Whether the watch says the loop is on time within a few ticks (a loaded machine
    can make any one tick late): bounded, at most 100 periods."""
    for _ in range(100):
        if watch.behind() == 0.0:
            return True
        await asyncio.sleep(PERIOD)
    return False


async def test_behind_is_zero_on_time_and_counts_a_stall_until_a_tick_is_on_time_again() -> None:
    watch = LoopWatch()
    assert watch.behind() == 0.0  # not started
    watch.start()
    try:
        assert await on_time(watch)
        time.sleep(0.2)
        assert watch.behind() >= 0.2  # held up now: the next tick is overdue
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # the stall's own (late) tick has run
        assert watch.behind() >= 0.2  # what these passes read may have waited the whole stall
        assert await on_time(watch)
    finally:
        watch.stop()
    time.sleep(PERIOD + 2 * TOLERANCE)
    assert watch.behind() == 0.0  # stopped: no opinion


async def test_a_loop_that_stays_busy_is_allowed_its_passes_not_the_whole_time() -> None:
    # Every pass holds the loop 12 ms, for 1 s: each tick comes a little late, and no
    # payload waits more than about two passes. The allowance must stay of that order,
    # not grow with the time the loop has been busy (which would let any Identify in).
    watch = LoopWatch()
    watch.start()
    try:
        assert await on_time(watch)
        most = 0.0
        started = time.monotonic()
        for _ in range(200):  # bounded: 200 passes, or 1 s
            if time.monotonic() - started > 1.0:
                break
            time.sleep(0.012)
            await asyncio.sleep(0)
            most = max(most, watch.behind())
        assert 0.0 < most < 0.5, most  # seen as held up, by a few passes' worth (~0.06 s)
    finally:
        watch.stop()


async def test_a_restart_starts_on_time() -> None:
    watch = LoopWatch()
    watch.start()
    watch.start()  # replaces its own timer
    watch.stop()
    time.sleep(0.1)  # stopped meanwhile: not a stall
    watch.start()
    try:
        assert watch.behind() == 0.0  # started now: nothing overdue, no late tick yet
        assert await on_time(watch)
    finally:
        watch.stop()


async def hello_pair(http: aiohttp.ClientSession, url: str) -> tuple[GatewayClient, GatewayClient]:
    """Two connections that got Hello and may identify."""
    clients = (await GatewayClient.connect(http, url), await GatewayClient.connect(http, url))
    for client in clients:
        assert (await client.receive())["op"] == 10
    return clients


async def test_identifies_sent_a_window_apart_but_read_together_are_not_refused(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(identify_window_s=0.3, shards=2) as emu:
        first, second = await hello_pair(http, emu.url)
        await asyncio.sleep(3 * PERIOD)  # the loop is on time
        await first.identify(shard=[0, 2])  # one key: max_concurrency 1
        time.sleep(0.4)  # the emulator is held up; the Identify waits in its socket
        await second.identify(shard=[1, 2])  # 0.4 s later: the window was kept
        assert (await first.until(0, "READY"))["t"] == "READY"
        assert (await second.until(0, "READY"))["t"] == "READY"
        identifies = emu.record.identifies()
        assert [i.accepted for i in identifies] == [True, True]
        assert identifies[1].time - identifies[0].time < 0.3  # read closer than the window
        assert emu.violations == []
        await first.close()
        await second.close()


async def test_identifies_too_soon_are_still_refused_after_a_stall(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(identify_window_s=2.0, shards=2) as emu:
        first, second = await hello_pair(http, emu.url)
        await first.identify(shard=[0, 2])
        time.sleep(0.4)  # the first may have waited 0.4 s: the second is still too soon
        await second.identify(shard=[1, 2])
        assert (await first.until(0, "READY"))["t"] == "READY"
        assert (await second.until(9))["d"] is False
        assert [v.kind for v in emu.violations] == [ViolationKind.IDENTIFY_CONCURRENCY]
        await first.close()


async def test_a_heartbeat_sent_before_the_deadline_but_read_after_it_is_not_missed(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    # 1 s x 1.5: the deadline is 1.5 s after the last beat was read.
    async with make_emulator(heartbeat_interval_ms=1000) as emu:
        client, _ = await ready_client(http, emu.url)
        await client.heartbeat(1)
        await client.until(11)  # the deadline is now 1.5 s away
        await asyncio.sleep(1.0)  # 0.5 s of slack for a loaded machine
        await client.heartbeat(1)  # before the deadline...
        time.sleep(1.0)  # ...read after it: the loop is held up past the deadline
        assert (await client.until(11))["op"] == 11
        assert emu.violations == [] and emu.connections
        assert len(emu.record.connections[0].heartbeats) == 2
        await client.close()
