"""``rxgateway emulate``: run the gateway emulator until Ctrl-C.

:func:`add_emulate_arguments` fills an ``argparse`` parser (the ``emulate``
subcommand of ``rxgateway``); :func:`run_emulate` runs it with the parsed arguments.
``python -m rxgateway.emulator`` runs the same thing on its own.

Example::

    parser = argparse.ArgumentParser(prog="rxgateway emulate", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_emulate_arguments(parser)
    sys.exit(run_emulate(parser.parse_args()))
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from ..emulator import settings as cfg
from ..emulator.faults import DEFAULT_DISPATCH_FAULTS, FAULT_HELP, Fault
from ..emulator.payloads import CATEGORIES
from ..emulator.playback import ROUTES, recorded_shard_count
from ..emulator.server import GatewayEmulator
from ..emulator.traffic import DEFAULT_MIX, parse_mix

EPILOG = f"""\
faults (--fault KIND[:ARG], repeatable, injected in turn every --fault-every seconds, and/or
on every connection each time --fault-every-dispatches N more dispatches were written to it
(counted as they are written, so a fault lands inside a Resume's replay; default cycle for
--fault-every-dispatches without --fault: {", ".join(DEFAULT_DISPATCH_FAULTS)});
or at any time through the control API below):
{chr(10).join("  " + text for text in FAULT_HELP.values())}

control API (JSON bodies; ``shard``, ``connection`` or ``session`` pick the target,
none means every open connection):
  POST /_emulator/faults    {{"fault": "close", "code": 4009, "shard": 0}}
  POST /_emulator/dispatch-faults  {{"every": 1000, "faults": ["reconnect", "close:4000"]}}  (every 0 stops)
  POST /_emulator/dispatch  {{"t": "MESSAGE_CREATE", "d": {{...}}}}  (routed by d.guild_id)
  POST /_emulator/push      {{"count": 30000, "t": "MESSAGE_CREATE", "shard": 0}}  (into sessions now)
  POST /_emulator/burst     {{"count": 100000, "mix": "messages=1"}}
  POST /_emulator/traffic   {{"rate": 2000, "mix": "{DEFAULT_MIX}"}}  (rate 0 stops)
  GET  /_emulator/record    connections, identifies, resumes, close codes, violations
  e.g. curl -X POST http://127.0.0.1:8765/_emulator/faults -d '{{"fault": "reconnect", "shard": 0}}'

traffic categories for --mix (category=weight,...; "all" = every category equally):
  {", ".join(sorted(CATEGORIES))}

replay (--replay FILE): serve a recording made with `rxgateway run --record FILE` (or demo --record):
after its READY (with the recorded bot user and guilds), each session gets the recorded dispatches of
its shard (or of the guilds it owns), renumbered, at the recorded pace sped up by --replay-speed;
GET /api/v10/gateway/bot then recommends the recording's shard count unless --shards says otherwise.

REST: GET /api/v10/gateway, GET /api/v10/gateway/bot (Authorization: Bot TOKEN),
POST /api/v10/channels/ID/messages (recorded, echoed as MESSAGE_CREATE).
The control API can inject faults: keep --host on loopback unless you mean it.
"""


def add_emulate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the emulator's options to ``parser`` (use ``EPILOG`` as its epilog)."""
    net = parser.add_argument_group("network")
    net.add_argument("--host", default=cfg.LOOPBACK, help="interface to bind (default: %(default)s)")
    net.add_argument("--port", type=int, default=8765, help="port to bind, 0 for any free one (default: %(default)s)")
    bot = parser.add_argument_group("bots and sharding")
    bot.add_argument("--token", action="append", dest="tokens", metavar="TOKEN",
                     help=f"a valid bot token, repeatable (default: {cfg.DEFAULT_TOKEN})")  # fmt: skip
    bot.add_argument("--shards", type=int, default=None,
                     help="shard count GET /gateway/bot recommends (default: 1, or the recording's with --replay)")  # fmt: skip
    bot.add_argument("--max-concurrency", type=int, default=1, help="identifies per 5 s bucket (default: 1)")
    bot.add_argument("--no-privileged", action="store_true",
                     help="the app has no privileged intent enabled (asking for one closes with 4014)")  # fmt: skip
    bot.add_argument("--session-start-limit", type=int, default=cfg.SESSION_START_TOTAL,
                     help="identifies per day before the token is reset (default: %(default)s)")  # fmt: skip
    proto = parser.add_argument_group("protocol timing")
    proto.add_argument("--heartbeat-interval", type=int, default=cfg.DEFAULT_HEARTBEAT_INTERVAL_MS, metavar="MS",
                       help="heartbeat_interval sent in Hello, ms (default: %(default)s)")  # fmt: skip
    proto.add_argument("--resume-window", type=float, default=cfg.RESUME_WINDOW_S, metavar="S",
                       help="how long a dropped session stays resumable (default: %(default)s)")  # fmt: skip
    proto.add_argument("--replay-buffer", type=replay_buffer, default=cfg.REPLAY_BUFFER_LENGTH, metavar="N",
                       help="dispatches each session keeps for Resume, 0 = unbounded (default: %(default)s)")  # fmt: skip
    proto.add_argument("--identify-window", type=float, default=cfg.IDENTIFY_WINDOW_S, metavar="S",
                       help="one identify per bucket per this many seconds (default: %(default)s)")  # fmt: skip
    proto.add_argument("--zlib-level", type=int, default=cfg.ZLIB_LEVEL, choices=range(10), metavar="0-9",
                       help="zlib-stream deflate level; 0 stores, fastest (default: %(default)s)")  # fmt: skip
    proto.add_argument("--zlib-split", type=int, metavar="BYTES",
                       help="split zlib-stream messages into websocket frames of at most BYTES")  # fmt: skip
    world = parser.add_argument_group("world and traffic")
    world.add_argument("--seed", type=int, default=0, help="seed of guild ids, members and traffic")
    world.add_argument("--guilds", type=int, default=cfg.DEFAULT_GUILDS, help="guilds the bot is in")
    world.add_argument("--members", type=int, default=cfg.DEFAULT_MEMBERS_PER_GUILD, help="members per guild")
    world.add_argument("--large-guilds", type=int, default=0,
                       help=f"guilds with {cfg.LARGE_GUILD_MEMBERS} members (multi-MB GUILD_CREATE with presences)")  # fmt: skip
    world.add_argument("--rate", type=float, default=0.0, help="events per second to generate (default: none)")
    world.add_argument("--mix", type=mix, default=DEFAULT_MIX, help="traffic mix, category=weight,... (default: %(default)s)")
    world.add_argument("--duplicates", type=float, default=0.0, metavar="P",
                       help="chaos: deliver each event twice with probability P")  # fmt: skip
    world.add_argument("--stamp", action="store_true",
                       help='add "emu_sent_ns": time.perf_counter_ns() to every generated event')  # fmt: skip
    chaos = parser.add_argument_group("faults")
    chaos.add_argument("--fault", action="append", dest="faults", metavar="KIND[:ARG]", type=fault,
                       help="a fault to inject every --fault-every seconds and/or every --fault-every-dispatches "
                            "dispatches, in turn (see below)")  # fmt: skip
    chaos.add_argument("--fault-every", type=float, metavar="S", help="seconds between injected faults")
    chaos.add_argument("--fault-every-dispatches", type=positive, metavar="N",
                       help="on every connection, the next --fault each time N more dispatches were written to it")  # fmt: skip
    chaos.add_argument("--fault-shard", type=int, metavar="N",
                       help="--fault-every injects into shard N only (default: all)")  # fmt: skip
    chaos.add_argument("--no-ack", action="store_true", help="never ACK heartbeats (every connection is a zombie)")
    replay = parser.add_argument_group("replay a recording")
    replay.add_argument("--replay", metavar="FILE",
                        help="serve a recording (rxgateway run/demo --record FILE): after its READY, every session "
                             "gets the recorded dispatches, renumbered, at the recorded pace")  # fmt: skip
    replay.add_argument("--replay-speed", type=speed, default=cfg.DEFAULT_REPLAY_SPEED, metavar="X",
                        help="1 = the recorded pace (default), 2 = twice as fast, 0 = as fast as the client reads")  # fmt: skip
    replay.add_argument("--replay-route", choices=ROUTES, default=cfg.DEFAULT_REPLAY_ROUTE,
                        help="shard: session n gets recorded shard n's events; guild: each event goes to the shard "
                             "owning its guild (any shard count); auto (default): shard when the counts match")  # fmt: skip


def fault(text: str) -> Fault:
    """``--fault`` values (argparse names the option type after this function)."""
    return Fault.parse(text)


def positive(text: str) -> int:
    """``--fault-every-dispatches`` values: a positive integer."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


def replay_buffer(text: str) -> int | None:
    """``--replay-buffer`` values: a positive length, 0 for unbounded."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (unbounded) or a positive length")
    return value or None


def speed(text: str) -> float | None:
    """``--replay-speed`` values: a factor, 0 for no pacing."""
    value = float(text)
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError("must be 0 (as fast as possible) or a positive factor")
    return value or None


def mix(text: str) -> str:
    """``--mix`` values, checked early."""
    parse_mix(text)
    return text


def config_from_args(args: argparse.Namespace) -> cfg.EmulatorConfig:
    """The :class:`EmulatorConfig` the parsed arguments describe."""
    return cfg.EmulatorConfig(
        host=args.host,
        port=args.port,
        tokens=tuple(args.tokens or (cfg.DEFAULT_TOKEN,)),
        shards=_shard_count(args),
        max_concurrency=args.max_concurrency,
        application_flags=0 if args.no_privileged else cfg.DEFAULT_APPLICATION_FLAGS,
        session_start_total=args.session_start_limit,
        heartbeat_interval_ms=args.heartbeat_interval,
        resume_window_s=args.resume_window,
        replay_buffer_length=args.replay_buffer,
        identify_window_s=args.identify_window,
        zlib_level=args.zlib_level,
        zlib_split_bytes=args.zlib_split,
        seed=args.seed,
        guilds=args.guilds,
        members_per_guild=args.members,
        large_guilds=args.large_guilds,
        duplicate_rate=args.duplicates,
        stamp=args.stamp,
        ack_heartbeats=not args.no_ack,
        fault_every_dispatches=args.fault_every_dispatches,
        dispatch_faults=tuple(args.faults) if args.faults else DEFAULT_DISPATCH_FAULTS,
        replay=args.replay,
        replay_speed=args.replay_speed,
        replay_route=args.replay_route,
    )


def _shard_count(args: argparse.Namespace) -> int:
    """``--shards``, else the recording's shard count with ``--replay``, else 1."""
    if args.shards is not None:
        return int(args.shards)
    if args.replay:
        return recorded_shard_count(args.replay)
    return 1


async def serve(args: argparse.Namespace) -> None:
    """Run the emulator the arguments describe until cancelled."""
    if args.faults and args.fault_every is None and args.fault_every_dispatches is None:
        raise SystemExit("--fault needs --fault-every or --fault-every-dispatches")
    try:
        emulator = GatewayEmulator(config_from_args(args))
    except ValueError as exc:  # e.g. a fault that cannot be timed in dispatches
        raise SystemExit(str(exc)) from None
    async with emulator as emu:
        print(f"gateway  {emu.url}  (resume: {emu.url}/resume)")
        print(f"REST     {emu.api_url}   control: {emu.http_url}/_emulator/…")
        for token in emu.config.tokens:
            print(f"token    {token}")
        if emu.replay is not None:
            print(f"replay   {emu.replay.describe()}")
        if args.rate:
            emu.start_traffic(args.rate, args.mix)
        if args.faults and args.fault_every is not None:
            emu.schedule_faults(args.faults, args.fault_every, args.fault_shard)
        if emu.state.fault_plan is not None:
            plan = emu.state.fault_plan
            print(f"faults   every {plan.every} dispatches: {', '.join(f.to_text() for f in plan.faults)}")
        await asyncio.Event().wait()


def run_emulate(args: argparse.Namespace) -> int:
    """Entry point of ``rxgateway emulate``: serve until Ctrl-C; the exit status."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0
