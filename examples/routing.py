"""Declarative routing: one ``ops.route`` table sends each event to every handler
whose key it matches, as one subscription.

    DISCORD_TOKEN=... python examples/routing.py --gateway-url wss://gateway.discord.gg --seconds 30
    python examples/routing.py           # an embedded emulator with live traffic and a few commands

The table shows each kind of key and handler::

    MessageCreate                                   -> async def: one task per message (ops.spawn's pool)
    GUILD_CREATE | GUILD_DELETE (flags)             -> an Observer: the guild directory
    (MessageCreate, starts with "!") (class+pred)   -> a pipeline: parse, keep known commands, sink
    lambda e: e.guild_id == AUDITED (predicate)     -> a plain function: the audit log of one guild
    TypingStart                                     -> a handler with a bug: it raises every time

A handler that raises is reported on the ``errors`` Subject as a ``HandlerError``
(which key, which handler, which event) and the route goes on: the other handlers
get every event, and the failing one keeps being called. When the shards close,
the route ends: the Observer hears ``on_completed`` and ``routing.join()`` waits for
the last handler tasks.

Note the bare predicate: it must see every event, so the route asks the shards to
parse every type. Pair a predicate with a class or flags, ``(MessageCreate, pred)``,
to keep the push-down.

Entry points for tests: :func:`run` (fills and returns a :class:`Report`) and :func:`main`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reactivex.subject import Subject

from rxgateway import (
    DEFAULT_API_URL,
    Config,
    EventTypeFlags,
    InMemoryQueue,
    Intents,
    create_recommended,
    ops,
)
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.events import Dispatch, GuildCreate, GuildDelete, MessageCreate, TypingStart
from rxgateway.ops import HandlerError
from rxgateway.protocol import snowflake_from_time_ms
from rxgateway.queue import IDENTIFY_INTERVAL

log = logging.getLogger("routing")

INTENTS = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT | Intents.GUILD_MESSAGE_TYPING
#: Commands the pipeline knows; others are dropped by its filter.
KNOWN_COMMANDS = frozenset({"help", "roll", "ping"})
EMBEDDED_SHARDS = 2
EMBEDDED_IDENTIFY_WINDOW = 0.5
EMBEDDED_RATE = 50.0
EMBEDDED_SECONDS = 2.0


@dataclass(frozen=True)
class Options:
    token: str
    gateway_url: str | None = None
    api_url: str = DEFAULT_API_URL
    #: The guild whose every event goes to the audit log (``None``: none).
    audited_guild: int | None = None
    #: Stop after this long (``None``: only when ``stop`` is set).
    seconds: float | None = None
    identify_interval: float | None = None


class GuildDirectory:
    """An Observer handler: the guilds the bot is in, kept from GUILD_CREATE/DELETE."""

    def __init__(self) -> None:
        self.guilds: dict[int, str] = {}
        self.completed = False

    def on_next(self, event: Dispatch) -> None:
        if isinstance(event, GuildCreate) and not event.unavailable:
            self.guilds[event.id] = event.guild_name
        elif isinstance(event, GuildDelete):
            self.guilds.pop(event.guild_id, None)

    def on_error(self, error: Exception) -> None:
        log.error("the shards failed: %s", error)

    def on_completed(self) -> None:
        self.completed = True


@dataclass
class Report:
    """What each handler received; readable while the bot runs."""

    #: Message ids handled by the async handler.
    messages: list[int] = field(default_factory=list)
    #: ``(command, arguments)`` out of the pipeline.
    commands: list[tuple[str, list[str]]] = field(default_factory=list)
    #: Event names of the audited guild, in order.
    audited: list[str] = field(default_factory=list)
    #: How often the buggy typing handler was called.
    typing_calls: int = 0
    #: Every failure reported on the route's error stream.
    failures: list[HandlerError] = field(default_factory=list)
    #: The Observer handler: guilds by id.
    directory: GuildDirectory = field(default_factory=GuildDirectory)
    #: Set once every shard is active.
    ready: asyncio.Event = field(default_factory=asyncio.Event)


def parse_command(message: MessageCreate) -> tuple[str, list[str]]:
    """``"!roll 6"`` -> ``("roll", ["6"])``; a bare ``"!"`` -> ``("", [])``.

    It must not raise: a pipeline whose operator raises is reported and stays
    stopped (Rx semantics), so a crash here would end the command handling."""
    words = message.content[1:].split()
    return (words[0].lower(), words[1:]) if words else ("", [])


async def run(options: Options, *, stop: asyncio.Event | None = None, report: Report | None = None) -> Report:
    """Route the shards' events until ``stop`` is set or ``options.seconds`` passed.
    Pass a ``report`` to watch it fill while the bot runs."""
    report = report or Report()
    interval = IDENTIFY_INTERVAL if options.identify_interval is None else options.identify_interval
    queue = InMemoryQueue(identify_interval=interval)
    config = Config(options.token, INTENTS, api_url=options.api_url, queue=queue)
    if options.gateway_url is not None:
        config = config.replace(gateway_url=options.gateway_url)
    shards = await create_recommended(config)

    async def on_message(message: MessageCreate) -> None:
        await asyncio.sleep(0)  # stands for real work: a REST call, a database write
        report.messages.append(message.id)

    def on_typing(event: TypingStart) -> None:
        report.typing_calls += 1
        raise RuntimeError(f"typing handler bug (user {event.user_id})")

    failures: Subject[HandlerError] = Subject()
    failures.subscribe(report.failures.append)
    table: dict[Any, Any] = {
        MessageCreate: on_message,
        EventTypeFlags.GUILD_CREATE | EventTypeFlags.GUILD_DELETE: report.directory,
        (MessageCreate, lambda m: m.content.startswith("!")): ops.pipeline(
            ops.map(parse_command),
            ops.filter(lambda command: command[0] in KNOWN_COMMANDS),
            sink=report.commands.append,
        ),
        TypingStart: on_typing,
    }
    if options.audited_guild is not None:
        audited = options.audited_guild
        table[lambda e: e.guild_id == audited] = lambda e: report.audited.append(e.name)
    routing = shards.pipe(ops.route(table, errors=failures))

    async with shards:  # connect; close with CloseFrame.NORMAL on the way out
        await shards.ready(timeout=60)
        report.ready.set()
        try:
            await asyncio.wait_for((stop or asyncio.Event()).wait(), options.seconds)
        except TimeoutError:
            pass
    await routing.join()  # the shards completed: the route ended; wait for its last tasks
    return report


# -- the embedded emulator ------------------------------------------------------------


def command_message(guild: Any, author: Any, content: str, index: int) -> dict[str, Any]:
    """A MESSAGE_CREATE ``d`` of ``author`` in ``guild``'s first text channel."""
    return {
        "id": str(snowflake_from_time_ms(int(time.time() * 1000), increment=index)),
        "channel_id": str(guild.text_channels[0].id),
        "guild_id": str(guild.id),
        "author": {"id": str(author.id), "username": author.username, "discriminator": "0"},
        "content": content,
        "timestamp": "2025-07-01T12:00:00.000000+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }


async def run_embedded(options: Options) -> int:
    async with GatewayEmulator(
        shards=EMBEDDED_SHARDS, max_concurrency=EMBEDDED_SHARDS, identify_window_s=EMBEDDED_IDENTIFY_WINDOW
    ) as emu:
        guild = emu.state.world.guilds[0]
        author = emu.state.world.members(guild)[0]
        options = replace(
            options,
            gateway_url=emu.url,
            api_url=emu.api_url,
            audited_guild=options.audited_guild or guild.id,
            seconds=options.seconds if options.seconds is not None else EMBEDDED_SECONDS,
            identify_interval=options.identify_interval or EMBEDDED_IDENTIFY_WINDOW,
        )
        report = Report()
        bot = asyncio.create_task(run(options, report=report))
        await report.ready.wait()
        for index, content in enumerate(("!help", "!roll 6", "!unknown", "hello")):
            emu.dispatch("MESSAGE_CREATE", command_message(guild, author, content, index))
        emu.start_traffic(EMBEDDED_RATE, "messages=1,typing=1")
        await bot
        emu.stop_traffic()
        print(f"async handler: {len(report.messages)} messages", flush=True)
        print(f"pipeline: commands {report.commands}", flush=True)
        print(f"guild directory: {len(report.directory.guilds)} guilds", flush=True)
        print(f"audit of guild {guild.id}: {Counter(report.audited).most_common()}", flush=True)
        failures = len(report.failures)
        print(f"typing handler: called {report.typing_calls} times, {failures} failures reported", flush=True)
        return 0 if report.commands[:2] == [("help", []), ("roll", ["6"])] and not emu.violations else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--gateway-url", help="the gateway to connect to (default: start an embedded emulator)")
    parser.add_argument("--api-url", help=f"the REST base (default {DEFAULT_API_URL})")
    parser.add_argument("--audited-guild", type=int, help="log every event of this guild")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C; embedded 2)")
    parser.add_argument("--identify-interval", type=float, help="seconds between identifies per bucket (default 5)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    token = os.environ.get("DISCORD_TOKEN")
    options = Options(
        token=token or DEFAULT_TOKEN,
        gateway_url=args.gateway_url,
        api_url=args.api_url or DEFAULT_API_URL,
        audited_guild=args.audited_guild,
        seconds=args.seconds,
        identify_interval=args.identify_interval,
    )
    if args.gateway_url is None:
        return asyncio.run(run_embedded(options))
    if not token:
        print("set DISCORD_TOKEN to the bot's token", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(run(options))
    except KeyboardInterrupt:
        return 0
    print(f"{len(report.messages)} messages, commands {report.commands}, {len(report.failures)} handler failures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
