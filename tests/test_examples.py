"""Every example against an emulator on loopback, checked by what the emulator saw
(REST messages, gateway commands, identifies, resumes, close codes, rule violations)
and by what the example's handlers received."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from rxgateway.emulator import DEFAULT_TOKEN
from rxgateway.protocol import shard_for_guild

from .examples_support import (
    EXAMPLES,
    IDENTIFY_WINDOW,
    emulator,
    guild_on_shard,
    load_example,
    sessions,
    user_says,
)

#: Bound on every wait for an effect; loopback answers in milliseconds.
EFFECT_TIMEOUT = 10.0


# -- ping_bot -------------------------------------------------------------------------


async def test_ping_bot_answers_ping_over_rest_and_joins_voice_on_the_owning_shard() -> None:
    ping_bot = load_example("ping_bot")
    async with emulator(shards=2, max_concurrency=2) as emu:
        guild = guild_on_shard(emu, 1, 2)
        channel = guild.text_channels[0]
        voice = guild.voice_channels[0]
        stop = asyncio.Event()
        options = ping_bot.Options(
            token=DEFAULT_TOKEN,
            gateway_url=emu.url,
            api_url=emu.api_url,
            voice_channel=voice.id,
            identify_interval=IDENTIFY_WINDOW,
        )
        bot = asyncio.create_task(ping_bot.run(options, stop=stop, handle_signals=False))
        try:
            await emu.wait_for(lambda: sessions(emu) == 2, timeout=EFFECT_TIMEOUT)
            emu.dispatch("MESSAGE_CREATE", user_says(emu, guild, "!ping"))
            emu.dispatch("MESSAGE_CREATE", user_says(emu, guild, "!join"))
            emu.dispatch("MESSAGE_CREATE", user_says(emu, guild, "hello"))  # not a command

            pongs = await emu.wait_for(lambda: emu.messages_sent, timeout=EFFECT_TIMEOUT)
            joins = await emu.wait_for(lambda: [c for c in emu.record.commands if c.op == 4], timeout=EFFECT_TIMEOUT)
        finally:
            stop.set()
            status = await asyncio.wait_for(bot, EFFECT_TIMEOUT)

        assert status == 0
        # REST: exactly one message, "pong!", in the channel the "!ping" came from.
        assert [(m.channel_id, m.content) for m in emu.messages_sent] == [(channel.id, "pong!")]
        assert pongs[0].payload == {"content": "pong!"}
        # Gateway: one op 4 for that guild and voice channel, on the shard that owns it.
        (join,) = joins
        assert join.data == {
            "guild_id": str(guild.id),
            "channel_id": str(voice.id),
            "self_mute": False,
            "self_deaf": False,
        }
        assert join.shard is not None and join.shard.number == shard_for_guild(guild.id, 2) == 1
        owner = next(c for c in emu.record.connections if c.id == join.connection_id)
        assert [c.op for c in owner.commands] == [4]
        # A clean shutdown: every connection closed by the bot with 1000.
        assert len(emu.record.connections) == 2
        assert all(c.close_received == 1000 for c in emu.record.connections)
        assert emu.violations == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_ping_bot_process_closes_cleanly_on_a_signal(signum: int, tmp_path: Path) -> None:
    async with emulator(shards=2, max_concurrency=2) as emu:
        guild = guild_on_shard(emu, 0, 2)
        env = dict(os.environ, DISCORD_TOKEN=DEFAULT_TOKEN, PYTHONUNBUFFERED="1")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLES / "ping_bot.py"),
            "--gateway-url", emu.url,
            "--api-url", emu.api_url,
            "--identify-interval", str(IDENTIFY_WINDOW),
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await emu.wait_for(lambda: sessions(emu) == 2, timeout=30)
            emu.dispatch("MESSAGE_CREATE", user_says(emu, guild, "!ping"))
            await emu.wait_for(lambda: emu.messages_sent, timeout=EFFECT_TIMEOUT)
            process.send_signal(signum)
            _, stderr = await asyncio.wait_for(process.communicate(), EFFECT_TIMEOUT)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

        log = stderr.decode()
        assert process.returncode == 0, log
        assert "shutting down" in log and "all shards closed" in log
        assert "[shard=0 message=" in log  # the handler's span
        assert [m.content for m in emu.messages_sent] == ["pong!"]
        assert len(emu.record.connections) == 2
        assert all(c.close_received == 1000 for c in emu.record.connections)
        assert emu.violations == []


# -- request_members ------------------------------------------------------------------


async def test_request_members_collects_every_member_of_every_guild_by_nonce() -> None:
    request_members = load_example("request_members")
    async with emulator(shards=2, max_concurrency=2, guilds=5, large_guilds=1, large_guild_members=2100) as emu:
        world = emu.state.world
        options = request_members.Options(
            token=DEFAULT_TOKEN,
            gateway_url=emu.url,
            api_url=emu.api_url,
            guilds=len(world.guilds),
            seconds=EFFECT_TIMEOUT,
            identify_interval=IDENTIFY_WINDOW,
        )
        counts = await request_members.run(options)

        # Every member the world holds (and the bot itself, a member of each guild).
        assert counts == {g.id: len(world.members(g)) + 1 for g in world.guilds}
        assert counts[world.guilds[0].id] == 2101  # three chunks: 1000, 1000, 101
        # One op 8 per guild, with its nonce, each on the shard that owns the guild.
        requests = [c for c in emu.record.commands if c.op == 8]
        assert sorted(int(c.data["guild_id"]) for c in requests) == sorted(g.id for g in world.guilds)
        for command in requests:
            guild_id = int(command.data["guild_id"])
            assert command.data["nonce"] == request_members.nonce_for(guild_id)
            assert (command.data["query"], command.data["limit"]) == ("", 0)
            assert command.shard is not None and command.shard.number == shard_for_guild(guild_id, 2)
        assert all(c.close_received == 1000 for c in emu.record.connections)
        assert emu.violations == []


# -- persist_session ------------------------------------------------------------------


async def test_persist_session_resumes_from_the_file_and_gets_the_missed_events(tmp_path: Path) -> None:
    persist_session = load_example("persist_session")
    state_file = tmp_path / "sessions.json"
    async with emulator(shards=2, max_concurrency=2) as emu:
        options = persist_session.Options(
            token=DEFAULT_TOKEN,
            state_file=state_file,
            gateway_url=emu.url,
            api_url=emu.api_url,
            seconds=0.1,
            identify_interval=IDENTIFY_WINDOW,
        )
        first = await persist_session.run(options)
        first_connections = list(emu.record.connections)

        saved = json.loads(state_file.read_text())
        assert state_file.stat().st_mode & 0o777 == 0o600
        assert saved["shards"] == 2 and set(saved["sessions"]) == {"0", "1"}
        for number, entry in saved["sessions"].items():
            (conn,) = [c for c in first_connections if c.shard is not None and c.shard.number == int(number)]
            assert entry["session"]["id"] == conn.session_id
            assert entry["resume_url"] == f"{emu.url}/resume"
        assert all(c.close_received == 4000 for c in first_connections)  # RESUME keeps the sessions
        assert sorted(first.identified) == [0, 1] and first.resumed == []

        # While the bot is down, users write to guilds of both shards.
        missed = [user_says(emu, guild_on_shard(emu, n % 2, 2), f"missed {n}") for n in range(6)]
        for message in missed:
            emu.dispatch("MESSAGE_CREATE", message)

        second = await persist_session.run(options)
        second_connections = emu.record.connections[len(first_connections) :]

        assert len(second_connections) == 2
        for conn in second_connections:
            assert conn.identifies == []  # no Identify at all: resumed from the file
            (resume,) = conn.resumes
            assert resume.accepted and resume.replayed == 3
            assert conn.path.startswith("/resume")  # connected to the saved resume_url
        assert sorted(second.resumed) == [0, 1] and second.identified == []
        assert sorted(second.messages) == sorted(int(m["id"]) for m in missed)  # every missed event, once
        # The file now holds the same sessions, further along.
        resaved = json.loads(state_file.read_text())
        for number, entry in resaved["sessions"].items():
            assert entry["session"]["id"] == saved["sessions"][number]["session"]["id"]
            assert entry["session"]["sequence"] > saved["sessions"][number]["session"]["sequence"]
        assert emu.violations == []


async def test_persist_session_identifies_when_the_file_is_for_another_shard_count(tmp_path: Path) -> None:
    persist_session = load_example("persist_session")
    state_file = tmp_path / "sessions.json"
    saved = {"session": {"id": "x", "sequence": 5}, "resume_url": "ws://127.0.0.1:1/resume"}
    state_file.write_text(json.dumps({"shards": 3, "sessions": {"0": saved}}))
    async with emulator(shards=1) as emu:
        options = persist_session.Options(
            token=DEFAULT_TOKEN, state_file=state_file, gateway_url=emu.url, api_url=emu.api_url, seconds=0.0
        )
        report = await persist_session.run(options)
        assert report.identified == [0] and report.resumed == []
        (conn,) = emu.record.connections
        assert len(conn.identifies) == 1 and conn.resumes == []
        assert emu.violations == []


async def test_persist_session_resumes_across_two_processes(tmp_path: Path) -> None:
    state_file = tmp_path / "sessions.json"
    async with emulator(shards=2, max_concurrency=2) as emu:
        argv = [
            str(EXAMPLES / "persist_session.py"),
            "--gateway-url", emu.url,
            "--api-url", emu.api_url,
            "--state-file", str(state_file),
            "--identify-interval", str(IDENTIFY_WINDOW),
            "--seconds", "0.1",
        ]  # fmt: skip
        env = dict(os.environ, DISCORD_TOKEN=DEFAULT_TOKEN)
        outputs = []
        for run in range(2):
            if run == 1:
                emu.dispatch("MESSAGE_CREATE", user_says(emu, guild_on_shard(emu, 1, 2), "while down"))
            process = await asyncio.create_subprocess_exec(
                sys.executable, *argv, env=env, cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            try:
                stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            assert process.returncode == 0, stderr.decode()
            outputs.append(stdout.decode())

        assert "resumed [], identified [0, 1], messages received 0" in outputs[0]
        assert "resumed [0, 1], identified [], messages received 1" in outputs[1]
        first, second = emu.record.connections[:2], emu.record.connections[2:]
        assert all(len(c.identifies) == 1 and c.close_received == 4000 for c in first)
        assert len(second) == 2 and all(c.identifies == [] and c.resumes[0].accepted for c in second)
        assert sum(c.resumes[0].replayed for c in second) == 1
        assert emu.violations == []


# -- routing --------------------------------------------------------------------------


async def test_routing_sends_each_event_to_its_handlers_and_survives_a_raising_one() -> None:
    routing = load_example("routing")
    async with emulator(shards=2, max_concurrency=2) as emu:
        world = emu.state.world
        audited = guild_on_shard(emu, 1, 2)
        other = guild_on_shard(emu, 0, 2)
        options = routing.Options(
            token=DEFAULT_TOKEN,
            gateway_url=emu.url,
            api_url=emu.api_url,
            audited_guild=audited.id,
            identify_interval=IDENTIFY_WINDOW,
        )
        report = routing.Report()
        stop = asyncio.Event()
        bot = asyncio.create_task(routing.run(options, stop=stop, report=report))
        try:
            await asyncio.wait_for(report.ready.wait(), EFFECT_TIMEOUT)
            typist = world.members(audited)[1]
            for n in range(3):  # the buggy handler raises on each of these first
                emu.dispatch(
                    "TYPING_START",
                    {"channel_id": str(audited.text_channels[0].id), "guild_id": str(audited.id),
                     "user_id": str(typist.id), "timestamp": 1_751_371_200 + n},
                )  # fmt: skip
            said = [
                user_says(emu, audited, "!help"),
                user_says(emu, audited, "!roll 6"),
                user_says(emu, other, "!nonsense"),  # an unknown command: the pipeline drops it
                user_says(emu, other, "!"),  # no command at all: dropped, and the pipeline goes on
                user_says(emu, other, "hello"),
                user_says(emu, audited, "!ping"),
            ]
            for message in said:
                emu.dispatch("MESSAGE_CREATE", message)
            await emu.wait_for(lambda: len(report.messages) == len(said), timeout=EFFECT_TIMEOUT)
        finally:
            stop.set()
            await asyncio.wait_for(bot, EFFECT_TIMEOUT)

        # Class key, async handler: every message, one task each.
        assert sorted(report.messages) == sorted(int(m["id"]) for m in said)
        # (class, predicate) key, pipeline: the known commands, parsed, in order.
        assert report.commands == [("help", []), ("roll", ["6"]), ("ping", [])]
        # Flags key, Observer: every guild from GUILD_CREATE, then on_completed at the end.
        assert set(report.directory.guilds) == {g.id for g in world.guilds}
        assert report.directory.completed
        # Predicate key: every event of the audited guild and none of another.
        assert report.audited == ["GUILD_CREATE", "TYPING_START", "TYPING_START", "TYPING_START",
                                  "MESSAGE_CREATE", "MESSAGE_CREATE", "MESSAGE_CREATE"]  # fmt: skip
        # The raising handler: called for each typing event, each failure reported with
        # its key and event, and the handlers after it got theirs.
        assert report.typing_calls == 3
        assert len(report.failures) == 3
        assert all(f.key is routing.TypingStart and isinstance(f.error, RuntimeError) for f in report.failures)
        assert [f.event.name for f in report.failures] == ["TYPING_START"] * 3
        assert emu.violations == []


# -- reshard --------------------------------------------------------------------------


async def test_reshard_switches_sets_without_losing_or_repeating_a_message() -> None:
    reshard = load_example("reshard")
    async with emulator(shards=2, max_concurrency=2, guilds=8) as emu:
        guilds = emu.state.world.guilds
        options = reshard.Options(
            token=DEFAULT_TOKEN,
            gateway_url=emu.url,
            api_url=emu.api_url,
            reshard_after=0.3,
            to_shards=3,
            identify_interval=IDENTIFY_WINDOW,
        )
        report = reshard.Report()
        stop = asyncio.Event()
        bot = asyncio.create_task(reshard.run(options, stop=stop, report=report))
        sent: list[int] = []

        async def talk() -> None:
            """A message every 5 ms, to every guild in turn, until 0.3 s after the switch."""
            after_switch: float | None = None
            loop = asyncio.get_running_loop()
            for n in range(4000):  # bounded: 20 s at most
                guild = guilds[n % len(guilds)]
                message = user_says(emu, guild, f"message {n}")
                emu.dispatch("MESSAGE_CREATE", message)
                sent.append(int(message["id"]))
                if report.switched.is_set():
                    after_switch = after_switch or loop.time() + 0.3
                    if loop.time() >= after_switch:
                        return
                await asyncio.sleep(0.005)

        try:
            await asyncio.wait_for(report.ready.wait(), EFFECT_TIMEOUT)
            emu.start_traffic(100, "messages=1")  # the emulator's own traffic as well
            await asyncio.wait_for(talk(), 30)
            emu.stop_traffic()
            await emu.wait_for(lambda: set(sent) <= set(report.delivered), timeout=EFFECT_TIMEOUT)
        finally:
            emu.stop_traffic()
            stop.set()
            await asyncio.wait_for(bot, EFFECT_TIMEOUT)

        assert report.totals == [2, 3]
        # None repeated, none missing, while both sets were receiving.
        assert len(report.delivered) == len(set(report.delivered))
        assert set(sent) <= set(report.delivered)
        assert report.duplicates_dropped > 0  # there was an overlap, and the dedupe worked in it
        # The old set ended its sessions (1000); the new set identified each shard once.
        old = [c for c in emu.record.connections if c.shard is not None and c.shard.total == 2]
        new = [c for c in emu.record.connections if c.shard is not None and c.shard.total == 3]
        assert len(old) == 2 and all(c.close_received == 1000 for c in old)
        assert sorted(c.shard.number for c in new if c.shard is not None) == [0, 1, 2]
        assert all(len(c.identifies) == 1 and c.identifies[0].accepted for c in new)
        # Identifies of both sets, bucket by bucket, at least one window apart.
        by_bucket: dict[int, list[float]] = {}
        for identify in emu.record.identifies():
            by_bucket.setdefault(identify.bucket, []).append(identify.time)
        for times in by_bucket.values():
            assert all(b - a >= IDENTIFY_WINDOW for a, b in zip(times, times[1:]))
        assert emu.violations == []


# -- every example, as a script, against its embedded emulator ---------------------------


@pytest.mark.parametrize(
    ("name", "argv", "expected"),
    [
        ("ping_bot", ["--seconds", "1"], ["the bot said 'pong!'", "sent a voice state update", "rule violations 0"]),
        ("request_members", [], ["all members collected"]),
        ("persist_session", ["--seconds", "0.2"], ["resumed shards [0, 1], identified []", "replayed 6/6"]),
        ("routing", ["--seconds", "1"], ["commands [('help', []), ('roll', ['6'])]", "failures reported"]),
        ("reshard", [], ["shard counts: 2 -> 3", "handled twice: 0", "rule violations: 0"]),
        ("bus_services", [], ["the bot said 'pong!'", "sent a voice state update", "rule violations 0"]),
    ],
)
async def test_example_script_runs_against_its_embedded_emulator(
    name: str, argv: list[str], expected: list[str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / f"{name}.py"), *argv,
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    out = stdout.decode()
    assert process.returncode == 0, out + stderr.decode()
    for text in expected:
        assert text in out
    assert list(tmp_path.iterdir()) == []  # nothing left behind in the working directory


# -- bus_services ---------------------------------------------------------------------


class Role:
    """One role of ``bus_services.py`` as a process; its output lines as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.out: list[str] = []
        self.err: list[str] = []
        assert process.stdout is not None and process.stderr is not None
        self.readers = [
            asyncio.create_task(self._read(process.stdout, self.out)),
            asyncio.create_task(self._read(process.stderr, self.err)),
        ]

    @staticmethod
    async def _read(stream: asyncio.StreamReader, lines: list[str]) -> None:
        async for line in stream:
            lines.append(line.decode().rstrip("\n"))

    @classmethod
    async def start(cls, *argv: str, cwd: Path) -> Role:
        env = dict(os.environ, DISCORD_TOKEN=DEFAULT_TOKEN)
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(EXAMPLES / "bus_services.py"), *argv,
            env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(process)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.out + self.err)

    async def stop(self) -> int:
        """SIGTERM, then its exit status (killed after 15 s)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            await asyncio.gather(*self.readers)
        assert self.process.returncode is not None
        return self.process.returncode


def stats_counts(stats: Role) -> dict[str, int]:
    """The counts of the stats service's last report (``stats: 12 events: {...}``)."""
    reports = [line for line in stats.out if " events: " in line]
    return ast.literal_eval(reports[-1].split(" events: ", 1)[1]) if reports else {}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["nats", "redis"])
async def test_bus_services_gateway_and_two_services_as_processes_on_a_real_broker(kind: str, tmp_path: Path) -> None:
    from rxgateway.tools.nats_server import NatsServer
    from rxgateway.tools.redis_server import RedisServer

    with (NatsServer() if kind == "nats" else RedisServer()) as server:
        async with emulator(shards=2, max_concurrency=2) as emu:
            bus = ["--bus", server.url]
            roles: list[Role] = []
            try:
                # The services first: a consumer gets what is published from its start on.
                stats = await Role.start("stats", *bus, "--every", "0.2", cwd=tmp_path)
                roles.append(stats)
                moderators = [await Role.start("moderation", *bus, "--api-url", emu.api_url, cwd=tmp_path) for _ in range(2)]
                roles += moderators
                await emu.wait_for(lambda: all(r.said("consuming") or r.said("counting") for r in roles), timeout=20)
                gateway = await Role.start(
                    "gateway", *bus, "--gateway-url", emu.url, "--api-url", emu.api_url,
                    "--identify-interval", str(IDENTIFY_WINDOW), cwd=tmp_path,
                )  # fmt: skip
                roles.append(gateway)
                await emu.wait_for(lambda: sessions(emu) == 2, timeout=20)
                guild = guild_on_shard(emu, 1, 2)
                said = []
                async with asyncio.timeout(EFFECT_TIMEOUT):
                    while not any(m.said("'hello'") for m in moderators):  # the group hears messages
                        said.append(user_says(emu, guild, "hello"))
                        emu.dispatch("MESSAGE_CREATE", said[-1])
                        await asyncio.sleep(0.2)
                voice = guild.voice_channels[0].id
                said += [user_says(emu, guild, "!ping"), user_says(emu, guild, f"!join {voice}")]
                emu.dispatch("MESSAGE_CREATE", said[-2])
                emu.dispatch("MESSAGE_CREATE", said[-1])
                await emu.wait_for(lambda: emu.messages_sent, timeout=EFFECT_TIMEOUT)
                await emu.wait_for(lambda: [c for c in emu.record.commands if c.op == 4], timeout=EFFECT_TIMEOUT)
                # Stats: every event from the gateway's first (a fan-out of every type on
                # Redis notices a new type's stream within a second or two, then reads it whole).
                expected = {"READY": 2, "GUILD_CREATE": len(emu.state.world.guilds), "MESSAGE_CREATE": len(said) + 1}
                await emu.wait_for(lambda: stats_counts(stats).items() >= expected.items(), timeout=EFFECT_TIMEOUT)
                await asyncio.sleep(0.5)  # time for a second answer or count, if there were one
            finally:
                statuses = [await role.stop() for role in roles]
                for role in roles:  # shown by pytest when the test fails
                    print(*role.out, *role.err, sep="\n")

        assert statuses == [0] * len(roles), "\n".join(line for r in roles for line in r.out + r.err)
        # Moderation: "!ping" answered once over REST, in the channel it came from,
        # by one member of the group; "!join" sent through the bus to the guild's shard.
        assert [(m.channel_id, m.content) for m in emu.messages_sent] == [(guild.text_channels[0].id, "pong!")]
        (join,) = [c for c in emu.record.commands if c.op == 4]
        assert join.data == {"guild_id": str(guild.id), "channel_id": str(voice), "self_mute": False, "self_deaf": False}
        assert join.shard is not None and join.shard.number == shard_for_guild(guild.id, 2) == 1
        pongs = [line for m in moderators for line in m.out if "said pong" in line]
        assert len(pongs) == 1
        # Each message went to one member of the group, never to both.
        handled = [line.rsplit(": ", 1)[1] for m in moderators for line in m.err if " in guild " in line]
        assert sorted(handled) == sorted(repr(m["content"]) for m in said)
        # Stats (fan-out): everything, once, from the gateway's first event (the
        # messages said and the bot's own "pong!"); its last line, at exit.
        counts = stats_counts(stats)
        assert {name: counts[name] for name in expected} == expected
        assert all(r.said(f"{name}: stopped") for r, name in zip(roles, ["stats", "moderation", "moderation", "gateway"]))
        assert all(c.close_received == 1000 for c in emu.record.connections)
        assert emu.violations == []
