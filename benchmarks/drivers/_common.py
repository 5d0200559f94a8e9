"""What every driver shares: the command line, the control calls to the emulator host,
the measurement window and the one JSON line a run prints.

Only the standard library and aiohttp (which rxgateway, hikari and discord.py all
use): drivers run in the project's venv or in the peers' venv.

A throughput run goes:

1. connect and identify, wait for READY, let the GUILD_CREATEs pass (``SETTLE_S``);
2. :meth:`Meter.start`: note the wall clock and the process CPU time, then ask the host
   for a burst of N events of a pool; the host answers with the count per type;
3. the client counts what it receives; the driver awaits :meth:`Meter.done` (set when
   the count reaches the target), then notes time and CPU again;
4. waits ``GRACE_S`` more and reports the final count, so a duplicate would show
   (``events`` must equal ``expected``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import aiohttp

if os.environ.get("BENCH_LOOP") == "uvloop":  # set by run.py / scale5k.py (see benchmarks/loops.py)
    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

#: Seconds after READY for the start-up dispatches (GUILD_CREATE ...) to pass.
SETTLE_S = 0.4
#: Seconds to keep listening after the target count, to catch extra events.
GRACE_S = 0.15
#: A run that has not finished after this long is reported as failed.
RUN_TIMEOUT_S = 120.0
#: Every intent (privileged ones included: the emulator's app has them all), so every
#: generated event reaches every client.
ALL_INTENTS = 53_608_447  # = rxgateway ALL_INTENTS = hikari Intents.ALL = discord.Intents.all()
#: The emulator's DEFAULT_TOKEN (run.py passes it with --token; drivers do not import
#: the emulator, which would add its modules to the memory they measure).
TOKEN = "ODE1NzM1MDg1NDY1NzMxMDcy.emulator.token"
PROPERTIES = {"os": "linux", "browser": "bench", "device": "bench"}


def parser(description: str, clients: list[str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--client", required=True, choices=clients)
    p.add_argument("--mode", default="throughput", choices=["throughput", "latency", "scale"])
    p.add_argument("--level", default="raw", choices=["raw", "typed", "filtered"])
    p.add_argument("--compression", default="zstd-stream", choices=["zstd-stream", "zlib-stream", "none"])
    p.add_argument("--url", required=True, help="ws://127.0.0.1:PORT of the emulator")
    p.add_argument("--api-url", default="", help="REST base of the emulator")
    p.add_argument("--control", required=True, help="http://127.0.0.1:PORT of the host's control server")
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--pool", default="", help="messages or filtered (default by level)")
    p.add_argument("--rate", type=float, default=0.0, help="latency mode: events per second")
    p.add_argument("--duration", type=float, default=4.0, help="latency mode: seconds of traffic")
    p.add_argument("--shards", type=int, default=1, help="scale mode: shards in this process")
    p.add_argument("--idle", type=float, default=10.0, help="scale mode: seconds idle after READY")
    p.add_argument("--traffic", type=int, default=0, help="scale mode: events per shard after idling")
    p.add_argument("--max-concurrency", type=int, default=0,
                   help="scale mode: identify buckets (0: every shard identifies at once)")
    p.add_argument("--window", type=float, default=0.0, help="scale mode: seconds per identify bucket")
    p.add_argument("--margin", type=float, default=0.02, help="scale mode: seconds added to --window")
    p.add_argument("--trickle", type=float, default=0.0,
                   help="scale mode: events per shard per second during the idle window (realistic mix)")
    p.add_argument("--settle", type=float, default=2.0, help="scale mode: seconds after all READY before measuring")
    p.add_argument("--token", default="")
    p.add_argument("--timeout", type=float, default=RUN_TIMEOUT_S, help="seconds to wait for the events")
    p.add_argument("--cprofile", default="", help="write cProfile stats of the measured window here")
    return p


def pool_of(args: argparse.Namespace) -> str:
    return args.pool or ("filtered" if args.level == "filtered" else "messages")


def cpu_s() -> float:
    """User + system CPU of this process, every thread (discord.py beats in a thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_kib() -> int:
    """Resident set size now (Linux ``/proc/self/statm``), after a full collection."""
    gc.collect()
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def emit(result: dict[str, Any]) -> None:
    print("RESULT " + json.dumps(result), flush=True)


def scale_result(
    args: argparse.Namespace,
    *,
    count: int,
    ready_s: float,
    rss: tuple[int, int, int],
    idle_cpu: float,
    stats: dict[str, Any],
    before: dict[str, Any],
    after: float | None,
    idle: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The one JSON line of a scale run, the same for every client. ``rss`` is the
    process RSS in KiB with no shard, once all are READY, and after the idle wait;
    ``stats``/``before`` are the emulator host's counters at the end and start."""
    rss0, rss1, rss2 = rss
    return {
        "client": args.client,
        "mode": "scale",
        "compression": args.compression,
        "shards": count,
        "ready_s": round(ready_s, 3),
        "rss_base_mib": round(rss0 / 1024, 1),
        "idle_kib_per_shard": round((rss2 - rss0) / count, 1),
        "idle_kib_per_shard_at_ready": round((rss1 - rss0) / count, 1),
        "idle_cpu_cores": round(idle_cpu, 4),
        "reconnects": stats["connections"] - before["connections"] - count,
        "violations": stats["violation_count"] - before["violation_count"],
        # The emulator's last few, with how soon a refused Identify came.
        "violation_details": stats["violations"][-5:] if stats["violation_count"] > before["violation_count"] else [],
        "after_traffic_kib_per_shard": round(after, 1) if after is not None else None,
        "max_concurrency": args.max_concurrency,
        "window_s": args.window,
        "trickle_per_shard": args.trickle,
        "idle_s": args.idle,
        **({k: v for k, v in idle.items() if k != "idle_cpu"} if idle else {}),
        **extra,
    }


class IdentifyPacer:
    """The identify rule for the clients that have no queue of their own (the floor):
    one Identify per key (``shard % max_concurrency``) per ``window + margin`` seconds,
    first come first served, spaced from the moment each was actually let through (a
    late wake-up never shortens the next gap). ``max_concurrency`` 0 lets every shard
    through at once."""

    def __init__(self, max_concurrency: int, window: float, margin: float) -> None:
        self.max_concurrency = max_concurrency
        self.spacing = window + margin if max_concurrency else 0.0
        self._last: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def acquire(self, shard: int) -> None:
        if not self.max_concurrency:
            return
        key = shard % self.max_concurrency
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # FIFO per key
            while True:
                last = self._last.get(key)
                now = time.monotonic()
                if last is None or now >= last + self.spacing:
                    self._last[key] = now
                    return
                await asyncio.sleep(last + self.spacing - now)


async def measure_idle(args: argparse.Namespace, beats: Callable[[], int] | None = None) -> dict[str, Any]:
    """The scale runs' measured window: ``args.idle`` seconds, with the emulator sending
    ``args.trickle`` events per shard per second meanwhile (none by default). Returns the
    process CPU over the window (cores), the events the host sent, the heartbeats the
    client counted (``beats()``, if it can) and the emulator's view of them."""
    sent = 0
    if args.trickle > 0:
        answer = await control(
            args.control, "/bench/trickle", {"pool": "filtered", "per_session": args.trickle, "duration": args.idle}
        )
        sent = answer["sent"]
    beats0 = beats() if beats else 0
    print(f"IDLE {args.idle}", flush=True)  # scale5k.py --strace attaches now
    # One reading of the process's usage at each end (what cpu_s() sums, and more).
    u0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await asyncio.sleep(args.idle)
    wall = time.perf_counter() - w0
    u1 = resource.getrusage(resource.RUSAGE_SELF)
    user, system = u1.ru_utime - u0.ru_utime, u1.ru_stime - u0.ru_stime
    seen = await control(args.control, "/bench/beats", {"window_s": wall})
    return {
        "idle_cpu": (user + system) / wall,
        # Where the CPU went: the process's own code, the kernel on its behalf, and how
        # often it gave up the CPU (voluntary context switches of all its threads: the
        # loop going to sleep in epoll, mostly, but also a lock or a thread pool).
        "idle_user_cores": round(user / wall, 4),
        "idle_system_cores": round(system / wall, 4),
        "idle_voluntary_switches_per_s": round((u1.ru_nvcsw - u0.ru_nvcsw) / wall, 1),
        "trickle_sent": sent,
        "client_beats": (beats() - beats0) if beats else None,
        "emulator_beats": seen,
    }


async def control(url: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call the emulator host's control server (a fresh connection each time, so the
    client under test has no extra pooled socket)."""
    async with aiohttp.ClientSession() as http:
        if body is None:
            async with http.get(url + path) as response:
                return await response.json()  # type: ignore[no-any-return]
        async with http.post(url + path, json=body) as response:
            return await response.json()  # type: ignore[no-any-return]


class Meter:
    """Counts events and times the window from the burst request to the Nth event."""

    def __init__(self) -> None:
        self.count = 0
        self.target = -1
        self._done: asyncio.Future[None] | None = None
        self.t0 = self.t1 = self.c0 = self.c1 = 0.0
        self.expected_by_type: dict[str, int] = {}
        self.emu_util: float | None = None
        #: The count ``GRACE_S`` after the target was reached (must equal the target).
        self.final = -1
        self.profiler = None

    def hit(self) -> None:
        """Count one event (the counting callbacks call this, or inline its body)."""
        self.count += 1
        if self.count == self.target:
            self.finish()

    def finish(self) -> None:
        if self.profiler is not None:
            self.profiler.disable()
        self.t1 = time.perf_counter()
        self.c1 = cpu_s()
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    async def run_burst(
        self, args: argparse.Namespace, wanted: Callable[[dict[str, int]], int] | None = None
    ) -> None:
        """Ask for the burst and wait for the events; ``wanted(by_type)`` says how many of
        the events sent this client will count (default: all of them)."""
        self._done = asyncio.get_running_loop().create_future()
        self.count = 0
        if args.cprofile:
            import cProfile

            self.profiler = cProfile.Profile()
        self.t0 = time.perf_counter()
        self.c0 = cpu_s()
        if self.profiler is not None:
            self.profiler.enable()
        answer = await control(args.control, "/bench/burst", {"pool": pool_of(args), "count": args.events})
        self.expected_by_type = answer["by_type"]
        self.target = wanted(answer["by_type"]) if wanted else answer["sent"]
        if self.count >= self.target:
            self.finish()
        await asyncio.wait_for(self._done, args.timeout)
        # The emulator's CPU over the same window: near 1.0 means the emulator, not
        # this client, set the pace (the client then waits between frames).
        stats = await control(args.control, "/bench/stats")
        self.emu_util = (stats["cpu_s"] - answer["cpu_s"]) / (time.perf_counter() - self.t0)
        await asyncio.sleep(GRACE_S)
        self.final = self.count
        if self.profiler is not None:
            self.profiler.dump_stats(args.cprofile)

    def result(self, args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
        wall = self.t1 - self.t0
        cpu = self.c1 - self.c0
        # Per event on the wire: at the filtered level a client sees only a tenth of them.
        sent = sum(self.expected_by_type.values())
        n = max(sent, 1)
        return {
            "client": args.client,
            "level": args.level,
            "compression": args.compression,
            "events": self.final,
            "expected": self.target,
            "sent": sent,
            "wall_s": round(wall, 4),
            "events_per_s": round(n / wall, 1) if wall > 0 else None,
            "cpu_s": round(cpu, 4),
            "cpu_us_per_event": round(cpu / n * 1e6, 3),
            "util": round(cpu / wall, 3) if wall > 0 else None,
            "emu_util": round(self.emu_util, 3) if self.emu_util is not None else None,
            "maxrss_mb": round(maxrss_mb(), 1),
            "python": sys.version.split()[0],
            "optimize": sys.flags.optimize,
            **extra,
        }


#: A pause between two subscriber calls longer than this, while frames were due every
#: few tens of microseconds, is a stall: the client (or the emulator) got no CPU, or a
#: collection ran. A handful of them sets a run's p99 (see ``Latencies.run``).
STALL_NS = 2_000_000


class Latencies:
    """perf_counter_ns() - emu_sent_ns, taken in the subscriber."""

    def __init__(self) -> None:
        #: When each wanted frame reached the subscriber, and when the emulator stamped it.
        self.arrived: list[int] = []
        self.sent: list[int] = []
        self.target = -1
        self._done: asyncio.Future[None] | None = None

    def record(self, sent_ns: int) -> None:
        arrived = self.arrived
        arrived.append(time.perf_counter_ns())
        self.sent.append(sent_ns)
        if len(arrived) == self.target and self._done is not None and not self._done.done():
            self._done.set_result(None)

    async def run(self, args: argparse.Namespace) -> dict[str, Any]:
        self._done = asyncio.get_running_loop().create_future()
        c0, t0 = cpu_s(), time.perf_counter()
        switches0 = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw
        answer = await control(
            args.control, "/bench/paced", {"pool": pool_of(args), "rate": args.rate, "duration": args.duration}
        )
        self.target = answer["sent"]
        if len(self.arrived) >= self.target:
            self._done.set_result(None)
        try:
            await asyncio.wait_for(self._done, args.duration * 4 + 30)
        except TimeoutError:
            pass
        wall, cpu = time.perf_counter() - t0, cpu_s() - c0
        switches = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw - switches0
        # The first 10 % is warm-up (the client's caches, the emulator's pacer settling).
        skip = len(self.arrived) // 10
        arrived, sent = self.arrived[skip:], self.sent[skip:]
        kept = sorted(a - s for a, s in zip(arrived, sent))
        gaps = [b - a for a, b in zip(arrived, arrived[1:])]
        stalls = sum(1 for g in gaps if g > STALL_NS)

        def pct(p: float) -> float | None:
            if not kept:
                return None
            return round(kept[min(len(kept) - 1, int(p / 100 * len(kept)))] / 1e6, 4)

        return {
            "client": args.client,
            "level": args.level,
            "compression": args.compression,
            "rate": args.rate,
            "events": len(self.arrived),
            "expected": self.target,
            "p50_ms": pct(50),
            "p99_ms": pct(99),
            "p999_ms": pct(99.9),
            "max_ms": round(kept[-1] / 1e6, 4) if kept else None,
            # What sets the tail on a shared machine: pauses of the subscriber's calls
            # longer than STALL_NS, the longest, and the times the OS took the CPU away.
            "stalls": stalls,
            "max_gap_ms": round(max(gaps) / 1e6, 3) if gaps else None,
            "involuntary_switches": switches,
            "util": round(cpu / wall, 3),
            # At a steady rate each frame tends to get its own event-loop wake-up, so this
            # is higher than the same client's CPU per event in a burst.
            "cpu_us_per_event": round(cpu / max(len(self.arrived), 1) * 1e6, 2),
        }


async def host_stats(args: argparse.Namespace) -> dict[str, Any]:
    return await control(args.control, "/bench/stats")


def ws_params(compression: str) -> str:
    query = "?v=10&encoding=json"
    return query + ("" if compression == "none" else f"&compress={compression}")
