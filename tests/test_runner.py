"""``rxgateway.run`` / ``run_async``: real signals to a real process running a tiny bot
with ``--emulate``, and the async form in this process against an emulator on loopback.
Judged by what the emulator saw (REST calls, close codes) and the exit status."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from rxgateway import Config, InMemoryQueue, Intents, MemorySessionStore, ops, run_async
from rxgateway.emulator import DEFAULT_TOKEN
from rxgateway.errors import HTTPError
from rxgateway.events import MessageCreate
from rxgateway.runner import EXIT_FAILED, EXIT_FORCED, EXIT_OK, EXIT_USAGE, Bot

from .examples_support import IDENTIFY_WINDOW, emulator, guild_on_shard, sessions, user_says

EFFECT_TIMEOUT = 15.0
INTENTS = Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT

TINY_BOT = textwrap.dedent(
    """
    import asyncio
    from rxgateway import Intents, ops, run
    from rxgateway.events import MessageCreate

    def setup(bot):
        async def pong(m):
            await bot.rest("POST", f"/channels/{m.channel_id}/messages", json={"content": "pong!"})
            print("pong sent", flush=True)
        async def slow(m):
            print("slow started", flush=True)
            await asyncio.sleep(120)
        def boom(m):
            raise RuntimeError("boom")
        return bot.shards.pipe(ops.route({
            (MessageCreate, lambda m: m.content == "!ping"): pong,
            (MessageCreate, lambda m: m.content == "!slow"): slow,
            (MessageCreate, lambda m: m.content == "!boom"): boom,
        }))

    raise SystemExit(run(setup, intents=Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT))
    """
)


class Process:
    """The tiny bot as a process; its output lines as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        assert process.stdout is not None and process.stderr is not None
        self.readers = [asyncio.create_task(self._read(s)) for s in (process.stdout, process.stderr)]

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for line in stream:
            self.lines.append(line.decode().rstrip("\n"))

    @classmethod
    async def start(cls, tmp_path: Path, *argv: str) -> Process:
        script = tmp_path / "tiny_bot.py"
        script.write_text(TINY_BOT)
        env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(script), *argv, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(process)

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    async def wait_said(self, text: str) -> None:
        async with asyncio.timeout(30):
            while not self.said(text):
                assert self.process.returncode is None, "\n".join(self.lines)
                await asyncio.sleep(0.05)

    async def wait(self) -> int:
        try:
            await asyncio.wait_for(self.process.wait(), EFFECT_TIMEOUT)
        finally:
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
            await asyncio.gather(*self.readers)
        assert self.process.returncode is not None
        return self.process.returncode


@pytest.mark.timeout(60)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_a_signal_closes_the_emulated_bot_cleanly_and_exits_0(signum: int, tmp_path: Path) -> None:
    bot = await Process.start(tmp_path, "--emulate", "--say", "!boom", "--say", "!ping")
    await bot.wait_said("pong sent")
    bot.process.send_signal(signum)
    status = await bot.wait()
    out = "\n".join(bot.lines)
    assert status == EXIT_OK, out
    # The embedded emulator's record, as the runner prints it at the end.
    assert "emulator: the bot said 'pong!'" in out
    assert "close codes received [1000], rule violations 0" in out
    # "!boom" raised: logged, and "!ping" after it was still answered.
    assert "RuntimeError('boom')" in out
    assert "shutting down (close 1000)" in out and "all shards closed" in out
    assert DEFAULT_TOKEN not in out


@pytest.mark.timeout(60)
async def test_a_second_signal_forces_the_exit_while_a_handler_is_drained(tmp_path: Path) -> None:
    bot = await Process.start(tmp_path, "--emulate", "--say", "!slow")
    await bot.wait_said("slow started")
    bot.process.send_signal(signal.SIGINT)
    await bot.wait_said("shutting down")  # now draining the 120 s handler
    bot.process.send_signal(signal.SIGINT)
    status = await bot.wait()
    out = "\n".join(bot.lines)
    assert status == EXIT_FORCED, out
    assert "again: forcing the exit" in out
    assert "close codes received [1000]" in out  # the shards had closed cleanly before


async def test_without_a_token_the_runner_says_so_and_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert await run_async(lambda bot: None, intents=INTENTS, argv=[]) == EXIT_USAGE


async def test_run_async_drains_a_running_handler_before_it_returns() -> None:
    async with emulator(shards=2, max_concurrency=2) as emu:
        guild = guild_on_shard(emu, 0, 2)
        config = Config(DEFAULT_TOKEN, INTENTS, gateway_url=emu.url, api_url=emu.api_url,
                        queue=InMemoryQueue(2, identify_interval=IDENTIFY_WINDOW))  # fmt: skip
        stop = asyncio.Event()
        started = asyncio.Event()
        seen: list[Bot] = []

        def setup(bot: Bot) -> Any:
            seen.append(bot)

            async def slow_pong(message: MessageCreate) -> None:
                started.set()
                await asyncio.sleep(0.5)  # still running when the stop comes
                await bot.rest("POST", f"/channels/{message.channel_id}/messages", json={"content": "pong!"})

            return bot.shards.pipe(ops.route({(MessageCreate, lambda m: m.content == "!ping"): slow_pong}))

        task = asyncio.create_task(run_async(setup, config=config, stop=stop))
        try:
            await emu.wait_for(lambda: sessions(emu) == 2, timeout=EFFECT_TIMEOUT)
            emu.dispatch("MESSAGE_CREATE", user_says(emu, guild, "!ping"))
            await asyncio.wait_for(started.wait(), EFFECT_TIMEOUT)
            stop.set()
            status = await asyncio.wait_for(task, EFFECT_TIMEOUT)
        finally:
            stop.set()
            if not task.done():
                task.cancel()
        assert status == EXIT_OK
        # The handler finished (its REST call reached the emulator) before run_async returned,
        # though the shards had closed first.
        assert [(m.channel_id, m.content) for m in emu.messages_sent] == [(guild.text_channels[0].id, "pong!")]
        assert all(c.close_received == 1000 for c in emu.record.connections)
        (bot,) = seen
        assert bot.emulator is None and bot.config.gateway_url == emu.url
        assert emu.violations == []


async def test_run_async_with_a_session_store_closes_with_resume_and_keeps_the_sessions() -> None:
    store = MemorySessionStore()
    async with emulator(shards=1) as emu:
        config = Config(DEFAULT_TOKEN, INTENTS, gateway_url=emu.url, api_url=emu.api_url, session_store=store)
        stop = asyncio.Event()
        task = asyncio.create_task(run_async(None, config=config, stop=stop))
        await emu.wait_for(lambda: sessions(emu) == 1, timeout=EFFECT_TIMEOUT)
        stop.set()
        assert await asyncio.wait_for(task, EFFECT_TIMEOUT) == EXIT_OK
        (conn,) = emu.record.connections
        assert conn.close_received == 4000  # RESUME: the session lives on
        from rxgateway import ShardId

        record = await store.load(ShardId(0, 1))
        assert record is not None and record.session.id == conn.session_id


async def test_run_async_reports_a_gateway_that_refuses_the_token() -> None:
    async with emulator(shards=1) as emu:
        config = Config("not-the-token", INTENTS, gateway_url=emu.url, api_url=emu.api_url)
        status = await asyncio.wait_for(run_async(None, config=config), EFFECT_TIMEOUT)
        assert status == EXIT_FAILED


async def test_run_async_emulate_and_say_in_process() -> None:
    replies: list[str] = []

    def setup(bot: Bot) -> Any:
        async def pong(message: MessageCreate) -> None:
            answer = await bot.rest("POST", f"/channels/{message.channel_id}/messages", json={"content": "pong!"})
            replies.append(answer["content"])
            bot.stop()

        return bot.shards.pipe(ops.route({(MessageCreate, lambda m: m.content == "!ping"): pong}))

    status = await asyncio.wait_for(
        run_async(setup, intents=INTENTS, emulate=True, say=["!ping"], emulator={"guilds": 2}), 30
    )
    assert status == EXIT_OK and replies == ["pong!"]


async def test_bot_rest_errors_name_the_call_never_the_token() -> None:
    async with emulator(shards=1) as emu:
        failures: list[HTTPError] = []

        def setup(bot: Bot) -> None:
            async def call() -> None:
                try:
                    await bot.rest("GET", "/no/such/route")
                except HTTPError as exc:
                    failures.append(exc)
                bot.stop()

            asyncio.get_running_loop().create_task(call())

        config = Config(DEFAULT_TOKEN, INTENTS, gateway_url=emu.url, api_url=emu.api_url)
        assert await asyncio.wait_for(run_async(setup, config=config), EFFECT_TIMEOUT) == EXIT_OK
    (failure,) = failures
    assert failure.status == 404 and "GET /no/such/route: HTTP 404" in str(failure)
    assert DEFAULT_TOKEN not in repr(failure) and DEFAULT_TOKEN not in str(failure)


@pytest.mark.timeout(60)
async def test_the_rxgateway_run_command_closes_cleanly_on_sigint(tmp_path: Path) -> None:
    """``rxgateway run`` uses the runner's signal handling (stop_on_signals)."""
    async with emulator(shards=2, max_concurrency=2) as emu:
        env = dict(os.environ, DISCORD_TOKEN=DEFAULT_TOKEN)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rxgateway", "run", "--gateway-url", emu.url, "--api-url", emu.api_url,
            env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await emu.wait_for(lambda: sessions(emu) == 2, timeout=30)
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(process.communicate(), EFFECT_TIMEOUT)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, stderr.decode()
        assert all(c.close_received == 1000 for c in emu.record.connections)
        assert emu.violations == []


async def test_a_setup_that_raises_is_the_caller_s_error_and_nothing_is_left_running() -> None:
    async with emulator(shards=1) as emu:
        config = Config(DEFAULT_TOKEN, INTENTS, gateway_url=emu.url, api_url=emu.api_url)

        def setup(bot: Bot) -> None:
            raise ValueError("a wiring bug")

        before = asyncio.all_tasks()
        with pytest.raises(ValueError, match="a wiring bug"):
            await asyncio.wait_for(run_async(setup, config=config), EFFECT_TIMEOUT)
        assert emu.record.connections == []  # never connected
        assert asyncio.all_tasks() - before == set()
