"""``rxgateway cluster``: run a member of a cluster, or look at one.

::

    rxgateway cluster run --redis URL [--total N] [--app NAME]   # hold a fair share
    rxgateway cluster status --redis URL [--app NAME]            # members, leases, budget
    rxgateway cluster reshard --redis URL --total N [--app NAME] # a new shard generation

The token comes from ``DISCORD_TOKEN`` (never from the command line, where other
users of the machine could read it); a Redis password in the URL is never printed.
SIGTERM or Ctrl-C makes a member hand its shards off (closed with 4000, sessions
saved, leases released), so a rolling restart identifies nothing again.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any

from ..runner import EXIT_FORCED, stop_on_signals

#: Exit codes (as in :mod:`rxgateway.tools.cli`).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def add_cluster_arguments(commands: Any) -> None:
    """Add ``cluster run`` and ``cluster status`` to the ``rxgateway`` parser."""
    cluster = commands.add_parser(
        "cluster",
        help="run or inspect a cluster of processes sharing the shards, on Redis",
        description="Shards spread over processes and machines, coordinated in Redis.",
    )
    sub = cluster.add_subparsers(dest="cluster_command", metavar="ACTION")
    sub.required = True

    run = sub.add_parser(
        "run",
        help="run a member: hold a fair share of the shards, with a live status",
        description=(
            "Join the cluster and hold a fair share of its shards: claim free ones, resume "
            "them from the session store, hand extra ones to members that join. The token is "
            "read from DISCORD_TOKEN. SIGTERM / Ctrl-C hands every shard off and leaves."
        ),
    )
    _common(run)
    run.add_argument("--total", type=int, default=None, help="shard total (default: the cluster's, else Discord's recommendation)")
    run.add_argument("--gateway-url", help="connect here instead of Discord (an emulator, a gateway proxy)")
    run.add_argument("--api-url", help="REST base for GET /gateway/bot (http://HOST:PORT/api/v10 for an emulator)")
    run.add_argument("--intents", default="GUILDS,GUILD_MESSAGES", help="intent names or a number (default GUILDS,GUILD_MESSAGES)")
    run.add_argument("--compression", default="zstd-stream", help="zstd-stream (default), zlib-stream or none")
    run.add_argument("--member-id", help="this member's id (default host:pid:random)")
    run.add_argument("--lease-ttl", type=float, default=None, help="seconds a lease lasts unrenewed: the failover time (default 30)")
    run.add_argument(
        "--identify-interval",
        type=float,
        default=None,
        help="seconds per identify window (default Discord's 5; only to match an emulator's scaled window)",
    )
    run.add_argument("--identify-margin", type=float, default=None, help="seconds added to each window (default 0.25)")
    run.add_argument("--seconds", type=float, default=None, help="leave after this long (default: until SIGTERM)")
    run.add_argument("--status-every", type=float, default=2.0, help="seconds between status lines (default 2; 0: none)")
    run.add_argument("--json", action="store_true", help="status lines as JSON (for scripts and tests)")
    run.add_argument(
        "--bus",
        default=None,
        help="publish the shards' dispatches to this broker and take commands from it: nats://... (JetStream) or redis://... (Streams)",
    )
    run.add_argument("--bus-events", default=None, help="only these event types on the bus, e.g. MESSAGE_CREATE,GUILD_CREATE (default every dispatch)")
    run.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus /metrics on this port (0: any; needs rxgateway[metrics]); with --bus, the publish lag too")
    run.add_argument("--metrics-host", default="127.0.0.1", help="the address /metrics listens on (default 127.0.0.1)")

    run.add_argument(
        "--auto-reshard-every",
        type=float,
        default=None,
        metavar="S",
        help="check GET /gateway/bot every S seconds and reshard when Discord recommends more shards (opt-in)",
    )

    status = sub.add_parser("status", help="members, leases, sessions and the identify budget, as Redis has them")
    _common(status)
    status.add_argument("--json", action="store_true", help="print JSON")

    reshard = sub.add_parser(
        "reshard",
        help="move the running cluster to another shard total, with no downtime",
        description=(
            "Start a new generation of N shards alongside the running one: the members identify it "
            "through the shared queue, switch once every new shard is Active, and close the old "
            "generation (1000). Refused when the identify budget in Redis has less than N plus the "
            "queue's safety floor left."
        ),
    )
    _common(reshard)
    reshard.add_argument("--total", type=int, default=None, help="the new shard total")
    reshard.add_argument("--floor", type=int, default=None, help="identifies to keep unspent (default: 5%% of the daily total)")
    reshard.add_argument("--cancel", action="store_true", help="drop a pending reshard (its shards are closed)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--redis", required=True, help="redis://[:password@]host:port/db or rediss:// (TLS)")
    parser.add_argument("--app", default=None, help="the key prefix shared by the members of one bot (default rxgateway)")


def run_cluster(args: argparse.Namespace) -> int:
    """Run ``cluster run`` or ``cluster status``; returns the exit code."""
    from ..cluster.redis_link import redact_url

    try:
        if args.cluster_command == "status":
            return asyncio.run(_status(args))
        if args.cluster_command == "reshard":
            return asyncio.run(_reshard(args))
        return asyncio.run(_run_member(args))
    except ValueError as exc:
        print(f"rxgateway: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # the Redis URL is redacted: redis-py's messages name host and port only
        print(f"rxgateway: cannot reach {redact_url(args.redis)}: {exc}", file=sys.stderr)
        return EXIT_FAILED


async def _status(args: argparse.Namespace) -> int:
    from ..cluster.status import cluster_status, format_status
    from ..cluster.redis_link import DEFAULT_APP, connect

    client = connect(args.redis)
    try:
        report = await cluster_status(client, app=args.app or DEFAULT_APP)
    except Exception as exc:
        from ..cluster.redis_link import redact_url

        print(f"rxgateway: cannot read the cluster at {redact_url(args.redis)}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await client.aclose()
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(format_status(report))
    return EXIT_OK


async def _reshard(args: argparse.Namespace) -> int:
    from ..cluster.lease_table import ReshardError, cancel_reshard, start_reshard
    from ..cluster.redis_link import DEFAULT_APP, Keys, connect, redact_url

    if not args.cancel and args.total is None:
        print("rxgateway: reshard needs --total N (or --cancel)", file=sys.stderr)
        return EXIT_USAGE
    app = args.app or DEFAULT_APP
    client = connect(args.redis)
    try:
        if args.cancel:
            dropped = await cancel_reshard(client, Keys(app))
            print(f"cluster {app!r}: " + ("the pending reshard was cancelled" if dropped else "no reshard was pending"))
            return EXIT_OK
        generation = await start_reshard(client, Keys(app), args.total, floor=args.floor)
    except ReshardError as exc:
        print(f"rxgateway: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        print(f"rxgateway: cannot reach the cluster at {redact_url(args.redis)}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await client.aclose()
    print(f"cluster {app!r}: resharding to {args.total} shards (generation {generation}); the members start it at their next renewal")
    return EXIT_OK


async def _run_member(args: argparse.Namespace) -> int:
    """``cluster run``: a member until SIGINT/SIGTERM (a second one forces the exit),
    ``--seconds``, or the member's end; the signal handlers are put back after."""
    with stop_on_signals(on_force=_force_exit) as stop:
        return await _serve_member(args, stop)


def _force_exit() -> None:
    os._exit(EXIT_FORCED)


async def _serve_member(args: argparse.Namespace, stop: asyncio.Event) -> int:
    from ..cluster.member import Member
    from ..cluster.redis_link import DEFAULT_APP, redact_url
    from ..cluster.redis_queue import RedisQueue
    from ..config import DEFAULT_API_URL, DEFAULT_GATEWAY_URL, Config
    from ..errors import AuthenticationError, GatewayError
    from ..protocol import Intents

    token = os.environ.get("DISCORD_TOKEN", "").strip()
    if not token:
        print("rxgateway: no token: set DISCORD_TOKEN to your bot token", file=sys.stderr)
        return EXIT_USAGE
    compression = None if args.compression == "none" else args.compression
    app = args.app or DEFAULT_APP
    config = Config(
        token,
        Intents.parse(args.intents),
        gateway_url=args.gateway_url or DEFAULT_GATEWAY_URL,
        api_url=args.api_url or DEFAULT_API_URL,
        compression=compression,
    )
    member_options: dict[str, Any] = {"app": app}
    if args.total is not None:
        member_options["total"] = args.total
    if args.member_id:
        member_options["member_id"] = args.member_id
    if args.lease_ttl is not None:
        member_options["lease_ttl"] = args.lease_ttl
    if args.auto_reshard_every is not None:
        member_options["auto_reshard"] = args.auto_reshard_every
    if args.identify_interval is not None or args.identify_margin is not None:
        queue_options: dict[str, Any] = {"app": app}
        if args.identify_interval is not None:
            queue_options["identify_interval"] = args.identify_interval
        if args.identify_margin is not None:
            queue_options["margin"] = args.identify_margin
        config = config.replace(queue=RedisQueue(args.redis, **queue_options))
    made_queue = config.queue if isinstance(config.queue, RedisQueue) else None  # closed here, not by the member
    metered = server = None
    metrics: Any = None  # with --bus too, it gets the publish lag
    if args.metrics_port is not None:  # the member's Redis queue, built here to be metered
        from ..metrics import MeteredQueue, Metrics, require_prometheus

        try:
            require_prometheus()
        except RuntimeError as exc:
            print(f"rxgateway: {exc}", file=sys.stderr)
            return EXIT_USAGE
        inner = config.queue if isinstance(config.queue, RedisQueue) else RedisQueue(args.redis, app=app)
        metered = MeteredQueue(inner)
        config = config.replace(queue=metered)
    member = Member(config, args.redis, **member_options)
    if metered is not None:
        metrics = Metrics()
        metrics.watch(member)
        try:
            server = await metrics.serve(args.metrics_port, host=args.metrics_host)
        except OSError as exc:
            print(f"rxgateway: cannot serve /metrics on {args.metrics_host}:{args.metrics_port}: {exc}", file=sys.stderr)
            await metered.aclose()
            return EXIT_USAGE
        print(f"rxgateway: metrics at {server.url}", file=sys.stderr, flush=True)
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    try:
        await member.start()
    except GatewayError as exc:
        print(f"rxgateway: {exc}", file=sys.stderr)
        await _close_metrics(server, metered)
        return EXIT_FAILED
    print(f"rxgateway: member {member.id} joined {app!r} at {redact_url(args.redis)}", file=sys.stderr, flush=True)
    broker = _bus_broker(args.bus, app) if args.bus else None
    published: asyncio.Future[None] = loop.create_future()
    if broker is not None:
        from .. import ops
        from ..protocol import EventTypeFlags

        flags = EventTypeFlags.DISPATCHES
        if args.bus_events:
            flags = EventTypeFlags(0)
            for name in args.bus_events.split(","):
                flags |= EventTypeFlags[name.strip().upper()]
        def ended_publishing(*_: object) -> None:
            if not published.done():
                published.set_result(None)

        member.pipe(ops.publish(broker, flags, metrics=metrics)).subscribe(
            lambda problem: print(f"rxgateway: bus: {problem.error}", file=sys.stderr, flush=True),
            ended_publishing,
            ended_publishing,
        )
    ended = asyncio.ensure_future(member.closed())
    waiter = asyncio.ensure_future(stop.wait())
    code = EXIT_OK
    try:
        while True:
            timeout = args.status_every or None
            if args.seconds is not None:
                left = args.seconds - (time.monotonic() - started)
                if left <= 0:
                    break
                timeout = min(timeout, left) if timeout else left
            done, _ = await asyncio.wait({ended, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if done:
                break
            if args.status_every:
                _print_status(member, args.json, started)
    finally:
        waiter.cancel()
        member.close()
        try:
            await member.closed()
        except AuthenticationError:
            print("rxgateway: the gateway refused the token (4004): check DISCORD_TOKEN", file=sys.stderr)
            code = EXIT_FAILED
        except GatewayError as exc:
            print(f"rxgateway: {exc}", file=sys.stderr)
            code = EXIT_FAILED
        except Exception as exc:
            print(f"rxgateway: the member stopped: {exc}", file=sys.stderr)
            code = EXIT_FAILED
        _print_status(member, args.json, started, final=True)
        await _close_metrics(server, metered)  # the metered queue closes what it wraps
        if made_queue is not None and metered is None:
            await made_queue.aclose()
        if broker is not None:  # what the shards received last is published, then the broker closes
            try:
                await asyncio.wait_for(published, 15)
            except asyncio.TimeoutError:
                print("rxgateway: bus: gave up publishing the last events after 15 s", file=sys.stderr)
            await broker.aclose()
    return code


def _bus_broker(url: str, app: str) -> Any:
    """The broker for ``--bus``: JetStream for nats://, Redis Streams for redis(s)://."""
    from ..bus import JetStreamBroker, RedisStreamsBroker

    if url.startswith(("nats://", "tls://")):
        return JetStreamBroker(url, app=app)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStreamsBroker(url, app=app)
    raise ValueError("--bus takes a nats:// or redis:// URL")


async def _close_metrics(server: Any, queue: Any) -> None:
    """Stop serving /metrics; close the metered queue (the member closes only its own)."""
    if server is not None:
        await server.aclose()
    if queue is not None:
        await queue.aclose()


def _pending_status(member: Any) -> dict[str, Any] | None:
    """The pending generation's shards held here and their states, during a reshard."""
    pending = member.pending
    if pending is None:
        return None
    shards = member.pending_shards
    states: dict[str, int] = {}
    for shard in shards.values():
        states[str(shard.state)] = states.get(str(shard.state), 0) + 1
    return {"generation": pending[0], "total": pending[1], "holds": sorted(shards), "states": states}


def _print_status(member: Any, as_json: bool, started: float, *, final: bool = False) -> None:
    shards = member.shards
    states: dict[str, int] = {}
    for shard in shards.values():
        states[str(shard.state)] = states.get(str(shard.state), 0) + 1
    line = {
        "member": member.id,
        "uptime": round(time.monotonic() - started, 1),
        "members": len(member.members),
        "holds": sorted(shards),
        "states": states,
        "generation": member.generation,
        "total": member.total,
        "pending": _pending_status(member),
        "counters": member.counters,
        "final": final,
    }
    if as_json:
        print(json.dumps(line), flush=True)
    else:
        held = ",".join(str(n) for n in sorted(shards)) or "-"
        print(
            f"[{line['uptime']:>7}s] {member.id}: {len(shards)} shards ({held}) "
            f"{' '.join(f'{k}={v}' for k, v in sorted(states.items()))} | members {len(member.members)} | "
            + " ".join(f"{k}={v}" for k, v in member.counters.items()),
            flush=True,
        )
