"""A gateway process and two services on a bus (NATS JetStream or Redis Streams).

    export DISCORD_TOKEN=...
    python examples/bus_services.py gateway    --bus nats://127.0.0.1:4222   # holds the shards
    python examples/bus_services.py moderation --bus nats://127.0.0.1:4222   # start as many as you like
    python examples/bus_services.py stats      --bus nats://127.0.0.1:4222
    python examples/bus_services.py            # all of it in one process: an emulator, a nats-server, the roles

Three roles, each its own process, sharing nothing but the bus (``--bus``, or
``$BUS_URL``: ``nats://`` for JetStream, ``redis://`` for Redis Streams):

* **gateway**: the recommended shards (:func:`create_recommended`) and
  ``shards.pipe(ops.publish(broker))``: every dispatch goes to the bus as the bytes
  received, and the commands services send come back to the shard that owns the guild;
* **moderation**: a work-sharing group (``Bus(broker, group="moderation")``): each
  MESSAGE_CREATE goes to one member of the group, wherever it runs, and is
  acknowledged once its handler finished. ``!ping`` is answered over REST, ``!join
  <voice channel id>`` sends an :class:`UpdateVoiceState` through ``bus.sender``;
* **stats**: fan-out (``Bus(broker)``): it sees every event, and prints the count by
  type every ``--every`` seconds and when it stops.

Each runs until SIGINT/SIGTERM (or ``--seconds``) and exits 0. A consumer receives
what is published from its start on: start the services before the gateway.

Entry points for tests: :func:`gateway`, :func:`moderation`, :func:`stats` (an
``asyncio.Event`` stops them), :func:`run_embedded` and :func:`main`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp

from rxgateway import (
    DEFAULT_API_URL,
    CloseFrame,
    Config,
    EventTypeFlags,
    GatewayError,
    InMemoryQueue,
    Intents,
    UpdateVoiceState,
    create_recommended,
    ops,
)
from rxgateway.bus import Broker, Bus, JetStreamBroker, RedisStreamsBroker
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.emulator.shapes import message
from rxgateway.events import Dispatch, Event, MessageCreate
from rxgateway.protocol import snowflake_from_time_ms
from rxgateway.queue import IDENTIFY_INTERVAL

log = logging.getLogger("bus_services")

INTENTS = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT
#: The application's name on the bus: the prefix of its subjects, streams, groups.
APP = "bus_services"
EMBEDDED_SHARDS = 2
EMBEDDED_IDENTIFY_WINDOW = 0.5


@dataclass(frozen=True)
class Options:
    bus: str
    token: str = DEFAULT_TOKEN
    gateway_url: str | None = None
    api_url: str = DEFAULT_API_URL
    #: Stop after this long (``None``: at SIGINT/SIGTERM, or when ``stop`` is set).
    seconds: float | None = None
    identify_interval: float | None = None
    #: Seconds between the stats service's reports.
    every: float = 5.0


@dataclass
class Report:
    """What the services did; readable while they run."""

    #: Message ids the moderation service handled, and what it answered.
    handled: list[int] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    #: The stats service's counts by event type.
    counts: Counter[str] = field(default_factory=Counter)


def broker_for(url: str) -> Broker:
    """JetStream for ``nats://``/``tls://``, Redis Streams for ``redis://``/``rediss://``."""
    if url.startswith(("nats://", "tls://")):
        return JetStreamBroker(url, app=APP)
    if url.startswith(("redis://", "rediss://")):
        return RedisStreamsBroker(url, app=APP)
    raise ValueError(f"--bus takes a nats:// or redis:// URL, not {url!r}")


# -- the three roles ------------------------------------------------------------------


async def gateway(options: Options, stop: asyncio.Event) -> int:
    """Hold the shards; publish what they receive; take commands from the bus."""
    interval = IDENTIFY_INTERVAL if options.identify_interval is None else options.identify_interval
    config = Config(options.token, INTENTS, api_url=options.api_url, queue=InMemoryQueue(identify_interval=interval))
    if options.gateway_url is not None:
        config = config.replace(gateway_url=options.gateway_url)
    broker = broker_for(options.bus)
    shards = await create_recommended(config)
    published = asyncio.Event()  # the publisher completes after the shards, once flushed
    shards.pipe(ops.publish(broker)).subscribe(
        lambda problem: log.warning("bus: %s", problem.error), lambda _: published.set(), published.set
    )
    await shards.start()
    print(f"gateway: {len(shards)} shard(s) publishing to the bus", flush=True)
    await until(stop, options.seconds, shards.closed())
    shards.close(CloseFrame.NORMAL)
    status = 0
    try:
        await shards.closed()
    except GatewayError as exc:  # a bad token, disallowed intents
        log.error("the gateway ended a shard: %s", exc)
        status = 1
    await asyncio.wait_for(published.wait(), 15)
    await broker.aclose()
    return status


async def moderation(options: Options, stop: asyncio.Event, report: Report | None = None) -> int:
    """A member of the ``moderation`` group: each message goes to one member, and is
    acknowledged once handled (a handler that raises gets it again)."""
    report = report or Report()
    broker = broker_for(options.bus)
    bus = Bus(broker, group="moderation")
    rest = f"{options.api_url.rstrip('/')}/channels"
    authorization = Config(options.token, INTENTS).token  # "Bot <token>", what REST wants
    async with aiohttp.ClientSession(headers={"Authorization": authorization}) as http:

        async def moderate(message: Event) -> None:
            assert isinstance(message, MessageCreate)
            if message.author.bot:  # its own "pong!" among them
                return
            report.handled.append(message.id)
            log.info("message %s in guild %s: %r", message.id, message.guild_id, message.content)
            command, _, argument = message.content.strip().partition(" ")
            if command == "!ping":
                async with http.post(f"{rest}/{message.channel_id}/messages", json={"content": "pong!"}) as response:
                    response.raise_for_status()
                action = f"said pong in channel {message.channel_id}"
            elif command == "!join" and argument.isdigit() and message.guild_id is not None:
                voice = UpdateVoiceState(message.guild_id, int(argument), self_mute=False, self_deaf=False)
                await bus.sender.deliver(voice)  # to the gateway process, to the guild's shard
                action = f"joined voice channel {argument} of guild {message.guild_id}"
            else:
                return
            report.actions.append(action)
            print(f"moderation: {action}", flush=True)

        consuming = asyncio.create_task(bus.consume(EventTypeFlags.MESSAGE_CREATE, moderate))
        print(f"moderation: consuming MESSAGE_CREATE as {bus.consumer}", flush=True)
        await until(stop, options.seconds, consuming)
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
    await broker.aclose()
    return 0


async def stats(options: Options, stop: asyncio.Event, report: Report | None = None) -> int:
    """Fan-out: every event, counted by type."""
    counts = (report or Report()).counts
    broker = broker_for(options.bus)
    bus = Bus(broker)
    bus.pipe(ops.of_type(Dispatch)).subscribe(lambda event: counts.update([event.name]))
    print("stats: counting every event", flush=True)

    def show() -> None:
        print(f"stats: {counts.total()} events: {dict(sorted(counts.items()))}", flush=True)

    async def every() -> None:
        shown: dict[str, int] = {}
        while True:
            await asyncio.sleep(options.every)
            if counts != shown:
                shown = dict(counts)
                show()

    reporting = asyncio.create_task(every())
    await until(stop, options.seconds)
    reporting.cancel()
    await bus.aclose()
    show()
    await broker.aclose()
    return 0


# -- running ----------------------------------------------------------------------------


async def until(stop: asyncio.Event, seconds: float | None, *also: Awaitable[Any]) -> None:
    """Wait until ``stop`` is set, ``seconds`` passed or one of ``also`` ended."""
    waits = [asyncio.ensure_future(stop.wait()), *map(asyncio.ensure_future, also)]
    await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for waiting in waits:
        waiting.cancel()


ROLES: dict[str, Callable[[Options, asyncio.Event], Awaitable[int]]] = {
    "gateway": gateway,
    "moderation": moderation,
    "stats": stats,
}


async def run_role(role: str, options: Options) -> int:
    """One role until SIGINT/SIGTERM or ``options.seconds``."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    status = await ROLES[role](options, stop)
    print(f"{role}: stopped", flush=True)
    return status


def user_says(emu: GatewayEmulator, content: str) -> dict[str, Any]:
    """The MESSAGE_CREATE ``d`` of a member of the first guild, in its first text channel."""
    guild = emu.state.world.guilds[0]
    now_ms = int(time.time() * 1000)
    message_id = snowflake_from_time_ms(now_ms, increment=next(_increments) % 4096)
    return message(message_id, guild.text_channels[0].id, emu.state.world.members(guild)[0], content, now_ms, guild.id)


_increments = itertools.count()


async def run_embedded(options: Options) -> int:
    """An emulator, a nats-server and the three roles in this process; a user says
    ``!ping`` and ``!join`` once the moderation group hears messages."""
    from rxgateway.tools.nats_server import NatsServer

    emulator = GatewayEmulator(
        shards=EMBEDDED_SHARDS, max_concurrency=EMBEDDED_SHARDS, identify_window_s=EMBEDDED_IDENTIFY_WINDOW
    )
    with NatsServer() as nats:
        async with emulator as emu:
            options = replace(options, bus=nats.url, gateway_url=emu.url, api_url=emu.api_url,
                              identify_interval=EMBEDDED_IDENTIFY_WINDOW, every=1.0)  # fmt: skip
            print(f"embedded emulator at {emu.url}, nats-server at {nats.url}", flush=True)
            stop, report = asyncio.Event(), Report()
            services = [
                asyncio.create_task(moderation(options, stop, report)),
                asyncio.create_task(stats(options, stop, report)),
            ]
            bot = asyncio.create_task(gateway(options, stop))
            try:
                await emu.wait_for(lambda: sum(1 for c in emu.connections if c.session_id) == EMBEDDED_SHARDS, timeout=30)
                async with asyncio.timeout(10):
                    while not report.handled:  # consumers get what is published once they subscribed
                        emu.dispatch("MESSAGE_CREATE", user_says(emu, "hello"))
                        await asyncio.sleep(0.2)
                voice = emu.state.world.guilds[0].voice_channels[0].id
                emu.dispatch("MESSAGE_CREATE", user_says(emu, "!ping"))
                emu.dispatch("MESSAGE_CREATE", user_says(emu, f"!join {voice}"))
                sent = await emu.wait_for(lambda: emu.messages_sent, timeout=10)
                joins = await emu.wait_for(lambda: [c for c in emu.record.commands if c.op == 4], timeout=10)
                print(f"emulator: the bot said {sent[0].content!r} in channel {sent[0].channel_id}", flush=True)
                print(f"emulator: shard {joins[0].shard} sent a voice state update {joins[0].data}", flush=True)
                await asyncio.sleep(options.every * 1.5)  # a stats report
            finally:
                stop.set()
                statuses = await asyncio.gather(bot, *services)
            print(f"emulator: rule violations {len(emu.violations)}", flush=True)
            return max(statuses) if not emu.violations else 1


# -- command line ---------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("role", nargs="?", choices=sorted(ROLES), help="the role to run (default: all, embedded)")
    parser.add_argument("--bus", default=os.environ.get("BUS_URL"), help="nats:// or redis:// URL (default $BUS_URL)")
    parser.add_argument("--gateway-url", help="the gateway to connect to (default: Discord's, from GET /gateway/bot)")
    parser.add_argument("--api-url", help=f"the REST base (default {DEFAULT_API_URL})")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: run until Ctrl-C)")
    parser.add_argument("--identify-interval", type=float, help="seconds between identifies per bucket (default 5)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between the stats reports (default 5)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")  # fmt: skip
    token = os.environ.get("DISCORD_TOKEN")
    options = Options(
        bus=args.bus or "",
        token=token or DEFAULT_TOKEN,
        gateway_url=args.gateway_url,
        api_url=args.api_url or DEFAULT_API_URL,
        seconds=args.seconds,
        identify_interval=args.identify_interval,
        every=args.every,
    )
    if args.role is None:
        return asyncio.run(run_embedded(options))
    if not args.bus:
        print("pass --bus nats://... or redis://... (or set BUS_URL)", file=sys.stderr)
        return 2
    if not token and args.role != "stats":
        print("set DISCORD_TOKEN to the bot's token", file=sys.stderr)
        return 2
    return asyncio.run(run_role(args.role, options))


if __name__ == "__main__":
    sys.exit(main())
