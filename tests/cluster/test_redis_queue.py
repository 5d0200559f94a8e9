"""The Redis identify queue, on a real redis-server, with real OS processes.

Windows are scaled down: interval 0.2 s + margin 0.05 s = 250 ms instead of 5.25 s.
Spacing is read from the audit stream, stamped by the Redis server's clock, so it
does not depend on when a process got round to noticing its grant. Assertions are
orderings and lower bounds on gaps; the few upper bounds (a crashed process blocks a
key only about one window, a dead Redis is reported within seconds) are generous.

Some tests put a *plug* at the head of a key's FIFO: a ticket that sorts before
every real one, marked alive for a minute. It stands for a live waiter of another
process that holds the head, and lets a test line waiters up in a known order, or
cancel one, before any of them can be granted. Removing it lets the line move.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from rxgateway.cluster.redis_link import Keys, connect
from rxgateway.cluster.redis_queue import COMMAND_TIMEOUT, RedisQueue, epoch_key
from rxgateway.errors import IdentifyQueueError
from rxgateway.protocol.shard_id import ShardId
from rxgateway.queue import SessionQueue
from rxgateway.tools.redis_server import RedisServer, free_port

#: The scaled identify interval and margin of these tests (Discord: 5 s + 0.25 s).
INTERVAL = 0.2
MARGIN = 0.05
WINDOW_MS = 250

#: Server-clock rounding allowed on a gap (grants are stamped in whole ms).
TOL_MS = 1

#: Limit for "eventually": far above anything expected, it only stops a hung test.
PATIENCE = 15.0

#: Slack on the few upper bounds, for a loaded machine.
SLACK = 2.0

pytestmark = pytest.mark.timeout(60)

#: A separate OS process using the queue. argv[1] is a JSON spec: url, queue
#: options, shard count, shard numbers, "sequential" (one after the other instead of
#: all at once) and "hold" (seconds to stay alive afterwards). Prints one JSON line
#: per outcome.
WORKER = r"""
import asyncio, json, sys
from rxgateway.cluster.redis_queue import RedisQueue
from rxgateway.errors import IdentifyQueueError
from rxgateway.protocol.shard_id import ShardId

async def main(spec):
    queue = RedisQueue(spec["url"], **spec["queue"])
    async def one(number):
        try:
            await queue.acquire(ShardId(number, spec["shards"]))
            print(json.dumps({"granted": number}), flush=True)
        except IdentifyQueueError as exc:
            print(json.dumps({"refused": number, "message": str(exc)}), flush=True)
    try:
        if spec.get("sequential"):
            for number in spec["numbers"]:
                await one(number)
        else:
            await asyncio.gather(*(one(number) for number in spec["numbers"]))
        await asyncio.sleep(spec.get("hold", 0))
    finally:
        await queue.aclose()

asyncio.run(main(json.loads(sys.argv[1])))
"""


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def options(app: str, **extra: Any) -> dict[str, Any]:
    return {"app": app, "identify_interval": INTERVAL, "margin": MARGIN, **extra}


def queue(redis: Any, app: str, **extra: Any) -> RedisQueue:
    return RedisQueue(redis, **options(app, **extra))


async def spawn(url: str, app: str, numbers: list[int], *, shards: int = 16, **spec: Any) -> asyncio.subprocess.Process:
    queue_options = options(app, **spec.pop("queue", {}))
    payload = {"url": url, "queue": queue_options, "shards": shards, "numbers": numbers, **spec}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, json.dumps(payload),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def finish(process: asyncio.subprocess.Process) -> list[dict[str, Any]]:
    """Wait for a worker to exit; its outcome lines."""
    out, err = await asyncio.wait_for(process.communicate(), PATIENCE)
    assert process.returncode == 0, err.decode()[-2000:]
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not await check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.01)


async def server_ms(redis: Any) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def audit(redis: Any, app: str, event: str = "grant") -> list[dict[str, str]]:
    entries = await redis.xrange(Keys(app).audit)
    rows = [{text(k): text(v) for k, v in fields.items()} for _id, fields in entries]
    return [row for row in rows if row["event"] == event]


async def tickets_issued(redis: Any, app: str) -> int:
    return int(await redis.get(Keys(app).tickets) or 0)


async def waiting(redis: Any, app: str, key: int = 0) -> list[str]:
    return [text(t) for t in await redis.zrange(Keys(app).waiters(key), 0, -1)]


async def plug(redis: Any, app: str, key: int = 0) -> None:
    """Hold the head of ``key``'s FIFO with a ticket that is alive for a minute."""
    keys = Keys(app)
    await redis.zadd(keys.waiters(key), {"plug": 0})
    await redis.hset(keys.alive, "plug", await server_ms(redis) + 60_000)


async def unplug(redis: Any, app: str, key: int = 0) -> None:
    keys = Keys(app)
    await redis.zrem(keys.waiters(key), "plug")
    await redis.hdel(keys.alive, "plug")


def at_once(coro: Coroutine[Any, Any, None]) -> bool:
    """Whether ``coro`` finishes on its first step (granted without waiting)."""
    try:
        coro.send(None)
    except StopIteration:
        return True
    coro.close()
    return False


def gaps_ok(rows: list[dict[str, str]]) -> None:
    """Grants of one key are at least a window apart on the server clock."""
    by_key: dict[str, list[int]] = {}
    for row in rows:
        by_key.setdefault(row["key"], []).append(int(row["ms"]))
    for key, times in by_key.items():
        times.sort()
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert all(gap >= WINDOW_MS - TOL_MS for gap in gaps), f"key {key}: gaps {gaps} ms"


# -- the contract and small things --------------------------------------------------


async def test_it_is_a_session_queue_and_never_shows_a_password(redis: Any, app: str) -> None:
    with_password = RedisQueue("redis://:hunter2-secret@127.0.0.1:6379/0", app=app)
    assert isinstance(with_password, SessionQueue)
    assert "hunter2-secret" not in repr(with_password) and ":***@" in repr(with_password)
    await with_password.aclose()
    shared = RedisQueue(redis, app=app, max_concurrency=16, owner="w1")
    assert (shared.app, shared.max_concurrency, shared.owner) == (app, 16, "w1")
    assert shared.floor == 50 and RedisQueue(redis, total=10, remaining=10).floor == 1
    assert RedisQueue(redis, floor=0).floor == 0
    await shared.aclose()
    assert await redis.ping() is True, "a client passed in is not closed by the queue"


def test_bad_numbers_are_refused() -> None:
    url = "redis://127.0.0.1:6379/0"
    for bad in ({"max_concurrency": -1}, {"remaining": 5, "total": 4}, {"reset_after": -1.0}, {"floor": -1},
                {"identify_interval": -1.0}, {"limit_period": 0.0}):  # fmt: skip
        with pytest.raises(ValueError):
            RedisQueue(url, **bad)
    with pytest.raises(ValueError):
        RedisQueue(url).update(max_concurrency=1, remaining=2, reset_after=1.0, total=1)


async def test_max_concurrency_0_turns_it_off_even_without_redis(redis: Any, app: str) -> None:
    nowhere = RedisQueue(f"redis://127.0.0.1:{free_port()}/0", app=app, max_concurrency=0)
    assert at_once(nowhere.acquire(ShardId(3, 4)))
    await nowhere.aclose()
    # Turned off while a waiter waits: it is granted, and its ticket leaves.
    q = queue(redis, app)
    await plug(redis, app)
    waiter = asyncio.ensure_future(q.acquire(ShardId(1, 4)))
    await until(lambda: _ticket_count(redis, app, 1), "a ticket")
    q.update(max_concurrency=0, remaining=1000, reset_after=0.0, total=1000)
    await asyncio.wait_for(waiter, PATIENCE)
    assert await waiting(redis, app) == ["plug"]
    assert await audit(redis, app) == []


async def _ticket_count(redis: Any, app: str, count: int) -> bool:
    return await tickets_issued(redis, app) >= count


# -- spacing, parallel keys and fairness across processes ---------------------------


async def test_grants_are_spaced_per_key_across_processes_and_keys_run_in_parallel(
    redis_server: RedisServer, redis: Any, app: str
) -> None:
    """Three OS processes (4 waiters each) and 4 waiters here share 2 keys."""
    workers = [
        await spawn(redis_server.url, app, list(range(4 * i, 4 * i + 4)), queue={"max_concurrency": 2,
                    "owner": f"proc-{i}"})  # fmt: skip
        for i in range(3)
    ]
    try:
        await until(lambda: _ticket_count(redis, app, 12), "the workers' tickets")
        here = queue(redis, app, max_concurrency=2, owner="here")
        await asyncio.wait_for(asyncio.gather(*(here.acquire(ShardId(n, 16)) for n in range(12, 16))), PATIENCE)
        outcomes = [line for worker in workers for line in await finish(worker)]
    finally:
        for worker in workers:
            await stop(worker)
    assert sorted(line["granted"] for line in outcomes) == list(range(12))
    grants = await audit(redis, app)
    assert sorted(int(row["shard"]) for row in grants) == list(range(16)), "each waiter granted exactly once"
    assert {row["owner"] for row in grants} == {"proc-0", "proc-1", "proc-2", "here"}
    assert all(int(row["key"]) == int(row["shard"]) % 2 for row in grants)
    gaps_ok(grants)
    # Keys proceed in parallel: some grants of different keys are within one window.
    zero = [int(row["ms"]) for row in grants if row["key"] == "0"]
    one = [int(row["ms"]) for row in grants if row["key"] == "1"]
    assert min(abs(a - b) for a in zero for b in one) < WINDOW_MS
    # The budget fell by exactly one per grant, in grant order.
    assert [int(row["remaining"]) for row in grants] == list(range(999, 983, -1))
    assert (await here.status())["remaining"] == 984
    await here.aclose()


async def test_first_come_first_served_across_processes(redis_server: RedisServer, redis: Any, app: str) -> None:
    """Waiters here and in two other processes queue in a known order behind a plug."""
    here = queue(redis, app)
    tasks: list[asyncio.Future[None]] = []
    workers: list[asyncio.subprocess.Process] = []
    await plug(redis, app)
    try:
        for number in range(5):
            if number % 2:
                workers.append(await spawn(redis_server.url, app, [number], queue={"owner": f"proc-{number}"}))
            else:
                tasks.append(asyncio.ensure_future(here.acquire(ShardId(number, 16))))
            await until(functools.partial(_ticket_count, redis, app, number + 1), f"ticket {number + 1}")
        assert len(await waiting(redis, app)) == 6
        await unplug(redis, app)
        await asyncio.wait_for(asyncio.gather(*tasks), PATIENCE)
        for worker in workers:
            await finish(worker)
    finally:
        for worker in workers:
            await stop(worker)
    grants = await audit(redis, app)
    assert [int(row["shard"]) for row in grants] == [0, 1, 2, 3, 4]
    assert [row["owner"] for row in grants][1::2] == ["proc-1", "proc-3"]
    gaps_ok(grants)
    await here.aclose()


# -- cancellation ------------------------------------------------------------------


async def test_a_cancelled_waiter_consumes_nothing_and_the_next_moves_up(redis: Any, app: str) -> None:
    q = queue(redis, app)
    await q.acquire(ShardId(0, 16))
    await plug(redis, app)
    first = asyncio.ensure_future(q.acquire(ShardId(1, 16)))
    await until(lambda: _ticket_count(redis, app, 2), "the first waiter's ticket")
    second = asyncio.ensure_future(q.acquire(ShardId(2, 16)))
    await until(lambda: _ticket_count(redis, app, 3), "the second waiter's ticket")
    assert await waiting(redis, app) == ["plug", "2", "3"]
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await waiting(redis, app) == ["plug", "3"]
    assert await redis.hexists(Keys(app).alive, "2") is False
    await unplug(redis, app)
    await asyncio.wait_for(second, PATIENCE)
    grants = await audit(redis, app)
    assert [row["shard"] for row in grants] == ["0", "2"]
    gaps_ok(grants)
    assert (await q.status())["remaining"] == 998
    assert await waiting(redis, app) == []
    await q.aclose()


async def test_a_cancel_while_the_script_runs_gives_the_grant_back(redis: Any, app: str) -> None:
    q = queue(redis, app, max_concurrency=2)
    await q.acquire(ShardId(0, 16))  # past the first window of a new queue
    task = asyncio.ensure_future(q.acquire(ShardId(1, 16)))
    await asyncio.sleep(0)  # the script run is on its way
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await q.aclose()  # waits for the clean-up
    assert [row["shard"] for row in await audit(redis, app)] == ["0", "1"]
    refunds = await audit(redis, app, "refund")
    assert [row["shard"] for row in refunds] == ["1"]
    status = await q.status()
    assert status["remaining"] == 999
    assert await waiting(redis, app, 1) == []


# -- crashes -----------------------------------------------------------------------


async def test_a_process_killed_while_waiting_blocks_the_key_about_one_alive_period(
    redis_server: RedisServer, redis: Any, app: str
) -> None:
    """The worker waits (behind the plug); it is SIGKILLed; the plug leaves, so its
    dead ticket is the head. The next waiter is granted once the dead ticket's alive
    period (one window, 250 ms) is over. Asserted: not before the dead ticket's
    deadline, and within window + alive + 2 s of the kill."""
    keys = Keys(app)
    await plug(redis, app)
    worker = await spawn(redis_server.url, app, [1], hold=30)
    try:
        await until(lambda: _ticket_count(redis, app, 1), "the worker's ticket")
        await until(lambda: redis.hexists(keys.alive, "1"), "the worker's ticket alive")
        killed = time.monotonic()
        os.kill(worker.pid, signal.SIGKILL)
        await worker.wait()
        deadline = int(await redis.hget(keys.alive, "1"))
        await unplug(redis, app)
        q = queue(redis, app)
        await asyncio.wait_for(q.acquire(ShardId(2, 16)), PATIENCE)
        elapsed = time.monotonic() - killed
    finally:
        await stop(worker)
    assert worker.returncode == -signal.SIGKILL
    grants = await audit(redis, app)
    assert [row["shard"] for row in grants] == ["2"], "the dead process consumed nothing"
    assert int(grants[0]["ms"]) >= deadline, "a waiter is waited for until its alive period ends"
    assert elapsed <= 2 * WINDOW_MS / 1000 + SLACK
    assert await waiting(redis, app) == [] and await redis.hexists(keys.alive, "1") is False
    assert (await q.status())["remaining"] == 999
    await q.aclose()


async def test_a_process_killed_just_after_its_grant_costs_its_key_one_window(
    redis_server: RedisServer, redis: Any, app: str
) -> None:
    """Asserted: the next grant of the key is a window after the dead one's (server
    clock), and within one window + 2 s of the kill."""
    worker = await spawn(redis_server.url, app, [1], hold=30)
    try:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), PATIENCE)
        assert json.loads(line) == {"granted": 1}
        killed = time.monotonic()
        os.kill(worker.pid, signal.SIGKILL)
        await worker.wait()
        q = queue(redis, app)
        await asyncio.wait_for(q.acquire(ShardId(2, 16)), PATIENCE)
        elapsed = time.monotonic() - killed
    finally:
        await stop(worker)
    grants = await audit(redis, app)
    assert [row["shard"] for row in grants] == ["1", "2"]
    gaps_ok(grants)
    assert elapsed <= WINDOW_MS / 1000 + SLACK
    assert (await q.status())["remaining"] == 998
    await q.aclose()


# -- the daily budget ----------------------------------------------------------------


async def test_it_refuses_at_the_floor_and_says_why(redis: Any, app: str) -> None:
    q = queue(redis, app, remaining=3, total=100, reset_after=60.0, floor=2)
    await q.acquire(ShardId(0, 16))
    with pytest.raises(IdentifyQueueError) as caught:
        await q.acquire(ShardId(1, 16))
    message = str(caught.value)
    assert "2 remaining of 100, floor 2" in message, message
    assert re.search(r"resets in (59|60) s", message), message
    assert "token reset" in message and "shard [1, 16]" in message
    assert await waiting(redis, app) == [], "a refused waiter leaves no ticket"
    assert len(await audit(redis, app)) == 1
    status = await q.status()
    assert (status["remaining"], status["total"], status["floor"]) == (2, 100, 2)
    assert status["resets_in"] is not None and 50 < status["resets_in"] <= 60
    await q.aclose()


async def test_update_merges_to_the_lower_remaining(redis_server: RedisServer, redis: Any, app: str) -> None:
    one = queue(redis, app, remaining=900, total=1000, reset_after=3600.0)
    await one.acquire(ShardId(0, 16))
    assert one.remaining == 899
    other = queue(redis_server.url, app)  # its own client, as in another process
    other.update(max_concurrency=1, remaining=950, reset_after=3600.0, total=1000)
    await other.acquire(ShardId(1, 16))
    assert other.remaining == 898, "the shared counter had spent more than Discord counted"
    other.update(max_concurrency=1, remaining=500, reset_after=3600.0, total=1000)
    await other.acquire(ShardId(2, 16))
    assert other.remaining == 499
    await one.acquire(ShardId(3, 16))
    assert one.remaining == 498, "a stale view never raises the shared counter"
    status = await one.status()
    assert status["remaining"] == 498 and status["resets_in"] is not None and 3500 < status["resets_in"] <= 3600
    gaps_ok(await audit(redis, app))
    await one.aclose()
    await other.aclose()


async def test_two_processes_share_one_counter(redis_server: RedisServer, redis: Any, app: str) -> None:
    q = queue(redis, app, remaining=5, total=100, reset_after=60.0, floor=2)
    await q.acquire(ShardId(0, 16))
    # The worker believes in a full 1000: the shared counter (4 of 100) wins.
    worker = await spawn(redis_server.url, app, [1, 2, 3], sequential=True, queue={"floor": 2})
    try:
        outcomes = await finish(worker)
    finally:
        await stop(worker)
    assert [line.get("granted", line.get("refused")) for line in outcomes] == [1, 2, 3]
    assert "granted" in outcomes[1] and "refused" in outcomes[2]
    assert "2 remaining of 100, floor 2" in outcomes[2]["message"]
    assert (await q.status())["remaining"] == 2
    assert [int(row["remaining"]) for row in await audit(redis, app)] == [4, 3, 2]
    with pytest.raises(IdentifyQueueError):
        await q.acquire(ShardId(4, 16))
    await q.aclose()


# -- Redis failing ---------------------------------------------------------------------


async def test_redis_down_is_an_identify_queue_error_promptly_without_the_password() -> None:
    password = "hunter2-secret"
    with RedisServer(password=password) as server:
        q = RedisQueue(server.url, **options("down"))
        assert password not in repr(q) and f"127.0.0.1:{server.port}" in repr(q)
        await q.acquire(ShardId(0, 1))
        server.stop()
        started = time.monotonic()
        with pytest.raises(IdentifyQueueError) as caught:
            await asyncio.wait_for(q.acquire(ShardId(0, 1)), PATIENCE)
        assert time.monotonic() - started <= COMMAND_TIMEOUT + SLACK
        message = str(caught.value)
        assert f"redis://:***@127.0.0.1:{server.port}/0" in message, message
        assert password not in message and password not in str(caught.value.__cause__)
        with pytest.raises(IdentifyQueueError):
            await q.status()
        await q.aclose()


async def test_a_redis_restarted_empty_waits_a_window_and_keeps_the_budget() -> None:
    """The windows and the counter are lost: the queue grants nothing until a window
    after it first sees the new server, and the counter comes back from the view."""
    with RedisServer() as server:
        q = RedisQueue(server.url, **options("restart", remaining=500, total=1000, reset_after=3600.0))
        await q.acquire(ShardId(0, 1))
        assert q.remaining == 499
        server.stop()
        server.start()
        await asyncio.wait_for(q.acquire(ShardId(0, 1)), PATIENCE)
        client = connect(server.url)
        try:
            grants = await audit(client, "restart")
            epoch = int(await client.get(epoch_key(Keys("restart"))) or 0)
            status = await q.status()
        finally:
            await client.aclose()
        assert len(grants) == 1 and int(grants[0]["ms"]) >= epoch + WINDOW_MS
        assert status["remaining"] == 498 and status["total"] == 1000
        assert status["resets_in"] is not None and status["resets_in"] > 3500
        await q.aclose()


# -- status and a changing max_concurrency ---------------------------------------------


async def test_status_shows_waiters_and_last_grants_per_key(redis: Any, app: str) -> None:
    q = queue(redis, app, max_concurrency=2, owner="here")
    await q.acquire(ShardId(1, 16))
    await plug(redis, app, 1)
    waiter = asyncio.ensure_future(q.acquire(ShardId(3, 16)))
    await until(lambda: _ticket_count(redis, app, 2), "the waiter's ticket")
    status = await q.status()
    assert status["app"] == app and status["max_concurrency"] == 2
    assert status["waiting"] == {0: 0, 1: 2}  # the plug and the waiter
    assert status["last_grant"][0] is None
    last = status["last_grant"][1]
    assert last is not None and (last["shard"], last["total"], last["owner"]) == (1, 16, "here")
    assert 0 <= last["ago"] < 60
    assert status["remaining"] == 999 and status["total"] == 1000 and status["floor"] == 50
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (await q.status())["waiting"] == {0: 0, 1: 1}
    await q.aclose()


async def test_a_new_max_concurrency_moves_a_waiter_to_its_new_key(redis: Any, app: str) -> None:
    q = queue(redis, app, max_concurrency=1)
    await plug(redis, app, 0)
    waiter = asyncio.ensure_future(q.acquire(ShardId(1, 16)))
    await until(lambda: _ticket_count(redis, app, 1), "the waiter's ticket")
    q.update(max_concurrency=2, remaining=1000, reset_after=0.0, total=1000)
    await asyncio.wait_for(waiter, PATIENCE)
    assert await waiting(redis, app, 0) == ["plug"] and await waiting(redis, app, 1) == []
    assert [(row["key"], row["shard"]) for row in await audit(redis, app)] == [("1", "1")]
    await q.aclose()


def test_the_docstring_examples_run() -> None:
    import doctest

    import rxgateway.cluster.redis_queue as module

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def delay_replies(q: RedisQueue, seconds: float) -> None:
    """Make each grant attempt's reply reach the waiter ``seconds`` late, as a stalled
    event loop or a slow link would (the script itself runs at once on the server)."""
    attempt = q._attempt

    async def late(wait: Any) -> Any:
        reply = await attempt(wait)
        await asyncio.sleep(seconds)
        return reply

    q._attempt = late  # type: ignore[method-assign]


async def test_a_grant_that_came_back_late_starts_its_window_again_from_now(redis: Any, app: str) -> None:
    """The gateway spaces Identifies by when they arrive: a grant that reached its
    waiter late (more than half the margin) pushes the key's next grant a full window
    past the moment it is used."""
    q = queue(redis, app)
    await q.acquire(ShardId(0, 1))  # past the new-app fence
    bucket = Keys(app).bucket(0)
    delay_replies(q, 0.1)  # > MARGIN / 2, < the window
    await q.acquire(ShardId(0, 1))
    assert await redis.pttl(bucket) >= WINDOW_MS - 40  # restarted when the grant came back
    on_time = queue(redis, app)
    await on_time.acquire(ShardId(0, 1))  # the reply came at once: the window runs from the grant
    assert await redis.pttl(bucket) <= WINDOW_MS


async def test_a_grant_that_came_back_after_its_window_is_not_used(redis: Any, app: str) -> None:
    q = queue(redis, app)
    await q.acquire(ShardId(0, 1))
    before = int(await redis.hget(Keys(app).budget, "remaining"))
    delay_replies(q, (WINDOW_MS + 100) / 1000)  # the window is over when the grant arrives
    started = time.monotonic()
    wait = asyncio.create_task(q.acquire(ShardId(0, 1)))
    await asyncio.sleep(0.8)  # every grant comes back too late: none is used
    assert not wait.done()
    wait.cancel()
    with pytest.raises(asyncio.CancelledError):
        await wait
    spent = before - int(await redis.hget(Keys(app).budget, "remaining"))
    assert spent >= 1 and time.monotonic() - started < PATIENCE
