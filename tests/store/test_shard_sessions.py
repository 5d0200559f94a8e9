"""Shards with a session store, against the emulator over loopback: a restarted process
resumes every shard with no code of its own, a record of another total is never
resumed, a session the gateway ends is deleted, and failures are error events.

The emulator's helpers and settings are the shard tests' (test-sized heartbeats and
identify window)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from rxgateway.emulator import Fault, GatewayEmulator
from rxgateway.errors import SessionStoreError
from rxgateway.events.base import Dispatch, GatewayErrorEvent
from rxgateway.group import ShardGroup, create_iterator
from rxgateway.machine import Session, ShardState
from rxgateway.protocol import CloseFrame, ShardId
from rxgateway.shard import Shard
from rxgateway.store import FileSessionStore, MemorySessionStore, SessionRecord

from ..shard.test_shard_emulator import Collector, config_for, emulator, wait_until

SCRIPT = Path(__file__).with_name("restart_script.py")
REPO = Path(__file__).resolve().parents[2]


def sequences_by_shard(events: list[Any]) -> dict[int, list[int]]:
    seen: dict[int, list[int]] = {}
    for event in events:
        if isinstance(event, Dispatch) and event.sequence is not None:
            seen.setdefault(event.shard.number, []).append(event.sequence)
    return seen


def file_sequences(path: Path) -> dict[int, int]:
    """Shard number -> the sequence saved in the session file."""
    if not path.exists():
        return {}
    return {int(n): entry["sequence"] for n, entry in orjson.loads(path.read_bytes())["sessions"].items()}


def group_for(emu: GatewayEmulator, path: Path, total: int) -> ShardGroup:
    """What the process builds at each start: a fresh config, a fresh store, same path."""
    return create_iterator(range(total), total, config_for(emu, session_store=FileSessionStore(path)))


class RecordingStore(MemorySessionStore):
    """A memory store that keeps a log of what it was told."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, str | None]] = []

    async def save(self, record: SessionRecord) -> None:
        self.log.append(("save", record.session.id))
        await super().save(record)

    async def delete(self, shard: ShardId) -> None:
        self.log.append(("delete", None))
        await super().delete(shard)


# -------------------------------------------------------- a process restart


async def test_a_new_group_with_the_same_file_resumes_every_shard(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    total = 4
    async with emulator(shards=total, max_concurrency=total, guilds=16) as emu:
        first = group_for(emu, path, total)
        seen_first = Collector(first)
        await first.start()
        await first.ready(timeout=10)
        await emu.burst(200, mix="messages=1")
        await wait_until(lambda: len(sequences_by_shard(seen_first.events)) == total and seen_first.dispatches() > 200)
        first.close(CloseFrame.RESUME)
        await first.closed()
        last = {n: seqs[-1] for n, seqs in sequences_by_shard(seen_first.events).items()}
        assert file_sequences(path) == last  # the final save: exactly where each shard stopped
        assert all(s.session is not None for s in first)

        for n in range(total):  # events while no process holds the sessions
            emu.push(5, shard=n)
        connections_before = len(emu.record.connections)

        second = group_for(emu, path, total)  # the restarted process: nothing else
        seen_second = Collector(second)
        await second.start()
        await second.ready(timeout=10)
        await wait_until(lambda: all(len(sequences_by_shard(seen_second.events).get(n, [])) >= 6 for n in range(total)))
        await emu.burst(100, mix="messages=1")
        await wait_until(lambda: seen_second.dispatches() >= total * 6 + 100)
        second.close(CloseFrame.NORMAL)
        await second.closed()

        for n, seqs in sequences_by_shard(seen_second.events).items():
            # RESUMED is a dispatch with a sequence too; none missing, none repeated.
            assert seqs == list(range(last[n] + 1, last[n] + 1 + len(seqs))), (n, last[n], seqs[:8])
        new = emu.record.connections[connections_before:]
        assert all(not c.identifies for c in new), "a shard identified instead of resuming"
        resumed = {c.shard.number for c in new if c.shard is not None and c.resumes and c.resumes[0].accepted}
        assert resumed == set(range(total))
        assert all(s.stats["resumes"] >= 1 for s in second)
        assert file_sequences(path) == {}  # closed with NORMAL: the sessions are over
        assert emu.violations == []


async def run_script(emu: GatewayEmulator, path: Path, total: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), emu.url, str(path), str(total),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    assert process.stdout is not None
    async with asyncio.timeout(30):
        line = await process.stdout.readline()
    assert json.loads(line) == {"ready": True}, line
    return process


async def stop_script(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"stop\n")
    await process.stdin.drain()
    async with asyncio.timeout(30):
        out = await process.stdout.readline()
        assert await process.wait() == 0
    report: dict[str, Any] = json.loads(out)
    return report


@pytest.mark.parametrize("how", ["closed with RESUME", "killed"])
async def test_one_process_restarted_with_a_file_store_resumes_every_shard(tmp_path: Path, how: str) -> None:
    """The issue's must-show: the same program, run twice as two OS processes."""
    path = tmp_path / "sessions.json"
    total = 4
    async with emulator(shards=total, max_concurrency=total, guilds=16) as emu:
        process = await run_script(emu, path, total)
        try:
            await emu.burst(120, mix="messages=1")
            if how == "killed":
                # No goodbye: what is in the file is the last batched checkpoint.
                await wait_until(lambda: len(file_sequences(path)) == total, 15)
                process.send_signal(signal.SIGKILL)
                await process.wait()
            else:
                report = await stop_script(process)
                assert not any(report["resumed"].values())
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        saved = file_sequences(path)
        assert sorted(saved) == list(range(total))
        if how != "killed":
            assert saved == {int(n): seqs[-1] for n, seqs in report["seen"].items()}

        connections_before = len(emu.record.connections)
        process = await run_script(emu, path, total)  # the same program, unchanged
        try:
            await wait_until(lambda: all(c.resumes for c in emu.record.connections[connections_before:])
                             and len(emu.record.connections) >= connections_before + total, 15)
            report = await stop_script(process)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert report["resumed"] == {str(n): True for n in range(total)}
        for n, seqs in report["seen"].items():
            start = saved[int(n)] + 1  # the gateway replays from the saved sequence on
            assert seqs == list(range(start, start + len(seqs))), (n, saved[int(n)], seqs[:8])
        new = emu.record.connections[connections_before:]
        assert all(not c.identifies for c in new)
        assert {c.shard.number for c in new if c.shard and c.resumes[0].accepted} == set(range(total))
        assert emu.violations == []


# -------------------------------------------------------- what is resumed, what is deleted


async def test_a_record_of_another_total_is_not_resumed() -> None:
    async with emulator() as emu:
        store = MemorySessionStore()
        await store.save(SessionRecord.now(ShardId(0, 2), Session("of-another-total", 40), emu.url))
        shard = Shard(ShardId(0, 1), config_for(emu, session_store=store))
        async with shard:
            await shard.ready(timeout=5)
            session = shard.session
        (conn,) = emu.record.connections
        assert conn.identifies and not conn.resumes
        assert session is not None and session.id != "of-another-total"
        assert emu.violations == []


async def test_a_session_the_gateway_does_not_know_is_deleted_and_a_new_one_saved() -> None:
    async with emulator() as emu:
        store = RecordingStore()
        await store.save(SessionRecord.now(ShardId(0, 1), Session("long-gone", 40), emu.url))
        store.log.clear()
        shard = Shard(ShardId(0, 1), config_for(emu, session_store=store))
        async with shard:
            await shard.ready(timeout=5)
            new_id = shard.session.id if shard.session else None
            await wait_until(lambda: ("save", new_id) in store.log)
            assert store.log[: 2] == [("delete", None), ("save", new_id)]
            shard.close(CloseFrame.RESUME)
        assert emu.record.connections[0].resumes and not emu.record.connections[0].resumes[0].accepted
        saved = await store.load(ShardId(0, 1))
        assert saved is not None and saved.session.id == new_id != "long-gone"


async def test_an_invalid_session_deletes_the_record_then_the_new_session_is_saved() -> None:
    async with emulator() as emu:
        store = RecordingStore()
        shard = Shard(ShardId(0, 1), config_for(emu, session_store=store))
        async with shard:
            await shard.ready(timeout=5)
            old_id = shard.session.id if shard.session else None
            await wait_until(lambda: ("save", old_id) in store.log)
            emu.inject(Fault.invalid_session(resumable=False), shard=0)
            await wait_until(lambda: shard.session is not None and shard.session.id != old_id and shard.state == ShardState.ACTIVE)
            new_id = shard.session.id if shard.session else None
            await wait_until(lambda: ("save", new_id) in store.log)
        deleted_at = store.log.index(("delete", None))
        assert store.log.index(("save", new_id)) > deleted_at
        assert all(entry == ("save", old_id) for entry in store.log[:deleted_at])
        assert await store.load(ShardId(0, 1)) is None  # and async with closed with NORMAL
        assert emu.violations == []


async def test_close_with_resume_saves_the_last_sequence_and_normal_deletes(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    async with emulator() as emu:
        for frame in (CloseFrame.RESUME, CloseFrame.NORMAL):
            shard = Shard(ShardId(0, 1), config_for(emu, session_store=FileSessionStore(path)))
            seen = Collector(shard)
            await shard.start()
            await shard.ready(timeout=5)
            await emu.burst(50, mix="messages=1")
            await wait_until(lambda: seen.dispatches() >= 50)
            shard.close(frame)
            await shard.closed()
            if frame is CloseFrame.RESUME:
                assert shard.session is not None and file_sequences(path) == {0: shard.session.sequence}
            else:
                assert file_sequences(path) == {}
        assert emu.record.connections[1].resumes[0].accepted  # the second shard resumed the first's
        assert emu.violations == []


async def test_heartbeats_save_the_session_as_it_moves(tmp_path: Path) -> None:
    path = tmp_path / "sessions.json"
    async with emulator() as emu:
        store = FileSessionStore(path, interval=0.05)
        async with Shard(ShardId(0, 1), config_for(emu, session_store=store)) as shard:
            await shard.ready(timeout=5)
            await emu.burst(100, mix="messages=1")
            await wait_until(lambda: shard.session is not None and shard.session.sequence >= 100)
            # The next heartbeat saves it (the emulator's beat is 400 ms); no event saved it.
            await wait_until(lambda: file_sequences(path).get(0, 0) >= 100)
            assert store.writes < 100


# -------------------------------------------------------- failures are error events


async def test_a_store_that_fails_is_reported_and_the_shard_identifies(tmp_path: Path) -> None:
    path = tmp_path / "not-sessions.json"
    path.write_bytes(b"<html>certainly not a session file</html>")
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu, session_store=FileSessionStore(path, interval=60)))
        seen = Collector(shard)
        states_at_error: list[ShardState] = []

        def on_event(event: Any) -> None:
            if isinstance(event, GatewayErrorEvent):
                states_at_error.append(shard.state)

        shard.subscribe(on_event)
        await shard.start()
        await shard.ready(timeout=5)
        shard.close(CloseFrame.RESUME)
        await shard.closed()
        errors = [e.error for e in seen.events if isinstance(e, GatewayErrorEvent)]
        assert errors and all(isinstance(e, SessionStoreError) for e in errors)
        assert "not a session store" in str(errors[0])
        assert states_at_error[0].kind.value == "disconnected"  # at start: it loaded first
        assert states_at_error[-1] == ShardState.CLOSED  # at close: before the observers completed
        assert seen.completed
        (conn,) = emu.record.connections
        assert conn.identifies
        assert path.read_bytes() == b"<html>certainly not a session file</html>"


async def test_no_task_is_left_running_after_close_with_a_store(tmp_path: Path) -> None:
    async with emulator() as emu:
        before = set(asyncio.all_tasks())
        store = FileSessionStore(tmp_path / "sessions.json")
        shard = Shard(ShardId(0, 1), config_for(emu, session_store=store))
        async with shard:
            await shard.ready(timeout=5)
            emu.inject(Fault.drop(), shard=0)
            await wait_until(lambda: shard.state == ShardState.ACTIVE and len(emu.record.connections) >= 2, 10)
        await asyncio.sleep(0)
        left = {t for t in asyncio.all_tasks() - before if not t.done()}
        assert left == set()


async def test_a_group_shares_the_store_of_its_config(tmp_path: Path) -> None:
    store = FileSessionStore(tmp_path / "s.json")
    async with emulator(shards=2) as emu:
        config = config_for(emu, session_store=store)
        group = create_iterator([0, 1], 2, config, lambda sid, c: c.replace(large_threshold=100))
        assert all(s.config.session_store is store for s in group)


@pytest.mark.parametrize("how", ["an exception", "a cancelled task"])
async def test_async_with_ended_by_an_error_keeps_the_sessions_for_the_next_process(tmp_path: Path, how: str) -> None:
    """Ctrl-C, a crash in the bot's code or a cancelled task ends ``async with`` by an
    exception: with a store the shards close with RESUME (saved), so the process that
    starts next resumes; a block that simply finished ends the sessions (NORMAL)."""
    path = tmp_path / "sessions.json"
    total = 2
    async with emulator(shards=total, max_concurrency=total, guilds=4) as emu:
        group = group_for(emu, path, total)

        async def run() -> None:
            async with group:
                await group.ready(timeout=10)
                if how == "an exception":
                    raise RuntimeError("the bot crashed")
                await asyncio.sleep(3600)

        task = asyncio.create_task(run())
        if how == "a cancelled task":
            await wait_until(lambda: all(s.state == ShardState.ACTIVE for s in group), 10)
            task.cancel()
        with pytest.raises((RuntimeError, asyncio.CancelledError)):
            await task
        assert sorted(file_sequences(path)) == list(range(total))
        assert all(c.close_received == 4000 for c in emu.record.connections)

        finished = group_for(emu, path, total)
        async with finished:
            await finished.ready(timeout=10)
        assert all(c.resumes and c.resumes[0].accepted for c in emu.record.connections[total:])
        assert file_sequences(path) == {}  # this one finished: NORMAL ended the sessions
