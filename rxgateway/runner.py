"""``run``: one call that runs a bot until Ctrl-C, and closes it cleanly.

A bot is a *setup* function: it gets a :class:`Bot` (the shards, the config, a REST
helper) and wires its pipelines. :func:`run` does everything around it::

    from rxgateway import Intents, ops, run
    from rxgateway.events import MessageCreate

    def setup(bot):
        async def pong(message):
            await bot.rest("POST", f"/channels/{message.channel_id}/messages", json={"content": "pong!"})
        return bot.shards.pipe(ops.route({(MessageCreate, lambda m: m.content == "!ping"): pong}))

    run(setup, intents=Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT)

What ``run`` does, in order:

1. parses the common command-line options (:func:`add_arguments`): ``--emulate``,
   ``--gateway-url``, ``--api-url``, ``--seconds``, ``--identify-interval``,
   ``--say``, ``-v``; a script adds its own by passing ``parser=``;
2. builds the :class:`Config` (token from ``token=``, else ``$DISCORD_TOKEN``) and
   the shards (``create_recommended``, or the ``shards=`` factory);
3. with ``--emulate`` (or ``emulate=True``): starts the project's
   :class:`~rxgateway.emulator.GatewayEmulator` in this process and points the
   config at it (its URL, REST base and token), so the bot runs offline; ``--say
   TEXT`` makes one of the emulated users say TEXT once every shard has a session,
   ``--traffic RATE`` starts the emulator's generated messages then;
4. calls ``setup(bot)``; what it returns (a ``Routing``, a ``spawn`` operator, a
   subscription, a list of them; an awaitable is awaited first) is kept, as is
   everything given to :meth:`Bot.keep`;
5. starts the shards and runs until SIGINT or SIGTERM, ``--seconds``,
   :meth:`Bot.stop`, or the shards ending by themselves (a fatal close code);
6. closes every shard (``CloseFrame.NORMAL``; ``CloseFrame.RESUME`` when the config
   has a ``session_store``, so the next start resumes, and the store is flushed),
   waits until they have closed, waits for the handlers still running (each kept
   thing's ``join()``, at most ``drain_timeout`` seconds, then they are cancelled),
   disposes every kept subscription, and returns the exit status.

A second SIGINT/SIGTERM during the shutdown forces it: what is still waited for is
cancelled and the status is :data:`EXIT_FORCED`. A handler that raises is logged (by
``route`` and ``spawn``, or the shard's observer guard) and the bot goes on.

Exit statuses: :data:`EXIT_OK` after a clean shutdown, :data:`EXIT_FAILED` when the
gateway ended a shard (a bad token, disallowed intents), :data:`EXIT_USAGE` when
there is no token (and no ``--emulate``), :data:`EXIT_FORCED` after a forced exit.

:func:`run` owns the event loop (``asyncio.run``); :func:`run_async` is the same for
code already in a loop (a notebook, a test, a larger program): it parses no
command line unless given ``argv``, and installs signal handlers only when asked.

Why here and not in each script: the ~15 lines of signal handling, shutdown order
and emulator wiring were repeated in every example and in the CLI, each copy a
little different. :func:`stop_on_signals` is the signal part alone, for programs
that run their own loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import aiohttp

from .config import Config
from .errors import GatewayError, HTTPError
from .group import ShardGroup, create_recommended
from .protocol import CloseFrame, Intents

__all__ = [
    "EXIT_FAILED",
    "EXIT_FORCED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Bot",
    "Configure",
    "Setup",
    "ShardsFactory",
    "add_arguments",
    "run",
    "run_async",
    "stop_on_signals",
]

log = logging.getLogger("rxgateway.runner")

#: A clean shutdown.
EXIT_OK = 0
#: The gateway ended a shard for good (a bad token, disallowed intents, ...).
EXIT_FAILED = 1
#: Nothing to run with: no token and no ``--emulate``.
EXIT_USAGE = 2
#: A second SIGINT/SIGTERM cut the shutdown short (128 + SIGINT, as shells do).
EXIT_FORCED = 130

#: Seconds the handlers still running at shutdown may take before they are cancelled.
DEFAULT_DRAIN_TIMEOUT = 30.0
#: Seconds a :meth:`Bot.rest` call may take.
REST_TIMEOUT = 10.0
#: The embedded emulator's defaults (any ``EmulatorConfig`` field may be changed with
#: ``emulator=``): two shards that identify together, a short identify window the
#: queue is told about, heartbeats every second.
EMULATOR_DEFAULTS: Mapping[str, Any] = {
    "shards": 2,
    "max_concurrency": 2,
    "identify_window_s": 0.5,
    "heartbeat_interval_ms": 1000,
}
#: The longest the embedded emulator's user waits for the shards before saying things.
SAY_TIMEOUT = 30.0

#: What wires a bot: called once with the :class:`Bot`, before the shards start.
Setup = Callable[["Bot"], object]
#: Last changes to the config, given the parsed command line (a session store at
#: ``--state-file``, a presence, ...); returns the config to run with.
Configure = Callable[[Config, argparse.Namespace], Config]
#: What builds the shards from the config (default :func:`create_recommended`).
ShardsFactory = Callable[[Config], Awaitable[ShardGroup]]


class Bot:
    """What a setup function is given: the shards, their config and a REST helper.

    Attributes:
        shards: the shards (not started yet when ``setup`` runs: subscribe now and
            nothing is missed). A bot that reshards may put its new set here; the
            runner then watches and closes that one.
        config: the config they were built from (pointed at the emulator under
            ``--emulate``).
        args: the parsed command line (the common options and the script's own).
        emulator: the embedded emulator under ``--emulate``, else ``None``.
    """

    def __init__(
        self,
        shards: ShardGroup,
        config: Config,
        args: argparse.Namespace,
        emulator: Any = None,
    ) -> None:
        self.shards = shards
        self.config = config
        self.args = args
        self.emulator = emulator
        self._kept: list[object] = []
        self._stop = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self._started = False

    def keep(self, *things: object) -> None:
        """Keep subscriptions, operators and tasks until the shutdown: there, tasks
        (``asyncio.Task``) are cancelled first, before the shards close; then what
        has a ``join()`` (``route``'s ``Routing``, a ``spawn`` operator) is awaited
        and what has a ``dispose()`` is disposed. Lists and tuples are flattened."""
        for thing in _flatten(things):
            if not (hasattr(thing, "join") or hasattr(thing, "dispose") or isinstance(thing, asyncio.Future)):
                raise TypeError(f"keep() takes tasks, or things with join() or dispose(), not {type(thing).__name__}")
            self._kept.append(thing)

    def stop(self) -> None:
        """Ask the runner to shut down (as a SIGINT would)."""
        self._stop.set()

    async def rest(self, method: str, path: str, *, json: Any = None) -> Any:
        """One REST call to the config's ``api_url`` (Discord's, or the emulator's)
        with the bot's token; returns the decoded JSON answer (``None`` when empty).

        rxgateway is a gateway library: this is the one call most bots need (answer a
        message), not a REST client: no rate-limit handling, a 429 raises like any
        other non-2xx answer, as :class:`HTTPError` with the method, path and status
        (never the token)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(headers={"Authorization": self.config.token})
        url = self.config.api_url.rstrip("/") + "/" + path.lstrip("/")
        timeout = aiohttp.ClientTimeout(total=REST_TIMEOUT)
        try:
            async with self._http.request(method, url, json=json, timeout=timeout) as response:
                if response.status >= 400:
                    raise HTTPError(f"{method} {path}: HTTP {response.status}", response.status)
                if response.status == 204:
                    return None
                return await response.json(content_type=None)
        except aiohttp.ClientError as exc:
            raise HTTPError(f"{method} {path}: {type(exc).__name__}") from None

    async def _aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


# -- the command line -------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the options every bot script shares to ``parser`` and return it:
    ``--emulate``, ``--gateway-url``, ``--api-url``, ``--seconds``,
    ``--identify-interval``, ``--say`` (repeatable), ``--traffic`` and ``-v``."""
    group = parser.add_argument_group("running (rxgateway.run)")
    group.add_argument("--emulate", action="store_true", help="run offline against an emulator started in this process")
    group.add_argument("--gateway-url", help="the gateway to connect to (default: Discord's, from GET /gateway/bot)")
    group.add_argument("--api-url", help="the REST base (default: Discord's)")
    group.add_argument("--seconds", type=float, help="stop after this long (default: run until Ctrl-C)")
    group.add_argument("--identify-interval", type=float, help="seconds between identifies per bucket (default 5)")
    group.add_argument(
        "--say", action="append", default=[], metavar="TEXT", help="with --emulate: a user says TEXT once the bot is up"
    )
    group.add_argument(
        "--traffic", type=float, metavar="RATE", help="with --emulate: RATE generated messages per second once the bot is up"
    )
    group.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return parser


def _parse(argv: Sequence[str] | None, parser: argparse.ArgumentParser | None) -> argparse.Namespace:
    parser = parser or argparse.ArgumentParser(description=_caller_doc())
    add_arguments(parser)
    return parser.parse_args([] if argv is None else list(argv))


def _caller_doc() -> str | None:
    main = sys.modules.get("__main__")
    doc = getattr(main, "__doc__", None)
    return doc.strip().split("\n", 1)[0] if isinstance(doc, str) and doc.strip() else None


# -- signals ----------------------------------------------------------------------


@contextlib.contextmanager
def stop_on_signals(
    stop: asyncio.Event | None = None, *, on_force: Callable[[], object] | None = None
) -> Iterator[asyncio.Event]:
    """Within the block, SIGINT and SIGTERM set ``stop`` (an Event, made here when
    not given; it is what the block yields). A second signal calls ``on_force``
    (default: nothing more). Previous handlers come back on exit. Where the loop
    cannot take signal handlers (not the main thread, Windows) it does nothing.

    Example::

        with stop_on_signals() as stop:
            async with shards:
                await stop.wait()
    """
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[int] = []

    def on_signal(signum: int) -> None:
        if not stop.is_set():
            log.info("%s: shutting down (again to force)", signal.Signals(signum).name)
            stop.set()
        elif on_force is not None:
            log.warning("%s again: forcing the exit", signal.Signals(signum).name)
            on_force()

    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, not Unix
            continue
        installed.append(signum)
    try:
        yield stop
    finally:
        for number in installed:
            loop.remove_signal_handler(number)


# -- running ----------------------------------------------------------------------


def run(
    setup: Setup | None = None,
    *,
    intents: Intents | None = None,
    config: Config | None = None,
    configure: Configure | None = None,
    token: str | None = None,
    shards: ShardsFactory | None = None,
    emulate: bool | None = None,
    emulator: Mapping[str, Any] | None = None,
    say: Sequence[str] = (),
    seconds: float | None = None,
    argv: Sequence[str] | None = None,
    parser: argparse.ArgumentParser | None = None,
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
    log_level: int | None = logging.INFO,
) -> int:
    """Run a bot until SIGINT/SIGTERM and return its exit status (see the module).

    Args:
        setup: wires the bot; called with the :class:`Bot` before the shards start.
            What it returns is kept (see :meth:`Bot.keep`); it may be async.
        intents: the gateway intents (needed unless ``config`` is given).
        config: a config to start from (its token, URLs and queue may be replaced by
            the command line or the emulator); default ``Config(token, intents)``.
        configure: called with that config and the parsed command line; returns the
            config to run with (e.g. ``config.replace(session_store=...)`` from a
            script's own option).
        token: the bot token; default ``$DISCORD_TOKEN`` (never logged).
        shards: builds the shards from the config; default ``create_recommended``.
        emulate: run against an embedded emulator; ``None``: when ``--emulate`` is on
            the command line.
        emulator: ``GatewayEmulator`` keywords for the embedded emulator (e.g.
            ``{"guilds": 6}``), over :data:`EMULATOR_DEFAULTS`.
        say: what an emulated user says once the bot is up (with the emulator only;
            ``--say`` adds to it).
        seconds: stop after this long (``--seconds`` wins); default: until a signal.
        argv: the command line; default ``sys.argv[1:]``.
        parser: a parser with the script's own options; the common ones are added.
        drain_timeout: seconds the running handlers may take at shutdown.
        log_level: configure logging at this level (``-v``: DEBUG) unless the root
            logger has handlers already; ``None``: leave logging alone.
    """
    return asyncio.run(
        run_async(
            setup,
            intents=intents,
            config=config,
            configure=configure,
            token=token,
            shards=shards,
            emulate=emulate,
            emulator=emulator,
            say=say,
            seconds=seconds,
            argv=sys.argv[1:] if argv is None else argv,
            parser=parser,
            drain_timeout=drain_timeout,
            log_level=log_level,
            handle_signals=True,
        )
    )


async def run_async(
    setup: Setup | None = None,
    *,
    intents: Intents | None = None,
    config: Config | None = None,
    configure: Configure | None = None,
    token: str | None = None,
    shards: ShardsFactory | None = None,
    emulate: bool | None = None,
    emulator: Mapping[str, Any] | None = None,
    say: Sequence[str] = (),
    seconds: float | None = None,
    argv: Sequence[str] | None = None,
    parser: argparse.ArgumentParser | None = None,
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
    log_level: int | None = None,
    handle_signals: bool = False,
    stop: asyncio.Event | None = None,
) -> int:
    """:func:`run` for code already in an event loop. The differences: no command
    line is parsed unless ``argv`` is given, signal handlers are installed only with
    ``handle_signals=True``, logging is left alone unless ``log_level`` is given, and
    setting ``stop`` (an ``asyncio.Event``) shuts the bot down."""
    args = _parse(argv, parser)
    if log_level is not None:
        _configure_logging(logging.DEBUG if args.verbose else log_level)
    if config is None and intents is None:
        raise TypeError("run() needs intents= (or a config=)")
    emulating = bool(args.emulate) if emulate is None else emulate or bool(args.emulate)
    seconds = args.seconds if args.seconds is not None else seconds
    if emulating:
        from .emulator import GatewayEmulator

        settings = {**EMULATOR_DEFAULTS, **(emulator or {})}
        async with GatewayEmulator(**settings) as emu:
            log.info("embedded emulator at %s", emu.url)
            built = _emulated_config(emu, config, intents, args)
            status = await _run(
                setup, configure(built, args) if configure else built, args, shards, emu,
                [*say, *args.say], seconds, drain_timeout, handle_signals, stop,
            )  # fmt: skip
            _summarise(emu)
            return status
    try:
        built = _config(config, intents, token, args)
    except LookupError:
        print("set DISCORD_TOKEN to the bot's token (or pass --emulate to run offline)", file=sys.stderr)
        return EXIT_USAGE
    if configure is not None:
        built = configure(built, args)
    return await _run(setup, built, args, shards, None, (), seconds, drain_timeout, handle_signals, stop)


def _config(config: Config | None, intents: Intents | None, token: str | None, args: argparse.Namespace) -> Config:
    """The config to run with: ``config`` (or one made from the token and intents),
    with the command line's URLs and identify interval."""
    if config is None:
        token = token or os.environ.get("DISCORD_TOKEN")
        if not token:
            raise LookupError("no token")
        assert intents is not None
        config = Config(token, intents)
    elif token is not None:
        config = config.replace(token=token)
    changes: dict[str, Any] = {}
    if args.gateway_url:
        changes["gateway_url"] = args.gateway_url
    if args.api_url:
        changes["api_url"] = args.api_url
    if args.identify_interval is not None:
        from .queue import InMemoryQueue

        changes["queue"] = InMemoryQueue(identify_interval=args.identify_interval)
    return config.replace(**changes) if changes else config


def _emulated_config(emu: Any, config: Config | None, intents: Intents | None, args: argparse.Namespace) -> Config:
    """``config`` pointed at the embedded emulator: its URLs, its token, a queue told
    its identify window and max_concurrency."""
    from .emulator import DEFAULT_TOKEN
    from .queue import InMemoryQueue

    queue = InMemoryQueue(emu.config.max_concurrency, identify_interval=emu.config.identify_window_s)
    changes = {"token": DEFAULT_TOKEN, "gateway_url": emu.url, "api_url": emu.api_url, "queue": queue}
    if config is None:
        assert intents is not None
        return Config(intents=intents, **changes)
    return config.replace(**changes)


async def _run(
    setup: Setup | None,
    config: Config,
    args: argparse.Namespace,
    factory: ShardsFactory | None,
    emu: Any,
    say: Sequence[str],
    seconds: float | None,
    drain_timeout: float,
    handle_signals: bool,
    stop: asyncio.Event | None,
) -> int:
    try:
        group = await (factory or create_recommended)(config)
    except GatewayError as exc:
        log.error("cannot start: %s", exc)
        return EXIT_FAILED
    bot = Bot(group, config, args, emu)
    forced = False
    main = asyncio.current_task()

    def force() -> None:
        nonlocal forced
        forced = True
        if main is not None:
            main.cancel()

    signals = stop_on_signals(bot._stop, on_force=force) if handle_signals else contextlib.nullcontext(bot._stop)
    watchers: list[asyncio.Future[Any]] = []
    status = EXIT_OK
    try:
        with signals:
            if stop is not None:
                watchers.append(asyncio.ensure_future(_relay(stop, bot._stop)))
            try:
                if setup is not None:
                    wired = setup(bot)
                    if inspect.isawaitable(wired):
                        wired = await wired
                    if wired is not None:
                        bot.keep(wired)
                status = await _serve(bot, say, seconds, watchers)
            finally:  # also when the setup raised, or this task was cancelled
                if not forced:
                    status = max(status, await _shutdown(bot, drain_timeout))
    except asyncio.CancelledError:
        if not forced:
            raise
        for thing in bot._kept:
            _dispose(thing)
        return EXIT_FORCED
    finally:
        for watcher in watchers:
            watcher.cancel()
        await bot._aclose()
    return status


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


async def _serve(bot: Bot, say: Sequence[str], seconds: float | None, watchers: list[asyncio.Future[Any]]) -> int:
    """Start the shards and wait until told to stop, out of time, or they ended."""
    try:
        await bot.shards.start()
    except GatewayError as exc:
        log.error("cannot start the shards: %s", exc)
        return EXIT_FAILED
    bot._started = True
    log.info("%d shard(s) started", len(bot.shards))
    if bot.emulator is not None and (say or bot.args.traffic):
        watchers.append(asyncio.ensure_future(_converse(bot, say, bot.args.traffic)))
    stopping = asyncio.ensure_future(bot._stop.wait())
    watchers.append(stopping)
    deadline = None if seconds is None else asyncio.get_running_loop().time() + seconds
    while True:
        # A setup may replace ``bot.shards`` (a reshard): then the new set is watched.
        watched = bot.shards
        ended = asyncio.ensure_future(watched.closed())
        watchers.append(ended)
        timeout = None if deadline is None else max(0.0, deadline - asyncio.get_running_loop().time())
        await asyncio.wait({stopping, ended}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not ended.done() or bot.shards is watched:
            break
    if ended.done() and not ended.cancelled() and ended.exception() is not None:
        log.error("the gateway ended a shard: %s", ended.exception())
        return EXIT_FAILED
    return EXIT_OK


async def _shutdown(bot: Bot, drain_timeout: float) -> int:
    """Close the shards, wait for them, drain the handlers, dispose the rest."""
    tasks = [thing for thing in bot._kept if isinstance(thing, asyncio.Future)]
    for task in tasks:  # background work of the bot (a reshard timer, ...): stopped first
        task.cancel()
    for result in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(result, Exception):
            log.warning("a background task of the bot had failed: %r", result)
    store = bot.config.session_store
    frame = CloseFrame.RESUME if store is not None else CloseFrame.NORMAL
    status = EXIT_OK
    if bot._started:  # not when the setup or the start failed
        log.info("shutting down (close %d)", frame.code)
        bot.shards.close(frame)
        try:
            await bot.shards.closed()
        except GatewayError as exc:
            log.error("the gateway ended a shard: %s", exc)
            status = EXIT_FAILED
        if store is not None:
            await store.flush()
    joins: list[Awaitable[Any]] = [join() for join in (getattr(t, "join", None) for t in bot._kept) if callable(join)]
    if joins:
        done, pending = await asyncio.wait([asyncio.ensure_future(j) for j in joins], timeout=drain_timeout)
        if pending:
            log.warning("%d handler group(s) still running after %.0f s: cancelled", len(pending), drain_timeout)
        for future in pending:
            future.cancel()
        for future in done:
            if not future.cancelled() and future.exception() is not None:
                log.warning("a handler group ended with %r", future.exception())
    for thing in bot._kept:
        _dispose(thing)
    log.info("all shards closed")
    return status


def _dispose(thing: object) -> None:
    dispose = getattr(thing, "dispose", None)
    if callable(dispose):
        dispose()


def _flatten(things: Iterable[object]) -> Iterator[object]:
    for thing in things:
        if isinstance(thing, list | tuple):
            yield from _flatten(thing)
        else:
            yield thing


def _configure_logging(level: int) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")


# -- the embedded emulator's user -------------------------------------------------


async def _converse(bot: Bot, say: Sequence[str], traffic: float | None) -> None:
    """Once every shard has a session, a member of the first guild says each line in
    its first text channel (the emulator's own message shape); then the generated
    traffic starts, ``traffic`` messages per second."""
    from .emulator.shapes import message
    from .protocol import snowflake_from_time_ms

    emu = bot.emulator
    total = len(bot.shards)
    try:
        await emu.wait_for(lambda: sum(1 for c in emu.connections if c.session_id) >= total, timeout=SAY_TIMEOUT)
    except TimeoutError:
        log.warning("the shards did not all get a session: nothing said")
        return
    guild = emu.state.world.guilds[0]
    author = emu.state.world.members(guild)[0]
    for index, text in enumerate(say):
        now_ms = int(time.time() * 1000)
        d = message(snowflake_from_time_ms(now_ms, increment=index % 4096), guild.text_channels[0].id, author, text, now_ms, guild.id)
        log.info("emulator: %s says %r in guild %s", author.username, text, guild.id)
        emu.dispatch("MESSAGE_CREATE", d)
    if traffic:
        log.info("emulator: %.0f generated messages per second", traffic)
        emu.start_traffic(traffic, "messages=1")


def _summarise(emu: Any) -> None:
    """What the bot did, as the embedded emulator saw it (printed: it is the demo)."""
    for sent in emu.messages_sent:
        print(f"emulator: the bot said {sent.content!r} in channel {sent.channel_id}", flush=True)
    for command in emu.record.commands:
        print(f"emulator: shard {command.shard} sent op {command.op} {command.data}", flush=True)
    closes = sorted({c.close_received for c in emu.record.connections if c.close_received is not None})
    print(f"emulator: close codes received {closes}, rule violations {len(emu.violations)}", flush=True)
