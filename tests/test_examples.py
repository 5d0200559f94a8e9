"""Every example against an emulator on loopback, checked by what the emulator saw
(REST messages, gateway commands, identifies, resumes, close codes, rule violations)
and by what the example's handlers received. In this process an example runs through
``rxgateway.run_async`` (its ``setup`` and its own options, the config pointed at the
test's emulator); as a script, through ``rxgateway.run`` with real signals."""

from __future__ import annotations

import ast
import asyncio
import functools
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from rxgateway import Config, FileSessionStore, InMemoryQueue, run_async
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
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


def config_for(emu: GatewayEmulator, example: Any, **changes: Any) -> Config:
    """The example's intents, the emulator's token and URLs, a queue told its window."""
    queue = InMemoryQueue(emu.config.max_concurrency, identify_interval=IDENTIFY_WINDOW)
    return Config(DEFAULT_TOKEN, example.INTENTS, gateway_url=emu.url, api_url=emu.api_url, queue=queue, **changes)


# -- ping_bot -------------------------------------------------------------------------


async def test_ping_bot_answers_ping_over_rest_and_joins_voice_on_the_owning_shard() -> None:
    ping_bot = load_example("ping_bot")
    async with emulator(shards=2, max_concurrency=2) as emu:
        guild = guild_on_shard(emu, 1, 2)
        channel = guild.text_channels[0]
        voice = guild.voice_channels[0]
        stop = asyncio.Event()
        bot = asyncio.create_task(
            run_async(
                ping_bot.setup,
                config=config_for(emu, ping_bot),
                parser=ping_bot.parser(),
                argv=["--voice-channel", str(voice.id)],
                stop=stop,
            )
        )
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
            "--voice-channel", str(guild.voice_channels[0].id),
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
            emu.dispatch("MESSAGE_CREATE", user_says(emu, guild, "!join"))
            await emu.wait_for(lambda: emu.messages_sent, timeout=EFFECT_TIMEOUT)
            await emu.wait_for(lambda: [c for c in emu.record.commands if c.op == 4], timeout=EFFECT_TIMEOUT)
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
        (join,) = [c for c in emu.record.commands if c.op == 4]  # the process's "!join", effect on the gateway
        assert join.data["channel_id"] == str(guild.voice_channels[0].id) and join.shard is not None
        assert join.shard.number == 0
        assert len(emu.record.connections) == 2
        assert all(c.close_received == 1000 for c in emu.record.connections)
        assert emu.violations == []


# -- request_members ------------------------------------------------------------------


async def test_request_members_collects_every_member_of_every_guild_by_nonce() -> None:
    request_members = load_example("request_members")
    async with emulator(shards=2, max_concurrency=2, guilds=5, large_guilds=1, large_guild_members=2100) as emu:
        world = emu.state.world
        counts: dict[int, int] = {}
        setup = functools.partial(request_members.setup, counts=counts)
        stop = asyncio.Event()
        bot = asyncio.create_task(run_async(setup, config=config_for(emu, request_members), stop=stop))
        try:
            await emu.wait_for(lambda: len(counts) == len(world.guilds), timeout=EFFECT_TIMEOUT)
        finally:
            stop.set()
            assert await asyncio.wait_for(bot, EFFECT_TIMEOUT) == 0

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


async def persist_once(emu: GatewayEmulator, state_file: Path, *, until: Any) -> list[int]:
    """One run of persist_session in this process, stopped once ``until()`` holds;
    the message ids it received."""
    persist_session = load_example("persist_session")
    received: list[int] = []
    stop = asyncio.Event()
    bot = asyncio.create_task(
        run_async(
            functools.partial(persist_session.setup, received=received),
            config=config_for(emu, persist_session),
            configure=persist_session.with_store,
            parser=persist_session.parser(),
            argv=["--state-file", str(state_file)],
            stop=stop,
        )
    )
    try:
        await emu.wait_for(until, timeout=EFFECT_TIMEOUT)
        await asyncio.sleep(0.1)  # what follows READY/RESUMED (GUILD_CREATEs, the replay) arrives
    finally:
        stop.set()
        assert await asyncio.wait_for(bot, EFFECT_TIMEOUT) == 0
    return received


async def test_persist_session_resumes_from_the_file_and_gets_the_missed_events(tmp_path: Path) -> None:
    state_file = tmp_path / "sessions.json"
    async with emulator(shards=2, max_concurrency=2) as emu:
        await persist_once(emu, state_file, until=lambda: sessions(emu) == 2)
        first_connections = list(emu.record.connections)

        saved = json.loads(state_file.read_text())["sessions"]
        assert state_file.stat().st_mode & 0o777 == 0o600
        assert set(saved) == {"0", "1"} and all(entry["shard"][1] == 2 for entry in saved.values())
        for number, entry in saved.items():
            (conn,) = [c for c in first_connections if c.shard is not None and c.shard.number == int(number)]
            assert entry["session_id"] == conn.session_id
            assert entry["resume_url"] == f"{emu.url}/resume"
        assert all(len(c.identifies) == 1 for c in first_connections)
        assert all(c.close_received == 4000 for c in first_connections)  # RESUME keeps the sessions

        # While the bot is down, users write to guilds of both shards.
        missed = [user_says(emu, guild_on_shard(emu, n % 2, 2), f"missed {n}") for n in range(6)]
        for message in missed:
            emu.dispatch("MESSAGE_CREATE", message)

        def resumed() -> bool:
            later = emu.record.connections[len(first_connections) :]
            return len(later) == 2 and all(c.resumes and c.resumes[0].accepted for c in later)

        received = await persist_once(emu, state_file, until=resumed)
        second_connections = emu.record.connections[len(first_connections) :]

        assert len(second_connections) == 2
        for conn in second_connections:
            assert conn.identifies == []  # no Identify at all: resumed from the file
            (resume,) = conn.resumes
            assert resume.accepted and resume.replayed == 3
            assert conn.path.startswith("/resume")  # connected to the saved resume_url
        assert sorted(received) == sorted(int(m["id"]) for m in missed)  # every missed event, once
        # The file now holds the same sessions, further along.
        resaved = json.loads(state_file.read_text())["sessions"]
        for number, entry in resaved.items():
            assert entry["session_id"] == saved[number]["session_id"]
            assert entry["sequence"] > saved[number]["sequence"]
        assert emu.violations == []


async def test_persist_session_identifies_when_the_file_is_for_another_shard_count(tmp_path: Path) -> None:
    state_file = tmp_path / "sessions.json"
    record = {"shard": [0, 3], "session_id": "x", "sequence": 5, "resume_url": "ws://127.0.0.1:1/resume",
              "saved_at": 1.0e9 * 1.7, "owner": "test"}  # fmt: skip
    state_file.write_text(json.dumps({"format": "rxgateway.sessions", "version": 1, "sessions": {"0": record}}))
    async with emulator(shards=1) as emu:
        await persist_once(emu, state_file, until=lambda: sessions(emu) == 1)
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
            "--seconds", "1.5",
        ]  # fmt: skip
        env = dict(os.environ, DISCORD_TOKEN=DEFAULT_TOKEN)
        logs = []
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
            logs.append(stdout.decode() + stderr.decode())

        assert "shard 0 identified" in logs[0] and "shard 1 identified" in logs[0]
        assert "shard 0 resumed" in logs[1] and "shard 1 resumed" in logs[1] and "identified" not in logs[1]
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
        report = routing.Report()
        stop = asyncio.Event()
        setup = functools.partial(routing.setup, report=report)
        bot = asyncio.create_task(
            run_async(setup, config=config_for(emu, routing), parser=routing.parser(),
                      argv=["--audited-guild", str(audited.id)], stop=stop)
        )  # fmt: skip
        try:
            await emu.wait_for(lambda: len(report.guilds) == len(world.guilds), timeout=EFFECT_TIMEOUT)
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
            assert await asyncio.wait_for(bot, EFFECT_TIMEOUT) == 0

        # Class key, async handler: every message, one task each.
        assert sorted(report.messages) == sorted(int(m["id"]) for m in said)
        # (class, predicate) key, pipeline: the known commands, parsed, in order.
        assert report.commands == [("help", []), ("roll", ["6"]), ("ping", [])]
        # Flags key, Observer: every guild from GUILD_CREATE, then on_completed at the end.
        assert set(report.guilds) == {g.id for g in world.guilds}
        assert report.completed
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
        report = reshard.Report()
        stop = asyncio.Event()
        bot = asyncio.create_task(
            run_async(functools.partial(reshard.setup, report=report), config=config_for(emu, reshard),
                      parser=reshard.parser(), argv=["--reshard-after", "0.3", "--to-shards", "3"], stop=stop)
        )  # fmt: skip
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
            assert await asyncio.wait_for(bot, EFFECT_TIMEOUT) == 0

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


# -- every example, as a script, against the runner's embedded emulator (--emulate) -----

#: Judged by what the embedded emulator recorded (the runner prints it at the end) and
#: by the example's own log lines.
SCRIPTS = [
    ("ping_bot", ["--say", "!ping", "--say", "!join", "--seconds", "3"],
     ["emulator: the bot said 'pong!'", "sent op 4", "close codes received [1000], rule violations 0"]),
    ("request_members", ["--seconds", "30"],
     ["sent op 8", ": 2501 members", "close codes received [1000], rule violations 0"]),
    ("persist_session", ["--seconds", "1", "--state-file", "../sessions.json"],
     ["shard 0 identified", "shard 1 identified", "close codes received [4000], rule violations 0"]),
    ("routing", ["--say", "!help", "--say", "!roll 6", "--say", "!nope", "--seconds", "3"],
     ["command ('help', [])", "command ('roll', ['6'])", "close codes received [1000], rule violations 0"]),
    ("reshard", ["--traffic", "200", "--reshard-after", "0.5", "--to-shards", "3", "--seconds", "5"],
     ["switched to 3 shards", "close codes received [1000], rule violations 0"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "argv", "expected"), SCRIPTS, ids=[name for name, _, _ in SCRIPTS])
async def test_example_script_runs_offline_with_emulate(name: str, argv: list[str], expected: list[str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / f"{name}.py"), "--emulate", *argv,
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    out = stdout.decode() + stderr.decode()
    assert process.returncode == 0, out
    for text in expected:
        assert text in out, out
    assert "Traceback" not in out
    assert list(cwd.iterdir()) == []  # nothing left behind in the working directory


def test_every_example_is_one_screen() -> None:
    """The bot's logic and a ``run(...)``: no argument parsing or emulator wiring of its own."""
    for script in sorted(EXAMPLES.glob("*.py")):
        text = script.read_text()
        assert len(text.splitlines()) <= 150, script.name
        assert "GatewayEmulator(" not in text and "add_signal_handler" not in text, script.name


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
        handled = [line.rsplit(": ", 1)[1] for m in moderators for line in m.out if " in guild " in line]
        assert sorted(handled) == sorted(repr(m["content"]) for m in said)
        # Stats (fan-out): everything, once, from the gateway's first event (the
        # messages said and the bot's own "pong!"); its last line, at exit.
        counts = stats_counts(stats)
        assert {name: counts[name] for name in expected} == expected
        assert all(r.said(f"{name}: stopped") for r, name in zip(roles, ["stats", "moderation", "moderation", "gateway"]))
        assert all(c.close_received == 1000 for c in emu.record.connections)
        assert emu.violations == []
