"""The emulator's own lag is never the client's fault (loop_watch.py).

These tests hold the one event loop up with ``time.sleep`` (the emulator and the test
client share it), so that a payload the client sent in time waits in its socket and is
read late: as thousands of connections opening at once, or a full garbage collection,
hold up a busy emulator. Each fails without the allowance it checks.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from rxgateway.emulator import ViolationKind
from rxgateway.emulator.loop_watch import PERIOD, TOLERANCE, LoopWatch

from .client import GatewayClient, MakeEmulator, ready_client


async def test_behind_is_zero_on_time_and_counts_a_stall_until_a_tick_is_on_time_again() -> None:
    watch = LoopWatch()
    assert watch.behind() == 0.0  # not started
    watch.start()
    try:
        await asyncio.sleep(3 * PERIOD)
        assert watch.behind() == 0.0
        time.sleep(0.2)
        assert watch.behind() >= 0.2
        await asyncio.sleep(0)  # the pass that runs the stall's own (late) tick
        await asyncio.sleep(0)
        assert watch.behind() >= 0.2  # what that pass read may have waited the whole stall
        for _ in range(100):  # on time again within a few ticks (bounded: 100 x 20 ms)
            await asyncio.sleep(PERIOD)
            if watch.behind() == 0.0:
                break
        assert watch.behind() == 0.0
    finally:
        watch.stop()
    time.sleep(PERIOD + 2 * TOLERANCE)
    assert watch.behind() == 0.0  # stopped: no opinion


async def test_a_restart_starts_on_time() -> None:
    watch = LoopWatch()
    watch.start()
    watch.start()  # replaces its own timer
    watch.stop()
    time.sleep(0.1)  # stopped meanwhile: not a stall
    watch.start()
    try:
        assert watch.behind() == 0.0
        await asyncio.sleep(3 * PERIOD)
        assert watch.behind() == 0.0
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
