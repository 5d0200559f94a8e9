"""rxgateway's clients, through its public API only.

Clients:

``rxgateway``           raw: ``shard.subscribe(on_next)`` counting every dispatch;
                        typed / filtered: ``shard.pipe(ops.on(MESSAGE_CREATE))`` reading
                        ``event.content`` and ``event.author.id``;
``rxgateway-all``       filtered level, unfiltered: ``shard.subscribe`` (every type parsed),
                        the subscriber keeps MESSAGE_CREATE and reads the same fields;
``rxgateway-pipe``      raw / typed, what users write: ``shard.pipe(ops.on(READY |
                        MESSAGE_CREATE)).subscribe(fn)``, counting (raw) or reading the
                        same fields (typed);
``rxgateway-chain``     raw / typed: ``shard.pipe(ops.on(..), ops.filter(..),
                        ops.map(..)).subscribe(fn)`` (typed: keeps messages with an
                        author id, maps to the content);
``rxgateway-group``     raw / typed: a ShardGroup of 4 (``create_range``, one queue with
                        max_concurrency 4), ``shards.pipe(ops.on(READY |
                        MESSAGE_CREATE))``; the emulator routes the burst over the 4
                        shards by guild;
``rxgateway-none``      filtered level, nothing wanted: ``on(GUILD_BAN_ADD)``, a type the
                        stream never carries, so every event is unwanted; the driver
                        counts frames with ``shard.stats["dispatches"]`` (what an unwanted
                        event costs).

If the shard still hands out generic ``Dispatch`` objects (before typed events are
wired in), the typed clients build ``rxgateway.events.MessageCreate`` themselves from
the dispatch and report ``"typed_by": "driver"`` (``"shard"`` once the shard does it).

    python -O benchmarks/drivers/rxgw.py --client rxgateway --level typed --url ... --control ...
"""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp
from _common import (
    TOKEN,
    ALL_INTENTS,
    SETTLE_S,
    Latencies,
    Meter,
    control,
    measure_idle,
    cpu_s,
    emit,
    scale_result,
    host_stats,
    parser,
    rss_kib,
)

from rxgateway import Config, EventType, EventTypeFlags, InMemoryQueue, Intents, Shard, ShardId, ShardState, create_range, ops
from rxgateway.events import Dispatch, MessageCreate

MESSAGE_CREATE = EventTypeFlags.MESSAGE_CREATE
#: Identifies a scale run's queue allows (the emulator host's budget is unbounded too).
BUDGET = 1_000_000_000
READY_OR_MESSAGE = EventTypeFlags.READY | EventTypeFlags.MESSAGE_CREATE
#: Shards of the ``rxgateway-group`` client.
GROUP_SHARDS = 4


def config(args, **changes) -> Config:
    return Config(
        args.token or TOKEN,
        Intents(ALL_INTENTS),
        gateway_url=args.url,
        compression=None if args.compression == "none" else args.compression,
        **changes,
    )


class TypedReader:
    """Reads ``content`` and ``author.id`` of a MESSAGE_CREATE, typed."""

    def __init__(self, hit) -> None:
        self.hit = hit
        self.wrapped = 0
        self.seen = 0

    def on_next(self, event) -> None:
        if type(event) is not MessageCreate:  # the shard did not type it: do it here
            event = MessageCreate(event.shard, event.sequence, event.name, event.raw, event.type)
            self.wrapped += 1
        event.content, event.author.id
        self.hit()

    @property
    def typed_by(self) -> str | None:
        return "driver" if self.wrapped else "shard"


async def throughput(args) -> None:
    meter = Meter()
    hit = meter.hit
    group = None
    if args.client == "rxgateway-group":
        group = create_range(range(GROUP_SHARDS), GROUP_SHARDS, config(args, queue=InMemoryQueue(max_concurrency=GROUP_SHARDS)))
        shard = group.shard(0)
    else:
        shard = Shard(ShardId(0, 1), config(args))
    wanted = None
    reader = TypedReader(hit)
    typed = args.level != "raw"

    def count(event) -> None:
        hit()

    def read_message(event) -> None:  # READY comes through on(READY | MESSAGE_CREATE) too
        if type(event) is MessageCreate:
            event.content, event.author.id
            hit()

    if args.client in ("rxgateway-pipe", "rxgateway-group"):
        source = group if group is not None else shard
        source.pipe(ops.on(READY_OR_MESSAGE)).subscribe(read_message if typed else count)
        wanted = lambda by_type: by_type.get("MESSAGE_CREATE", 0)  # noqa: E731
    elif args.client == "rxgateway-chain":
        if typed:
            shard.pipe(
                ops.on(MESSAGE_CREATE),
                ops.filter(lambda m: m.author.id != 0),
                ops.map(lambda m: m.content),
            ).subscribe(lambda content: hit())
        else:
            shard.pipe(
                ops.on(READY_OR_MESSAGE),
                ops.filter(lambda e: e.sequence is not None),
                ops.map(lambda e: e.raw),
            ).subscribe(count)
        wanted = lambda by_type: by_type.get("MESSAGE_CREATE", 0)  # noqa: E731
    elif args.client == "rxgateway" and args.level == "raw":
        def count(event) -> None:
            if isinstance(event, Dispatch):  # not a heartbeat ACK that falls in the window
                hit()

        shard.subscribe(count)
    elif args.client == "rxgateway":
        shard.pipe(ops.on(MESSAGE_CREATE)).subscribe(reader.on_next)
        wanted = lambda by_type: by_type.get("MESSAGE_CREATE", 0)  # noqa: E731
    elif args.client == "rxgateway-all":
        def keep(event) -> None:
            if event.type is EventType.MESSAGE_CREATE:
                reader.on_next(event)

        shard.subscribe(keep)
        wanted = lambda by_type: by_type.get("MESSAGE_CREATE", 0)  # noqa: E731
    else:  # rxgateway-none: nothing the stream carries is wanted
        shard.pipe(ops.on(EventTypeFlags.GUILD_BAN_ADD)).subscribe(lambda event: hit())
    if group is not None:
        await group.start()
        await asyncio.wait_for(group.ready(), 60)
    else:
        await shard.start()
        await shard.ready(timeout=30)
    await asyncio.sleep(SETTLE_S)
    if args.client == "rxgateway-none":
        # No subscriber sees these events: count frames from the shard's own counter,
        # polled (the poll's own cost is a few wake-ups per second).
        base = shard.stats["dispatches"]

        def seen() -> int:
            return shard.stats["dispatches"] - base

        async def poll() -> None:
            while meter.target < 0 or seen() < meter.target:
                await asyncio.sleep(0.002)
            meter.count = seen()
            meter.finish()

        poller = asyncio.get_running_loop().create_task(poll())
        await meter.run_burst(args)
        meter.final = seen()
        poller.cancel()
    else:
        await meter.run_burst(args, wanted)
    state = str(shard.state)
    shards = list(group) if group is not None else [shard]
    connections = sum(s.stats["connections"] for s in shards)
    if group is not None:
        group.close()
        await group.closed()
    else:
        shard.close()
        await shard.closed()
    typed_by = reader.typed_by if typed and args.client in ("rxgateway", "rxgateway-all") else None
    emit(meter.result(args, typed_by=typed_by, state_at_end=state, connections=connections))


async def latency(args) -> None:
    lat = Latencies()
    record = lat.record
    shard = Shard(ShardId(0, 1), config(args))
    if args.level == "raw":
        def on_event(event) -> None:
            raw = getattr(event, "raw", None)  # gateway-level events (state, hello) have none
            if raw is not None and "emu_sent_ns" in raw:
                record(raw["emu_sent_ns"])

        shard.subscribe(on_event)
    else:
        shard.pipe(ops.on(MESSAGE_CREATE)).subscribe(lambda event: record(event.raw["emu_sent_ns"]))
    await shard.start()
    await shard.ready(timeout=30)
    await asyncio.sleep(SETTLE_S)
    result = await lat.run(args)
    shard.close()
    await shard.closed()
    emit(result)


async def scale(args) -> None:
    """S shards in a ShardGroup (one aiohttp session, one InMemoryQueue): with
    ``--max-concurrency`` its buckets and ``--window`` per bucket, else every shard
    identifies at once. A realistic bot's subscription counts MESSAGE_CREATE."""
    count = args.shards
    before = await host_stats(args)
    rss0 = rss_kib()
    if args.max_concurrency:
        # The emulator host's daily budget is unbounded: so is this queue's.
        queue = InMemoryQueue(
            max_concurrency=args.max_concurrency, remaining=BUDGET, total=BUDGET,
            identify_interval=args.window, margin=args.margin,
        )  # fmt: skip
    else:
        queue = InMemoryQueue(max_concurrency=count, remaining=BUDGET, total=BUDGET)
    cfg = config(args, queue=queue)
    group = create_range(range(count), count, cfg)
    seen = [0]

    def on_message(event) -> None:
        seen[0] += 1

    group.pipe(ops.on(MESSAGE_CREATE)).subscribe(on_message)
    t0 = time.perf_counter()
    await group.start()
    await asyncio.wait_for(group.ready(), 900)
    ready_s = time.perf_counter() - t0
    await asyncio.sleep(args.settle)
    rss1 = rss_kib()
    idle = await measure_idle(args)
    idle_cpu = idle["idle_cpu"]
    rss2 = rss_kib()
    active = sum(1 for s in group if s.state == ShardState.ACTIVE)
    after = None
    if args.traffic:
        await control(args.control, "/bench/burst", {"pool": "messages", "count": args.traffic * count})
        await asyncio.sleep(3.0)
        after = (rss_kib() - rss0) / count
    stats = await host_stats(args)
    connections = sum(s.stats["connections"] for s in group)
    group.close()
    await group.closed()
    emit(
        scale_result(
            args,
            count=count,
            ready_s=ready_s,
            rss=(rss0, rss1, rss2),
            idle_cpu=idle_cpu,
            stats=stats,
            before=before,
            after=after,
            idle=idle,
            active=active,
            client_reconnects=connections - count,
            message_creates=seen[0],
            loop=type(asyncio.get_running_loop()).__module__,
        )
    )


def main() -> None:
    args = parser(__doc__, ["rxgateway", "rxgateway-all", "rxgateway-none", "rxgateway-pipe", "rxgateway-chain", "rxgateway-group"]).parse_args()
    asyncio.run({"throughput": throughput, "latency": latency, "scale": scale}[args.mode](args))


if __name__ == "__main__":
    main()
    sys.exit(0)
