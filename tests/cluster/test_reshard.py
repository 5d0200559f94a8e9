"""Resharding's pieces, each on its own: the key names of a generation, the rule that
rounds a recommendation to the large-bot factor, the reshard script (refused when the
identify budget is too low, or one is pending; a member given the pending total is
accepted; the call that completes the Active set switches the config), the CLI, and
the emulator's runtime recommendation."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from typing import Any

import aiohttp
import pytest

from rxgateway.cluster.lease_table import (
    LeaseTable,
    ReshardError,
    Shape,
    TotalMismatchError,
    cancel_reshard,
    read_shape,
    start_reshard,
)
from rxgateway.cluster.leases import reshard_target
from rxgateway.cluster.redis_link import Keys
from rxgateway.emulator import GatewayEmulator
from rxgateway.emulator.settings import DEFAULT_TOKEN
from rxgateway.tools.redis_server import RedisServer


def test_generation_zero_keeps_the_key_names_and_later_ones_are_apart() -> None:
    keys = Keys("bot")
    assert keys.lease(3) == keys.lease(3, 0) == "{bot}:lease:3"
    assert keys.session(3, 0) == "{bot}:session:3"
    assert keys.lease(3, 1) == "{bot}:lease:g1:3"
    assert keys.session(3, 2) == "{bot}:session:g2:3"
    assert keys.active(1) == "{bot}:active:g1"


def test_the_target_grows_only_and_is_a_multiple_of_the_large_bot_factor() -> None:
    assert reshard_target(8, 4, 1) == 8
    assert reshard_target(5, 4, 1) == 5
    assert reshard_target(4, 4, 1) is None
    assert reshard_target(3, 4, 16) is None  # never shrinks on its own
    assert reshard_target(17, 16, 16) == 32
    assert reshard_target(6, 4, 4) == 8
    assert reshard_target(8, 8, 4) is None


def test_a_shape_accepts_the_running_and_the_pending_total() -> None:
    assert Shape(4).accepts(4) and not Shape(4).accepts(8)
    pending = Shape(4, 0, 8, 1)
    assert pending.accepts(4) and pending.accepts(8) and not pending.accepts(16)


async def budget(redis: Any, app: str, remaining: int, total: int = 1000) -> None:
    await redis.hset(Keys(app).budget, mapping={"remaining": remaining, "total": total})


async def test_a_reshard_is_refused_when_the_budget_is_too_low(redis: Any, app: str) -> None:
    keys = Keys(app)
    with pytest.raises(ReshardError, match="no shard total"):
        await start_reshard(redis, keys, 8)
    await LeaseTable(redis, keys, "a", 3.0).heartbeat([], 4)
    await budget(redis, app, 57)  # 8 + the floor of 50 (5 % of 1000) is 58
    with pytest.raises(ReshardError, match=r"57 of 1000 left.*floor of 50 are needed \(58\)"):
        await start_reshard(redis, keys, 8)
    assert await read_shape(redis, keys) == Shape(4, 0)
    with pytest.raises(ReshardError, match="already runs 4"):
        await start_reshard(redis, keys, 4)
    await budget(redis, app, 58)
    assert await start_reshard(redis, keys, 8) == 1
    assert await read_shape(redis, keys) == Shape(4, 0, 8, 1)
    with pytest.raises(ReshardError, match="already resharding to 8"):
        await start_reshard(redis, keys, 16)
    assert await cancel_reshard(redis, keys)
    assert await read_shape(redis, keys) == Shape(4, 0)
    assert await start_reshard(redis, keys, 8, floor=0) == 1


async def test_a_member_may_join_with_the_pending_total_and_the_last_active_shard_switches(redis: Any, app: str) -> None:
    keys = Keys(app)
    a = LeaseTable(redis, keys, "a", 3.0)
    await a.heartbeat([], 4)
    assert await start_reshard(redis, keys, 8) == 1  # no budget known yet: not refused
    b = LeaseTable(redis, keys, "b", 3.0)
    beat = await b.heartbeat([], 8)  # the pending total is accepted
    assert beat.shape == Shape(4, 0, 8, 1)
    with pytest.raises(TotalMismatchError, match="resharding to 8"):
        await LeaseTable(redis, keys, "c", 3.0).heartbeat([], 16)
    await asyncio.sleep(a.grace + 0.05)
    assert await b.claim(list(range(8)), 8, generation=1) == list(range(8))
    assert await b.holders(8, generation=1) == ["b"] * 8
    assert await b.holders(4) == [None] * 4  # generation 0's leases are other keys
    beat = await b.heartbeat([], 4, next_held=list(range(8)), next_generation=1, check=False)
    assert beat.next_kept == tuple(range(8)) and beat.next_lost == ()
    assert not await b.mark_active(1, [0, 1, 2, 3])
    assert not await b.mark_active(1, [3, 4, 5, 6])  # counted once each
    assert not await a.mark_active(2, [7])  # not the pending generation: ignored
    assert await b.mark_active(1, [7])
    assert await read_shape(redis, keys) == Shape(8, 1)
    assert not await b.mark_active(1, [7])  # switched once
    with pytest.raises(TotalMismatchError, match="runs 8 shards, this member 4"):
        await LeaseTable(redis, keys, "d", 3.0).heartbeat([], 4)


def rxgateway(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DISCORD_TOKEN=DEFAULT_TOKEN)
    return subprocess.run([sys.executable, "-m", "rxgateway", *args], capture_output=True, text=True, env=env, timeout=60)


async def test_the_cli_refuses_a_reshard_the_budget_cannot_pay_for(redis_server: RedisServer, redis: Any, app: str) -> None:
    await LeaseTable(redis, Keys(app), "a", 3.0).heartbeat([], 16)
    await budget(redis, app, 40)
    base = ("cluster", "reshard", "--redis", redis_server.url, "--app", app)
    refused = await asyncio.to_thread(rxgateway, *base, "--total", "32")
    assert refused.returncode == 1
    assert "identify budget is too low" in refused.stderr and "40 of 1000 left" in refused.stderr, refused.stderr
    assert await read_shape(redis, Keys(app)) == Shape(16, 0)
    await budget(redis, app, 900)
    done = await asyncio.to_thread(rxgateway, *base, "--total", "32")
    assert done.returncode == 0, done.stderr
    assert "resharding to 32 shards (generation 1)" in done.stdout
    status = await asyncio.to_thread(rxgateway, "cluster", "status", "--redis", redis_server.url, "--app", app)
    assert "resharding to 32 shards (generation 1): 0 held, 0 were Active" in status.stdout, status.stdout
    again = await asyncio.to_thread(rxgateway, *base, "--total", "64")
    assert again.returncode == 1 and "already resharding to 32" in again.stderr
    cancelled = await asyncio.to_thread(rxgateway, *base, "--cancel")
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout
    usage = await asyncio.to_thread(rxgateway, *base)
    assert usage.returncode == 2 and "--total" in usage.stderr


async def test_the_emulator_changes_its_recommendation_at_runtime() -> None:
    async with GatewayEmulator(shards=4) as emu, aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bot {DEFAULT_TOKEN}"}

        async def recommended() -> int:
            async with http.get(f"{emu.api_url}/gateway/bot", headers=headers) as response:
                return int((await response.json())["shards"])

        assert await recommended() == 4
        emu.recommend_shards(8)
        assert await recommended() == 8
        with pytest.raises(ValueError):
            emu.recommend_shards(0)


async def test_members_in_process_switch_once_and_one_joins_with_the_new_total(redis_server: RedisServer, app: str) -> None:
    """Local subscribers get the old generation's events until their member switched,
    then the new one's (never back); a member started mid-reshard with the new total
    takes part; the old sessions end with 1000 once every new shard was Active."""
    from rxgateway import Config, Intents
    from rxgateway.cluster.member import Member
    from rxgateway.cluster.redis_queue import RedisQueue
    from rxgateway.events.base import Dispatch

    from .harness import IDENTIFY_MARGIN, IDENTIFY_WINDOW

    def member(emu: GatewayEmulator, name: str, total: int) -> Member:
        queue = RedisQueue(redis_server.url, app=app, identify_interval=IDENTIFY_WINDOW, margin=IDENTIFY_MARGIN)
        stack.push_async_callback(queue.aclose)  # the member closes only what it made
        config = Config(
            DEFAULT_TOKEN, Intents.GUILDS | Intents.GUILD_MESSAGES,
            gateway_url=emu.url, api_url=emu.api_url, queue=queue,
        )  # fmt: skip
        return Member(config, redis_server.url, total=total, app=app, member_id=name, lease_ttl=3.0)

    async def until(predicate: Any, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.02)

    async with contextlib.AsyncExitStack() as stack, GatewayEmulator(
        shards=2, max_concurrency=2, identify_window_s=IDENTIFY_WINDOW, heartbeat_interval_ms=1000, guilds=16
    ) as emu:
        a, b = member(emu, "a", 2), member(emu, "b", 2)
        totals: dict[str, list[int]] = {"a": [], "b": [], "c": []}
        for name, m in (("a", a), ("b", b)):
            m.subscribe(lambda e, name=name: totals[name].append(e.shard.total) if isinstance(e, Dispatch) else None)
        async with a, b:
            await until(lambda: sorted([*a.shards, *b.shards]) == [0, 1] and len(emu.connections) == 2)
            emu.start_traffic(100.0)
            client = a._redis
            await budget(client, app, 900)
            assert await start_reshard(client, Keys(app), 4) == 1
            await until(lambda: a.pending == (1, 4) and b.pending == (1, 4))
            c = member(emu, "c", 4)  # joins mid-reshard with the new total
            c.subscribe(lambda e: totals["c"].append(e.shard.total) if isinstance(e, Dispatch) else None)
            async with c:
                assert c.total == 2 and c.generation == 0
                await until(lambda: all(m.generation == 1 for m in (a, b, c)) and not any(m.pending for m in (a, b, c)))
                await until(lambda: sorted(n for m in (a, b, c) for n in m.shards) == [0, 1, 2, 3])
                await asyncio.sleep(0.5)
                emu.stop_traffic()
            assert all(m.counters["switches"] == 1 for m in (a, b, c))
        for name, seen in totals.items():
            assert seen == sorted(seen), name  # 2s, then 4s: never back
        assert 4 in totals["a"] + totals["b"] + totals["c"]
        old = [conn for conn in emu.record.connections if conn.shard and conn.shard.total == 2]
        new_identified = max(i.time for i in emu.record.identifies() if i.accepted and i.shard.total == 4)
        assert [conn.close_received for conn in old] == [1000, 1000]
        assert min(conn.closed_at or 0 for conn in old) >= new_identified
        assert not emu.violations
