"""The floors: what any Python gateway client must pay at least.

``floor``      bare aiohttp websocket + rxgateway's own inflater + ``orjson.loads`` of
               every payload, counting dispatches;
``transport``  the same, inflating every message but never parsing it (after READY).

No state machine, no resume, no ratelimit: a heartbeat task and a receive loop. The
inflater is ``rxgateway.machine.inflate.make_inflater``, the one rxgateway's shards use.

    python -O benchmarks/drivers/floor.py --client floor --level raw --url ... --control ...
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

import aiohttp
import orjson
from _common import (
    TOKEN,
    ALL_INTENTS,
    PROPERTIES,
    SETTLE_S,
    IdentifyPacer,
    Latencies,
    Meter,
    control,
    cpu_s,
    measure_idle,
    emit,
    scale_result,
    host_stats,
    parser,
    rss_kib,
    ws_params,
)

from rxgateway.machine.inflate import make_inflater

BINARY, TEXT = aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT


class Connection:
    """One bare gateway connection: Hello, Identify, heartbeats, READY."""

    def __init__(
        self, http: aiohttp.ClientSession, args, shard: tuple[int, int] = (0, 1), pacer: IdentifyPacer | None = None
    ) -> None:
        self.http = http
        self.pacer = pacer
        self.args = args
        self.shard = shard
        self.inflater = make_inflater(None if args.compression == "none" else args.compression)
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.seq: int | None = None
        self.ready = asyncio.get_running_loop().create_future()
        self.beats = 0
        self._beater: asyncio.Task[None] | None = None

    def payload_of(self, data: bytes | str) -> bytes | str | None:
        inflater = self.inflater
        return data if inflater is None or type(data) is str else inflater.feed(data)

    async def open(self) -> None:
        self.ws = await self.http.ws_connect(self.args.url + ws_params(self.args.compression), max_msg_size=0)

    async def handshake(self) -> None:
        """Hello → Identify → READY (everything before READY is parsed)."""
        ws = self.ws
        assert ws is not None
        while True:
            msg = await ws.receive()
            if msg.type is not BINARY and msg.type is not TEXT:
                raise RuntimeError(f"connection ended during the handshake: {msg.type} {msg.data} {msg.extra}")
            payload = self.payload_of(msg.data)
            if payload is None:
                continue
            frame = orjson.loads(payload)
            op = frame["op"]
            if op == 10:
                interval = frame["d"]["heartbeat_interval"] / 1000
                self._beater = asyncio.get_running_loop().create_task(self._heartbeat(interval))
                if self.pacer is not None:
                    await self.pacer.acquire(self.shard[0])
                await ws.send_bytes(orjson.dumps({"op": 2, "d": self.identify_payload()}))
            elif op == 9 and self.pacer is not None:
                # Identify refused (the emulator saw it too soon for its bucket): wait as
                # GATEWAY.md says (1-5 s) and identify again through the pacer.
                await asyncio.sleep(1 + 4 * random.random())
                await self.pacer.acquire(self.shard[0])
                await ws.send_bytes(orjson.dumps({"op": 2, "d": self.identify_payload()}))
            elif op == 0:
                self.seq = frame["s"]
                if frame["t"] == "READY":
                    self.ready.set_result(None)
                    return

    def identify_payload(self) -> dict:
        return {
            "token": self.args.token or TOKEN,
            "intents": ALL_INTENTS,
            "properties": PROPERTIES,
            "shard": list(self.shard),
            "large_threshold": 250,
        }

    async def _heartbeat(self, interval: float) -> None:
        assert self.ws is not None
        # Jittered like a real client, except in a throughput run: there the transport
        # floor counts every payload, and an ACK inside the window would be one too many.
        await asyncio.sleep(interval * (1.0 if self.args.mode == "throughput" else random.random()))
        while not self.ws.closed:
            await self.ws.send_bytes(b'{"op":1,"d":%s}' % (b"null" if self.seq is None else str(self.seq).encode()))
            self.beats += 1
            await asyncio.sleep(interval)

    async def close(self) -> None:
        if self._beater is not None:
            self._beater.cancel()
        if self.ws is not None and not self.ws.closed:
            await self.ws.close(code=1000)

    # -- receive loops: one per client kind, each as tight as it can be ----------

    async def parse_loop(self, on_dispatch) -> None:
        """floor: inflate and ``orjson.loads`` everything; ``on_dispatch(frame)`` per op 0."""
        ws, feed, loads = self.ws, self.inflater.feed if self.inflater else None, orjson.loads
        assert ws is not None
        receive = ws.receive
        while True:
            msg = await receive()
            data = msg.data
            if msg.type is BINARY:
                payload = feed(data) if feed is not None else data
                if payload is None:
                    continue
            elif msg.type is TEXT:
                payload = data
            else:
                return
            frame = loads(payload)
            if frame["op"] == 0:
                self.seq = frame["s"]
                on_dispatch(frame)

    async def transport_loop(self, on_payload) -> None:
        """transport: inflate everything, parse nothing; ``on_payload()`` per payload."""
        ws, feed = self.ws, self.inflater.feed if self.inflater else None
        assert ws is not None
        receive = ws.receive
        while True:
            msg = await receive()
            if msg.type is BINARY:
                if feed is not None and feed(msg.data) is None:
                    continue
            elif msg.type is not TEXT:
                return
            on_payload()


async def throughput(args) -> None:
    meter = Meter()
    hit = meter.hit
    async with aiohttp.ClientSession() as http:
        conn = Connection(http, args)
        await conn.open()
        await conn.handshake()
        if args.client == "transport":
            loop = conn.transport_loop(hit)
            wanted = None
        elif args.level == "typed" or args.level == "filtered":
            # Read the same fields the typed clients read, for MESSAGE_CREATE only.
            def on_dispatch(frame) -> None:
                if frame["t"] == "MESSAGE_CREATE":
                    d = frame["d"]
                    d["content"], int(d["author"]["id"])
                    hit()

            loop = conn.parse_loop(on_dispatch)
            wanted = lambda by_type: by_type.get("MESSAGE_CREATE", 0)  # noqa: E731
        else:
            loop = conn.parse_loop(lambda frame: hit())
            wanted = None
        reader = asyncio.get_running_loop().create_task(loop)
        await asyncio.sleep(SETTLE_S)
        await meter.run_burst(args, wanted)
        await conn.close()
        reader.cancel()
    emit(meter.result(args))


async def latency(args) -> None:
    lat = Latencies()
    record = lat.record
    async with aiohttp.ClientSession() as http:
        conn = Connection(http, args)
        await conn.open()
        await conn.handshake()
        def on_dispatch(frame) -> None:
            sent_ns = frame["d"].get("emu_sent_ns")  # READY and GUILD_CREATE carry none
            if sent_ns is not None:
                record(sent_ns)

        reader = asyncio.get_running_loop().create_task(conn.parse_loop(on_dispatch))
        await asyncio.sleep(SETTLE_S)
        result = await lat.run(args)
        await conn.close()
        reader.cancel()
    emit(result)


async def scale(args) -> None:
    """S connections in this process: time to all READY, idle RSS and CPU per shard
    (identifies paced like a queue's with ``--max-concurrency`` and ``--window``)."""
    count = args.shards
    before = await host_stats(args)
    rss0 = rss_kib()
    pacer = IdentifyPacer(args.max_concurrency, args.window, args.margin)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        conns = [Connection(http, args, (n, count), pacer) for n in range(count)]
        t0 = time.perf_counter()

        async def run(conn: Connection) -> None:
            for _ in range(5):  # a connection the emulator closed during the handshake: again
                try:
                    await conn.open()
                    await conn.handshake()
                    break
                except (RuntimeError, aiohttp.ClientError, OSError):
                    if conn._beater is not None:
                        conn._beater.cancel()
                    await asyncio.sleep(1 + 4 * random.random())
            else:
                return
            await conn.parse_loop(lambda frame: None)

        readers = [asyncio.get_running_loop().create_task(run(c)) for c in conns]
        await asyncio.wait_for(asyncio.gather(*(c.ready for c in conns)), 900)
        ready_s = time.perf_counter() - t0
        await asyncio.sleep(args.settle)  # GUILD_CREATEs, first heartbeats
        rss1 = rss_kib()
        idle = await measure_idle(args, lambda: sum(c.beats for c in conns))
        idle_cpu = idle["idle_cpu"]
        rss2 = rss_kib()
        alive = sum(1 for c in conns if c.ws is not None and not c.ws.closed)
        after = None
        if args.traffic:
            await control(args.control, "/bench/burst", {"pool": "messages", "count": args.traffic * count})
            await asyncio.sleep(3.0)
            after = (rss_kib() - rss0) / count
        stats = await host_stats(args)
        for c in conns:
            await c.close()
        for r in readers:
            r.cancel()
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
            heartbeats=idle["client_beats"],
            active=alive,
            loop=type(asyncio.get_running_loop()).__module__,
        )
    )


def main() -> None:
    args = parser(__doc__, ["floor", "transport"]).parse_args()
    asyncio.run({"throughput": throughput, "latency": latency, "scale": scale}[args.mode](args))


if __name__ == "__main__":
    main()
    sys.exit(0)
