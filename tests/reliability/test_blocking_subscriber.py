"""A synchronous subscriber that blocks the event loop stalls heartbeats, as in any
asyncio library: this pins what the shard does about it.

A callback that calls ``time.sleep(3)`` at a 1 s heartbeat interval stops the loop
for three intervals: no beat goes out and nothing is read. The gateway (here the
emulator, on a thread and event loop of its own, as Discord is on other machines)
closes the connection once 1.5 intervals pass without a beat, and keeps the session's
later dispatches for a resume. When the loop runs again the shard reads what had
arrived, finds the connection closed, opens a new one and RESUMEs the session (no new
IDENTIFY): every dispatch sequence arrives exactly once, in order, the ones sent while
the shard was away replayed, and the shard is Active again.

Async handlers (``ops.spawn``, ``ops.route``) and slow async consumers do not stall
the loop: tests/shard/test_group.py and tests/shard/test_shard_emulator.py show the
beats on time under them. Blocking is the one case where no asyncio library can beat
on time; this says what a user gets then.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from typing import Any

from reactivex import abc

from rxgateway import Config, EventTypeFlags, Intents, Shard, ShardId, ShardState, ops
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.emulator.journal import ViolationKind
from rxgateway.events.base import Dispatch, Event
from rxgateway.queue import InMemoryQueue

from .test_user_code_and_tasks import IDENTIFY_WINDOW, wait_until

HEARTBEAT_MS = 1000
#: How long the callback blocks the loop: three heartbeat intervals.
BLOCK_S = 3.0
#: Messages pushed before the block, early in it (written to the socket before the
#: gateway closes it), late in it (the gateway closed the connection at most 1.5 s
#: after the last beat, so they wait in the session for the resume) and after.
BEFORE, EARLY, LATE, AFTER = 20, 100, 100, 50
EARLY_AT_S, LATE_AT_S = 0.3, 2.6


class EmulatorThread:
    """A :class:`GatewayEmulator` on its own thread and event loop, so that a test loop
    blocked by a callback does not block the gateway too. Its record is read once the
    thread has ended."""

    def __init__(self, **settings: Any) -> None:
        self._settings = settings
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), name="emulator", daemon=True)
        self.emu: GatewayEmulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None

    async def _main(self) -> None:
        try:
            async with GatewayEmulator(**self._settings) as emu:
                self.emu, self._loop, self._stop = emu, asyncio.get_running_loop(), asyncio.Event()
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:  # told to the test in __exit__ / __enter__
            self._failure = exc
            self._ready.set()

    def __enter__(self) -> GatewayEmulator:
        self._thread.start()
        assert self._ready.wait(10), "the emulator did not start"
        if self._failure is not None or self.emu is None:
            raise RuntimeError("the emulator failed to start") from self._failure
        return self.emu

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "the emulator thread did not end"
        if self._failure is not None:
            raise RuntimeError("the emulator failed") from self._failure

    def push(self, count: int, delay: float = 0.0) -> concurrent.futures.Future[int]:
        """Push ``count`` MESSAGE_CREATEs into shard 0's session after ``delay``, on the
        emulator's loop; the future gives how many the session took."""
        assert self._loop is not None and self.emu is not None
        emu = self.emu

        async def push() -> int:
            await asyncio.sleep(delay)
            return emu.push(count, "MESSAGE_CREATE", shard=0)

        return asyncio.run_coroutine_threadsafe(push(), self._loop)


class Sequences(abc.ObserverBase[Event]):
    """Every dispatch sequence the shard delivered, per session (a new one at READY),
    and how many of each dispatch name."""

    def __init__(self) -> None:
        self.sessions: list[list[int]] = []
        self.names: dict[str, int] = {}

    def on_next(self, event: Event) -> None:
        if isinstance(event, Dispatch) and event.sequence is not None:
            if event.name == "READY" or not self.sessions:
                self.sessions.append([])
            self.sessions[-1].append(event.sequence)
            self.names[event.name] = self.names.get(event.name, 0) + 1

    def on_error(self, error: Exception) -> None:
        raise AssertionError(f"the shard failed: {error!r}")

    def on_completed(self) -> None:
        pass


class BlocksOnce:
    """A synchronous subscriber that sleeps ``BLOCK_S`` on the ``nth`` message it sees,
    having asked the gateway to send more during the block."""

    def __init__(self, nth: int, gateway: EmulatorThread) -> None:
        self.nth = nth
        self.seen = 0
        self.gateway = gateway
        self.pushes: list[concurrent.futures.Future[int]] = []

    def __call__(self, event: Event) -> None:
        self.seen += 1
        if self.seen == self.nth:
            self.pushes = [self.gateway.push(EARLY, EARLY_AT_S), self.gateway.push(LATE, LATE_AT_S)]
            time.sleep(BLOCK_S)  # the bug being pinned: blocking the event loop


async def test_a_blocking_callback_gets_the_shard_resumed_with_nothing_lost() -> None:
    gateway = EmulatorThread(heartbeat_interval_ms=HEARTBEAT_MS, identify_window_s=IDENTIFY_WINDOW, guilds=2)
    with gateway as emu:
        config = Config(
            DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url,
            queue=InMemoryQueue(identify_interval=IDENTIFY_WINDOW),
        )  # fmt: skip
        shard = Shard(ShardId(0, 1), config)
        seen = Sequences()
        shard.subscribe_flags(seen, EventTypeFlags.DISPATCHES)
        blocker = BlocksOnce(BEFORE + 1, gateway)
        shard.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(blocker)
        messages = BEFORE + 1 + EARLY + LATE + AFTER
        async with shard:
            await shard.ready(timeout=10)
            await wait_until(lambda: seen.names.get("GUILD_CREATE", 0) == 2)
            await wait_until(lambda: shard.latency.periods >= 1, 10)  # beating, and ACKed
            # BEFORE messages, then one more: the callback blocks on it.
            assert await asyncio.wrap_future(gateway.push(BEFORE + 1)) == BEFORE + 1
            await wait_until(lambda: len(blocker.pushes) == 2, 10)
            assert [await asyncio.wrap_future(p) for p in blocker.pushes] == [EARLY, LATE]
            await wait_until(lambda: shard.stats["resumes"] >= 1 and shard.state == ShardState.ACTIVE, 15)
            assert await asyncio.wrap_future(gateway.push(AFTER)) == AFTER
            await wait_until(lambda: seen.names.get("MESSAGE_CREATE", 0) >= messages, 15)
            assert shard.state == ShardState.ACTIVE
    record = emu.record

    # The gateway closed the connection for the missed beats, and only that.
    assert record.connections[0].heartbeats, "the block came before the first beat"
    assert record.connections[0].close_sent == 4000
    assert {v.kind for v in record.violations} == {ViolationKind.MISSED_HEARTBEAT}
    # Reconnected by RESUME, never a second IDENTIFY; what came while away was replayed.
    assert len(record.identifies()) == 1
    resumes = record.resumes()
    assert resumes and all(r.accepted for r in resumes)
    assert len(record.connections) == len(resumes) + 1
    assert sum(r.replayed for r in resumes) >= LATE
    # One session, every sequence exactly once and in order: READY, the guilds, every
    # message pushed, and a RESUMED per resume.
    assert len(seen.sessions) == 1, [s[:3] for s in seen.sessions]
    (sequences,) = seen.sessions
    assert sequences == list(range(1, len(sequences) + 1))
    assert seen.names == {"READY": 1, "GUILD_CREATE": 2, "MESSAGE_CREATE": messages, "RESUMED": len(resumes)}
