"""A gateway process and two services on a bus (NATS JetStream or Redis Streams).

    export DISCORD_TOKEN=... BUS_URL=nats://127.0.0.1:4222      # or redis://...
    python examples/bus_services.py stats                       # fan-out: counts every event
    python examples/bus_services.py moderation                  # start as many as you like
    python examples/bus_services.py gateway                     # holds the shards (--emulate: offline)

Three roles, each its own process, sharing nothing but the bus (``--bus`` or ``$BUS_URL``):

* **gateway**: the recommended shards and ``shards.pipe(ops.publish(broker))``: every
  dispatch goes to the bus as the bytes received; commands services send come back to
  the shard that owns the guild;
* **moderation**: a work-sharing group (``Bus(broker, group="moderation")``): each
  MESSAGE_CREATE goes to one member, acknowledged once handled. ``!ping`` is answered
  over REST, ``!join <voice channel id>`` sends an ``UpdateVoiceState`` through
  ``bus.sender``;
* **stats**: fan-out (``Bus(broker)``): every event, counted by type, printed every
  ``--every`` seconds and when it stops.

Each runs until SIGINT/SIGTERM (or ``--seconds``) and exits 0. A consumer receives what
is published from its start on: start the services before the gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections import Counter
from collections.abc import Sequence

import aiohttp

from rxgateway import Config, EventTypeFlags, Intents, UpdateVoiceState, ops, run
from rxgateway.bus import Broker, Bus, JetStreamBroker, RedisStreamsBroker
from rxgateway.emulator import DEFAULT_TOKEN
from rxgateway.events import Dispatch, Event, MessageCreate
from rxgateway.runner import Bot, add_arguments, stop_on_signals

INTENTS = Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT
APP = "bus_services"  # the prefix of the bus's subjects, streams and groups


def broker_for(url: str) -> Broker:
    """JetStream for ``nats://``/``tls://``, Redis Streams for ``redis://``/``rediss://``."""
    if url.startswith(("nats://", "tls://")):
        return JetStreamBroker(url, app=APP)
    if url.startswith(("redis://", "rediss://")):
        return RedisStreamsBroker(url, app=APP)
    raise ValueError(f"--bus takes a nats:// or redis:// URL, not {url!r}")


class Publishing:
    """The gateway's publisher, kept by the runner: ``join`` waits until it flushed
    (it completes after the shards), then closes the broker."""

    def __init__(self, bot: Bot) -> None:
        self.broker = broker_for(bot.args.bus)
        self.flushed = asyncio.Event()
        bot.shards.pipe(ops.publish(self.broker)).subscribe(
            lambda problem: print(f"gateway: bus: {problem.error}", flush=True),
            lambda _: self.flushed.set(),
            self.flushed.set,
        )
        print(f"gateway: {len(bot.shards)} shard(s) publishing to the bus", flush=True)

    async def join(self) -> None:
        await asyncio.wait_for(self.flushed.wait(), 15)
        await self.broker.aclose()
        print("gateway: stopped", flush=True)


async def moderation(args: argparse.Namespace, stop: asyncio.Event) -> None:
    """A member of the ``moderation`` group: each message goes to one member."""
    broker = broker_for(args.bus)
    bus = Bus(broker, group="moderation")
    token = Config(os.environ.get("DISCORD_TOKEN") or DEFAULT_TOKEN, INTENTS).token  # "Bot ...", as REST wants
    rest = f"{(args.api_url or 'https://discord.com/api/v10').rstrip('/')}/channels"
    async with aiohttp.ClientSession(headers={"Authorization": token}) as http:

        async def moderate(message: Event) -> None:
            assert isinstance(message, MessageCreate)
            if message.author.bot:  # its own "pong!" among them
                return
            print(f"moderation: message {message.id} in guild {message.guild_id}: {message.content!r}", flush=True)
            command, _, argument = message.content.strip().partition(" ")
            if command == "!ping":
                async with http.post(f"{rest}/{message.channel_id}/messages", json={"content": "pong!"}) as response:
                    if response.status >= 400:  # not raise_for_status: its repr shows the headers, the token
                        raise RuntimeError(f"POST /channels/{message.channel_id}/messages: HTTP {response.status}")
                print(f"moderation: said pong in channel {message.channel_id}", flush=True)
            elif command == "!join" and argument.isdigit() and message.guild_id is not None:
                await bus.sender.deliver(UpdateVoiceState(message.guild_id, int(argument), self_mute=False, self_deaf=False))
                print(f"moderation: joined voice channel {argument} of guild {message.guild_id}", flush=True)

        consuming = asyncio.create_task(bus.consume(EventTypeFlags.MESSAGE_CREATE, moderate))
        print(f"moderation: consuming MESSAGE_CREATE as {bus.consumer}", flush=True)
        await asyncio.wait([consuming, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
    await broker.aclose()


async def stats(args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Fan-out: every event, counted by type."""
    broker = broker_for(args.bus)
    bus = Bus(broker)
    counts: Counter[str] = Counter()
    bus.pipe(ops.of_type(Dispatch)).subscribe(lambda event: counts.update([event.name]))
    print("stats: counting every event", flush=True)
    shown: dict[str, int] = {}
    while not stop.is_set():
        await asyncio.wait([asyncio.ensure_future(stop.wait())], timeout=args.every)
        if counts != shown or stop.is_set():
            shown = dict(counts)
            print(f"stats: {counts.total()} events: {dict(sorted(counts.items()))}", flush=True)
    await bus.aclose()
    await broker.aclose()


async def service(role: str, args: argparse.Namespace) -> int:
    """A service role until SIGINT/SIGTERM or ``--seconds``."""
    with stop_on_signals() as stop:
        if args.seconds is not None:
            asyncio.get_running_loop().call_later(args.seconds, stop.set)
        await (moderation if role == "moderation" else stats)(args, stop)
    print(f"{role}: stopped", flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    """This example's own options; ``run`` adds the common ones."""
    options = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    options.add_argument("role", choices=["gateway", "moderation", "stats"], help="the role to run")
    options.add_argument("--bus", default=os.environ.get("BUS_URL"), required="BUS_URL" not in os.environ, help="nats:// or redis:// URL")
    options.add_argument("--every", type=float, default=5.0, help="seconds between the stats reports (default 5)")
    return options


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = add_arguments(parser()).parse_args(argv)
    if args.role == "gateway":
        return run(Publishing, intents=INTENTS, parser=parser(), argv=argv)
    return asyncio.run(service(args.role, args))


if __name__ == "__main__":
    sys.exit(main())
