"""RedisSessionStore on a real redis-server: the shared contract, one pipeline per
batch, the TTL, a Redis restart, and a shard that resumes from it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rxgateway.cluster.redis_link import Keys
from rxgateway.cluster.redis_store import RedisSessionStore
from rxgateway.emulator import DEFAULT_TOKEN
from rxgateway.errors import SessionStoreError
from rxgateway.protocol import CloseFrame, ShardId
from rxgateway.shard import Shard
from rxgateway.store import SessionStore
from rxgateway.tools.redis_server import RedisServer

from ..shard.test_shard_emulator import config_for, emulator
from ..store import contract
from ..store.contract import record


def command_calls(info: dict[str, Any], name: str) -> int:
    stats = info.get(f"cmdstat_{name}")
    return int(stats["calls"]) if stats else 0


@pytest.mark.parametrize("check", sorted(contract.CHECKS))
async def test_redis_store_keeps_the_contract(check: str, redis_server: RedisServer, redis: Any, app: str) -> None:
    stores: list[RedisSessionStore] = []

    def make() -> SessionStore:
        stores.append(RedisSessionStore(redis, app=app, interval=60))
        return stores[-1]

    await contract.CHECKS[check](make)
    for store in stores:
        await store.aclose()
    assert await redis.ping()  # a client handed in stays open


async def test_records_too_old_are_not_resumed(redis: Any, app: str) -> None:
    await contract.a_record_too_old_is_not_resumed(lambda: RedisSessionStore(redis, app=app, max_age=30), 30)


async def test_one_pipeline_per_batch(redis: Any, app: str) -> None:
    store = RedisSessionStore(redis, app=app, interval=60)
    for sequence in range(1, 51):  # 50 heartbeats' worth of saves from four shards
        for number in range(4):
            await store.save(record(number, 4, f"s{number}", sequence))
    before = await redis.info("commandstats")
    await store.flush()
    after = await redis.info("commandstats")
    assert store.writes == 1
    assert command_calls(after, "evalsha") - command_calls(before, "evalsha") == 4  # one per shard, not per save
    assert command_calls(after, "hset") - command_calls(before, "hset") == 4
    loaded = await RedisSessionStore(redis, app=app).load(ShardId(3, 4))
    assert loaded is not None and loaded.session.sequence == 50
    await store.aclose()


async def test_the_record_is_a_hash_with_a_ttl_and_no_token(redis: Any, app: str) -> None:
    store = RedisSessionStore(redis, app=app, owner="member-7", max_age=120)
    await store.save(record(2, 4, "abc", 17))
    await store.aclose()
    key = Keys(app).session(2)
    fields = {k.decode(): v.decode() for k, v in (await redis.hgetall(key)).items()}
    assert fields["session_id"] == "abc" and fields["sequence"] == "17" and fields["total"] == "4"
    assert fields["owner"] == "member-7"
    assert DEFAULT_TOKEN not in str(fields)
    assert 0 < await redis.pttl(key) <= 120_000


async def test_pending_saves_are_written_within_the_interval(redis: Any, app: str) -> None:
    store = RedisSessionStore(redis, app=app, interval=0.05)
    await store.save(record(0, 1))
    async with asyncio.timeout(10):
        while store.writes == 0:
            await asyncio.sleep(0.01)
    assert await redis.exists(Keys(app).session(0)) == 1
    await store.aclose()


async def test_a_redis_restart_fails_the_flush_then_writes_again(redis_server: RedisServer, app: str) -> None:
    store = RedisSessionStore(redis_server.url, app=app, interval=60)
    await store.save(record(0, 2, "a", 1))
    await store.flush()
    redis_server.stop()
    try:
        await store.save(record(0, 2, "a", 2))
        await store.save(record(1, 2, "b", 1))
        with pytest.raises(SessionStoreError) as caught:
            await store.flush()
        assert store.pending == 2
        with pytest.raises(SessionStoreError, match="shard 0"):  # each shard is told once
            await store.save(record(0, 2, "a", 3))
        await store.save(record(0, 2, "a", 4))
        assert store.pending == 2
        with pytest.raises(SessionStoreError, match="reading"):  # nothing pending for it: Redis is asked
            await store.load(ShardId(5, 8))
        assert "Connection" in repr(caught.value.__cause__)
    finally:
        redis_server.start()  # back, and empty
    await store.flush()
    assert store.pending == 0
    again = RedisSessionStore(redis_server.url, app=app)
    zero, one = await again.load(ShardId(0, 2)), await again.load(ShardId(1, 2))
    assert zero is not None and zero.session.sequence == 4
    assert one is not None and one.session.id == "b"
    await again.aclose()
    await store.aclose()


def test_the_password_is_never_shown() -> None:
    store = RedisSessionStore("redis://:hunter2@127.0.0.1:1/0", app="x")
    assert "hunter2" not in repr(store) and "***" in repr(store)


async def test_a_shard_resumes_from_redis_after_a_restart(redis_server: RedisServer, app: str) -> None:
    async with emulator() as emu:
        store = RedisSessionStore(redis_server.url, app=app)
        shard = Shard(ShardId(0, 1), config_for(emu, session_store=store))
        await shard.start()
        await shard.ready(timeout=5)
        await emu.burst(30, mix="messages=1")
        async with asyncio.timeout(10):
            while shard.session is None or shard.session.sequence < 30:
                await asyncio.sleep(0.01)
        shard.close(CloseFrame.RESUME)
        await shard.closed()
        await store.aclose()
        assert shard.session is not None
        last = shard.session.sequence

        store = RedisSessionStore(redis_server.url, app=app)  # another process
        shard = Shard(ShardId(0, 1), config_for(emu, session_store=store))
        await shard.start()
        await shard.ready(timeout=5)
        shard.close(CloseFrame.RESUME)
        await shard.closed()
        await store.aclose()
        second = emu.record.connections[-1]
        assert second.resumes and second.resumes[0].accepted and second.resumes[0].seq == last
        assert not second.identifies
        assert emu.violations == []
