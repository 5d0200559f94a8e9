"""Zero-downtime resharding (twilight's gateway-reshard example, without its two bugs).

    DISCORD_TOKEN=... python examples/reshard.py --gateway-url wss://gateway.discord.gg --reshard-after 28800
    python examples/reshard.py           # an embedded emulator: 2 shards -> 3 while messages flow

The bot runs on one set of shards. When it is time to reshard (``--reshard-after``
seconds; twilight waits 8 h), it asks ``GET /gateway/bot`` for the recommended count
(or takes ``--to-shards``) and, if that differs and the day's identify budget can pay
for it, starts a **new set** beside the old one:

* the new set is built from the same ``Config``, so it shares the identify queue:
  old and new identifies together respect every ``shard % max_concurrency`` bucket;
* the new set's messages are subscribed *before* it starts, so nothing is missed;
* while both sets run, Discord sends each message to both (each session is routed by
  its own shard count): a dedupe by message id, over a bounded window of recent ids,
  drops the second copy;
* once **every** new shard is active, the old set is closed with ``CloseFrame.NORMAL``
  (its sessions are not needed again). If the new set is not all active by a
  deadline (one identify window per bucket round, plus slack), it is closed instead
  and the old set goes on.

In Rx terms: each set's messages are one Observable, pushed into a Subject of
Observables; ``merge_all`` flattens them (an old set that completes does not end the
stream) and ``distinct_recent`` drops the overlap's duplicates.

Entry points for tests: :func:`run` (fills and returns a :class:`Report`) and :func:`main`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import aiohttp
from reactivex import Observable, abc
from reactivex.subject import Subject

from rxgateway import (
    DEFAULT_API_URL,
    CloseFrame,
    Config,
    InMemoryQueue,
    Intents,
    ShardGroup,
    create_range,
    create_recommended,
    get_gateway_bot,
    ops,
)
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.events import MessageCreate
from rxgateway.queue import IDENTIFY_INTERVAL, IDENTIFY_MARGIN

log = logging.getLogger("reshard")

T = TypeVar("T")

INTENTS = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT
#: Recent message ids remembered by the dedupe. Both copies of a message arrive within
#: milliseconds of each other, so this only needs to cover the messages of that
#: delay; it bounds memory however long the overlap lasts.
DEDUPE_WINDOW = 50_000
#: Added to the identify estimate: connecting, Hello, READY.
READY_SLACK = 10.0
EMBEDDED_FROM = 2
EMBEDDED_TO = 3
EMBEDDED_MAX_CONCURRENCY = 2
EMBEDDED_IDENTIFY_WINDOW = 0.5
EMBEDDED_RATE = 200.0


@dataclass(frozen=True)
class Options:
    token: str
    gateway_url: str | None = None
    api_url: str = DEFAULT_API_URL
    #: Seconds after the first set is active before resharding.
    reshard_after: float = 8 * 3600.0
    #: The new shard count; ``None`` asks ``GET /gateway/bot``.
    to_shards: int | None = None
    #: Stop after this long in all (``None``: only when ``stop`` is set).
    seconds: float | None = None
    identify_interval: float | None = None


@dataclass
class Report:
    """What happened; readable while the bot runs."""

    #: Message ids handed to the handler, in order.
    delivered: list[int] = field(default_factory=list)
    #: Second copies dropped by the dedupe.
    duplicates_dropped: int = 0
    #: Shard counts: the first set's, then each set switched to.
    totals: list[int] = field(default_factory=list)
    #: Set when the first set is active, and when the switch to a new set is done.
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    switched: asyncio.Event = field(default_factory=asyncio.Event)


def distinct_recent(
    key: Callable[[T], Hashable], window: int, on_duplicate: Callable[[T], None] | None = None
) -> Callable[[Observable[T]], Observable[T]]:
    """Drop a value whose key was among the last ``window`` keys seen (``ops.distinct``
    with bounded memory). ``on_duplicate`` is told of each value dropped."""

    def distinct_recent_(source: Observable[T]) -> Observable[T]:
        def subscribe(observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None) -> abc.DisposableBase:
            seen: OrderedDict[Hashable, None] = OrderedDict()

            def on_next(value: T) -> None:
                try:
                    k = key(value)
                except Exception as exc:
                    observer.on_error(exc)
                    return
                if k in seen:
                    if on_duplicate is not None:
                        on_duplicate(value)
                    return
                seen[k] = None
                if len(seen) > window:
                    seen.popitem(last=False)
                observer.on_next(value)

            return source.subscribe(on_next, observer.on_error, observer.on_completed, scheduler=scheduler)

        return Observable(subscribe)

    return distinct_recent_


def identify_estimate(total: int, max_concurrency: int, interval: float) -> float:
    """Seconds for ``total`` shards to identify: one window per round of buckets."""
    rounds = math.ceil(total / max(max_concurrency, 1))
    return rounds * (interval + IDENTIFY_MARGIN) + READY_SLACK


async def run(options: Options, *, stop: asyncio.Event | None = None, report: Report | None = None) -> Report:
    """Run on the recommended shards, reshard once after ``options.reshard_after``,
    and go on until ``stop`` is set or ``options.seconds`` have passed."""
    report = report or Report()
    stop = stop or asyncio.Event()
    interval = options.identify_interval if options.identify_interval is not None else IDENTIFY_INTERVAL
    queue = InMemoryQueue(identify_interval=interval)  # create_recommended tells it max_concurrency
    config = Config(options.token, INTENTS, api_url=options.api_url, queue=queue)
    if options.gateway_url is not None:
        config = config.replace(gateway_url=options.gateway_url)
    deadline = None if options.seconds is None else time.monotonic() + options.seconds

    def drop(message: MessageCreate) -> None:
        report.duplicates_dropped += 1

    # Each set's messages go in here; the handler sees every message once.
    sets: Subject[Observable[MessageCreate]] = Subject()
    handling = sets.pipe(
        ops.merge_all(),
        distinct_recent(lambda m: m.id, DEDUPE_WINDOW, on_duplicate=drop),
    ).subscribe(lambda m: report.delivered.append(m.id))

    async with aiohttp.ClientSession() as http:
        live = await create_recommended(config, session=http)
        sets.on_next(live.pipe(ops.of_type(MessageCreate)))
        await live.start()
        try:
            await live.ready(timeout=identify_estimate(len(live), queue.max_concurrency, interval))
            report.totals.append(len(live))
            report.ready.set()
            log.info("running on %d shards", len(live))
            if await _sleep_unless(stop, options.reshard_after, deadline):
                target = options.to_shards or await _recommended(config, http, len(live))
                if target != len(live):
                    ready_timeout = identify_estimate(target, queue.max_concurrency, interval)
                    live = await reshard(live, target, config, ready_timeout, sets, report)
            await _sleep_unless(stop, None, deadline)
        finally:
            live.close(CloseFrame.NORMAL)
            await live.closed()
    sets.on_completed()
    handling.dispose()
    return report


async def reshard(
    old: ShardGroup,
    total: int,
    config: Config,
    ready_timeout: float,
    sets: Subject[Observable[MessageCreate]],
    report: Report,
) -> ShardGroup:
    """Start ``total`` new shards beside ``old``; once all are active (within
    ``ready_timeout`` seconds), close ``old`` and return the new set. If they are not
    all active in time, close them and keep ``old``."""
    log.info("resharding: %d -> %d shards", len(old), total)
    new = create_range(range(total), total, config)  # same config: the shared identify queue
    sets.on_next(new.pipe(ops.of_type(MessageCreate)))  # listen before connecting
    await new.start()
    try:
        await new.ready(timeout=ready_timeout)
    except Exception as exc:  # out of time, or the gateway refused a shard
        log.warning("the new shards were not all active in time (%r): keeping the old ones", exc)
        new.close(CloseFrame.NORMAL)
        await asyncio.gather(new.closed(), return_exceptions=True)
        return old
    old.close(CloseFrame.NORMAL)  # the old sessions end; the new set already has everything
    await old.closed()
    report.totals.append(total)
    report.switched.set()
    log.info("switched to %d shards; %d duplicates dropped in the overlap", total, report.duplicates_dropped)
    return new


async def _recommended(config: Config, http: aiohttp.ClientSession, current: int) -> int:
    """The recommended shard count, or ``current`` when the day's identify budget
    could not start that many shards."""
    info = await get_gateway_bot(config.token, api_url=config.api_url, session=http)
    if info.session_start_limit.remaining < info.shards:
        log.warning("only %d identifies left today: not resharding", info.session_start_limit.remaining)
        return current
    return info.shards


async def _sleep_unless(stop: asyncio.Event, seconds: float | None, deadline: float | None) -> bool:
    """Sleep ``seconds`` (``None``: for ever), cut short by ``stop`` or ``deadline``;
    True if the whole sleep passed."""
    limits = [t for t in (seconds, None if deadline is None else deadline - time.monotonic()) if t is not None]
    timeout = min(limits) if limits else None
    try:
        await asyncio.wait_for(stop.wait(), timeout)
    except TimeoutError:
        return seconds is not None and timeout == seconds
    return False


# -- the embedded emulator ------------------------------------------------------------


async def run_embedded(options: Options) -> int:
    async with GatewayEmulator(
        shards=EMBEDDED_FROM,
        max_concurrency=EMBEDDED_MAX_CONCURRENCY,
        identify_window_s=EMBEDDED_IDENTIFY_WINDOW,
        heartbeat_interval_ms=1000,
    ) as emu:
        options = replace(
            options,
            gateway_url=emu.url,
            api_url=emu.api_url,
            to_shards=options.to_shards or EMBEDDED_TO,
            identify_interval=options.identify_interval or EMBEDDED_IDENTIFY_WINDOW,
        )
        report = Report()
        stop = asyncio.Event()
        bot = asyncio.create_task(run(options, stop=stop, report=report))
        await report.ready.wait()
        emu.start_traffic(EMBEDDED_RATE, "messages=1")
        try:
            await asyncio.wait_for(report.switched.wait(), 30)
            await asyncio.sleep(0.5)  # traffic on the new set alone
        finally:
            emu.stop_traffic()
            await asyncio.sleep(0.2)
            stop.set()
            await bot
        repeats = len(report.delivered) - len(set(report.delivered))
        print(f"shard counts: {' -> '.join(map(str, report.totals))}", flush=True)
        print(f"messages handled: {len(report.delivered)}, handled twice: {repeats}", flush=True)
        print(f"duplicates dropped during the overlap: {report.duplicates_dropped}", flush=True)
        print(f"rule violations: {len(emu.violations)}", flush=True)
        return 0 if report.switched.is_set() and repeats == 0 and not emu.violations else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--gateway-url", help="the gateway to connect to (default: start an embedded emulator)")
    parser.add_argument("--api-url", help=f"the REST base (default {DEFAULT_API_URL})")
    parser.add_argument("--reshard-after", type=float, help="seconds before resharding (default 8 h; embedded 0)")
    parser.add_argument("--to-shards", type=int, help="the new shard count (default: GET /gateway/bot)")
    parser.add_argument("--seconds", type=float, help="stop after this long in all (default: until Ctrl-C)")
    parser.add_argument("--identify-interval", type=float, help="seconds between identifies per bucket (default 5)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    token = os.environ.get("DISCORD_TOKEN")
    embedded = args.gateway_url is None
    options = Options(
        token=token or DEFAULT_TOKEN,
        gateway_url=args.gateway_url,
        api_url=args.api_url or DEFAULT_API_URL,
        reshard_after=args.reshard_after if args.reshard_after is not None else (0.5 if embedded else 8 * 3600.0),
        to_shards=args.to_shards,
        seconds=args.seconds,
        identify_interval=args.identify_interval,
    )
    if embedded:
        return asyncio.run(run_embedded(options))
    if not token:
        print("set DISCORD_TOKEN to the bot's token", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(run(options))
    except KeyboardInterrupt:
        return 0
    print(f"shard counts {report.totals}, {len(report.delivered)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
