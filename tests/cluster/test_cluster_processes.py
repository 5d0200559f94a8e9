"""A cluster of real processes on a real Redis against one emulator: start, failover,
rolling restart, join, Redis outage. The emulator's record is the judge: identifies
and resumes with their times, violations of the identify buckets, and whether any
Resume took a session from a connection that still held it (two holders)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from rxgateway.emulator import GatewayEmulator
from rxgateway.emulator.journal import ViolationKind
from rxgateway.tools.redis_server import RedisServer

from .harness import IDENTIFY_WINDOW, Cluster

pytestmark = pytest.mark.timeout(240)

TOTAL = 16
MAX_CONCURRENCY = 4


def cluster_emulator(**changes: Any) -> GatewayEmulator:
    settings: dict[str, Any] = {
        "shards": TOTAL,
        "max_concurrency": MAX_CONCURRENCY,
        "identify_window_s": IDENTIFY_WINDOW,
        "heartbeat_interval_ms": 2000,
        "heartbeat_timeout_factor": 3.0,
        "reconnect_close_delay_s": 0.5,
        "invalid_session_close_delay_s": 0.5,
        "guilds": 32,
        "resume_window_s": 120.0,
    }
    settings.update(changes)
    return GatewayEmulator(**settings)


def assert_clean(emu: GatewayEmulator) -> None:
    """No rule broken, and no Resume ever displaced a live connection."""
    assert not emu.violations, emu.violations[:5]
    displaced = [r for r in emu.record.resumes() if r.displaced is not None]
    assert not displaced, f"two live connections for one session: {displaced[:5]}"


async def test_four_processes_hold_sixteen_shards_within_the_buckets(redis_server: RedisServer, app: str) -> None:
    async with cluster_emulator() as emu, Cluster(emu, redis_server.url, app, total=TOTAL) as cluster:
        for _ in range(4):
            await cluster.spawn()
        took = await cluster.wait_all_active(90)
        identifies = cluster.identifies()
        # One identify per shard, spaced by bucket across all four processes.
        assert sorted(i.shard.number for i in identifies) == list(range(TOTAL)), identifies
        by_bucket: dict[int, list[float]] = {}
        for i in identifies:
            by_bucket.setdefault(i.bucket, []).append(i.time)
        gaps = [b - a for times in by_bucket.values() for a, b in zip(times, times[1:])]
        assert min(gaps) >= IDENTIFY_WINDOW, gaps
        assert not [v for v in emu.violations if v.kind is ViolationKind.IDENTIFY_CONCURRENCY]
        # Each member holds its fair share: 4 each.
        assert sorted(len(m.holds) for m in cluster.live()) == [4, 4, 4, 4]
        # The daily budget was counted once across the processes: Redis agrees with
        # the emulator's own count.
        from rxgateway.cluster.redis_link import connect

        client = connect(redis_server.url)
        try:
            budget: Any = await client.hgetall(f"{{{app}}}:idq:budget")
        finally:
            await client.aclose()
        remaining = int(budget[b"remaining"])
        assert remaining == int(budget[b"total"]) - TOTAL, budget
        assert remaining == emu.state.accounts.all[0].budget.remaining(time.monotonic())
        assert_clean(emu)
        print(f"\n4 processes, {TOTAL} shards, max_concurrency {MAX_CONCURRENCY}: all Active in {took:.1f} s; "
              f"min same-bucket gap {min(gaps) * 1000:.0f} ms (window {IDENTIFY_WINDOW * 1000:.0f} ms)")


async def test_a_killed_member_s_shards_are_resumed_by_the_survivors(redis_server: RedisServer, app: str) -> None:
    async with cluster_emulator() as emu, Cluster(emu, redis_server.url, app, total=TOTAL) as cluster:
        members = [await cluster.spawn() for _ in range(4)]
        await cluster.wait_all_active(90)
        emu.start_traffic(200.0)
        await asyncio.sleep(1.5)
        victim = members[1]
        lost = set(victim.holds)
        # What the victim's connections had delivered, per session, when it died.
        killed_at = time.monotonic()
        await cluster.kill(victim)
        delivered = {
            c.session_id: (c.sequences[-1] if len(c.sequences) else 0)
            for c in emu.record.connections
            if c.shard is not None and c.shard.number in lost and c.session_id is not None
        }
        took = await cluster.wait(
            lambda: lost <= {r_shard(emu, r) for r in cluster.resumes(killed_at)} and cluster.all_active(),
            cluster.lease_ttl + 20,
            "the victim's shards resumed by the survivors",
        )
        emu.stop_traffic()
        resumes = [r for r in cluster.resumes(killed_at) if r_shard(emu, r) in lost]
        assert not [i for i in cluster.identifies(killed_at)], "a survivor identified instead of resuming"
        assert {r_shard(emu, r) for r in resumes} == lost
        for r in resumes:  # from the store: never past what the dead holder had been sent
            assert r.session_id in delivered and r.seq <= delivered[r.session_id], (r, delivered)
        assert_clean(emu)
        print(f"\nSIGKILL of a member holding {sorted(lost)}: resumed by survivors {took:.1f} s after the kill "
              f"(lease TTL {cluster.lease_ttl} s); {len(resumes)} resumes, 0 identifies")


def r_shard(emu: GatewayEmulator, resume: Any) -> int:
    for c in emu.record.connections:
        if resume in c.resumes and c.shard is not None:
            return int(c.shard.number)
    return -1


async def test_a_rolling_restart_identifies_nothing(redis_server: RedisServer, app: str) -> None:
    async with cluster_emulator() as emu, Cluster(emu, redis_server.url, app, total=TOTAL) as cluster:
        for _ in range(3):
            await cluster.spawn()
        await cluster.wait_all_active(90)
        emu.start_traffic(100.0)
        since = time.monotonic()
        for member in list(cluster.live()):
            code = await cluster.terminate(member)
            assert code == 0, member.stderr[-5:]
            await cluster.spawn()
            await cluster.wait_all_active(60)
        emu.stop_traffic()
        assert cluster.identifies(since) == []
        resumed = {r_shard(emu, r) for r in cluster.resumes(since)}
        assert resumed == set(range(TOTAL))
        assert_clean(emu)
        print(f"\nrolling restart of 3 members: {len(cluster.resumes(since))} resumes, 0 identifies")


async def test_a_member_that_joins_gets_its_share_by_handoff(redis_server: RedisServer, app: str) -> None:
    async with cluster_emulator() as emu, Cluster(emu, redis_server.url, app, total=TOTAL) as cluster:
        for _ in range(3):
            await cluster.spawn()
        await cluster.wait_all_active(90)
        since = time.monotonic()
        joiner = await cluster.spawn()
        took = await cluster.wait(
            lambda: len(joiner.holds) == 4 and cluster.all_active(), 60, "the joiner holding its share"
        )
        assert cluster.identifies(since) == []
        assert {r_shard(emu, r) for r in cluster.resumes(since)} == set(joiner.holds)
        assert sorted(len(m.holds) for m in cluster.live()) == [4, 4, 4, 4]
        assert_clean(emu)
        print(f"\na fourth member joined: holds {joiner.holds} after {took:.1f} s, by handoff, 0 identifies")


async def test_redis_down_for_ten_seconds_closes_no_shard(app: str) -> None:
    with RedisServer() as redis_server:
        async with cluster_emulator() as emu, Cluster(emu, redis_server.url, app, total=TOTAL, lease_ttl=30.0) as cluster:
            for _ in range(3):
                await cluster.spawn()
            await cluster.wait_all_active(120)
            connections = len(emu.record.connections)
            redis_server.stop()
            await asyncio.sleep(10)
            redis_server.start()  # empty: every lease is gone; holders re-take theirs
            await asyncio.sleep(cluster.lease_ttl / 2)
            assert len(emu.record.connections) == connections, "a shard reconnected"
            assert cluster.all_active()
            holds = [n for m in cluster.live() for n in m.holds]
            assert sorted(holds) == list(range(TOTAL)), "a shard held twice or not at all"
            from rxgateway.cluster.redis_link import connect

            client = connect(redis_server.url)
            try:
                holders: Any = await client.mget([f"{{{app}}}:lease:{n}" for n in range(TOTAL)])
            finally:
                await client.aclose()
            by_member = {m.last["member"]: set(m.holds) for m in cluster.live() if m.last}
            for n, holder in enumerate(holders):
                assert holder is not None and n in by_member[holder.decode()]
            assert_clean(emu)
