"""``rxgateway emulate --replay``: a recording served to a plain Shard, re-sequenced
for its session, routed by recorded shard or by guild, at a pace, across a resume."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import aiohttp
import orjson
import pytest

from rxgateway.config import Config
from rxgateway.emulator import DEFAULT_TOKEN, Fault, GatewayEmulator
from rxgateway.events.base import Dispatch
from rxgateway.events.messages import MessageCreate
from rxgateway.events.session_events import Ready
from rxgateway.protocol import EventTypeFlags, Intents, ShardId
from rxgateway.protocol.envelope import read_envelope
from rxgateway.record import Recorder, Recording
from rxgateway.shard import Shard
from rxgateway.tools.cli import build_parser
from rxgateway.tools.emulate import config_from_args, serve

from .support import SHARDS, TIMEOUT, Collector, LiveSession

#: A guild id (any snowflake does: one shard owns everything).
GUILD = 981346340044931072
#: Dispatches every emulated session gets from the emulator itself, not the recording.
OWN = ("READY", "RESUMED")


def recorded(path: Path, shard: int | None = None) -> list[str]:
    """The names of the replayable recorded dispatches (of ``shard``, or all), in order."""
    names = []
    for frame in Recording(path):
        op, _, name = read_envelope(frame.payload)
        if op == 0 and name not in OWN and (shard is None or frame.shard.number == shard):
            names.append(name or "")
    return names


def served(out: Collector) -> list[str]:
    return [e.name for e in out.events if isinstance(e, Dispatch) and e.name not in OWN]


async def wait_until(predicate: object, timeout: float = TIMEOUT) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.01)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_emulate_command_serves_a_recording_to_a_plain_shard(
    session: LiveSession, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    args = build_parser().parse_args(
        ["emulate", "--port", str(port), "--replay", str(session.path), "--replay-speed", "0",
         "--heartbeat-interval", "1000", "--identify-window", "0"]  # fmt: skip
    )
    assert config_from_args(args).shards == SHARDS  # GET /gateway/bot recommends the recording's count
    server = asyncio.get_running_loop().create_task(serve(args))
    try:
        async with aiohttp.ClientSession() as http:

            async def up() -> None:
                while True:
                    with contextlib.suppress(aiohttp.ClientError):
                        async with http.get(f"http://127.0.0.1:{port}/api/v10/gateway") as response:
                            if response.status == 200:
                                return
                    await asyncio.sleep(0.02)

            await asyncio.wait_for(up(), TIMEOUT)
            expected = recorded(session.path, shard=1)
            shard = Shard(ShardId(1, SHARDS), Config(DEFAULT_TOKEN, Intents.all(), gateway_url=f"ws://127.0.0.1:{port}"))
            out = Collector()
            shard.subscribe_flags(out, EventTypeFlags.all())
            async with shard:
                await wait_until(lambda: len(served(out)) >= len(expected))
                async with http.get(f"http://127.0.0.1:{port}/_emulator/record") as response:
                    report = await response.json()
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server
    assert served(out) == expected and "GUILD_CREATE" in expected
    sequences = [e.sequence for e in out.events if isinstance(e, Dispatch)]
    assert sequences == list(range(1, len(sequences) + 1))  # renumbered for this session
    ready = next(e for e in out.events if isinstance(e, Ready))
    recorded_ready = next(
        f for f in Recording(session.path) if f.shard.number == 1 and read_envelope(f.payload).t == "READY"
    )
    assert sorted(g.id for g in ready.guilds) == sorted(
        int(g["id"]) for g in orjson.loads(recorded_ready.payload)["d"]["guilds"]
    )
    assert report["replays"][0]["sent"] == len(expected) and report["replays"][0]["route"] == "shard"
    assert f"replay   {session.path}" in capsys.readouterr().out


async def test_guild_routing_serves_every_shard_count(session: LiveSession) -> None:
    async with GatewayEmulator(
        replay=session.path, replay_speed=None, replay_route="auto", heartbeat_interval_ms=1000, identify_window_s=0
    ) as emu:
        assert emu.replay is not None and emu.replay.shard_count == SHARDS
        shard = Shard(ShardId(0, 1), Config(DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url))
        out = Collector()
        shard.subscribe_flags(out, EventTypeFlags.all())
        expected = recorded(session.path)
        async with shard:
            await wait_until(lambda: len(served(out)) >= len(expected))
        assert emu.record.replays[0].route == "guild" and emu.record.replays[0].ended == "recording ended"
        assert not emu.violations
    # One shard owns every guild: it gets all of the recording, in recorded order.
    assert served(out) == expected


async def test_a_paced_replay_survives_a_resume(tmp_path: Path) -> None:
    count, step_ns = 40, 25_000_000  # one message every 25 ms: 1 s of traffic
    shard_id = ShardId(0, 1)
    path = tmp_path / "paced.jsonl.zst"
    guild = str(GUILD)
    with Recorder(path) as recorder:
        origin = recorder._origin_ns
        ready = {"session_id": "x", "guilds": [{"id": guild, "unavailable": True}], "user": {"id": "5", "username": "me"}}
        recorder.write(shard_id, origin, orjson.dumps({"t": "READY", "s": 1, "op": 0, "d": ready}))
        for i in range(count):
            d = {"id": str(i), "channel_id": "7", "guild_id": guild, "content": str(i), "author": {"id": "9"}}
            payload = orjson.dumps({"t": "MESSAGE_CREATE", "s": i + 2, "op": 0, "d": d})
            recorder.write(shard_id, origin + (i + 1) * step_ns, payload)
    async with GatewayEmulator(replay=path, replay_speed=2.0, heartbeat_interval_ms=500, identify_window_s=0) as emu:
        shard = Shard(shard_id, Config(DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url))
        out = Collector()
        shard.subscribe_flags(out, EventTypeFlags.all())
        async with shard:
            await wait_until(lambda: len(served(out)) >= 5)
            assert len(served(out)) < count  # paced: 0.5 s at x2, not all at once
            emu.inject(Fault.drop(), shard=0)
            await wait_until(lambda: len(served(out)) >= count)
        replayed = emu.record.replays[0]
        assert replayed.sent == replayed.scheduled == count
        assert any(r.accepted for c in emu.record.connections for r in c.resumes)
        assert not emu.violations
    ready_event = next(e for e in out.events if isinstance(e, Ready))
    assert [g.id for g in ready_event.guilds] == [GUILD] and ready_event.user.id == 5  # the recorded ones
    messages = [e for e in out.events if isinstance(e, MessageCreate)]
    assert [m.content for m in messages] == [str(i) for i in range(count)]
    sequences = [e.sequence for e in out.events if isinstance(e, Dispatch)]
    assert sequences == list(range(1, len(sequences) + 1))  # nothing lost, nothing twice


def test_replay_options_are_checked(session: LiveSession) -> None:
    with pytest.raises(ValueError):
        GatewayEmulator(replay=session.path, replay_route="nearest")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["emulate", "--replay", "x", "--replay-speed", "-1"])
    args = build_parser().parse_args(["emulate", "--replay", str(session.path), "--replay-speed", "0", "--shards", "1"])
    config = config_from_args(args)
    assert (config.shards, config.replay_speed, config.replay_route) == (1, None, "auto")
