"""The ``rxgateway`` command.

::

    rxgateway demo      shards on the embedded emulator, with faults, watched live
    rxgateway run       the same dashboard against a real gateway (DISCORD_TOKEN)
    rxgateway emulate   run the local gateway emulator for your own bot
    rxgateway cluster   run a member of a cluster on Redis, or show the cluster

Errors a user can cause (no token, a refused token, disallowed intents, an
unreachable gateway, a port in use) are one clear line on stderr, not a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import sys
from collections.abc import Callable, Sequence

import orjson
from reactivex import abc

from ..version import __version__
from ..errors import AuthenticationError, DisallowedIntentsError, FatalCloseError, GatewayError, HTTPError
from ..events.base import Event
from ..machine.inflate import COMPRESSIONS
from ..protocol import EventTypeFlags, Intents
from ..runner import stop_on_signals
from .emulate import EPILOG as EMULATE_EPILOG
from .cluster_cli import add_cluster_arguments, run_cluster
from .emulate import add_emulate_arguments, run_emulate

#: ``--record FILE`` of ``demo`` and ``run``.
RECORD_HELP = (
    "record every payload the shards receive to FILE, with its arrival time (zstd-compressed JSON lines, "
    "never the token); replay it with rxgateway.replay.replay(FILE), serve it with rxgateway emulate --replay FILE"
)
#: Exit codes.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _compression(text: str) -> str | None:
    if text == "none":
        return None
    if text not in COMPRESSIONS:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(COMPRESSIONS)}")
    return text


def _positive(kind: type[float] | type[int]):  # type: ignore[no-untyped-def]
    def parse(text: str) -> float | int:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError("must be positive")
        return value

    return parse


def _event_names(text: str) -> EventTypeFlags:
    flags = EventTypeFlags(0)
    for name in filter(None, (part.strip().upper() for part in text.split(","))):
        try:
            flags |= EventTypeFlags[name]
        except KeyError:
            raise argparse.ArgumentTypeError(f"unknown event type {name!r}") from None
    return flags


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rxgateway`` command."""
    parser = argparse.ArgumentParser(
        prog="rxgateway",
        description="Discord gateway connections as ReactiveX observables.",
    )
    parser.add_argument("--version", action="version", version=f"rxgateway {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log to stderr: -v for connections and faults, -vv for everything (the token is never logged)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    demo = commands.add_parser(
        "demo",
        help="shards on the embedded emulator, with faults, watched live",
        description=(
            "Start the gateway emulator on a free loopback port, create the recommended shards "
            "from its GET /gateway/bot, stream mixed traffic, inject a reconnect request, a "
            "dropped connection and a zombie, and show every shard resuming without losing an "
            "event. Ends with a summary; exits 1 if any sequence gap, duplicate or rule "
            "violation was seen."
        ),
    )
    demo.add_argument("--shards", type=_positive(int), default=4, help="number of shards (default 4)")
    demo.add_argument("--seconds", type=_positive(float), default=20.0, help="how long to run (default 20)")
    demo.add_argument("--rate", type=_positive(float), default=500.0, help="events per second overall (default 500)")
    demo.add_argument(
        "--compression",
        type=_compression,
        default="zstd-stream",
        help="zstd-stream (default), zlib-stream or none",
    )
    demo.add_argument("--record", metavar="FILE", help=RECORD_HELP)

    run = commands.add_parser(
        "run",
        help="the dashboard against a real gateway (token from DISCORD_TOKEN)",
        description=(
            "Connect the recommended shards to a gateway and show them live. The token is read "
            "from the DISCORD_TOKEN environment variable and never printed. Ctrl-C closes every "
            "shard cleanly (close code 1000)."
        ),
    )
    run.add_argument("--gateway-url", help="connect here instead of Discord (an emulator, a gateway proxy)")
    run.add_argument("--api-url", help="REST base for GET /gateway/bot (default Discord's; http://HOST:PORT/api/v10 for an emulator)")
    run.add_argument("--intents", default="GUILDS,GUILD_MESSAGES", help="intent names or a number (default GUILDS,GUILD_MESSAGES)")
    run.add_argument("--compression", type=_compression, default="zstd-stream", help="zstd-stream (default), zlib-stream or none")
    run.add_argument(
        "--events",
        type=_event_names,
        default=None,
        help="print these event types as JSON lines, e.g. MESSAGE_CREATE,GUILD_CREATE",
    )
    run.add_argument("--seconds", type=_positive(float), default=None, help="stop after this long (default: until Ctrl-C)")
    run.add_argument("--record", metavar="FILE", help=RECORD_HELP)

    emulate = commands.add_parser(
        "emulate",
        help="run the local gateway emulator for your own bot",
        description="A local Discord gateway on loopback: REST, websocket, traffic and faults.",
        epilog=EMULATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_emulate_arguments(emulate)
    add_cluster_arguments(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        if args.command == "emulate":
            return run_emulate(args)
        if args.command == "cluster":
            return run_cluster(args)
        if args.command == "demo":
            return asyncio.run(_demo(args))
        return asyncio.run(_run(args, parser))
    except KeyboardInterrupt:
        return EXIT_OK
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            print(f"rxgateway: port in use: {exc.strerror}", file=sys.stderr)
        else:
            print(f"rxgateway: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _setup_logging(verbosity: int) -> None:
    """Quiet by default: the command prints its own one-line errors."""
    level = {0: logging.CRITICAL, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbosity < 2:
        logging.getLogger("aiohttp").setLevel(logging.WARNING)


async def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    summary = await run_demo(
        shards=args.shards, seconds=args.seconds, rate=args.rate, compression=args.compression, record=args.record
    )
    return EXIT_OK if summary.ok else EXIT_FAILED


async def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from ..config import DEFAULT_API_URL, DEFAULT_GATEWAY_URL, Config
    from ..group import create_recommended

    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        print("rxgateway: no token: set DISCORD_TOKEN to your bot token", file=sys.stderr)
        return EXIT_USAGE
    try:
        intents = Intents.parse(args.intents)
    except ValueError as exc:
        print(f"rxgateway: {exc}", file=sys.stderr)
        return EXIT_USAGE
    config = Config(
        token,
        intents,
        gateway_url=args.gateway_url or DEFAULT_GATEWAY_URL,
        api_url=args.api_url or DEFAULT_API_URL,
        compression=args.compression,
    )
    try:
        group = await create_recommended(config)
    except HTTPError as exc:
        print(f"rxgateway: cannot reach the gateway's REST API: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.events is not None:
        def print_event(event: Event) -> None:
            raw = getattr(event, "raw", None)
            line = {"shard": event.shard.number, "t": getattr(event, "name", None), "s": event.sequence, "d": raw}
            sys.stdout.write(orjson.dumps(line, default=str).decode() + "\n")

        group.subscribe_flags(_Printer(print_event), args.events)
    recorder = None
    if args.record:
        from ..record import Recorder

        meta = {"command": "run", "intents": int(intents), "compression": args.compression, "shards": len(group)}
        recorder = Recorder(args.record, meta=meta)
        recorder.attach(group)
    try:
        with stop_on_signals() as stop:  # SIGINT/SIGTERM set it; handlers removed on exit
            async with group:
                waiter = asyncio.ensure_future(stop.wait())
                ended = asyncio.ensure_future(group.closed())
                done, _ = await asyncio.wait(
                    {waiter, ended}, timeout=args.seconds, return_when=asyncio.FIRST_COMPLETED
                )
                waiter.cancel()
                if ended in done:
                    ended.result()
                else:
                    ended.cancel()
    except DisallowedIntentsError as exc:
        names = ", ".join(i.name or str(i) for i in intents.privileged)
        print(f"rxgateway: disallowed intents ({names}): enable them for the app in the developer portal ({exc.code})", file=sys.stderr)
        return EXIT_FAILED
    except AuthenticationError:
        print("rxgateway: the gateway refused the token (4004): check DISCORD_TOKEN", file=sys.stderr)
        return EXIT_FAILED
    except FatalCloseError as exc:
        print(f"rxgateway: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except GatewayError as exc:
        print(f"rxgateway: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if recorder is not None:
            await recorder.aclose()
            print(f"rxgateway: recorded {recorder.frames} payloads to {recorder.path}", file=sys.stderr)
    return EXIT_OK


class _Printer(abc.ObserverBase[Event]):
    def __init__(self, fn: Callable[[Event], None]) -> None:
        self._fn = fn

    def on_next(self, value: Event) -> None:
        self._fn(value)

    def on_error(self, error: Exception) -> None:
        pass

    def on_completed(self) -> None:
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
