"""The benchmark's gateway: one :class:`~rxgateway.emulator.GatewayEmulator` in its own
process, plus a small control server the client drivers call.

Every client of a run reads the **same** stream: the pools below are built once, from a
fixed seed, when the host starts, and every burst cycles through the same pool from
its first event. The control server answers at once with what it is about to send
(count per event type), so a driver knows exactly how many events to wait for.

Routes (JSON bodies):

``POST /bench/burst``  ``{"pool": "messages", "count": N}`` → ``{"sent": N, "by_type": {...}}``;
    the events are then delivered as fast as the connected clients read them.
``POST /bench/paced``  ``{"pool": "messages", "rate": R, "duration": S}`` → ``{"sent": N}``;
    ``N = R × S`` events, each stamped with ``"emu_sent_ns": perf_counter_ns()`` when it
    is handed to the connection (evenly spaced, not in 10 ms ticks).
``POST /bench/trickle`` ``{"pool": "filtered", "per_session": 2.0, "duration": S}`` →
    ``{"sessions": K, "sent": N}``: a steady trickle to every attached session (round
    robin, ``per_session`` events a second each, evenly spaced), as a big bot's shards
    see between bursts (the scale benchmark's load).
``POST /bench/beats``  ``{"window_s": S}`` → heartbeats the open connections sent in the
    last ``S`` seconds, their gaps against the interval (late beats), and the emulator's
    missed-heartbeat closes: "heartbeats on time", seen from the gateway.
``GET /bench/stats``   connections opened and open, identifies, resumes, violations.
``POST /bench/forget`` drop the records of closed connections (bounds the host's memory).

It prints one JSON line with its addresses, then serves until killed.

    python benchmarks/emulator_host.py [--heartbeat-ms 41250] [--guilds 10] [--max-concurrency 1]
                                       [--identify-window 0.0]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import random
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from rxgateway.emulator import GatewayEmulator
from rxgateway.emulator.dispatch import OutgoingDispatch as Dispatch

#: Distinct events per pool; a burst cycles through them.
POOL_SIZE = 1000
#: Seed of the pools (and of the emulated world).
SEED = 20_250
#: A burst hands this many events to the sessions, then lets the writers catch up
#: (the emulator's own burst does the same).
BATCH = 256
#: The production-like mix of the ``filtered`` level, per 1,000 events (peers.md §5).
#: MESSAGE_CREATE, the one type the filtered clients want, is exactly 10 %.
FILTERED_MIX = {
    "PRESENCE_UPDATE": 400,
    "TYPING_START": 250,
    "MESSAGE_CREATE": 100,
    "GUILD_MEMBER_UPDATE": 90,
    "MESSAGE_UPDATE": 80,
    "MESSAGE_DELETE": 50,
    "INTERACTION_CREATE": 30,
}
#: Pools by name: event type → share of the pool.
POOLS = {
    "messages": {"MESSAGE_CREATE": POOL_SIZE},
    "filtered": FILTERED_MIX,
}
#: Sessions are unbounded here: every benchmark run identifies at least once.
SESSION_STARTS = 1_000_000_000


async def _at_rate(rate: float, count: int, send: Callable[[int], None]) -> None:
    """Call ``send(0)``, ``send(1)``, ... ``count`` times, evenly at ``rate`` a second
    from now: what is due goes out in batches of at most :data:`BATCH`, with a pass of
    the loop between batches, and the loop sleeps when nothing is due."""
    clock = time.perf_counter
    sent = 0
    t0 = clock()
    while sent < count:
        due = min(count, int((clock() - t0) * rate) + 1) - sent
        if due <= 0:
            wait = (sent / rate) - (clock() - t0)
            await asyncio.sleep(wait if wait > 0.002 else 0)
            continue
        for _ in range(min(due, BATCH)):
            send(sent)
            sent += 1
        await asyncio.sleep(0)


def build_pools(emu: GatewayEmulator) -> dict[str, list[Dispatch]]:
    """The fixed pools, from the emulator's own realistic event builders."""
    generator = emu.traffic("all")
    pools: dict[str, list[Dispatch]] = {}
    for name, shares in POOLS.items():
        events = [generator.make(t) for t, share in shares.items() for _ in range(share * POOL_SIZE // 1000)]
        random.Random(f"{SEED}-{name}").shuffle(events)
        pools[name] = events
    return pools


class Host:
    def __init__(self, emu: GatewayEmulator) -> None:
        self.emu = emu
        self.pools = build_pools(emu)
        self.tasks: set[asyncio.Task[None]] = set()
        self.forgotten = {"connections": 0, "identifies": 0, "resumes": 0}

    def spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drained(self) -> None:
        await asyncio.sleep(0)
        for connection in list(self.emu.state.connections.values()):
            await connection.drained()

    async def burst(self, pool: list[Dispatch], count: int) -> None:
        route = self.emu.state.sessions.route
        size = len(pool)
        for start in range(0, count, BATCH):
            for index in range(start, min(count, start + BATCH)):
                route(pool[index % size])
            await self.drained()

    async def paced(self, pool: list[Dispatch], rate: float, count: int) -> None:
        route = self.emu.state.sessions.route
        stamp = time.perf_counter_ns
        size = len(pool)
        await _at_rate(rate, count, lambda sent: route(pool[sent % size].with_stamp(stamp())))

    async def trickle(self, pool: list[Dispatch], per_session: float, duration: float) -> None:
        """``per_session`` events a second to every attached session, round robin,
        evenly spaced over the whole set (not one burst per tick)."""
        sessions = [s for s in self.emu.state.sessions if s.connection is not None]
        if not sessions or per_session <= 0:
            return
        rate = per_session * len(sessions)
        size, n = len(pool), len(sessions)

        def push(sent: int) -> None:
            session = sessions[sent % n]
            if session.connection is not None:
                session.push(pool[sent % size])

        await _at_rate(rate, int(rate * duration), push)

    def beats(self, window_s: float) -> dict[str, Any]:
        """Heartbeats of the open connections in the last ``window_s`` seconds, and how
        late they came: a gap is the time between two beats of one connection."""
        state = self.emu.state
        now = state.clock()
        interval = state.config.heartbeat_interval_ms / 1000
        since = now - window_s
        beats = 0
        gaps: list[float] = []
        silent = 0  # open connections with no beat at all in the window (if it spans an interval)
        for record in self.emu.record.connections:
            if record.closed_at is not None or record.session_id is None:
                continue
            times = [b.time for b in record.heartbeats if b.time >= since]
            beats += len(times)
            if not times and window_s > interval * 1.5:
                silent += 1
            last = [b.time for b in record.heartbeats if b.time < since][-1:]
            series = last + times
            gaps += [b - a for a, b in zip(series, series[1:])]
        gaps.sort()
        missed = sum(
            1 for v in self.emu.record.violations if v.kind.value == "missed_heartbeat" and v.time >= since
        )
        late = sum(1 for g in gaps if g > interval * 1.05)
        return {
            "interval_s": interval,
            "window_s": window_s,
            "beats": beats,
            "gaps": len(gaps),
            "late_gaps": late,
            "gap_max_s": round(gaps[-1], 4) if gaps else None,
            "gap_p50_s": round(gaps[len(gaps) // 2], 4) if gaps else None,
            "gap_p999_s": round(gaps[min(len(gaps) - 1, int(len(gaps) * 0.999))], 4) if gaps else None,
            "silent_connections": silent,
            "missed_heartbeat_closes": missed,
        }

    # -- routes ----------------------------------------------------------------

    async def handle_burst(self, request: web.Request) -> web.Response:
        body = await request.json()
        pool = self.pools[body.get("pool", "messages")]
        count = int(body["count"])
        by_type: collections.Counter[str] = collections.Counter()
        full, rest = divmod(count, len(pool))
        for index, dispatch in enumerate(pool):
            by_type[dispatch.t] += full + (1 if index < rest else 0)
        self.spawn(self.burst(pool, count))
        return web.json_response({"sent": count, "by_type": dict(by_type), "cpu_s": time.process_time()})

    async def handle_paced(self, request: web.Request) -> web.Response:
        body = await request.json()
        pool = self.pools[body.get("pool", "messages")]
        rate = float(body["rate"])
        count = int(rate * float(body["duration"]))
        self.spawn(self.paced(pool, rate, count))
        return web.json_response({"sent": count})

    async def handle_trickle(self, request: web.Request) -> web.Response:
        body = await request.json()
        pool = self.pools[body.get("pool", "filtered")]
        per_session = float(body["per_session"])
        duration = float(body["duration"])
        attached = sum(1 for s in self.emu.state.sessions if s.connection is not None)
        self.spawn(self.trickle(pool, per_session, duration))
        return web.json_response({"sessions": attached, "sent": int(per_session * attached * duration)})

    async def handle_beats(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(self.beats(float(body["window_s"])))

    async def handle_stats(self, request: web.Request) -> web.Response:
        record = self.emu.record
        conns = record.connections
        return web.json_response(
            {
                "connections": len(conns) + self.forgotten["connections"],
                "open": len(self.emu.state.connections),
                "identifies": sum(len(c.identifies) for c in conns) + self.forgotten["identifies"],
                "resumes": sum(len(c.resumes) for c in conns) + self.forgotten["resumes"],
                "violations": [f"{v.kind.name}: {v.detail}" for v in record.violations[-20:]],
                "violation_count": len(record.violations),
                "cpu_s": time.process_time(),
            }
        )

    async def handle_forget(self, request: web.Request) -> web.Response:
        record = self.emu.record
        keep = []
        for conn in record.connections:
            if conn.closed_at is None:
                keep.append(conn)
            else:
                self.forgotten["connections"] += 1
                self.forgotten["identifies"] += len(conn.identifies)
                self.forgotten["resumes"] += len(conn.resumes)
        record.connections[:] = keep
        return web.json_response({"kept": len(keep)})


async def main(args: argparse.Namespace) -> None:
    emu = GatewayEmulator(
        shards=args.shards,
        max_concurrency=args.max_concurrency,
        heartbeat_interval_ms=args.heartbeat_ms,
        identify_window_s=args.identify_window,
        session_start_total=SESSION_STARTS,
        resume_window_s=args.resume_window,
        guilds=args.guilds,
        seed=SEED,
        stamp=True,
    )
    await emu.start()
    host = Host(emu)
    app = web.Application()
    app.router.add_post("/bench/burst", host.handle_burst)
    app.router.add_post("/bench/paced", host.handle_paced)
    app.router.add_post("/bench/trickle", host.handle_trickle)
    app.router.add_post("/bench/beats", host.handle_beats)
    app.router.add_get("/bench/stats", host.handle_stats)
    app.router.add_post("/bench/forget", host.handle_forget)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sizes = {name: round(sum(len(d.data) for d in pool) / len(pool)) for name, pool in host.pools.items()}
    print(
        json.dumps(
            {
                "url": emu.url,
                "api_url": emu.api_url,
                "control": f"http://127.0.0.1:{port}",
                "pool_bytes": sizes,
            }
        ),
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for task in list(host.tasks):
        task.cancel()
    await runner.cleanup()
    await emu.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heartbeat-ms", type=int, default=41_250)
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--max-concurrency", type=int, default=1)
    parser.add_argument("--guilds", type=int, default=10)
    parser.add_argument("--resume-window", type=float, default=1.0)
    parser.add_argument("--identify-window", type=float, default=0.0,
                        help="seconds per identify bucket (0: no limit); the scale benchmark scales Discord's 5 s")
    asyncio.run(main(parser.parse_args()))
    sys.exit(0)
