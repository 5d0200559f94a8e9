"""Long replays, faults that land in the middle of them, and the corrupt-dispatch fault
(GATEWAY.md §3.6, §3.7, §3.8, §12.7, §12.11).

The scenario the emulator must make testable: the client is away for a while, a
backlog of tens of thousands of events builds up, the client resumes, and the gateway
node goes away in the middle of the replay (op 7, op 9 d:true, close 4000, a TCP
drop). The client resumes again from the last sequence it actually received, until
it gets RESUMED.
"""

from __future__ import annotations

import argparse
import dataclasses
import doctest
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import aiohttp
import orjson
import pytest

from rxgateway.emulator import (
    DEFAULT_DISPATCH_FAULTS,
    DispatchFaultPlan,
    EmulatorConfig,
    Fault,
    FaultKind,
    GatewayEmulator,
)
from rxgateway.emulator import connection as connection_module
from rxgateway.emulator import faults as faults_module
from rxgateway.tools.emulate import EPILOG, add_emulate_arguments, config_from_args

from .client import GatewayClient, MakeEmulator, ready_client, resumed_client

#: GUILDS | GUILD_MESSAGES: READY, a GUILD_CREATE per guild, then guild messages.
GUILD_MESSAGES = 513
#: GUILD_MESSAGES without GUILDS: READY is followed by no GUILD_CREATE.
NO_GUILD_CREATES = 512
#: A backlog as long as a long outage produces.
LONG_BACKLOG = 30_000
#: A chain of resumes through faults never needs more connections than this.
MAX_CONNECTIONS = 20
#: The most payloads one connection of a chain may deliver.
MAX_PAYLOADS_PER_CONNECTION = LONG_BACKLOG + 100
#: These clients do not heartbeat: a long replay must not outlast the heartbeat timeout.
QUIET = {"heartbeat_interval_ms": 120_000}


@pytest.fixture
async def emu(make_emulator: MakeEmulator) -> AsyncIterator[GatewayEmulator]:
    """The conformance suite's emulator, without the heartbeat timeout getting in the way."""
    async with make_emulator(**QUIET) as emulator:
        yield emulator


@dataclasses.dataclass
class Leg:
    """What one connection of a resume chain delivered, and how it ended."""

    dispatches: list[dict[str, Any]]
    #: ``"resumed"``, ``"op7"``, ``"op9:true"``, ``"op9:false"``, ``"close:CODE"`` or ``"drop"``.
    end: str
    #: Payloads that arrived after op 7 / op 9 (there must be none).
    after_op: list[dict[str, Any]] = dataclasses.field(default_factory=list)


async def away_with_backlog(
    emu: GatewayEmulator, http: aiohttp.ClientSession, backlog: int, *, compress: str | None = None
) -> tuple[dict[str, Any], int]:
    """Connect, take READY and the GUILD_CREATEs, leave with 4000 and let ``backlog``
    MESSAGE_CREATEs pile up in the session; returns (READY, last sequence received)."""
    client, ready = await ready_client(http, emu.url, compress=compress, intents=GUILD_MESSAGES)
    last = ready["s"]
    for _ in ready["d"]["guilds"]:
        last = (await client.dispatch("GUILD_CREATE"))["s"]
    await client.close(4000)
    await emu.wait_for(lambda: not emu.connections)
    assert emu.push(backlog, "MESSAGE_CREATE", shard=0) == backlog
    return ready, last


async def resume_leg(
    http: aiohttp.ClientSession, ready: dict[str, Any], seq: int, compress: str | None = None
) -> Leg:
    """Resume from ``seq`` and read until RESUMED or until the connection ends."""
    client = await GatewayClient.connect(http, ready["d"]["resume_gateway_url"], compress=compress)
    assert (await client.receive())["op"] == 10
    await client.resume(ready["d"]["session_id"], seq)
    dispatches: list[dict[str, Any]] = []
    for _ in range(MAX_PAYLOADS_PER_CONNECTION):
        try:
            payload = await client.receive()
        except ConnectionError as closed:
            code = closed.args[0]
            return Leg(dispatches, "drop" if code is None else f"close:{code}")
        if payload["op"] == 0:
            dispatches.append(payload)
            if payload["t"] == "RESUMED":
                await client.close(1000)
                return Leg(dispatches, "resumed")
        elif payload["op"] in (7, 9):
            end = "op7" if payload["op"] == 7 else f"op9:{str(payload['d']).lower()}"
            leg = Leg(dispatches, end)
            # The server closes after its delay; nothing else may come first.
            for _ in range(MAX_PAYLOADS_PER_CONNECTION):
                try:
                    leg.after_op.append(await client.receive())
                except ConnectionError:
                    return leg
    raise AssertionError("the connection neither resumed nor ended")


async def resume_until_resumed(
    http: aiohttp.ClientSession, ready: dict[str, Any], seq: int, compress: str | None = None
) -> list[Leg]:
    """Resume again and again from the last sequence received, until RESUMED."""
    legs: list[Leg] = []
    for _ in range(MAX_CONNECTIONS):
        leg = await resume_leg(http, ready, seq, compress)
        legs.append(leg)
        if leg.dispatches:
            seq = leg.dispatches[-1]["s"]
        if leg.end == "resumed":
            return legs
        assert leg.end in ("op7", "op9:true", "close:4000", "drop"), leg.end
    raise AssertionError(f"no RESUMED within {MAX_CONNECTIONS} connections")


# -- long replays ----------------------------------------------------------------


async def test_a_30000_event_backlog_is_replayed_in_full_then_resumed(
    emu: GatewayEmulator, http: aiohttp.ClientSession
) -> None:
    assert emu.config.replay_buffer_length is not None and emu.config.replay_buffer_length >= LONG_BACKLOG
    ready, last = await away_with_backlog(emu, http, LONG_BACKLOG)
    client, replayed = await resumed_client(http, ready, last, max_payloads=LONG_BACKLOG + 10)
    seqs = [p["s"] for p in replayed]
    assert seqs == list(range(last + 1, last + LONG_BACKLOG + 2))
    assert {p["t"] for p in replayed[:-1]} == {"MESSAGE_CREATE"}
    assert len({p["d"]["id"] for p in replayed[:-1]}) == LONG_BACKLOG  # distinct messages
    assert replayed[-1]["t"] == "RESUMED"  # strictly after the last replayed dispatch
    (resume,) = emu.record.connections[-1].resumes
    assert resume.accepted and resume.replayed == LONG_BACKLOG
    emu.dispatch("USER_UPDATE", {"id": "1"})
    assert (await client.dispatch("USER_UPDATE"))["s"] == replayed[-1]["s"] + 1  # new events follow
    assert emu.violations == []
    await client.close()


async def test_an_unbounded_replay_buffer_keeps_every_dispatch(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(replay_buffer_length=None, guilds=1, **QUIET) as emu:
        _, last = await away_with_backlog(emu, http, 0)
        assert emu.push(60_000, "MESSAGE_CREATE", shard=0) == 60_000
        (session,) = emu.state.sessions
        assert session.can_replay_from(0)
        frames = session.frames_after(last)
        assert len(frames) == 60_000
        assert frames[0].startswith(b'{"t":"MESSAGE_CREATE","s":%d,' % (last + 1))


async def test_resumed_comes_after_the_whole_replay_on_every_compression(
    emu: GatewayEmulator, http: aiohttp.ClientSession
) -> None:
    for compress in (None, "zlib-stream", "zstd-stream"):
        ready, last = await away_with_backlog(emu, http, 2000, compress=compress)
        client, replayed = await resumed_client(http, ready, last, compress=compress)
        assert [p["s"] for p in replayed] == list(range(last + 1, last + 2002))
        assert [p["t"] for p in replayed].index("RESUMED") == 2000
        await client.close()


# -- faults counted in dispatches -------------------------------------------------


@pytest.mark.parametrize("compress", [None, "zlib-stream", "zstd-stream"])
async def test_faults_every_n_dispatches_cut_the_replay_and_each_resume_continues(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession, compress: str | None
) -> None:
    every, backlog = 1000, 4500
    async with make_emulator(fault_every_dispatches=every, dispatch_faults=DEFAULT_DISPATCH_FAULTS, **QUIET) as emu:
        ready, last = await away_with_backlog(emu, http, backlog, compress=compress)  # 7 dispatches: no fault
        legs = await resume_until_resumed(http, ready, last, compress)
        # The cycle, in order, one fault per connection, each exactly `every` dispatches in.
        assert [leg.end for leg in legs] == ["op7", "op9:true", "close:4000", "drop", "resumed"]
        assert [len(leg.dispatches) for leg in legs] == [every] * 4 + [backlog + 1 - 4 * every]
        assert all(leg.after_op == [] for leg in legs)  # nothing after op 7 / op 9
        # Nothing lost, nothing twice, in order; RESUMED only on the last connection, last.
        received = [p for leg in legs for p in leg.dispatches]
        assert [p["s"] for p in received] == list(range(last + 1, last + backlog + 2))
        assert [p["t"] for p in received].count("RESUMED") == 1 and received[-1]["t"] == "RESUMED"
        # The emulator's record agrees: where each fault fired, and which.
        resumed = [c for c in emu.record.connections if c.resumes]
        assert len(resumed) == 5
        fired = [c.dispatch_faults for c in resumed]
        assert [[f.fault.kind for f in faults] for faults in fired] == [
            [FaultKind.RECONNECT], [FaultKind.INVALID_SESSION], [FaultKind.CLOSE], [FaultKind.DROP], []
        ]  # fmt: skip
        assert [faults[0].seq for faults in fired[:4]] == [leg.dispatches[-1]["s"] for leg in legs[:4]]
        assert all(faults[0].written == every for faults in fired[:4])
        assert [c.close_sent for c in resumed[:3]] == [4000, 4000, 4000] and resumed[3].dropped
        assert emu.violations == []


async def test_the_fault_cycle_is_kept_per_session_across_its_connections(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    faults = (Fault.close(4000), "reconnect")
    async with make_emulator(fault_every_dispatches=300, dispatch_faults=faults, **QUIET) as emu:
        readies = []
        for number in (0, 1):
            client, ready = await ready_client(http, emu.url, intents=NO_GUILD_CREATES, shard=[number, 2])
            await client.close(4000)
            readies.append(ready)
        await emu.wait_for(lambda: not emu.connections)
        for number in (0, 1):
            assert emu.push(1000, shard=number) == 1000
        seqs = [1, 1]
        ends: list[tuple[int, str]] = []
        for _ in range(3):  # the shards take turns: each session still follows its own cycle
            for number in (0, 1):
                leg = await resume_leg(http, readies[number], seqs[number])
                assert len(leg.dispatches) == 300
                seqs[number] = leg.dispatches[-1]["s"]
                ends.append((number, leg.end))
        assert ends == [
            (0, "close:4000"), (1, "close:4000"), (0, "op7"), (1, "op7"), (0, "close:4000"), (1, "close:4000")
        ]  # fmt: skip
        assert seqs == [901, 901]
        assert emu.violations == []


async def test_a_closing_fault_before_a_connection_replays_anything_leaves_the_buffer_intact(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(fault_every_dispatches=3, dispatch_faults=("close:4000",), **QUIET) as emu:
        client, ready = await ready_client(http, emu.url, intents=GUILD_MESSAGES)  # 7 dispatches queued
        received = [ready]
        for _ in range(10):
            try:
                received.append(await client.receive())
            except ConnectionError as closed:
                assert closed.args[0] == 4000
                break
        assert [p["s"] for p in received] == [1, 2, 3]  # nothing queued behind the fault point
        (conn,) = emu.record.connections
        assert list(conn.sequences) == list(range(1, 8))  # all 7 had been queued
        legs = await resume_until_resumed(http, ready, 3)
        assert [p["s"] for leg in legs for p in leg.dispatches] == list(range(4, 9))  # 4..7 and RESUMED


async def test_dispatch_faults_can_be_scheduled_and_stopped_at_run_time(
    emu: GatewayEmulator, http: aiohttp.ClientSession
) -> None:
    client, _ = await ready_client(http, emu.url, intents=NO_GUILD_CREATES)
    plan = emu.schedule_dispatch_faults(10, ["request_heartbeat"])  # a fault that does not close
    assert plan == DispatchFaultPlan(10, (Fault.request_heartbeat(),))
    emu.push(30, shard=0)
    ops = [(await client.receive())["op"] for _ in range(33)]
    assert ops == ([0] * 10 + [1]) * 3  # op 1 at exactly each fault point
    emu.stop_dispatch_faults()
    emu.push(30, shard=0)
    emu.dispatch("USER_UPDATE", {"id": "1"})
    assert (await client.dispatch("USER_UPDATE"))["s"] == 62
    assert emu.state.fault_plan is None
    await client.close()


async def test_a_new_plan_starts_each_sessions_cycle_afresh(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=NO_GUILD_CREATES)
    cycle = ["request_heartbeat", "corrupt_dispatch"]
    for _ in range(2):  # the same cycle twice: each time its first fault comes first
        emu.schedule_dispatch_faults(2, cycle)
        emu.push(2, shard=0)
        assert [(await client.receive())["op"] for _ in range(3)] == [0, 0, 1]
    emu.push(4, shard=0)  # the cycle's second fault after 2 more: the 3rd of these goes out corrupt
    raws = [await client.receive_raw() for _ in range(4)]
    assert [_parses(raw) for raw in raws] == [True, True, False, True]
    await client.close()


# -- the corrupt-dispatch fault ---------------------------------------------------


@pytest.mark.parametrize("compress", [None, "zlib-stream", "zstd-stream"])
async def test_corrupt_dispatch_keeps_the_head_breaks_the_body_and_a_resume_gets_the_good_one(
    emu: GatewayEmulator, http: aiohttp.ClientSession, compress: str | None
) -> None:
    client, ready = await ready_client(http, emu.url, compress=compress, intents=NO_GUILD_CREATES)
    conn_id = emu.record.connections[-1].id
    assert emu.inject(Fault.corrupt_dispatch(), connection=conn_id) == [conn_id]
    emu.dispatch("USER_UPDATE", {"id": "1", "username": "first"})  # s = 2
    emu.dispatch("USER_UPDATE", {"id": "1", "username": "second"})  # s = 3
    raw = await client.receive_raw()
    assert raw.startswith(b'{"t":"USER_UPDATE","s":2,"op":0,"d":{')
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)
    after = await client.receive()  # the compression stream is intact
    assert (after["s"], after["d"]["username"]) == (3, "second")
    assert emu.record.connections[-1].corrupted == [2]
    await client.close(4000)
    resumer, replayed = await resumed_client(http, ready, 1, compress=compress)
    assert [(p["s"], p["t"]) for p in replayed] == [(2, "USER_UPDATE"), (3, "USER_UPDATE"), (4, "RESUMED")]
    assert replayed[0]["d"] == {"id": "1", "username": "first"}
    assert emu.violations == []
    await resumer.close()


async def test_corrupt_dispatch_hits_the_next_dispatch_not_an_op(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=NO_GUILD_CREATES)
    emu.inject(Fault.corrupt_dispatch())
    emu.inject(Fault.request_heartbeat())
    await client.heartbeat(1)
    assert (await client.receive())["op"] in (1, 11)
    assert (await client.receive())["op"] in (1, 11)
    emu.dispatch("USER_UPDATE", {"id": "1"})
    with pytest.raises(orjson.JSONDecodeError):
        await client.receive()
    await client.close()


# -- push --------------------------------------------------------------------------


async def test_push_fills_one_shards_session_with_its_own_guilds_events(
    make_emulator: MakeEmulator, http: aiohttp.ClientSession
) -> None:
    async with make_emulator(**QUIET) as emu:
        zero, _ = await ready_client(http, emu.url, intents=NO_GUILD_CREATES, shard=[0, 2])
        one, _ = await ready_client(http, emu.url, intents=NO_GUILD_CREATES, shard=[1, 2])
        owned = {str(g.id) for g in emu.state.world.guilds if (g.id >> 22) % 2 == 1}
        assert owned
        assert emu.push(50, "MESSAGE_CREATE", shard=1) == 50
        events = [await one.receive() for _ in range(50)]
        assert {e["t"] for e in events} == {"MESSAGE_CREATE"} and {e["d"]["guild_id"] for e in events} <= owned
        assert [e["s"] for e in events] == list(range(2, 52))
        (session0,) = [s for s in emu.state.sessions if s.shard.number == 0]
        assert session0.seq == 1  # shard 0 got nothing
        assert emu.push(5, session=session0.id) == 5
        assert [(await zero.receive())["s"] for _ in range(5)] == [2, 3, 4, 5, 6]
        await zero.close()
        await one.close()


async def test_push_honours_intents_and_refuses_nonsense(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=1)  # GUILDS only: no messages
    assert emu.push(10, "MESSAGE_CREATE") == 0
    for args, kwargs in (((10, "NOT_AN_EVENT"), {}), ((-1,), {}), ((1,), {"shard": 3}), ((1,), {"session": "x"})):
        with pytest.raises(ValueError):
            emu.push(*args, **kwargs)
    await client.close()


async def test_control_api_push_and_dispatch_faults(emu: GatewayEmulator, http: aiohttp.ClientSession) -> None:
    client, _ = await ready_client(http, emu.url, intents=NO_GUILD_CREATES)
    control = f"{emu.http_url}/_emulator"
    async with http.post(f"{control}/dispatch-faults", json={"every": 5, "faults": ["corrupt_dispatch"]}) as r:
        assert r.status == 200 and await r.json() == {"every": 5, "faults": ["corrupt_dispatch"]}
    async with http.post(f"{control}/push", json={"count": 7, "shard": 0}) as r:
        assert r.status == 200 and await r.json() == {"pushed": 7}
    raws = [await client.receive_raw() for _ in range(7)]
    assert [_parses(raw) for raw in raws] == [True] * 5 + [False, True]  # the 6th went out corrupt
    async with http.post(f"{control}/dispatch-faults", json={"every": 0}) as r:
        assert r.status == 200 and emu.state.fault_plan is None
    async with http.post(f"{control}/dispatch-faults", json={"every": 100}) as r:
        assert (await r.json())["faults"] == list(DEFAULT_DISPATCH_FAULTS)
    bad = [
        ("dispatch-faults", {"every": 5, "faults": ["bad_hello"]}),
        ("dispatch-faults", {"every": -1}),
        ("dispatch-faults", {"every": 5, "faults": "drop"}),
        ("push", {"count": "many"}),
        ("push", {"count": 1, "t": "NOPE"}),
        ("push", {"count": 1, "shard": 9}),
    ]
    for path, body in bad:
        async with http.post(f"{control}/{path}", json=body) as r:
            assert r.status == 400 and "error" in await r.json(), (path, body)
    async with http.get(f"{control}/record") as r:
        (conn,) = (await r.json())["connections"]
    assert conn["corrupted"] == [7] and conn["dispatch_faults"][0]["fault"] == "corrupt_dispatch"
    await client.close()


def _parses(raw: bytes) -> bool:
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False
    return True


# -- configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault.close(4009), Fault.invalid_session(True), Fault.invalid_session(False), Fault.slow_link(32),
     Fault.bad_hello(7), Fault.corrupt_dispatch(), Fault.drop()],
)  # fmt: skip
def test_fault_text_round_trips(fault: Fault) -> None:
    assert Fault.parse(fault.to_text()) == fault


def test_dispatch_fault_plans_are_validated() -> None:
    assert DispatchFaultPlan.make(5).faults == (
        Fault.reconnect(), Fault.invalid_session(True), Fault.close(4000), Fault.drop()
    )  # fmt: skip
    for every, faults in ((0, ["drop"]), (5, []), (5, ["reconnect_before_hello"]), (5, ["explode"])):
        with pytest.raises(ValueError):
            DispatchFaultPlan.make(every, faults)
    with pytest.raises(ValueError):
        GatewayEmulator(fault_every_dispatches=0)
    assert GatewayEmulator().state.fault_plan is None
    assert EmulatorConfig().fault_every_dispatches is None


def test_command_line_fault_every_dispatches_and_replay_buffer() -> None:
    parser = argparse.ArgumentParser(epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_emulate_arguments(parser)
    config = config_from_args(
        parser.parse_args("--fault-every-dispatches 500 --fault reconnect --fault close:4009 --replay-buffer 0".split())
    )
    assert config.fault_every_dispatches == 500 and config.replay_buffer_length is None
    assert config.dispatch_faults == (Fault.reconnect(), Fault.close(4009))
    plan = GatewayEmulator(config).state.fault_plan
    assert plan is not None and plan.faults == (Fault.reconnect(), Fault.close(4009))
    default = config_from_args(parser.parse_args(["--fault-every-dispatches", "7"]))
    assert default.dispatch_faults == DEFAULT_DISPATCH_FAULTS and default.replay_buffer_length == 50_000
    assert "--fault-every-dispatches" in parser.format_help() and "corrupt_dispatch" in parser.format_help()
    for argv in (["--fault-every-dispatches", "0"], ["--replay-buffer", "-1"]):
        with pytest.raises(SystemExit):
            parser.parse_args(argv)


@pytest.mark.parametrize("module", [connection_module, faults_module])
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted > 0
