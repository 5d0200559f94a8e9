"""A user's bug never reaches the driver, every task has an owner, and nothing is
lost: shards against the emulator over a real loopback websocket.

- Observers that raise (of events, of ``states``, of a group's state map) are
  detached and told; the shard goes on delivering events, with no unretrieved task
  exception and no reconnect.
- After ``closed()`` returns, no task of the shard's is left, whichever way it ended.
- A failing identify queue is retried; commands are never dropped by the limiter.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from rxgateway import errors
from rxgateway.config import Config
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.events.base import Dispatch, Event
from rxgateway.group import ShardGroup, create_iterator
from rxgateway.machine import ShardState
from rxgateway.protocol import EventTypeFlags, Intents, ShardId
from rxgateway.protocol.commands import RequestGuildMembers
from rxgateway.queue import InMemoryQueue
from rxgateway.shard import Shard

IDENTIFY_WINDOW = 0.2
#: Heartbeats of a second: the tests here are about callbacks and tasks, not timing.
HEARTBEAT_MS = 1000


def emulator(**changes: Any) -> GatewayEmulator:
    settings: dict[str, Any] = {
        "heartbeat_interval_ms": HEARTBEAT_MS,
        "identify_window_s": IDENTIFY_WINDOW,
        "reconnect_close_delay_s": 0.2,
        "invalid_session_close_delay_s": 0.2,
        "guilds": 2,
    }
    settings.update(changes)
    return GatewayEmulator(**settings)


def config_for(emu: GatewayEmulator, **changes: Any) -> Config:
    changes.setdefault("queue", InMemoryQueue(identify_interval=IDENTIFY_WINDOW))
    return Config(DEFAULT_TOKEN, changes.pop("intents", Intents.all()), gateway_url=emu.url, **changes)


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


class LoopErrors:
    """Everything the event loop's exception handler is asked to report (that is where
    "Task exception was never retrieved" goes), and rxgateway's own error logs."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.contexts: list[dict[str, Any]] = []
        self._caplog = caplog
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: self.contexts.append(context))

    def unretrieved(self) -> list[str]:
        gc.collect()  # an unretrieved task exception is reported when the task is collected
        loop_messages = [str(c.get("message")) for c in self.contexts]
        task_failures = [r.getMessage() for r in self._caplog.records if r.getMessage().startswith("rxgateway task")]
        return loop_messages + task_failures


def our_tasks() -> list[asyncio.Task[Any]]:
    """Tasks left running, other than the test's own."""
    current = asyncio.current_task()
    return [t for t in asyncio.all_tasks() if t is not current and not t.done()]


class Count:
    """Counts traffic dispatches, READY and GUILD_CREATE aside (a well-behaved observer
    beside the faulty one)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, Dispatch) and event.name not in ("READY", "GUILD_CREATE"):
            self.n += 1


def boom(*_: Any) -> None:
    raise RuntimeError("a bug in the user's callback")


@pytest.fixture
async def group_on_emulator() -> AsyncIterator[tuple[GatewayEmulator, ShardGroup]]:
    async with emulator() as emu:
        group = create_iterator(range(2), 2, config_for(emu))
        yield emu, group


@pytest.mark.parametrize("observer", ["state", "event", "group-state"])
async def test_a_raising_observer_leaves_the_shards_delivering(
    observer: str, caplog: pytest.LogCaptureFixture, group_on_emulator: tuple[GatewayEmulator, ShardGroup]
) -> None:
    emu, group = group_on_emulator
    loop_errors = LoopErrors(caplog)
    told: list[Exception] = []
    if observer == "state":
        group.shard(0).states.subscribe(boom, told.append)
    elif observer == "event":
        group.subscribe(boom, told.append)
    else:
        group.states.subscribe(boom, told.append)
    count = Count()
    group.subscribe(count)
    with caplog.at_level(logging.ERROR):
        async with group:
            await group.ready(timeout=10)
            assert [type(e) for e in told] == [RuntimeError]  # detached and told, once
            await asyncio.sleep(5.0)
            await emu.burst(100)
            await wait_until(lambda: count.n >= 100)
            assert [s.state for s in group] == [ShardState.ACTIVE] * 2
            assert len(emu.record.connections) == 2  # nobody reconnected
            assert len(told) == 1
    assert loop_errors.unretrieved() == []
    assert any("raised" in r.getMessage() and "unsubscribed" in r.getMessage() for r in caplog.records)


async def test_a_callback_raising_on_every_active_state_does_not_loop_the_shard(caplog: pytest.LogCaptureFixture) -> None:
    async with emulator() as emu:
        loop_errors = LoopErrors(caplog)
        shard = Shard(ShardId(0, 1), config_for(emu))
        shard.states.subscribe(lambda state: boom() if state == ShardState.ACTIVE else None)
        async with shard:
            await shard.ready(timeout=5)
            await asyncio.sleep(1.0)
            assert len(emu.record.connections) == 1
            assert shard.stats["connections"] == 1
        assert loop_errors.unretrieved() == []


async def test_an_observer_that_raises_on_error_too_is_still_detached() -> None:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu))
        shard.subscribe(boom, boom)
        count = Count()
        shard.subscribe(count)
        async with shard:
            await shard.ready(timeout=5)
            await emu.burst(20)
            await wait_until(lambda: count.n >= 20)
            assert shard.demand  # the healthy observer is still there


# ------------------------------------------------------------------- tasks


class FlakyQueue(InMemoryQueue):
    """An identify queue whose server is away for the first ``failures`` calls."""

    def __init__(self, failures: int | None) -> None:
        super().__init__(identify_interval=IDENTIFY_WINDOW)
        self.failures = failures
        self.calls = 0

    async def acquire(self, shard: ShardId) -> None:
        self.calls += 1
        if self.failures is None or self.calls <= self.failures:
            raise ConnectionError("identify queue unreachable")
        await super().acquire(shard)


async def test_a_queue_that_raises_three_times_then_works_gets_the_shard_active() -> None:
    async with emulator() as emu:
        queue = FlakyQueue(failures=3)
        shard = Shard(ShardId(0, 1), config_for(emu, queue=queue))
        problems: list[Exception] = []
        shard.subscribe_flags(_Errors(problems), EventTypeFlags.GATEWAY_ERROR)
        async with shard:
            await shard.ready(timeout=15)
        assert queue.calls == 4
        assert [type(p) for p in problems] == [errors.IdentifyQueueError] * 3
        assert emu.violations == []


class _Errors:
    def __init__(self, into: list[Exception]) -> None:
        self.into = into

    def on_next(self, event: Any) -> None:
        self.into.append(event.error)

    def on_error(self, error: Exception) -> None:
        pass

    def on_completed(self) -> None:
        pass


async def _end(how: str, emu: GatewayEmulator) -> Shard:
    if how == "normal":
        shard = Shard(ShardId(0, 1), config_for(emu))
        await shard.start()
        await shard.ready(timeout=5)
    elif how == "fatal":
        shard = Shard(ShardId(0, 1), config_for(emu, intents=Intents.GUILDS).replace(token="not-a-token"))
        await shard.start()
        await shard.wait_until(lambda s: s.is_terminal, timeout=5)
    elif how == "raising-queue":
        shard = Shard(ShardId(0, 1), config_for(emu, queue=FlakyQueue(failures=None)))
        await shard.start()
        await wait_until(lambda: shard.stats["errors"] >= 2)
    else:  # a raising observer
        shard = Shard(ShardId(0, 1), config_for(emu))
        shard.subscribe(boom)
        shard.states.subscribe(boom)
        await shard.start()
        await shard.ready(timeout=5)
    return shard


@pytest.mark.parametrize("how", ["normal", "fatal", "raising-queue", "raising-observer"])
async def test_no_task_is_left_after_closed(how: str, caplog: pytest.LogCaptureFixture) -> None:
    async with emulator() as emu:
        loop_errors = LoopErrors(caplog)
        before = set(our_tasks())
        shard = await _end(how, emu)
        shard.close()
        try:
            await asyncio.wait_for(shard.closed(), 10)
        except errors.AuthenticationError:
            assert how == "fatal"
        left = [t for t in our_tasks() if t not in before]
        assert left == [], [t.get_coro() for t in left]
        assert loop_errors.unretrieved() == []


async def test_closed_returns_when_the_connection_task_fails(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A bug of ours inside the connection task (simulated: the receive loop raises)
    is logged, counts as a dropped connection, and closing still completes."""
    calls = [0]
    original = Shard._receive

    async def failing_once(self: Shard, ws: Any, loop: Any) -> tuple[int | None, str]:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("a bug in the receive loop")
        return await original(self, ws, loop)

    monkeypatch.setattr(Shard, "_receive", failing_once)
    async with emulator() as emu:
        loop_errors = LoopErrors(caplog)
        shard = Shard(ShardId(0, 1), config_for(emu))
        async with shard:
            await wait_until(lambda: calls[0] >= 2 and shard.state == ShardState.ACTIVE)
        assert any("connection task failed" in r.getMessage() for r in caplog.records)
        assert loop_errors.unretrieved() == []


async def test_a_group_cannot_start_twice_and_cleans_up_a_failed_start() -> None:
    async with emulator() as emu:
        group = create_iterator(range(2), 2, config_for(emu))
        async with group:
            with pytest.raises(RuntimeError, match="already started"):
                await group.start()
        # A start that fails half way: shard 1 was already started elsewhere.
        config = config_for(emu)
        shards = [Shard(ShardId(0, 2), config), Shard(ShardId(1, 2), config)]
        await shards[1].start()
        group = ShardGroup(shards)
        with pytest.raises(RuntimeError, match="already started"):
            await group.start()
        assert shards[0].state.is_terminal  # the shard it had started is closed again
        assert group._http is None  # and the client session it made is closed
        shards[1].close()
        await shards[1].closed()


# --------------------------------------------------------------- commands


@pytest.mark.timeout(150)
async def test_two_hundred_commands_at_once_all_arrive_in_order_without_4008() -> None:
    """Discord's heartbeat interval, 200 commands handed over at once: the limiter
    spreads them over two windows with a margin, so the gateway (which counts from
    receipt) never closes with 4008, and every command arrives, in order."""
    async with emulator(heartbeat_interval_ms=41_250, guilds=1, members_per_guild=10) as emu:
        shard = Shard(ShardId(0, 1), config_for(emu))
        async with shard:
            await shard.ready(timeout=5)
            guild = emu.state.world.guilds[0].id
            for i in range(200):
                shard.sender.command(RequestGuildMembers(guild, query="a", limit=1, nonce=str(i)))
            await wait_until(lambda: len(emu.record.commands) >= 200, timeout=70)
            assert shard.state == ShardState.ACTIVE
        nonces = [c.data.get("nonce") for c in emu.record.commands]
        assert nonces == [str(i) for i in range(200)]
        (connection,) = emu.record.connections
        assert connection.close_sent is None  # the gateway never closed it (no 4008)
        assert emu.violations == []
