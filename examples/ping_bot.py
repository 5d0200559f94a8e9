"""The flagship bot (reference/twilight.md §7): ``!ping`` is answered over REST,
``!join [channel]`` joins a voice channel through the sender, and every log line
carries its span (the shard and message a handler works on).

    DISCORD_TOKEN=... python examples/ping_bot.py --voice-channel 981346340044931074
    python examples/ping_bot.py --emulate --say '!ping' --say '!join' --seconds 3   # offline

``ops.route`` runs each handler as a task (a shard's read loop never waits on one); a
handler that raises is logged and the bot goes on. ``rxgateway.run`` does the rest:
the recommended shards, Ctrl-C, a clean close, the running handlers drained.
"""

from __future__ import annotations

import argparse
import contextvars
import logging
import sys
from collections.abc import Sequence

from rxgateway import Intents, UpdateVoiceState, ops, run
from rxgateway.events import MessageCreate
from rxgateway.ops import Routing
from rxgateway.runner import Bot

INTENTS = Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT
log = logging.getLogger("ping_bot")
#: The span of the code running now ("shard=1 message=123"); each handler task has its own.
span: contextvars.ContextVar[str] = contextvars.ContextVar("span", default="main")


def command(name: str) -> tuple[type[MessageCreate], object]:
    """A route key: a MESSAGE_CREATE from a human whose first word is ``name``."""
    return (MessageCreate, lambda m: not m.author.bot and m.content.split(" ", 1)[0] == name)


def setup(bot: Bot) -> Routing:
    """Wire the two commands; ``run`` calls this before the shards connect."""
    emulated_voice = bot.emulator.state.world.guilds[0].voice_channels[0].id if bot.emulator else None
    default_voice = bot.args.voice_channel or emulated_voice

    async def ping(message: MessageCreate) -> None:
        span.set(f"shard={message.shard.number} message={message.id}")
        await bot.rest("POST", f"/channels/{message.channel_id}/messages", json={"content": "pong!"})
        log.info("answered !ping in channel %s", message.channel_id)

    async def join(message: MessageCreate) -> None:
        span.set(f"shard={message.shard.number} message={message.id}")
        named = message.content.partition(" ")[2].strip()
        channel = int(named) if named.isdigit() else default_voice
        if message.guild_id is None or channel is None:
            log.warning("!join needs a guild and a voice channel: ignored")
            return
        bot.shards.sender.command(UpdateVoiceState(message.guild_id, channel, self_mute=False, self_deaf=False))
        log.info("joining voice channel %s of guild %s", channel, message.guild_id)

    return bot.shards.pipe(ops.route({command("!ping"): ping, command("!join"): join}))


def with_span(record: logging.LogRecord) -> bool:
    """A log filter that adds ``record.span`` so the format can show it."""
    record.span = span.get()
    return True


def parser() -> argparse.ArgumentParser:
    """This bot's own option; ``run`` adds the common ones (``--emulate``, ...)."""
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--voice-channel", type=int, help="the channel `!join` joins when the message names none")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    handler = logging.StreamHandler()
    handler.addFilter(with_span)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s [%(span)s] %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    return run(setup, intents=INTENTS, parser=parser(), argv=argv)


if __name__ == "__main__":
    sys.exit(main())
