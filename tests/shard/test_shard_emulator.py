"""The shard against the emulator over a real loopback websocket.

Every test asserts that the emulator saw no rule violation, except where the test
provokes one on purpose.

Timing under load. Heartbeats are test-sized (400 ms) so that a zombie connection
is found in well under a second. Two real-time limits come with them, and the
tests are written not to depend on either beyond what they are about:

- The emulator closes a connection that goes ``heartbeat_timeout_factor`` intervals
  without a beat. Discord's 1.5 leaves a 400 ms shard 200 ms of scheduling delay,
  which a loaded machine can take; here the factor is :data:`LATE_FACTOR`. How
  punctual the beats are is asserted by the heartbeat tests, on the median gap.
- A shard whose ACK has not arrived by its next beat reconnects (zombie). On a
  stalled loop that can happen to a healthy connection, so a test finds "the
  connection that resumed" or "the connections after the drop" instead of counting
  on ``connections[-1]`` or an exact number of connections. The tests about
  heartbeats do assert that no such reconnect happened, with longer intervals.
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

import pytest

from rxgateway import errors
from rxgateway.config import Config
from rxgateway.emulator import DEFAULT_TOKEN, Fault, GatewayEmulator
from rxgateway.events.base import Dispatch, Event
from rxgateway.group import create_iterator, create_recommended
from rxgateway.machine import Session, ShardState
from rxgateway.protocol import CloseFrame, EventTypeFlags, Intents, ShardId
from rxgateway.protocol.commands import RequestGuildMembers, UpdatePresence
from rxgateway.queue import InMemoryQueue
from rxgateway.shard import Shard
from rxgateway.testing import Gateway

HEARTBEAT_MS = 400
#: Heartbeat tests: a busy shard must read each ACK within one interval, or it takes
#: its connection for a zombie; 600 ms is four times the worst ACK delay measured
#: with both cores of a 2-core machine busy (~150 ms, while parsing a burst).
BUSY_HEARTBEAT_MS = 600
#: Intervals without a heartbeat before the emulator closes the connection (4000).
LATE_FACTOR = 3.0
INTENTS = Intents.all()
#: Test-sized identify window: the emulator's and the queue's agree.
IDENTIFY_WINDOW = 0.2


def emulator(**changes: Any) -> GatewayEmulator:
    settings: dict[str, Any] = {
        "heartbeat_interval_ms": HEARTBEAT_MS,
        "heartbeat_timeout_factor": LATE_FACTOR,
        "identify_window_s": IDENTIFY_WINDOW,
        "reconnect_close_delay_s": 0.5,
        "invalid_session_close_delay_s": 0.5,
        "guilds": 4,
    }
    settings.update(changes)
    return GatewayEmulator(**settings)


def config_for(emu: GatewayEmulator, **changes: Any) -> Config:
    changes.setdefault("queue", InMemoryQueue(identify_interval=IDENTIFY_WINDOW))
    return Config(DEFAULT_TOKEN, changes.pop("intents", INTENTS), gateway_url=emu.url, **changes)


class Collector:
    """Records every event a shard emits, and each session's dispatch sequences."""

    def __init__(self, source: Any, flags: EventTypeFlags = EventTypeFlags.all()) -> None:
        self.events: list[Event] = []
        self.sessions: list[list[int]] = []
        self.completed = False
        self.error: Exception | None = None
        source.subscribe_flags(self, flags)

    def on_next(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, Dispatch) and event.sequence is not None:
            if event.name == "READY" or not self.sessions:
                self.sessions.append([])
            self.sessions[-1].append(event.sequence)

    def on_error(self, error: Exception) -> None:
        self.error = error

    def on_completed(self) -> None:
        self.completed = True

    def dispatches(self) -> int:
        return sum(len(s) for s in self.sessions)

    def assert_exactly_once(self) -> None:
        for seqs in self.sessions:
            assert seqs == list(range(1, len(seqs) + 1)), f"gap or repeat in {seqs[:10]}...{seqs[-10:]}"


async def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def assert_beats_kept_time(beats: list[Any], interval: float) -> None:
    """Heartbeats came about one ``interval`` apart, and every one but the last was
    ACKed. A stalled loop delays a beat or two, so the median gap is held to the
    interval (+50 %) and the largest only to :data:`LATE_FACTOR` intervals."""
    gaps = [b.time - a.time for a, b in zip(beats, beats[1:])]
    assert gaps, beats
    assert statistics.median(gaps) < interval * 1.5, gaps
    assert max(gaps) < interval * LATE_FACTOR, gaps
    assert all(b.acked_at is not None for b in beats[:-1])


@pytest.mark.parametrize("compression", ["zstd-stream", "zlib-stream", None])
async def test_identify_ready_and_guilds(compression: str | None) -> None:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu, compression=compression))
        seen = Collector(shard)
        async with shard:
            await shard.ready(timeout=5)
            await wait_until(lambda: seen.dispatches() >= 5)  # READY + 4 GUILD_CREATE
            names = [e.name for e in seen.events if isinstance(e, Dispatch)]
            assert names[:5] == ["READY"] + ["GUILD_CREATE"] * 4
            assert shard.session is not None and shard.resume_url and "/resume" in shard.resume_url
        assert seen.completed and shard.state == ShardState.CLOSED
        (conn,) = emu.record.connections
        assert conn.compression == compression
        assert conn.close_received == 1000
        assert emu.violations == []


FAULTS = {
    "reconnect": Fault.reconnect(),
    "invalid_session_resumable": Fault.invalid_session(resumable=True),
    "drop": Fault.drop(),
    "zombie": Fault.zombie(),
    "close_4000": Fault.close(4000),
    "close_4001": Fault.close(4001),
    "close_4002": Fault.close(4002),
    "close_4005": Fault.close(4005),
    "close_4008": Fault.close(4008),
    "close_1001": Fault.close(1001),
    "corrupt_frame": Fault.corrupt_frame(),
    "invalid_json": Fault.invalid_json(),
    "request_heartbeat": Fault.request_heartbeat(),
    "slow_link": Fault.slow_link(),
}

#: Faults the shard absorbs without reconnecting.
IN_PLACE = ("request_heartbeat", "slow_link")


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
@pytest.mark.parametrize("compression", ["zlib-stream", "zstd-stream"])
async def test_fault_recovers_with_every_dispatch_exactly_once(fault: str, compression: str) -> None:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu, compression=compression))
        seen = Collector(shard)
        async with shard:
            await shard.ready(timeout=5)
            await emu.burst(300)
            await wait_until(lambda: seen.dispatches() >= 305)
            emu.inject(FAULTS[fault], shard=0)
            await emu.burst(300)  # partly while the shard is away: replayed on resume
            if fault not in IN_PLACE:
                await wait_until(lambda: len(emu.record.connections) >= 2, 10)
            await wait_until(lambda: seen.dispatches() >= 605 and shard.state == ShardState.ACTIVE, 15)
            await emu.burst(50)
            await wait_until(lambda: seen.dispatches() >= 655, 10)
        assert len(seen.sessions) == 1, "the session must survive"
        seen.assert_exactly_once()
        if fault not in IN_PLACE:
            assert len(emu.record.connections) >= 2
            assert any(r.accepted for c in emu.record.connections[1:] for r in c.resumes)
            assert not any(c.identifies for c in emu.record.connections[1:])
        assert emu.violations == []


async def test_invalid_session_not_resumable_starts_a_new_session() -> None:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu))
        seen = Collector(shard)
        async with shard:
            await shard.ready(timeout=5)
            first = shard.session
            emu.inject(Fault.invalid_session(resumable=False), shard=0)
            await wait_until(lambda: len(seen.sessions) == 2 and shard.state == ShardState.ACTIVE, 15)
            assert shard.session is not None and first is not None and shard.session.id != first.id
            # The re-identify went to the gateway URL, not the resume URL.
            reidentified = [c for c in emu.record.connections[1:] if c.identifies]
            assert reidentified and all(c.path.rstrip("/") == "" for c in reidentified)
        seen.assert_exactly_once()
        assert emu.violations == []


async def test_zlib_messages_split_across_frames() -> None:
    async with emulator(zlib_split_bytes=64) as emu:
        shard = Shard(ShardId(0, 1), config_for(emu, compression="zlib-stream"))
        seen = Collector(shard)
        async with shard:
            await shard.ready(timeout=5)
            await emu.burst(200)
            await wait_until(lambda: seen.dispatches() >= 205)
        seen.assert_exactly_once()
        assert emu.violations == []


async def test_bad_token_is_fatal_authentication_error() -> None:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), Config("not-a-token", INTENTS, gateway_url=emu.url))
        seen = Collector(shard)
        await shard.start()
        with pytest.raises(errors.AuthenticationError) as info:
            await shard.closed()
        assert info.value.code == 4004
        assert shard.state == ShardState.FATALLY_CLOSED
        assert isinstance(seen.error, errors.AuthenticationError)
        assert len(emu.record.connections) == 1  # never retried


async def test_disallowed_intents_is_fatal() -> None:
    async with emulator(application_flags=0) as emu:
        shard = Shard(ShardId(0, 1), config_for(emu, intents=Intents.GUILDS | Intents.GUILD_MEMBERS))
        await shard.start()
        with pytest.raises(errors.DisallowedIntentsError):
            await shard.closed()


@pytest.mark.parametrize("code", [4010, 4011, 4012, 4013])
async def test_fatal_close_codes_end_the_shard(code: int) -> None:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu))
        await shard.start()
        await shard.ready(timeout=5)
        emu.inject(Fault.close(code), shard=0)
        with pytest.raises(errors.FatalCloseError) as info:
            await shard.closed()
        assert info.value.code == code
        async with asyncio.timeout(1):
            with pytest.raises(errors.FatalCloseError):
                async for _ in shard.events():
                    pass


async def test_sixteen_shards_never_violate_identify_buckets() -> None:
    async with emulator(shards=16, max_concurrency=4, guilds=32) as emu:
        config = Config(
            DEFAULT_TOKEN,
            INTENTS,
            gateway_url=emu.url,
            api_url=emu.api_url,
            queue=InMemoryQueue(identify_interval=IDENTIFY_WINDOW),
        )
        group = await create_recommended(config)
        assert len(group) == 16
        async with group:
            await group.ready(timeout=20)
        identifies = sorted((i.time, i.bucket) for c in emu.record.connections for i in c.identifies)
        assert len(identifies) == 16
        last: dict[int, float] = {}
        for time, key in identifies:
            if key in last:
                assert time - last[key] >= IDENTIFY_WINDOW
            last[key] = time
        assert emu.violations == []


async def test_persisted_session_resumes_without_identify() -> None:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu))
        seen = Collector(shard)
        async with shard:
            await shard.ready(timeout=5)
            await emu.burst(20)
            await wait_until(lambda: seen.dispatches() >= 25)
            shard.close(CloseFrame.RESUME)
            await shard.closed()
        saved_session, saved_url = shard.session, shard.resume_url
        assert saved_session is not None and saved_url is not None
        stored = saved_session.to_json()
        await emu.burst(30)  # happens while no process holds the session

        restored = Session.from_json(stored)
        shard2 = Shard(ShardId(0, 1), config_for(emu, session=restored, resume_url=saved_url))
        seen2 = Collector(shard2)
        async with shard2:
            await shard2.ready(timeout=5)
            await wait_until(lambda: any(isinstance(e, Dispatch) and e.name == "RESUMED" for e in seen2.events))
        replayed = [e.sequence for e in seen2.events if isinstance(e, Dispatch) and e.name != "RESUMED"]
        assert replayed == list(range(saved_session.sequence + 1, saved_session.sequence + 31))
        last = emu.record.connections[-1]
        assert last.resumes and last.resumes[0].accepted and not last.identifies
        assert emu.violations == []


@pytest.mark.rxgateway(
    heartbeat_interval_ms=HEARTBEAT_MS, heartbeat_timeout_factor=LATE_FACTOR, reconnect_close_delay_s=0.5
)
async def test_commands_sent_while_disconnected_arrive_after_resume_in_order(gateway: Gateway) -> None:
    # Written with the plugin's ``gateway`` fixture (rxgateway.testing), as a bot's tests would be.
    shard = Shard(ShardId(0, 1), gateway.config(INTENTS))
    async with shard:
        await shard.ready(timeout=5)
        guild = gateway.guild().id
        queued: list[int] = []

        def on_state(state: ShardState) -> None:
            # Send the moment the shard learns the link is gone.
            if state.kind.value == "disconnected" and not queued:
                for nonce in ("a", "b", "c"):
                    shard.sender.command(RequestGuildMembers(guild_id=guild, query="", limit=5, nonce=nonce))
                shard.sender.command(UpdatePresence(status="idle"))
                queued.append(shard._machine.queued_commands)

        shard.states.subscribe(on_state)
        gateway.inject("drop", shard=0)
        await wait_until(lambda: bool(queued), 5)
        assert queued == [4]  # all four were held, not sent on the dead link
        await gateway.wait_for_command(3, timeout=10)  # the last of the four
    commands = gateway.commands()
    assert [c.op for c in commands] == [8, 8, 8, 3]
    assert [c.data.get("nonce") for c in commands[:3]] == ["a", "b", "c"]
    first, *after_the_drop = gateway.emulator.record.connections
    assert first.commands == [] and {c.connection_id for c in commands} <= {c.id for c in after_the_drop if c.resumes}
    gateway.assert_no_violations()


async def test_events_iterator_and_next_event() -> None:
    async with emulator() as emu:
        shard = Shard(ShardId(0, 1), config_for(emu))
        guilds = shard.events(EventTypeFlags.GUILD_CREATE)  # subscribed from here on
        assert shard.demand == EventTypeFlags.GUILD_CREATE
        async with shard:
            names = []
            async with guilds:
                async for event in guilds:
                    names.append(event.name)  # type: ignore[attr-defined]
                    if len(names) == 4:
                        break
            assert names == ["GUILD_CREATE"] * 4
            assert shard.demand == EventTypeFlags(0)  # the iterator left: nothing is parsed
            await emu.burst(20, mix="messages=1")
            event = await shard.next_event(EventTypeFlags.MESSAGE_CREATE, timeout=5)
            assert isinstance(event, Dispatch) and event.name == "MESSAGE_CREATE"


async def test_heartbeats_continue_while_a_consumer_is_slow() -> None:
    interval = BUSY_HEARTBEAT_MS / 1000
    async with emulator(heartbeat_interval_ms=BUSY_HEARTBEAT_MS) as emu:
        async with Shard(ShardId(0, 1), config_for(emu)) as shard:
            await shard.ready(timeout=5)
            stream = shard.events()
            await emu.burst(500)  # buffered, never read while the beats go on
            before = len(emu.record.connections[0].heartbeats)
            await asyncio.sleep(interval * 4)
            await stream.aclose()
            assert shard.state == ShardState.ACTIVE
        (conn,) = emu.record.connections  # every ACK was read in time: no zombie reconnect
        assert len(conn.heartbeats) - before >= 3  # four intervals, at least three beats
        assert_beats_kept_time(conn.heartbeats, interval)
        assert emu.violations == []


async def test_no_task_is_left_running_after_close() -> None:
    async with emulator() as emu:
        before = set(asyncio.all_tasks())
        shard = Shard(ShardId(0, 1), config_for(emu))
        async with shard:
            await shard.ready(timeout=5)
            emu.inject(Fault.drop(), shard=0)
            await wait_until(lambda: shard.state == ShardState.ACTIVE and len(emu.record.connections) >= 2, 10)
        await asyncio.sleep(0)
        left = {t for t in asyncio.all_tasks() - before if not t.done()}
        assert left == set()


async def test_group_of_one_via_create_iterator_and_per_shard() -> None:
    async with emulator(shards=2) as emu:
        config = config_for(emu)
        group = create_iterator([0, 1], 2, config, lambda sid, c: c.replace(large_threshold=100 + sid.number))
        async with group:
            await group.ready(timeout=5)
        thresholds = sorted(c.large_threshold for c in (s.config for s in group))
        assert thresholds == [100, 101]
        with pytest.raises(ValueError):
            create_iterator([0], 1, config, lambda sid, c: Config(DEFAULT_TOKEN, INTENTS, gateway_url=emu.url))
