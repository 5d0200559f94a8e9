"""Declarative routing: one ``ops.route`` table sends each event to every handler whose
key it matches, as one subscription.

    DISCORD_TOKEN=... python examples/routing.py --audited-guild 123
    python examples/routing.py --emulate --say '!help' --say '!roll 6' --say '!nope' --seconds 2

The table shows each kind of key and handler::

    MessageCreate                                 -> async def: one task per message
    GUILD_CREATE | GUILD_DELETE (flags)           -> an Observer: the guild directory
    (MessageCreate, starts with "!") (class+pred) -> a pipeline: parse, keep known commands, sink
    lambda e: e.guild_id == AUDITED (predicate)   -> a plain function: the audit log of one guild
    TypingStart                                   -> a handler with a bug: it raises every time

A handler that raises is reported on ``errors`` as a ``HandlerError`` (key, handler,
event) and the route goes on. A bare predicate must see every event, so the route asks
the shards to parse every type; ``(MessageCreate, pred)`` keeps the push-down.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

from reactivex.subject import Subject

from rxgateway import EventTypeFlags, Intents, ops, run
from rxgateway.events import Dispatch, GuildCreate, GuildDelete, MessageCreate, TypingStart
from rxgateway.ops import HandlerError, Routing
from rxgateway.runner import Bot

INTENTS = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT | Intents.GUILD_MESSAGE_TYPING
KNOWN_COMMANDS = frozenset({"help", "roll", "ping"})
log = logging.getLogger("routing")


@dataclass
class Report:
    """What each handler received; readable while the bot runs."""

    messages: list[int] = field(default_factory=list)
    commands: list[tuple[str, list[str]]] = field(default_factory=list)
    audited: list[str] = field(default_factory=list)
    typing_calls: int = 0
    failures: list[HandlerError] = field(default_factory=list)
    guilds: dict[int, str] = field(default_factory=dict)
    completed: bool = False


class GuildDirectory:
    """An Observer handler: the guilds the bot is in, from GUILD_CREATE/DELETE."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def on_next(self, event: Dispatch) -> None:
        if isinstance(event, GuildCreate) and not event.unavailable:
            self.report.guilds[event.id] = event.guild_name
        elif isinstance(event, GuildDelete):
            self.report.guilds.pop(event.guild_id, None)

    def on_error(self, error: Exception) -> None:
        log.error("the shards failed: %s", error)

    def on_completed(self) -> None:
        self.report.completed = True


def parse_command(message: MessageCreate) -> tuple[str, list[str]]:
    """``"!roll 6"`` -> ``("roll", ["6"])``; a bare ``"!"`` -> ``("", [])`` (it must not
    raise: a pipeline whose operator raises is reported and stays stopped)."""
    words = message.content[1:].split()
    return (words[0].lower(), words[1:]) if words else ("", [])


def setup(bot: Bot, report: Report | None = None) -> Routing:
    """The route table; ``report`` (made here when not given) fills as events come."""
    report = Report() if report is None else report

    async def on_message(message: MessageCreate) -> None:
        await asyncio.sleep(0)  # stands for real work: a REST call, a database write
        report.messages.append(message.id)

    def on_typing(event: TypingStart) -> None:
        report.typing_calls += 1
        raise RuntimeError(f"typing handler bug (user {event.user_id})")

    def failed(failure: HandlerError) -> None:
        report.failures.append(failure)
        log.warning("%s", failure)

    def known(command: tuple[str, list[str]]) -> None:
        report.commands.append(command)
        log.info("command %s", command)

    failures: Subject[HandlerError] = Subject()
    failures.subscribe(failed)
    table: dict[Any, Any] = {
        MessageCreate: on_message,
        EventTypeFlags.GUILD_CREATE | EventTypeFlags.GUILD_DELETE: GuildDirectory(report),
        (MessageCreate, lambda m: m.content.startswith("!")): ops.pipeline(
            ops.map(parse_command),
            ops.filter(lambda command: command[0] in KNOWN_COMMANDS),
            sink=known,
        ),
        TypingStart: on_typing,
    }
    audited = bot.args.audited_guild or (bot.emulator.state.world.guilds[0].id if bot.emulator else None)
    if audited is not None:
        table[lambda e: e.guild_id == audited] = lambda e: report.audited.append(e.name)
    return bot.shards.pipe(ops.route(table, errors=failures))


def parser() -> argparse.ArgumentParser:
    """This example's own option; ``run`` adds the common ones."""
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--audited-guild", type=int, help="log every event of this guild")
    return options


if __name__ == "__main__":
    sys.exit(run(setup, intents=INTENTS, parser=parser()))
