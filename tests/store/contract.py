"""The SessionStore contract, as checks any implementation must pass: the memory and
file stores run them in tests/store, the Redis store in tests/cluster. Each check
takes a ``make()`` that returns a fresh store over the same storage (a second
process, as far as the store can tell) and the store under test."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from rxgateway.machine import Session
from rxgateway.protocol import ShardId
from rxgateway.store import SessionRecord, SessionStore

MakeStore = Callable[[], SessionStore]

URL = "wss://resume.example/gateway"


def record(number: int, total: int, session: str = "s", sequence: int = 1, *, age: float = 0.0) -> SessionRecord:
    return SessionRecord(ShardId(number, total), Session(session, sequence), URL, time.time() - age, "test:1")


async def round_trip_survives_a_new_store(make: MakeStore) -> None:
    store = make()
    saved = [record(n, 4, f"s{n}", 10 + n) for n in range(4)]
    for r in saved:
        await store.save(r)
    assert await store.load(ShardId(2, 4)) == saved[2]  # its own pending record
    await store.flush()
    again = make()
    for r in saved:
        assert await again.load(r.shard) == r
    await again.aclose()
    await store.aclose()


async def another_total_is_never_resumed(make: MakeStore) -> None:
    store = make()
    await store.save(record(1, 2, "old-total", 99))
    await store.flush()
    assert await store.load(ShardId(1, 4)) is None
    assert await make().load(ShardId(1, 4)) is None
    assert await make().load(ShardId(1, 2)) is not None  # the same total still is
    await store.aclose()


async def delete_forgets_the_record(make: MakeStore) -> None:
    store = make()
    await store.save(record(0, 1))
    await store.flush()
    await store.delete(ShardId(0, 1))
    assert await store.load(ShardId(0, 1)) is None
    await store.flush()
    assert await make().load(ShardId(0, 1)) is None
    await store.delete(ShardId(0, 1))  # deleting nothing is fine
    await store.flush()
    await store.aclose()


async def the_last_save_wins_and_never_moves_a_session_back(make: MakeStore) -> None:
    store = make()
    for seq in (5, 9, 7):  # 7 is a stale copy of the same session: ignored
        await store.save(record(0, 1, "a", seq))
    await store.flush()
    other = make()  # a late save of a stale copy, from "another process"
    await other.save(record(0, 1, "a", 3))
    await other.flush()
    loaded = await make().load(ShardId(0, 1))
    assert loaded is not None and loaded.session == Session("a", 9)
    await store.save(record(0, 1, "b", 1))  # a new session replaces any sequence
    await store.flush()
    loaded = await make().load(ShardId(0, 1))
    assert loaded is not None and loaded.session == Session("b", 1)
    await store.aclose()
    await other.aclose()


async def a_record_too_old_is_not_resumed(make: MakeStore, max_age: float) -> None:
    store = make()
    await store.save(record(0, 1, age=max_age + 5))
    assert await store.load(ShardId(0, 1)) is None
    await store.aclose()


CHECKS: dict[str, Callable[[MakeStore], Awaitable[None]]] = {
    "round_trip": round_trip_survives_a_new_store,
    "other_total": another_total_is_never_resumed,
    "delete": delete_forgets_the_record,
    "never_backwards": the_last_save_wins_and_never_moves_a_session_back,
}
