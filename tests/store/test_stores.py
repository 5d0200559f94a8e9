"""The memory and file stores: the shared contract (tests/store/contract.py), and what
is the file store's own: atomic writes, batching, a crash mid-write, a file that is not
ours, writes that fail and are retried."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import orjson
import pytest

from rxgateway.errors import SessionStoreError
from rxgateway.protocol import ShardId
from rxgateway.store import FileSessionStore, MemorySessionStore, SessionStore

from . import contract
from .contract import record


async def wait_until(predicate: object, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.01)


class CountingFileStore(FileSessionStore):
    """Counts the file writes; ``crash`` makes the next one stop half way, as a killed
    process would: part of the new text in the temp file, the file itself untouched."""

    def __init__(self, path: Path, **options: float) -> None:
        super().__init__(path, **options)
        self.file_writes = 0
        self.crash = False

    def _write_file(self, data: bytes) -> None:
        self.file_writes += 1
        if self.crash:
            self.temp_path.write_bytes(data[: len(data) // 2])
            raise OSError("killed in the middle of the write")
        super()._write_file(data)


# ------------------------------------------------------------------ the contract


@pytest.mark.parametrize("check", sorted(contract.CHECKS))
async def test_memory_store_keeps_the_contract(check: str) -> None:
    store = MemorySessionStore()
    await contract.CHECKS[check](lambda: store)


@pytest.mark.parametrize("check", sorted(contract.CHECKS))
async def test_file_store_keeps_the_contract(check: str, tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    await contract.CHECKS[check](lambda: FileSessionStore(path, interval=60))


async def test_records_too_old_are_not_resumed(tmp_path: Path) -> None:
    await contract.a_record_too_old_is_not_resumed(lambda: MemorySessionStore(max_age=30), 30)
    await contract.a_record_too_old_is_not_resumed(lambda: FileSessionStore(tmp_path / "s.json", max_age=30), 30)


def test_both_are_session_stores(tmp_path: Path) -> None:
    assert isinstance(MemorySessionStore(), SessionStore)
    assert isinstance(FileSessionStore(tmp_path / "s.json"), SessionStore)
    with pytest.raises(ValueError):
        FileSessionStore(tmp_path / "s.json", interval=-1)
    with pytest.raises(ValueError):
        MemorySessionStore(max_age=0)


# ------------------------------------------------------------------ the file store


async def test_the_file_is_replaced_whole_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    store = FileSessionStore(path, interval=60)
    await store.save(record(0, 2, "a", 3))
    await store.save(record(1, 2, "b", 4))
    await store.flush()
    document = orjson.loads(path.read_bytes())
    assert document["format"] == "rxgateway.sessions" and document["version"] == 1
    assert sorted(document["sessions"]) == ["0", "1"]
    assert document["sessions"]["1"]["sequence"] == 4
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not store.temp_path.exists()
    inode = path.stat().st_ino
    await store.save(record(0, 2, "a", 5))
    await store.flush()
    assert path.stat().st_ino != inode  # a new file renamed over the old one, never rewritten in place
    await store.aclose()


async def test_many_saves_make_one_write(tmp_path: Path) -> None:
    store = CountingFileStore(tmp_path / "sessions.json", interval=60)
    for sequence in range(1, 251):  # 250 heartbeats' worth of saves from four shards
        for number in range(4):
            await store.save(record(number, 4, f"s{number}", sequence))
    assert store.file_writes == 0 and store.pending == 4
    await store.flush()
    await store.flush()  # nothing pending: no write
    assert store.file_writes == 1 and store.writes == 1
    loaded = await FileSessionStore(store.path).load(ShardId(3, 4))
    assert loaded is not None and loaded.session.sequence == 250
    await store.aclose()


async def test_pending_saves_are_written_within_the_interval_in_one_batch(tmp_path: Path) -> None:
    store = CountingFileStore(tmp_path / "sessions.json", interval=0.05)
    for number in range(4):
        await store.save(record(number, 4))
    await wait_until(lambda: store.file_writes >= 1)  # counted as the write starts
    await store.flush()  # nothing pending: it only waits for the write under way to end
    assert store.file_writes == 1 and store.pending == 0
    assert all([await FileSessionStore(store.path).load(ShardId(n, 4)) for n in range(4)])
    await store.aclose()


async def test_a_crash_mid_write_leaves_the_old_file_and_a_temp_file_that_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    store = CountingFileStore(path, interval=60)
    await store.save(record(0, 1, "a", 10))
    await store.flush()
    before = path.read_bytes()
    store.crash = True
    await store.save(record(0, 1, "a", 20))
    with pytest.raises(SessionStoreError, match="killed in the middle"):
        await store.flush()
    assert path.read_bytes() == before and store.temp_path.exists()
    assert store.pending == 1  # kept for the next try
    # The process "restarts": a new store reads the old file, never the temp file.
    after = FileSessionStore(path, interval=60)
    loaded = await after.load(ShardId(0, 1))
    assert loaded is not None and loaded.session.sequence == 10
    await after.save(record(0, 1, "a", 30))
    await after.flush()
    assert not after.temp_path.exists()
    loaded = await FileSessionStore(path).load(ShardId(0, 1))
    assert loaded is not None and loaded.session.sequence == 30
    await after.aclose()
    with pytest.raises(SessionStoreError):  # still failing: said so, and the retries stop
        await store.aclose()


async def test_a_leftover_temp_file_from_another_run_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    (tmp_path / "sessions.json.tmp").write_bytes(b'{"format": "rxgateway.sessions", "trunc')
    store = FileSessionStore(path, interval=60)
    assert await store.load(ShardId(0, 1)) is None
    await store.save(record(0, 1))
    await store.aclose()
    assert (await FileSessionStore(path).load(ShardId(0, 1))) is not None


@pytest.mark.parametrize("content", [b'{"hello": "world"}', b"not json at all", b'{"format": "rxgateway.sessions", "version": 9}'])
async def test_a_file_that_is_not_a_session_store_is_never_overwritten(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "precious.json"
    path.write_bytes(content)
    store = FileSessionStore(path, interval=60)
    with pytest.raises(SessionStoreError):
        await store.load(ShardId(0, 1))
    await store.save(record(0, 1))
    with pytest.raises(SessionStoreError):
        await store.flush()
    assert path.read_bytes() == content
    with pytest.raises(SessionStoreError):  # still failing: said so, and the retries stop
        await store.aclose()


async def test_an_empty_file_is_an_empty_store(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    path.touch()
    store = FileSessionStore(path, interval=60)
    assert await store.load(ShardId(0, 1)) is None
    await store.save(record(0, 1))
    await store.aclose()
    assert orjson.loads(path.read_bytes())["sessions"]["0"]["session_id"] == "s"


async def test_an_unusable_record_is_reported_for_its_shard_only(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    good = record(1, 2).to_dict()
    path.write_bytes(orjson.dumps({"format": "rxgateway.sessions", "version": 1, "sessions": {"0": {"shard": "x"}, "1": good}}))
    store = FileSessionStore(path, interval=60)
    with pytest.raises(SessionStoreError, match="shard 0"):
        await store.load(ShardId(0, 2))
    assert await store.load(ShardId(1, 2)) is not None
    await store.save(record(0, 2))  # a new record replaces it
    await store.aclose()
    assert await FileSessionStore(path).load(ShardId(0, 2)) is not None


async def test_records_too_old_are_dropped_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    store = FileSessionStore(path, interval=60, max_age=30)
    await store.save(record(0, 2, age=100))
    await store.save(record(1, 2))
    await store.aclose()
    assert list(orjson.loads(path.read_bytes())["sessions"]) == ["1"]


async def test_failed_writes_are_kept_reported_once_per_shard_and_retried(tmp_path: Path) -> None:
    folder = tmp_path / "not-yet"
    store = CountingFileStore(folder / "sessions.json", interval=0.05)
    await store.save(record(0, 2, "a", 1))
    with pytest.raises(SessionStoreError, match="writing the file failed"):
        await store.flush()
    with pytest.raises(SessionStoreError, match="shard 0"):  # each shard hears of it once
        await store.save(record(0, 2, "a", 2))
    await store.save(record(0, 2, "a", 3))
    with pytest.raises(SessionStoreError, match="shard 1"):
        await store.save(record(1, 2, "b", 1))
    assert store.pending == 2
    os.mkdir(folder)  # the disk is back: the background retry writes it all
    await wait_until(lambda: store.pending == 0 and store.writes == 1)
    loaded = await FileSessionStore(store.path).load(ShardId(0, 2))
    assert loaded is not None and loaded.session.sequence == 3
    await store.save(record(0, 2, "a", 4))  # working again: no error
    await store.aclose()


async def test_a_closed_store_refuses_saves(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path / "s.json")
    await store.aclose()
    with pytest.raises(SessionStoreError, match="closed"):
        await store.save(record(0, 1))
    assert "s.json" in repr(store)


async def test_no_task_of_the_store_outlives_a_flush(tmp_path: Path) -> None:
    before = set(asyncio.all_tasks())
    store = FileSessionStore(tmp_path / "s.json", interval=60)
    await store.save(record(0, 1))
    assert {t for t in asyncio.all_tasks() - before if not t.done()}  # the writer sleeps
    await store.flush()
    await asyncio.sleep(0)
    assert {t for t in asyncio.all_tasks() - before if not t.done()} == set()
