"""Resume after a restart: each shard's session is kept in a file, and the next start
resumes it instead of identifying (reference/twilight.md §2.14).

    DISCORD_TOKEN=... python examples/persist_session.py     # Ctrl-C, then start it again: it resumes
    python examples/persist_session.py --emulate --seconds 2  # offline: identifies, saves on the way out

Against one emulator that outlives the bot (``rxgateway emulate``, then this with
``--gateway-url``/``--api-url`` twice), the second run resumes and gets what was sent
while it was down. All of it is ``Config(session_store=FileSessionStore(path))``:
a shard loads its record when it starts and resumes it (a record of another shard
count is never used); ``run`` closes with ``CloseFrame.RESUME`` when a store is set,
so the sessions live on, and flushes the store. The file is written whole and
atomically, readable by its owner only (with the token, a session id is a login).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from reactivex import abc

from rxgateway import Config, FileSessionStore, Intents, ops, run
from rxgateway.events import MessageCreate, Ready, Resumed
from rxgateway.runner import Bot

INTENTS = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT
log = logging.getLogger("persist_session")


def with_store(config: Config, args: argparse.Namespace) -> Config:
    """The config with a session store in ``--state-file``."""
    return config.replace(session_store=FileSessionStore(args.state_file))


def setup(bot: Bot, received: list[int] | None = None) -> list[abc.DisposableBase]:
    """Log how each shard started, and every message (replays included)."""
    received = [] if received is None else received
    return [
        bot.shards.pipe(ops.of_type(Ready)).subscribe(lambda e: log.info("shard %d identified", e.shard.number)),
        bot.shards.pipe(ops.of_type(Resumed)).subscribe(lambda e: log.info("shard %d resumed", e.shard.number)),
        bot.shards.pipe(ops.of_type(MessageCreate)).subscribe(lambda m: received.append(m.id)),
    ]


def parser() -> argparse.ArgumentParser:
    """This example's own option; ``run`` adds the common ones."""
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--state-file", type=Path, default=Path("rxgateway-sessions.json"), help="where sessions are kept")
    return options


if __name__ == "__main__":
    sys.exit(run(setup, intents=INTENTS, configure=with_store, parser=parser()))
