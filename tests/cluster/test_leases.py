"""The lease rules with plain numbers and a fake clock, then the lease table on a real
Redis: renew, claim, release, leave, a Redis restarted empty, another total."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxgateway.cluster.lease_table import LeaseTable, TotalMismatchError
from rxgateway.cluster.leases import LeaseClock, Plan, fair_share, let_go_margin, plan, renew_interval
from rxgateway.cluster.redis_link import Keys, connect
from rxgateway.tools.redis_server import RedisServer


# -- pure rules ------------------------------------------------------------------


@given(total=st.integers(1, 3000), names=st.sets(st.text("abcdef", min_size=1, max_size=4), min_size=1, max_size=40))
def test_fair_shares_add_up_and_differ_by_at_most_one(total: int, names: set[str]) -> None:
    shares = [fair_share(total, names, m) for m in names]
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1


def test_a_member_not_yet_seen_alive_holds_nothing() -> None:
    assert fair_share(16, ["a", "b"], "c") == 0


def test_plan_claims_what_is_missing_and_hands_off_the_highest() -> None:
    assert plan(held=set(), share=4) == Plan(4, ())
    assert plan(held={0, 5, 9}, share=3) == Plan(0, ())
    assert plan(held={0, 5, 9, 12}, share=2) == Plan(0, (12, 9))
    assert plan(held=set(), share=250, batch=64) == Plan(64, ())  # a round stays short
    assert plan(held=set(range(240)), share=250, batch=64) == Plan(10, ())


def test_the_lease_clock_lets_go_before_the_server_could_expire_the_lease() -> None:
    clock = LeaseClock(ttl=30.0)
    assert clock.must_let_go(0.0)  # nothing renewed: nothing trusted
    clock.renewed(sent_at=10.0)
    assert clock.valid_until == 40.0
    margin = let_go_margin(30.0)
    assert not clock.must_let_go(40.0 - margin - 0.001)
    assert clock.must_let_go(40.0 - margin)
    clock.renewed(sent_at=5.0)  # a late reply of an older renewal never shortens it
    assert clock.valid_until == 40.0
    clock.forget()
    assert clock.must_let_go(11.0)


def test_renewals_leave_room_for_several_failures_before_letting_go() -> None:
    for ttl in (6.0, 8.0, 30.0, 120.0):
        failures_tolerated = (ttl - let_go_margin(ttl)) / renew_interval(ttl)
        assert failures_tolerated >= 3, ttl
    with pytest.raises(ValueError):
        LeaseClock(ttl=0)


# -- the table on Redis ----------------------------------------------------------


def table(client: Any, app: str, member: str, ttl: float = 3.0) -> LeaseTable:
    return LeaseTable(client, Keys(app), member, ttl)


async def past_grace(t: LeaseTable) -> None:
    """The first contact creates the epoch; claims wait out the grace after it."""
    await t.heartbeat([], 8)
    await asyncio.sleep(t.grace + 0.05)


async def test_claims_are_exclusive_and_renewals_keep_them(redis: Any, app: str) -> None:
    a, b = table(redis, app, "a"), table(redis, app, "b")
    await past_grace(a)
    got_a = await a.claim(list(range(8)), 5)
    got_b = await b.claim(list(range(8)), 5)
    assert got_a == [0, 1, 2, 3, 4] and got_b == [5, 6, 7]
    beat = await a.heartbeat(got_a, 8)
    assert beat.kept == tuple(got_a) and beat.lost == ()
    assert set(beat.members) == {"a"}  # b has not beaten yet
    await b.heartbeat(got_b, 8)
    assert set((await a.heartbeat(got_a, 8)).members) == {"a", "b"}
    assert await a.holders(8) == ["a"] * 5 + ["b"] * 3


async def test_release_and_leave_free_only_the_member_s_own_leases(redis: Any, app: str) -> None:
    a, b = table(redis, app, "a"), table(redis, app, "b")
    await past_grace(a)
    await a.claim([0, 1], 2)
    await b.claim([2], 1)
    assert await b.release([0, 1, 2]) == 1  # b's only
    assert await a.holder(0) == "a"
    await a.leave([0, 1])
    assert await a.holders(3) == [None, None, None]
    beat = await b.heartbeat([], 8)
    assert "a" not in beat.members


async def test_an_expired_lease_is_free_and_its_old_holder_learns_it_lost_it(redis: Any, app: str) -> None:
    a, b = table(redis, app, "a", ttl=1.0), table(redis, app, "b", ttl=1.0)
    await past_grace(a)
    assert await a.claim([0], 1) == [0]
    await asyncio.sleep(1.2)  # a did not renew
    assert await b.claim([0], 1) == [0]
    beat = await a.heartbeat([0], 8)
    assert beat.lost == (0,) and beat.kept == ()


async def test_a_redis_restarted_empty_lets_holders_retake_first(app: str) -> None:
    with RedisServer() as server:
        client = connect(server.url)
        try:
            a, b = table(client, app, "a"), table(client, app, "b")
            await past_grace(a)
            assert await a.claim([0, 1], 2) == [0, 1]
            server.stop()
            server.start()  # every key gone
            assert await b.claim([0, 1], 2) == []  # the grace of the new epoch
            beat = await a.heartbeat([0, 1], 8)  # the holder re-takes its own at once
            assert beat.kept == (0, 1)
            await asyncio.sleep(a.grace + 0.05)
            assert await b.claim([0, 1, 2], 2) == [2]
        finally:
            await client.aclose()


async def test_a_member_with_another_total_is_refused(redis: Any, app: str) -> None:
    await table(redis, app, "a").heartbeat([], 16)
    with pytest.raises(TotalMismatchError, match="16"):
        await table(redis, app, "b").heartbeat([], 32)
