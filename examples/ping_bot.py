"""The flagship bot (reference/twilight.md §7), written with rxgateway's observables.

    DISCORD_TOKEN=... python examples/ping_bot.py --gateway-url wss://gateway.discord.gg
    python examples/ping_bot.py                  # an embedded emulator, which talks to the bot

What it does:

* one :class:`Config` (token from ``DISCORD_TOKEN``, intents GUILD_MESSAGES |
  MESSAGE_CONTENT) and the recommended number of shards from ``GET /gateway/bot``
  (:func:`create_recommended`);
* ``!ping`` is answered over REST: ``POST {api_url}/channels/{channel_id}/messages``
  with ``{"content": "pong!"}`` and ``Authorization: Bot <token>`` (aiohttp);
* ``!join`` in a guild sends :class:`UpdateVoiceState` through ``shards.sender``,
  which routes it to the shard that owns the guild. The voice channel is the one
  named after the command (``!join 123``), else ``--voice-channel``;
* both handlers run as tasks through ``ops.spawn``: a shard's read loop never waits
  on a handler, and a handler that fails is logged as a warning, never fatal;
* SIGINT or SIGTERM closes every shard with ``CloseFrame.NORMAL``, waits until they
  have ended and the running handlers have finished, and exits 0;
* every log line carries its span: the shard of a gateway event, or the shard and
  message id inside a handler (twilight's tracing spans, with ``contextvars``).

Without ``--gateway-url`` the bot runs against a :class:`GatewayEmulator` started in
this process; the emulator then plays a user who says ``!ping`` and ``!join`` once the
bot is ready, and the script prints what the emulator recorded.

Entry points for tests: :func:`run` (an ``asyncio.Event`` may stop it instead of a
signal) and :func:`main`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import itertools
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from reactivex.subject import Subject

from rxgateway import (
    DEFAULT_API_URL,
    CloseFrame,
    Config,
    EventTypeFlags,
    GatewayError,
    InMemoryQueue,
    Intents,
    ShardGroup,
    UpdateVoiceState,
    create_recommended,
    ops,
)
from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
from rxgateway.events import GatewayErrorEvent, MessageCreate
from rxgateway.ops import HandlerError
from rxgateway.protocol import snowflake_from_time_ms
from rxgateway.queue import IDENTIFY_INTERVAL

log = logging.getLogger("ping_bot")

#: Intents of the flagship bot: guild messages, with their content.
INTENTS = Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT
#: Handlers of each kind running at once; more wait in spawn's FIFO.
HANDLER_CONCURRENCY = 16
#: Seconds a REST call may take.
REST_TIMEOUT = 10.0
#: The embedded emulator: two shards that identify together, fast heartbeats, and an
#: identify window the queue is told about (Discord's is 5 s).
EMBEDDED_SHARDS = 2
EMBEDDED_IDENTIFY_WINDOW = 0.5
EMBEDDED_HEARTBEAT_MS = 1000
#: How long the embedded demo runs when ``--seconds`` is not given.
EMBEDDED_SECONDS = 3.0

#: The span of the code running now ("shard=1 message=123"), shown by every log line.
span: contextvars.ContextVar[str] = contextvars.ContextVar("span", default="main")


class SpanFilter(logging.Filter):
    """Adds ``record.span`` (the current span) so a format can show it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.span = span.get()
        return True


@dataclass(frozen=True)
class Options:
    """What the bot is told on the command line."""

    token: str
    gateway_url: str | None = None
    api_url: str = DEFAULT_API_URL
    #: The channel ``!join`` joins when the message names none.
    voice_channel: int | None = None
    #: Stop after this many seconds (``None``: run until a signal or ``stop``).
    seconds: float | None = None
    #: Seconds between identifies of one bucket; ``None`` keeps Discord's 5 s.
    identify_interval: float | None = None


class Rest:
    """The one REST call the bot makes: create a message."""

    def __init__(self, http: aiohttp.ClientSession, api_url: str, token: str) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")
        # Config keeps the token with its "Bot " prefix, which is what REST wants.
        self._headers = {"Authorization": token}

    async def create_message(self, channel_id: int, content: str) -> dict[str, Any]:
        """``POST /channels/{channel_id}/messages``; raises for a non-2xx answer."""
        url = f"{self._api_url}/channels/{channel_id}/messages"
        async with self._http.post(
            url, json={"content": content}, headers=self._headers, timeout=aiohttp.ClientTimeout(total=REST_TIMEOUT)
        ) as response:
            response.raise_for_status()
            body: dict[str, Any] = await response.json()
            return body


def join_target(message: MessageCreate, default: int | None) -> int | None:
    """The voice channel of ``!join [channel id]``: the id given, else ``default``."""
    _, _, argument = message.content.partition(" ")
    argument = argument.strip()
    return int(argument) if argument.isdigit() else default


async def run(options: Options, *, stop: asyncio.Event | None = None, handle_signals: bool = True) -> int:
    """Run the bot until SIGINT/SIGTERM (when ``handle_signals``), ``stop`` is set, or
    ``options.seconds`` have passed. Returns the exit status: 0 after a clean
    shutdown, 1 if the gateway ended a shard (a bad token, disallowed intents)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    interval = IDENTIFY_INTERVAL if options.identify_interval is None else options.identify_interval
    queue = InMemoryQueue(identify_interval=interval)
    config = Config(options.token, INTENTS, api_url=options.api_url, queue=queue)
    if options.gateway_url is not None:
        config = config.replace(gateway_url=options.gateway_url)

    async with aiohttp.ClientSession() as http:
        shards = await create_recommended(config, session=http)
        log.info("%d shard(s) recommended", len(shards))
        rest = Rest(http, options.api_url, config.token)

        async def reply_pong(message: MessageCreate) -> int:
            span.set(f"shard={message.shard.number} message={message.id}")
            await rest.create_message(message.channel_id, "pong!")
            log.info("answered !ping in channel %s", message.channel_id)
            return message.id

        async def join_voice(message: MessageCreate) -> int:
            span.set(f"shard={message.shard.number} message={message.id}")
            channel = join_target(message, options.voice_channel)
            if channel is None:
                log.warning("!join without a channel id and no --voice-channel: ignored")
                return message.id
            assert message.guild_id is not None
            shards.sender.command(UpdateVoiceState(message.guild_id, channel, self_mute=False, self_deaf=False))
            log.info("joining voice channel %s of guild %s", channel, message.guild_id)
            return message.id

        failures: Subject[HandlerError] = Subject()
        failures.subscribe(lambda failure: log.warning("handler failed, skipped: %s", failure))
        pings = ops.spawn(reply_pong, max_concurrency=HANDLER_CONCURRENCY, errors=failures)
        joins = ops.spawn(join_voice, max_concurrency=HANDLER_CONCURRENCY, errors=failures)

        messages = shards.pipe(ops.of_type(MessageCreate))  # only MESSAGE_CREATE is parsed
        humans = messages.pipe(ops.filter(lambda m: not m.author.bot))
        subscriptions = [
            humans.pipe(ops.filter(lambda m: m.content.strip() == "!ping"), pings).subscribe(),
            humans.pipe(
                ops.filter(lambda m: m.guild_id is not None and m.content.split(" ", 1)[0] == "!join"), joins
            ).subscribe(),
            # A receive error (a corrupt frame, bad JSON) is an event: log it and go on.
            shards.pipe(ops.of_type(GatewayErrorEvent)).subscribe(_log_receive_error),
            shards.pipe(ops.on(EventTypeFlags.READY)).subscribe(_log_ready),
        ]

        if handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
        await shards.start()
        # Run until told to stop, out of time, or the gateway ended the shards.
        stopping = asyncio.create_task(stop.wait())
        ended = asyncio.create_task(shards.closed())
        try:
            await asyncio.wait({stopping, ended}, timeout=options.seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if handle_signals:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(signum)
            status = await shutdown(shards, ended, [pings, joins], subscriptions)
        return status


async def shutdown(
    shards: ShardGroup, ended: asyncio.Task[None], handlers: list[ops.Spawn[Any, Any]], subscriptions: list[Any]
) -> int:
    """Close every shard with NORMAL, wait for them, then for the handlers still running."""
    log.info("shutting down")
    shards.close(CloseFrame.NORMAL)
    status = 0
    try:
        await ended
    except GatewayError as exc:
        log.error("the gateway ended a shard: %s", exc)
        status = 1
    # The shards completed, so each spawn completes once its running handlers end.
    for handler in handlers:
        await handler.join()
    for subscription in subscriptions:
        subscription.dispose()
    log.info("all shards closed")
    return status


def _log_receive_error(event: GatewayErrorEvent) -> None:
    token = span.set(f"shard={event.shard.number}")
    log.warning("receive error, skipped: %s", event.error)
    span.reset(token)


def _log_ready(event: Any) -> None:
    token = span.set(f"shard={event.shard.number}")
    log.info("ready")
    span.reset(token)


# -- the embedded emulator ------------------------------------------------------------


_increments = itertools.count()


def user_message(emu: GatewayEmulator, content: str, guild_index: int = 0) -> dict[str, Any]:
    """A MESSAGE_CREATE ``d`` from a (made-up) human in the first text channel of the
    emulated world's guild ``guild_index``."""
    guild = emu.state.world.guilds[guild_index]
    now_ms = int(time.time() * 1000)
    message_id = snowflake_from_time_ms(now_ms, increment=next(_increments) % 4096)
    author = {"id": "1063970773401731072", "username": "alice", "discriminator": "0", "global_name": "Alice"}
    return {
        "id": str(message_id),
        "channel_id": str(guild.text_channels[0].id),
        "guild_id": str(guild.id),
        "author": author,
        "member": {"roles": [], "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False, "mute": False, "flags": 0},
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


async def converse(emu: GatewayEmulator, shards: int) -> None:
    """Play a user: once every shard has a session, say ``!ping`` and ``!join`` in a
    guild and print what the bot did, as the emulator recorded it."""
    await emu.wait_for(lambda: len({c.shard for c in emu.connections if c.session_id}) == shards, timeout=30)
    emu.dispatch("MESSAGE_CREATE", user_message(emu, "!ping"))
    emu.dispatch("MESSAGE_CREATE", user_message(emu, "!join"))
    sent = await emu.wait_for(lambda: emu.messages_sent, timeout=10)
    print(f"emulator: the bot said {sent[0].content!r} in channel {sent[0].channel_id}", flush=True)
    voice = await emu.wait_for(lambda: [c for conn in emu.connections for c in conn.commands if c.op == 4], timeout=10)
    print(f"emulator: shard {voice[0].shard} sent a voice state update {voice[0].data}", flush=True)


async def run_embedded(options: Options) -> int:
    """Run the bot against an emulator started here, with a user who talks to it."""
    async with GatewayEmulator(
        shards=EMBEDDED_SHARDS,
        max_concurrency=EMBEDDED_SHARDS,
        identify_window_s=EMBEDDED_IDENTIFY_WINDOW,
        heartbeat_interval_ms=EMBEDDED_HEARTBEAT_MS,
    ) as emu:
        guild = emu.state.world.guilds[0]
        options = replace(
            options,
            gateway_url=emu.url,
            api_url=emu.api_url,
            voice_channel=options.voice_channel or guild.voice_channels[0].id,
            identify_interval=options.identify_interval or EMBEDDED_IDENTIFY_WINDOW,
            seconds=options.seconds if options.seconds is not None else EMBEDDED_SECONDS,
        )
        print(f"embedded emulator at {emu.url}", flush=True)
        user = asyncio.create_task(converse(emu, EMBEDDED_SHARDS))
        try:
            status = await run(options)
        finally:
            user.cancel()
            try:
                await user
            except (asyncio.CancelledError, TimeoutError):
                print("emulator: the conversation did not finish", flush=True)
        print(f"emulator: rule violations {len(emu.violations)}", flush=True)
        return status if not emu.violations else 1


# -- command line ---------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--gateway-url", help="the gateway to connect to (default: start an embedded emulator)")
    parser.add_argument("--api-url", help=f"the REST base (default {DEFAULT_API_URL})")
    parser.add_argument("--voice-channel", type=int, help="the channel `!join` joins when the message names none")
    parser.add_argument("--seconds", type=float, help="stop after this long (default: run until Ctrl-C)")
    parser.add_argument("--identify-interval", type=float, help="seconds between identifies per bucket (default 5)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    handler = logging.StreamHandler()
    handler.addFilter(SpanFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s [%(span)s] %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[handler])
    token = os.environ.get("DISCORD_TOKEN")
    options = Options(
        token=token or DEFAULT_TOKEN,
        gateway_url=args.gateway_url,
        api_url=args.api_url or DEFAULT_API_URL,
        voice_channel=args.voice_channel,
        seconds=args.seconds,
        identify_interval=args.identify_interval,
    )
    if args.gateway_url is None:
        return asyncio.run(run_embedded(options))
    if not token:
        print("set DISCORD_TOKEN to the bot's token", file=sys.stderr)
        return 2
    return asyncio.run(run(options))


if __name__ == "__main__":
    sys.exit(main())
