"""Zero-downtime resharding (twilight's gateway-reshard example, without its two bugs).

    DISCORD_TOKEN=... python examples/reshard.py           # reshards after 8 h to GET /gateway/bot's count
    python examples/reshard.py --emulate --traffic 200 --reshard-after 0.5 --to-shards 3 --seconds 4

When it is time (``--reshard-after``), the bot asks ``GET /gateway/bot`` for the
recommended count (or takes ``--to-shards``) and, if it differs and the day's identify
budget can pay for it, starts a **new set** beside the old one, from the same config
(so old and new identifies share the queue's buckets), its messages subscribed before
it connects. While both run, Discord sends each message to both: a dedupe over a
bounded window of recent ids drops the second copy. Once **every** new shard is
active the old set closes with 1000; if not in time, the new set closes instead.

In Rx terms: each set's messages are one Observable pushed into a Subject of
Observables; ``merge_all`` flattens them and ``first_seen`` drops the overlap's copies.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reactivex import Observable
from reactivex.subject import Subject

from rxgateway import CloseFrame, Intents, create_range, get_gateway_bot, ops, run
from rxgateway.events import MessageCreate
from rxgateway.queue import IDENTIFY_INTERVAL, IDENTIFY_MARGIN
from rxgateway.runner import Bot

INTENTS = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT
#: Recent message ids the dedupe remembers (both copies arrive within milliseconds).
DEDUPE_WINDOW = 50_000
#: Added to the identify estimate: connecting, Hello, READY.
READY_SLACK = 10.0
log = logging.getLogger("reshard")


@dataclass
class Report:
    """What happened; readable while the bot runs."""

    delivered: list[int] = field(default_factory=list)
    duplicates_dropped: int = 0
    totals: list[int] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    switched: asyncio.Event = field(default_factory=asyncio.Event)


def first_seen(window: int, on_duplicate: Callable[[MessageCreate], None]) -> Callable[[Observable[MessageCreate]], Observable[MessageCreate]]:
    """Drop a message whose id was among the last ``window`` ids (bounded ``distinct``)."""
    seen: OrderedDict[int, None] = OrderedDict()

    def first(message: MessageCreate) -> bool:
        if message.id in seen:
            on_duplicate(message)
            return False
        seen[message.id] = None
        if len(seen) > window:
            seen.popitem(last=False)
        return True

    return ops.filter(first)


def ready_timeout(bot: Bot, total: int) -> float:
    """The longest ``total`` shards may take to identify: one of Discord's windows per
    round of buckets (an emulator's shorter window only makes it quicker), plus slack."""
    buckets = max(getattr(bot.config.queue, "max_concurrency", 1), 1)
    return math.ceil(total / buckets) * (IDENTIFY_INTERVAL + IDENTIFY_MARGIN) + READY_SLACK


async def reshard(bot: Bot, total: int, sets: Subject[Observable[MessageCreate]], report: Report) -> None:
    """Start ``total`` new shards beside ``bot.shards``; switch once all are active."""
    log.info("resharding: %d -> %d shards", len(bot.shards), total)
    new = create_range(range(total), total, bot.config)  # same config: the shared identify queue
    sets.on_next(new.pipe(ops.of_type(MessageCreate)))  # listen before connecting
    try:
        await new.start()
        await new.ready(timeout=ready_timeout(bot, total))
    except BaseException as exc:  # out of time, refused, or the bot is stopping
        log.warning("the new shards were not all active (%r): keeping the old ones", exc)
        new.close(CloseFrame.NORMAL)
        await asyncio.gather(new.closed(), return_exceptions=True)
        if not isinstance(exc, Exception):
            raise
        return
    old, bot.shards = bot.shards, new  # the runner now watches, and at the end closes, the new set
    old.close(CloseFrame.NORMAL)
    await old.closed()
    report.totals.append(total)
    report.switched.set()
    log.info("switched to %d shards; %d duplicates dropped in the overlap", total, report.duplicates_dropped)


def setup(bot: Bot, report: Report | None = None) -> list[Any]:
    """Every message once, across the sets; the reshard, later, as a task."""
    report = Report() if report is None else report

    def dropped(_: MessageCreate) -> None:
        report.duplicates_dropped += 1

    sets: Subject[Observable[MessageCreate]] = Subject()
    handling = sets.pipe(ops.merge_all(), first_seen(DEDUPE_WINDOW, dropped)).subscribe(
        lambda m: report.delivered.append(m.id)
    )
    sets.on_next(bot.shards.pipe(ops.of_type(MessageCreate)))

    async def later() -> None:
        await bot.shards.ready(timeout=ready_timeout(bot, len(bot.shards)))
        report.totals.append(len(bot.shards))
        report.ready.set()
        await asyncio.sleep(bot.args.reshard_after)
        target = bot.args.to_shards
        if target is None:
            info = await get_gateway_bot(bot.config.token, api_url=bot.config.api_url)
            enough = info.session_start_limit.remaining >= info.shards
            target = info.shards if enough else len(bot.shards)
        if target != len(bot.shards):
            await reshard(bot, target, sets, report)

    return [handling, asyncio.ensure_future(later())]


def parser() -> argparse.ArgumentParser:
    """This example's own options; ``run`` adds the common ones."""
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("--reshard-after", type=float, default=8 * 3600.0, help="seconds before resharding (default 8 h)")
    options.add_argument("--to-shards", type=int, help="the new shard count (default: GET /gateway/bot)")
    return options


if __name__ == "__main__":
    sys.exit(run(setup, intents=INTENTS, parser=parser()))
