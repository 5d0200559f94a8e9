"""hikari's clients (runs in the peers' venv, under ``python -O``).

``hikari``  raw: one ``hikari.impl.shard.GatewayShardImpl`` whose event manager only
            counts ``consume_raw_event`` calls (peers.md §3, "shard only");
            typed / filtered: a ``hikari.GatewayBot`` with every cache component off,
            member chunking off, and one listener for ``MessageCreateEvent`` reading
            ``event.content`` and ``event.author.id`` (hikari then skips building the
            models of the other event types, but still decodes every payload).

The compression is pinned: ``GatewayShardImpl`` gets it as an argument, and for the
bot through its ``__init__`` keyword default (``GatewayBot`` never passes one).

    python -O benchmarks/drivers/hikari_driver.py --client hikari --level raw --url ... --control ...
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import unittest.mock

import hikari
from _common import ALL_INTENTS, TOKEN, SETTLE_S, Latencies, Meter, control, cpu_s, emit, host_stats, measure_idle, scale_result, parser, rss_kib
from hikari.api import shard as shard_api
from hikari.impl import config as hikari_config
from hikari.impl import shard as shard_impl

#: A token hikari accepts (``GatewayBot`` parses the bot id out of its first part).
COMPRESSIONS = {
    "zstd-stream": shard_api.GatewayCompression.TRANSPORT_ZSTD_STREAM,
    "zlib-stream": shard_api.GatewayCompression.TRANSPORT_ZLIB_STREAM,
    "none": None,
}


def _with_activities(serialize):
    """hikari 2.7 sends its Identify presence as ``{"since", "afk", "game", "status"}``
    with no ``activities`` list; Discord accepts that, rxgateway's emulator closes with
    4001 ("presence activities must be a list"). Add the empty list it wants (reported
    to the emulator's owner); nothing on the measured path changes."""

    def patched(self, *args, **kwargs):
        payload = serialize(self, *args, **kwargs)
        payload.setdefault("activities", [])
        return payload

    return patched


shard_impl.GatewayShardImpl._serialize_and_store_presence_payload = _with_activities(
    shard_impl.GatewayShardImpl._serialize_and_store_presence_payload
)


class CountingEventManager:
    """The two methods ``GatewayShardImpl`` calls on its event manager."""

    def __init__(self, on_raw=None) -> None:
        self.on_raw = on_raw
        self.ready = 0

    def consume_raw_event(self, name: str, shard: object, payload: dict) -> None:
        self.on_raw(name, payload)

    async def dispatch(self, event: object, *, return_tasks: bool = False) -> None:
        return None


def make_shard(args, manager: CountingEventManager, shard_id: int = 0, shard_count: int = 1):
    return shard_impl.GatewayShardImpl(
        token=args.token or TOKEN,
        url=args.url,
        intents=hikari.Intents(ALL_INTENTS),
        compression=COMPRESSIONS[args.compression],
        http_settings=hikari_config.HTTPSettings(),
        proxy_settings=hikari_config.ProxySettings(),
        event_manager=manager,
        event_factory=unittest.mock.Mock(),
        shard_id=shard_id,
        shard_count=shard_count,
    )


def make_bot(args) -> hikari.GatewayBot:
    shard_impl.GatewayShardImpl.__init__.__kwdefaults__["compression"] = COMPRESSIONS[args.compression]
    return hikari.GatewayBot(
        args.token or TOKEN,
        intents=hikari.Intents(ALL_INTENTS),
        cache_settings=hikari_config.CacheSettings(components=hikari.api.CacheComponents.NONE),
        auto_chunk_members=False,
        rest_url=args.api_url,
        banner=None,
        logs="WARNING",
        suppress_optimization_warning=True,
    )


async def throughput(args) -> None:
    meter = Meter()
    hit = meter.hit
    if args.level == "raw":
        manager = CountingEventManager(lambda name, payload: hit())
        shard = make_shard(args, manager)
        await shard.start()
        await asyncio.sleep(SETTLE_S)
        await meter.run_burst(args)
        await shard.close()
        emit(meter.result(args, hikari=hikari.__version__))
        return
    bot = make_bot(args)

    async def on_message(event: hikari.MessageCreateEvent) -> None:
        event.content, event.author.id
        hit()

    bot.subscribe(hikari.MessageCreateEvent, on_message)
    await bot.start(check_for_updates=False)
    await asyncio.sleep(SETTLE_S)
    await meter.run_burst(args, lambda by_type: by_type.get("MESSAGE_CREATE", 0))
    await bot.close()
    emit(meter.result(args, hikari=hikari.__version__))


async def latency(args) -> None:
    lat = Latencies()
    record = lat.record
    def on_raw(name: str, payload: dict) -> None:
        sent_ns = payload.get("emu_sent_ns")  # READY and GUILD_CREATE carry none
        if sent_ns is not None:
            record(sent_ns)

    shard = make_shard(args, CountingEventManager(on_raw))
    await shard.start()
    await asyncio.sleep(SETTLE_S)
    # consume_raw_event also sees READY / GUILD_CREATE: those have no stamp and came before.
    result = await lat.run(args)
    await shard.close()
    emit(result)


async def scale(args) -> None:
    """S ``GatewayShardImpl`` in one process. With ``--max-concurrency``, started as
    ``GatewayBot`` starts them: one bucket of that many at a time, the next bucket no
    sooner than ``--window`` (+ margin) after the previous one began."""
    count = args.shards
    before = await host_stats(args)
    rss0 = rss_kib()
    counter = {"ready": 0, "resumed": 0}

    def on_raw(name: str, payload: dict) -> None:
        if name == "READY":
            counter["ready"] += 1
        elif name == "RESUMED":
            counter["resumed"] += 1

    manager = CountingEventManager(on_raw)
    shards = [make_shard(args, manager, n, count) for n in range(count)]
    t0 = time.perf_counter()
    if args.max_concurrency:
        size, spacing = args.max_concurrency, args.window + args.margin
        for start in range(0, count, size):
            began = time.monotonic()
            await asyncio.wait_for(asyncio.gather(*(s.start() for s in shards[start : start + size])), 120)
            rest = spacing - (time.monotonic() - began)
            if rest > 0 and start + size < count:
                await asyncio.sleep(rest)
    else:
        await asyncio.wait_for(asyncio.gather(*(s.start() for s in shards)), 900)
    ready_s = time.perf_counter() - t0
    await asyncio.sleep(args.settle)
    rss1 = rss_kib()
    idle = await measure_idle(args)
    idle_cpu = idle["idle_cpu"]
    rss2 = rss_kib()
    active = sum(1 for s in shards if s.is_alive and s.is_connected)
    after = None
    if args.traffic:
        await control(args.control, "/bench/burst", {"pool": "messages", "count": args.traffic * count})
        await asyncio.sleep(3.0)
        after = (rss_kib() - rss0) / count
    stats = await host_stats(args)
    await asyncio.gather(*(s.close() for s in shards), return_exceptions=True)
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
            client_reconnects=counter["ready"] + counter["resumed"] - count,
            hikari=hikari.__version__,
            loop=type(asyncio.get_running_loop()).__module__,
        )
    )


def main() -> None:
    args = parser(__doc__, ["hikari"]).parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run({"throughput": throughput, "latency": latency, "scale": scale}[args.mode](args))


if __name__ == "__main__":
    main()
    sys.exit(0)
