"""The cluster at scale, as a benchmark (not a test): N idle shards over P member
processes (``rxgateway cluster run``) on this machine, one real Redis, one emulator.

    .venv/bin/python benchmarks/cluster_scale.py                     # 2000 shards, 8 processes
    .venv/bin/python benchmarks/cluster_scale.py --shards 2000 --processes 8 --max-concurrency 16 --window 0.25
    .venv/bin/python benchmarks/cluster_scale.py --shards 32 --processes 2 --window 0.2 --steady 3 --lease-ttl 6

What it measures (see benchmarks/CLUSTER.md for a full run and the method):

* time from spawning the members to every shard Active in its member, held by exactly
  one member and attached at the emulator (exactly one live connection per shard);
* the identify phase (first accepted Identify -> last, on the emulator's clock) against
  the theoretical minimum ``ceil(N / max_concurrency) x window`` and, since the shared
  queue spaces grants by ``window + margin``, ``ceil(N / max_concurrency) x (window +
  margin)``; identifies == N, and the emulator's violations (bucket and others) == 0;
* memory per shard: each member's VmRSS once all are Active, minus the same process's
  VmRSS while it still held no shard (its last status line before its first claim),
  divided by the shards it holds;
* Redis operations per second at steady state (``INFO stats`` total_commands_processed,
  which counts the commands run inside Lua scripts too, and ``INFO commandstats``), and
  Redis's own CPU;
* CPU of the members at steady state (utime + stime from /proc over the same window),
  per shard.

And, to say why a start was slow or not clean: CPU per process kind every second, the
queue's grants (its audit stream in Redis) against the identifies the emulator received
(delay, grants no Identify followed), how long each member went without renewing its
leases, shards in two members at once, Resumes that displaced a live connection, and
the members' log records of level WARNING and above (they run with ``-v``).

The emulator runs in this process (one event loop; its loop lag and garbage-collector
pauses are measured and printed). Its collector is paused from spawn to all Active
(``--emulator-gc on`` keeps it): a gen-2 collection of 2,000 connections' objects takes
hundreds of ms, and identifies that arrive meanwhile reach the rate check together.
Every member gets the token through ``DISCORD_TOKEN``, never on its command line.
Everything started here is stopped at the end, also on failure and Ctrl-C / SIGTERM.
Output: a markdown table on stdout, ``results/cluster.md`` and ``results/cluster.json``
(``--out DIR`` elsewhere). Exit code 0 when every shard got Active with exactly N
identifies, no violation, no shard identified twice and no Resume displacing a live
connection; else 1.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import math
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rxgateway.emulator import GatewayEmulator  # noqa: E402
from rxgateway.emulator.journal import ViolationKind  # noqa: E402
from rxgateway.emulator.settings import DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_TOKEN  # noqa: E402
from rxgateway.tools.redis_server import RedisServer  # noqa: E402

#: Discord's own numbers, as the issue asks: 2,000 shards, 8 processes, 16 keys.
DEFAULT_SHARDS = 2000
DEFAULT_PROCESSES = 8
DEFAULT_MAX_CONCURRENCY = 16
#: The scaled identify window (Discord's is 5 s) and the queue's margin on top of it.
DEFAULT_WINDOW = 0.25
DEFAULT_MARGIN = 0.05
#: Seconds of steady state measured after every shard is Active (and the settle time
#: before it: the last GUILD_CREATEs and session saves of the start).
DEFAULT_STEADY = 30.0
DEFAULT_SETTLE = 2.0
#: Guilds in the emulated world (few: the shards are idle) and the daily budget.
DEFAULT_GUILDS = 64
SESSION_START_TOTAL = 10_000
#: How often the benchmark looks at the members and the emulator, and prints progress.
POLL_S = 0.1
SAMPLE_S = 1.0
PROGRESS_EVERY_S = 5.0
#: The emulator's loop-lag probe period.
LAG_PROBE_S = 0.05
#: Loop wake-ups later than this are listed with their time in the JSON.
STALL_S = 0.1
MAX_STALLS = 1000
#: Redis's clock and this process's may disagree by this much when pairing grants.
CLOCK_SLACK_S = 0.005
#: Violations listed in the JSON (the count is always complete).
MAX_LISTED = 200
#: Seconds a member may take to hand its shards off on SIGTERM before it is killed.
STOP_TIMEOUT_S = 60.0
#: stderr lines kept per member (the last ones).
STDERR_KEPT = 200
#: The members' lease TTL when --lease-ttl is not given (rxgateway.cluster.leases.LEASE_TTL).
DEFAULT_LEASE_TTL = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


# ----------------------------------------------------------------------- /proc


def proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (all threads), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    rest = stat[stat.rfind(")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def proc_status_kb(pid: int, field_name: str) -> int | None:
    """A ``kB`` field of /proc/PID/status (VmRSS, VmHWM), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def machine_jiffies() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine, monotonic time)."""
    with open("/proc/stat") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return (sum(fields) - idle) / CLK_TCK, time.monotonic()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def git_head() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, cwd=ROOT).stdout
    except OSError:
        return "?"
    return head.strip() + (" + uncommitted changes" if dirty.strip() else "")


# --------------------------------------------------------------------- members


@dataclass
class Member:
    """One ``rxgateway cluster run`` process and what it printed."""

    name: str
    process: asyncio.subprocess.Process
    last: dict[str, Any] | None = None
    lines: int = 0
    #: VmRSS (kB) at its last status line with no shard held yet: the idle baseline.
    idle_rss_kb: int | None = None
    idle_uptime: float | None = None
    stderr: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=STDERR_KEPT))
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    #: Log records of level WARNING and above, by message shape.
    problems: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    @property
    def holds(self) -> list[int]:
        return list(self.last["holds"]) if self.last else []

    @property
    def active(self) -> int:
        return int(self.last["states"].get("Active", 0)) if self.last else 0


async def read_stdout(member: Member, stream: asyncio.StreamReader) -> None:
    while line := await stream.readline():
        text = line.decode(errors="replace").strip()
        try:
            status = json.loads(text)
        except ValueError:
            member.stderr.append(text)
            continue
        member.last = status
        member.lines += 1
        if not status["holds"] and not status["states"] and not status.get("final"):
            rss = proc_status_kb(member.pid, "VmRSS")
            if rss is not None:
                member.idle_rss_kb, member.idle_uptime = rss, status.get("uptime")


_NUMBERS = re.compile(r"\d+(\.\d+)?")
_LEVELS = ("WARNING", "ERROR", "CRITICAL")


async def read_stderr(member: Member, stream: asyncio.StreamReader) -> None:
    """Keep the last lines; count the log records of level WARNING and above by
    message shape (numbers replaced by #), to say what went wrong without 2,000 lines."""
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip()
        member.stderr.append(text)
        parts = text.split(" ", 4)
        if len(parts) == 5 and parts[2] in _LEVELS:
            shape = _NUMBERS.sub("#", parts[4])[:200]
            member.problems[f"{parts[2]} {shape}"] += 1


async def spawn_member(index: int, args: argparse.Namespace, emu: GatewayEmulator, redis_url: str, app: str) -> Member:
    name = f"m{index}"
    command = [
        sys.executable, "-m", "rxgateway", "-v", "cluster", "run",
        "--redis", redis_url, "--app", app, "--total", str(args.shards),
        "--gateway-url", emu.url, "--api-url", emu.api_url,
        "--member-id", f"{name}-{os.getpid()}",
        "--compression", args.compression,
        "--identify-interval", str(args.window), "--identify-margin", str(args.margin),
        "--status-every", "1", "--json",
    ]  # fmt: skip
    if args.lease_ttl is not None:
        command += ["--lease-ttl", str(args.lease_ttl)]
    env = dict(os.environ, DISCORD_TOKEN=DEFAULT_TOKEN, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT, limit=1 << 20
    )
    member = Member(name, process)
    assert process.stdout is not None and process.stderr is not None
    member.readers = [
        asyncio.create_task(read_stdout(member, process.stdout)),
        asyncio.create_task(read_stderr(member, process.stderr)),
    ]
    return member


async def stop_members(members: list[Member], timeout: float) -> float:
    """SIGTERM every member (they hand their shards off), SIGKILL what is left after
    ``timeout``; returns the seconds it took."""
    started = time.monotonic()
    for m in members:
        if m.alive:
            try:
                m.process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass

    async def wait_one(m: Member) -> None:
        try:
            async with asyncio.timeout(max(0.1, timeout - (time.monotonic() - started))):
                await m.process.wait()
        except TimeoutError:
            m.stderr.append(f"benchmark: no exit within {timeout:.0f} s of SIGTERM: killed")
            m.process.kill()
            await m.process.wait()

    await asyncio.gather(*(wait_one(m) for m in members), return_exceptions=True)
    for m in members:
        for reader in m.readers:
            try:
                async with asyncio.timeout(2):
                    await reader
            except (TimeoutError, Exception):
                reader.cancel()
    return time.monotonic() - started


# ---------------------------------------------------------------- the run


class LagProbe:
    """How late the benchmark's own event loop (the emulator's) wakes up."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        #: (monotonic time, lag) of every wake-up later than STALL_S (at most MAX_STALLS).
        self.stalls: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_PROBE_S)
            lag = max(0.0, loop.time() - before - LAG_PROBE_S)
            self.samples.append(lag)
            if lag > STALL_S and len(self.stalls) < MAX_STALLS:
                self.stalls.append((time.monotonic(), lag))

    def take(self) -> list[float]:
        samples, self.samples = self.samples, []
        return samples

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class GcWatch:
    """Garbage collections of this process (the emulator's) that took long."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, int, float]] = []
        self.count = 0
        self.total_s = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took = time.perf_counter() - self._started
        self.count += 1
        self.total_s += took
        if took > STALL_S / 2 and len(self.pauses) < MAX_STALLS:
            self.pauses.append((time.monotonic(), info.get("generation", -1), took))


def lag_summary(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(samples)
    return {
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


class Bench:
    def __init__(self, args: argparse.Namespace, redis: RedisServer) -> None:
        self.args = args
        self.redis_server = redis
        self.app = f"bench{os.getpid()}"
        self.members: list[Member] = []
        self.result: dict[str, Any] = {"status": "not started"}
        self.samples: list[dict[str, Any]] = []
        self.emu: GatewayEmulator | None = None
        self.lag = LagProbe()
        self.gc = GcWatch()
        #: The longest time each member went without renewing, as sampled (seconds).
        self.max_renewal_age: dict[str, float] = {}
        #: (commandstats, CPU snapshot) at the first sample that saw an identify.
        self.phase0: tuple[dict[str, Any], dict[str, float]] | None = None
        #: Set by the first Ctrl-C / SIGTERM: each phase ends early, figures are kept.
        self.interrupted: str | None = None
        self.wake = asyncio.Event()

    # -- views of the emulator and the members ----------------------------------

    def attached(self) -> collections.Counter[int]:
        assert self.emu is not None
        return collections.Counter(s.shard.number for s in self.emu.state.sessions if s.connection is not None)

    def accepted_identifies(self) -> list[Any]:
        assert self.emu is not None
        return [i for i in self.emu.record.identifies() if i.accepted]

    def all_active(self) -> bool:
        n = self.args.shards
        held: list[int] = []
        active = 0
        for m in self.members:
            if not m.alive:
                return False
            held += m.holds
            active += m.active
        if active != n or sorted(held) != list(range(n)):
            return False
        attached = self.attached()
        return len(attached) == n and all(c == 1 for c in attached.values())

    def cpu_snapshot(self) -> dict[str, float]:
        """CPU seconds so far: the members (sum), this process, the machine (Redis's
        own CPU comes from its INFO, see :meth:`redis_cpu`)."""
        members = sum(proc_cpu(m.pid) or 0.0 for m in self.members)
        return {"members": members, "bench": time.process_time(), "machine": machine_jiffies()[0], "t": time.monotonic()}

    async def nap(self, seconds: float) -> None:
        """Sleep, but wake up at once when interrupted."""
        try:
            async with asyncio.timeout(seconds):
                await self.wake.wait()
        except TimeoutError:
            pass

    # -- phases ------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        import redis.asyncio as aioredis

        args = self.args
        n, mc = args.shards, args.max_concurrency
        windows = math.ceil(n / mc)
        result = self.result
        result.update(
            status="starting",
            setup={
                "shards": n, "processes": args.processes, "max_concurrency": mc, "window_s": args.window,
                "margin_s": args.margin, "heartbeat_interval_ms": DEFAULT_HEARTBEAT_INTERVAL_MS, "guilds": args.guilds,
                "compression": args.compression, "lease_ttl_s": args.lease_ttl, "steady_s": args.steady,
                "settle_s": args.settle,
                "emulator": "in the benchmark's process (one asyncio event loop)",
                "emulator_gc": args.emulator_gc,
                "emulator_nice": args.emulator_nice,
                "redis": self.redis_server.binary,
            },
            theory={
                "windows": windows,
                "min_s": round(windows * args.window, 3),
                "min_with_margin_s": round(windows * (args.window + args.margin), 3),
            },
        )  # fmt: skip
        client = aioredis.Redis.from_url(self.redis_server.url)
        try:
            info = await client.info("server")
            result["setup"]["redis_version"] = info.get("redis_version")
            async with GatewayEmulator(
                shards=n, max_concurrency=mc, identify_window_s=args.window,
                heartbeat_interval_ms=DEFAULT_HEARTBEAT_INTERVAL_MS, guilds=args.guilds,
                session_start_total=SESSION_START_TOTAL,
            ) as emu:  # fmt: skip
                self.emu = emu
                gc.callbacks.append(self.gc)
                self.lag.start()
                try:
                    await self._start_phase(client)
                    if result["status"] == "all active":
                        await self._steady_phase(client)
                finally:
                    result["stop_s"] = round(await stop_members(self.members, STOP_TIMEOUT_S), 1)
                    result["exit_codes"] = [m.process.returncode for m in self.members]
                    result["stderr_tail"] = {m.name: list(m.stderr)[-5:] for m in self.members if m.stderr}
                    problems: collections.Counter[str] = collections.Counter()
                    for m in self.members:
                        problems.update(m.problems)
                    result["member_log_problems"] = dict(problems.most_common(40))
                    await self.lag.stop()
                    if self.gc in gc.callbacks:
                        gc.callbacks.remove(self.gc)
                    if not gc.isenabled():  # the start phase ended early with the collector paused
                        gc.enable()
                        gc.unfreeze()
        finally:
            await client.aclose()
        return result

    async def _start_phase(self, client: Any) -> None:
        args, result = self.args, self.result
        assert self.emu is not None
        before_redis = await self.redis_cpu(client)
        cmd0 = await client.info("commandstats")
        cpu0 = self.cpu_snapshot()
        spawned = time.monotonic()
        result["spawned_at"] = spawned
        for index in range(1, args.processes + 1):
            self.members.append(await spawn_member(index, args, self.emu, self.redis_server.url, self.app))
        deadline = spawned + args.timeout
        if args.emulator_nice:
            # Only this process (the emulator, the judge): the members and Redis keep
            # the nice value they were started with.
            try:
                os.setpriority(os.PRIO_PROCESS, 0, args.emulator_nice)
                result["setup"]["emulator_nice_applied"] = os.getpriority(os.PRIO_PROCESS, 0)
            except OSError as exc:
                result["setup"]["emulator_nice_applied"] = f"could not: {exc}"
        if args.emulator_gc == "paused":
            # The emulator is the judge of identify timing: a gen-2 collection of this
            # process (hundreds of ms with 2,000 connections' objects) would hold back
            # the identifies that arrive meanwhile and then hand them to the rate check
            # together. Collections wait until every shard is Active.
            gc.collect()
            gc.freeze()
            gc.disable()
            self.gc.pauses.clear()
        last_sample = last_progress = spawned
        prev = dict(cpu0, redis=before_redis)
        self.lag.take()
        result["status"] = "waiting for all Active"
        while True:
            now = time.monotonic()
            if self.all_active():
                result["status"] = "all active"
                result["all_active_s"] = round(now - spawned, 2)
                break
            dead = [m for m in self.members if not m.alive]
            if dead:
                result["status"] = f"member(s) exited early: {', '.join(f'{m.name}={m.process.returncode}' for m in dead)}"
                break
            if now > deadline:
                result["status"] = f"timed out after {args.timeout:.0f} s"
                break
            if self.interrupted:
                result["status"] = f"interrupted ({self.interrupted}) before all were Active"
                break
            if now - last_sample >= SAMPLE_S:
                prev = await self._sample(client, prev, spawned)
                last_sample = now
                if now - last_progress >= PROGRESS_EVERY_S:
                    last_progress = now
                    self._progress(self.samples[-1])
            await asyncio.sleep(POLL_S)
        # The start, as the emulator recorded it.
        end = time.monotonic()
        if args.emulator_gc == "paused":
            gc.enable()
            began = time.perf_counter()
            gc.collect()
            result["gc_after_start_ms"] = round((time.perf_counter() - began) * 1000)
            gc.unfreeze()
        cpu1 = self.cpu_snapshot()
        redis_cpu = await self.redis_cpu(client)
        wall = end - spawned
        result["start_cpu_cores"] = {
            "members": round((cpu1["members"] - cpu0["members"]) / wall, 2),
            "redis": round((redis_cpu - before_redis) / wall, 2),
            "emulator_and_bench": round((cpu1["bench"] - cpu0["bench"]) / wall, 2),
            "machine": round((cpu1["machine"] - cpu0["machine"]) / wall, 2),
            "wall_s": round(wall, 1),
        }
        c = result["start_cpu_cores"]
        c["other"] = round(max(0.0, c["machine"] - c["members"] - c["redis"] - c["emulator_and_bench"]), 2)
        result["start_loop_lag"] = lag_summary(self.lag.take())
        cmd1 = await client.info("commandstats")
        calls = {
            k.removeprefix("cmdstat_"): int(v["calls"]) - int(cmd0.get(k, {}).get("calls", 0)) for k, v in cmd1.items()
        }
        result["start_redis_calls"] = dict(sorted(((k, v) for k, v in calls.items() if v > 0), key=lambda kv: -kv[1]))
        if self.phase0 is not None:
            # From the first second with an identify to all Active: the queue's work.
            cmd_p, cpu_p = self.phase0
            span = cpu1["t"] - cpu_p["t"]
            scripts = sum(int(cmd1.get(k, {}).get("calls", 0)) - int(cmd_p.get(k, {}).get("calls", 0))
                          for k in ("cmdstat_evalsha", "cmdstat_eval"))  # fmt: skip
            result["identify_phase_redis"] = {
                "span_s": round(span, 1),
                "script_calls_per_s": round(scripts / span, 1) if span > 0 else None,
                "members_cores": round((cpu1["members"] - cpu_p["members"]) / span, 2) if span > 0 else None,
                "member_cpu_us_per_script_call": round((cpu1["members"] - cpu_p["members"]) * 1e6 / scripts, 1)
                if scripts else None,
            }
        self._judge_identifies(spawned)
        try:
            await self._grant_delays(client)
        except Exception as exc:  # a diagnostic only
            result["grant_to_identify"] = {"error": repr(exc)}
        busy = [x["cores"] for x in self.samples if x["identified"] > 0]
        if busy:
            result["start_peak_cores"] = {k: max(c[k] for c in busy) for k in ("members", "redis", "bench", "machine")}
        if result["status"] != "all active":
            result["members_at_end"] = [
                {"name": m.name, "alive": m.alive, "holds": len(m.holds), "states": (m.last or {}).get("states"),
                 "counters": (m.last or {}).get("counters"), "stderr": list(m.stderr)[-5:]}
                for m in self.members
            ]  # fmt: skip

    async def redis_cpu(self, client: Any) -> float:
        info = await client.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    async def _sample(self, client: Any, prev: dict[str, float], spawned: float) -> dict[str, float]:
        cpu = self.cpu_snapshot()
        cpu["redis"] = await self.redis_cpu(client)
        dt = max(1e-6, cpu["t"] - prev["t"])
        ids = self.accepted_identifies()
        if ids and self.phase0 is None:
            self.phase0 = (await client.info("commandstats"), cpu)
        attached = self.attached()
        renewal_ages = await self._renewal_ages(client)
        for name, age in renewal_ages.items():
            self.max_renewal_age[name] = max(self.max_renewal_age.get(name, 0.0), age)
        holds = [n for m in self.members for n in m.holds]
        sample = {
            "t": round(cpu["t"] - spawned, 1),
            "identified": len(ids),
            "active": sum(m.active for m in self.members),
            "held": sum(len(m.holds) for m in self.members),
            "attached": len(attached),
            "held_twice": len(holds) - len(set(holds)),
            "oldest_renewal_s": max(renewal_ages.values(), default=None),
            "cores": {k: round((cpu[k] - prev[k]) / dt, 2) for k in ("members", "redis", "bench", "machine")},
        }
        self.samples.append(sample)
        return cpu

    async def _renewal_ages(self, client: Any) -> dict[str, float]:
        """Seconds since each live member last renewed its leases (the members set
        scores each member with server time + TTL at its last heartbeat)."""
        from rxgateway.cluster.redis_link import Keys

        ttl = self.args.lease_ttl if self.args.lease_ttl is not None else DEFAULT_LEASE_TTL
        seconds, micros = await client.time()
        now_ms = seconds * 1000 + micros // 1000
        scores = await client.zrange(Keys(self.app).members, 0, -1, withscores=True)
        return {m.decode().split("-")[0]: round(ttl - (score - now_ms) / 1000, 1) for m, score in scores}

    def _progress(self, s: dict[str, Any]) -> None:
        c = s["cores"]
        print(
            f"[{s['t']:>6.1f} s] identified {s['identified']}/{self.args.shards}, held {s['held']}, "
            f"Active {s['active']}, attached {s['attached']}, held twice {s['held_twice']}, oldest renewal "
            f"{s['oldest_renewal_s']} s | cores: members {c['members']:.2f}, "
            f"redis {c['redis']:.2f}, emulator+bench {c['bench']:.2f}, machine {c['machine']:.2f}",
            file=sys.stderr,
            flush=True,
        )

    def _judge_identifies(self, spawned: float) -> None:
        assert self.emu is not None
        result = self.result
        record = self.emu.record.identifies()
        accepted = [i for i in record if i.accepted]
        shards = collections.Counter(i.shard.number for i in accepted)
        by_bucket: dict[int, list[float]] = {}
        for i in accepted:
            by_bucket.setdefault(i.bucket, []).append(i.time)
        gaps = [b - a for times in by_bucket.values() for a, b in zip(times, times[1:])]
        kinds = collections.Counter(v.kind.value for v in self.emu.violations)
        result["identifies"] = {
            "accepted": len(accepted),
            "refused": len(record) - len(accepted),
            "distinct_shards": len(shards),
            "shards_identified_twice": sum(1 for c in shards.values() if c > 1),
            "buckets_used": len(by_bucket),
            "per_bucket_max": max((len(t) for t in by_bucket.values()), default=0),
            "min_same_bucket_gap_ms": round(min(gaps) * 1000, 1) if gaps else None,
            "median_same_bucket_gap_ms": round(statistics.median(gaps) * 1000, 1) if gaps else None,
        }
        if accepted:
            first, last = accepted[0].time, accepted[-1].time
            result["identifies"].update(
                spawn_to_first_s=round(first - spawned, 2),
                spawn_to_last_s=round(last - spawned, 2),
                phase_s=round(last - first, 2),
            )
        resumes = self.emu.record.resumes()
        result["resumes"] = len([r for r in resumes if r.accepted])
        result["resumes_displacing"] = len([r for r in resumes if r.displaced is not None])
        result["max_renewal_age_s"] = dict(sorted(self.max_renewal_age.items()))
        result["max_held_twice"] = max((x["held_twice"] for x in self.samples), default=0)
        result["violations"] = {
            "total": len(self.emu.violations),
            "identify_concurrency": kinds.get(ViolationKind.IDENTIFY_CONCURRENCY.value, 0),
            "by_kind": dict(kinds),
        }
        result["connections_opened"] = len(self.emu.record.connections)
        result["violations"]["first"] = [
            {"t": round(v.time - spawned, 3), "kind": v.kind.value, "shard": v.shard.number if v.shard else None,
             "detail": v.detail}
            for v in self.emu.violations[:MAX_LISTED]
        ]  # fmt: skip
        result["loop_stalls"] = [{"t": round(t - spawned, 2), "lag_ms": round(lag * 1000)} for t, lag in self.lag.stalls]
        result["gc_pauses"] = [
            {"t": round(t - spawned, 2), "generation": g, "ms": round(took * 1000)} for t, g, took in self.gc.pauses
        ]
        result["gc_total"] = {"collections": self.gc.count, "seconds": round(self.gc.total_s, 3)}
        # The slowest shards: when they first tried, how often, when they got through.
        attempts: dict[int, list[Any]] = {}
        for i in record:
            attempts.setdefault(i.shard.number, []).append(i)
        tail = sorted(accepted, key=lambda i: i.time)[-10:]
        result["identifies"]["last"] = [
            {"shard": i.shard.number, "t": round(i.time - spawned, 2), "attempts": len(attempts[i.shard.number]),
             "first_attempt_t": round(attempts[i.shard.number][0].time - spawned, 2)}
            for i in tail
        ]  # fmt: skip
        result["identifies"]["shards_refused_at_least_once"] = sum(
            1 for tries in attempts.values() if any(not i.accepted for i in tries)
        )

    async def _grant_delays(self, client: Any) -> None:
        """Pair each Identify the emulator saw with the queue's grant for it (the
        audit stream, on Redis's clock) and measure grant -> Identify received. Redis
        stamps with the wall clock, the emulator with the monotonic one: both are this
        machine's, so the offset between them is read once."""
        from rxgateway.cluster.redis_link import Keys

        assert self.emu is not None
        offset = time.time() - time.monotonic()
        grants: dict[int, list[float]] = {}
        by_key: dict[int, list[float]] = {}
        entries = await client.xrange(Keys(self.app).audit, count=100_000)
        for _id, fields in entries:
            f = {k.decode(): v.decode() for k, v in fields.items()}
            if f.get("event") != "grant":
                continue
            at = int(f["ms"]) / 1000
            grants.setdefault(int(f["shard"]), []).append(at)
            by_key.setdefault(int(f["key"]), []).append(at)
        seen: dict[int, list[Any]] = {}
        for i in self.emu.record.identifies():
            seen.setdefault(i.shard.number, []).append(i)
        # Each Identify goes with the latest grant of its shard before it; a grant no
        # Identify followed was spent for nothing (its key's window, a budget unit).
        delays: list[float] = []
        refused: list[float] = []
        unused = 0
        for shard in set(grants) | set(seen):
            pending = sorted(grants.get(shard, []))
            used = 0
            for identify in seen.get(shard, []):
                at = identify.time + offset
                before = [g for g in pending if g <= at + CLOCK_SLACK_S]
                if not before:
                    continue
                granted = before[-1]
                unused += len(before) - 1
                pending = pending[len(before):]
                used += 1
                delays.append(at - granted)
                if not identify.accepted:
                    refused.append(at - granted)
            unused += len(pending)
        gaps = [b - a for times in by_key.values() for a, b in zip(sorted(times), sorted(times)[1:])]
        if not delays:
            return
        ordered = sorted(delays)

        def q(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000, 1)

        self.result["grant_to_identify"] = {
            "grants": sum(len(v) for v in grants.values()),
            "paired": len(delays),
            "unused_grants": unused,
            "p50_ms": q(0.5), "p90_ms": q(0.9), "p99_ms": q(0.99), "max_ms": round(ordered[-1] * 1000, 1),
            "refused_median_ms": round(statistics.median(refused) * 1000, 1) if refused else None,
            "min_same_key_grant_gap_ms": round(min(gaps) * 1000, 1) if gaps else None,
            "median_same_key_grant_gap_ms": round(statistics.median(gaps) * 1000, 1) if gaps else None,
        }  # fmt: skip

    def _memory(self) -> dict[str, Any]:
        per_member = []
        for m in self.members:
            rss = proc_status_kb(m.pid, "VmRSS")
            hwm = proc_status_kb(m.pid, "VmHWM")
            holds = len(m.holds)
            entry: dict[str, Any] = {
                "name": m.name, "pid": m.pid, "holds": holds, "rss_kb": rss, "hwm_kb": hwm,
                "idle_rss_kb": m.idle_rss_kb, "idle_at_uptime_s": m.idle_uptime,
            }  # fmt: skip
            if rss is not None and m.idle_rss_kb is not None and holds:
                entry["kb_per_shard"] = round((rss - m.idle_rss_kb) / holds, 1)
            per_member.append(entry)
        per_shard = [e["kb_per_shard"] for e in per_member if "kb_per_shard" in e]
        idle = [e["idle_rss_kb"] for e in per_member if e["idle_rss_kb"] is not None]
        rss_all = [e["rss_kb"] for e in per_member if e["rss_kb"] is not None]
        return {
            "per_member": per_member,
            "kb_per_shard_median": round(statistics.median(per_shard), 1) if per_shard else None,
            "kb_per_shard_min": min(per_shard, default=None),
            "kb_per_shard_max": max(per_shard, default=None),
            "idle_rss_mb_median": round(statistics.median(idle) / 1024, 1) if idle else None,
            "members_rss_mb_total": round(sum(rss_all) / 1024, 1),
            "members_over_idle_mb_total": round(
                sum(e["rss_kb"] - e["idle_rss_kb"] for e in per_member if e["rss_kb"] and e["idle_rss_kb"]) / 1024, 1
            ),
            "members_hwm_mb_total": round(sum(e["hwm_kb"] or 0 for e in per_member) / 1024, 1),
            "emulator_and_bench_rss_mb": round((proc_status_kb(os.getpid(), "VmRSS") or 0) / 1024, 1),
            "holds_min": min((e["holds"] for e in per_member), default=0),
            "holds_max": max((e["holds"] for e in per_member), default=0),
        }

    async def _steady_phase(self, client: Any) -> None:
        args, result = self.args, self.result
        await self.nap(args.settle)
        # Memory once all are Active (and the last READYs are digested).
        result["memory"] = self._memory()
        self.lag.take()
        result["redis_clients_at_steady"] = int((await client.info("clients"))["connected_clients"]) - 1
        stats0 = await client.info("stats")
        cmd0 = await client.info("commandstats")
        redis0 = await self.redis_cpu(client)
        cpu0 = self.cpu_snapshot()
        per0 = {m.name: proc_cpu(m.pid) or 0.0 for m in self.members}
        deadline = time.monotonic() + args.steady
        broke = None
        while (left := deadline - time.monotonic()) > 0:
            await self.nap(min(1.0, left))
            if not all(m.alive for m in self.members):
                broke = "a member exited during the steady window"
                break
            if self.interrupted:
                broke = f"interrupted ({self.interrupted}) during the steady window"
                break
        cpu1 = self.cpu_snapshot()
        per1 = {m.name: proc_cpu(m.pid) or 0.0 for m in self.members}
        redis1 = await self.redis_cpu(client)
        stats1 = await client.info("stats")
        cmd1 = await client.info("commandstats")
        wall = cpu1["t"] - cpu0["t"]
        still_active = self.all_active()
        result["memory"]["members_rss_mb_total_after_steady"] = round(
            sum(proc_status_kb(m.pid, "VmRSS") or 0 for m in self.members) / 1024, 1
        )
        # Our own INFO calls between the two counts: info cpu (redis0), info cpu
        # (redis1) and info stats (stats1) are inside the total's delta.
        own = 3
        total = int(stats1["total_commands_processed"]) - int(stats0["total_commands_processed"]) - own
        commands = {}
        for key, after in cmd1.items():
            name = key.removeprefix("cmdstat_")
            calls = int(after["calls"]) - int(cmd0.get(key, {}).get("calls", 0))
            if name == "info":
                calls -= own + 1  # + the commandstats call itself
            if calls > 0:
                commands[name] = round(calls / wall, 1)
        n = args.shards
        members_cores = (cpu1["members"] - cpu0["members"]) / wall
        result["steady"] = {
            "wall_s": round(wall, 1),
            "still_all_active": still_active,
            "problem": broke,
            "redis_ops_per_s": round(total / wall, 1),
            "redis_calls_per_s_by_command": dict(sorted(commands.items(), key=lambda kv: -kv[1])),
            "redis_script_calls_per_s": round(sum(v for k, v in commands.items() if k in ("evalsha", "eval")), 1),
            "redis_cores": round((redis1 - redis0) / wall, 4),
            "members_cores": round(members_cores, 4),
            "members_cores_each": {k: round((per1[k] - per0[k]) / wall, 4) for k in per1},
            "member_cpu_us_per_shard_per_s": round(members_cores * 1e6 / n, 1),
            "emulator_and_bench_cores": round((cpu1["bench"] - cpu0["bench"]) / wall, 4),
            "machine_busy_cores": round((cpu1["machine"] - cpu0["machine"]) / wall, 2),
            "loop_lag": lag_summary(self.lag.take()),
        }
        if not still_active and broke is None:
            result["steady"]["problem"] = "not every shard was still Active at the end of the window"


# ------------------------------------------------------------------- output


def fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value:,}{unit}" if isinstance(value, int) else f"{value}{unit}"


def render(result: dict[str, Any]) -> str:
    s, th = result["setup"], result["theory"]
    ids = result.get("identifies", {})
    mem = result.get("memory", {})
    st = result.get("steady", {})
    cores = result.get("start_cpu_cores", {})
    peak = result.get("start_peak_cores", {})
    g = result.get("grant_to_identify", {})
    ip = result.get("identify_phase_redis", {})
    lag = result.get("start_loop_lag", {})
    viol = result.get("violations", {})
    phase = ids.get("phase_s")
    ttl = "default (30 s)" if s["lease_ttl_s"] is None else f"{s['lease_ttl_s']:g} s"
    lines = [
        f"# Cluster scale: {s['shards']:,} shards over {s['processes']} processes",
        "",
        f"- date: {result['date']}; command: `{result['command']}`",
        f"- machine: {result['machine']}; rxgateway {result['commit']}; python {platform.python_version()}; "
        f"Redis {s.get('redis_version', '?')} (one redis-server on loopback, nothing persisted)",
        f"- shards idle (no traffic), heartbeat {s['heartbeat_interval_ms'] / 1000:g} s, {s['guilds']} guilds, "
        f"max_concurrency {s['max_concurrency']}, identify window {s['window_s']:g} s + queue margin "
        f"{s['margin_s']:g} s, compression {s['compression']}, lease TTL "
        f"{ttl}",
        f"- emulator: {s['emulator']}; its garbage collector "
        + ("paused from spawn to all Active (see the method)" if s.get("emulator_gc") == "paused" else "on throughout"),
        f"- machine busy before the run: {result.get('busy_before', '-')} cores (other load on the shared machine)",
        f"- result: **{result['status']}**",
        "",
        "| figure | value | note |",
        "|---|---|---|",
        f"| spawn → every shard Active, held once, attached once | {fmt(result.get('all_active_s'), ' s')} | "
        f"status lines every 1 s, polled every {POLL_S:g} s |",
        f"| spawn → first accepted identify | {fmt(ids.get('spawn_to_first_s'), ' s', 2)} | "
        "process start + the lease grace of a new Redis (TTL / 3) + the renew tick |",
        f"| identify phase (first → last accepted identify) | {fmt(phase, ' s', 2)} | emulator's clock |",
        f"| theoretical minimum ⌈N / {s['max_concurrency']}⌉ × window | {fmt(th['min_s'], ' s', 2)} | "
        f"{th['windows']} windows; phase / minimum = "
        f"{fmt(phase / th['min_s'] if phase and th['min_s'] else None, '', 2)} |",
        f"| … with the margin, ⌈N / {s['max_concurrency']}⌉ × (window + margin) | {fmt(th['min_with_margin_s'], ' s', 2)} | "
        f"the queue spaces grants by window + margin; phase / this = "
        f"{fmt(phase / th['min_with_margin_s'] if phase and th['min_with_margin_s'] else None, '', 2)} |",
        f"| identifies accepted (refused) | {fmt(ids.get('accepted'))} ({fmt(ids.get('refused'))}) | "
        f"{fmt(ids.get('distinct_shards'))} distinct shards, {fmt(ids.get('shards_identified_twice'))} identified twice |",
        f"| same-bucket gap min / median | {fmt(ids.get('min_same_bucket_gap_ms'), ' ms', 0)} / "
        f"{fmt(ids.get('median_same_bucket_gap_ms'), ' ms', 0)} | window {s['window_s'] * 1000:g} ms |",
        f"| queue grant → Identify received, p50 / p99 / max | {fmt(g.get('p50_ms'), ' ms')} / "
        f"{fmt(g.get('p99_ms'), ' ms')} / {fmt(g.get('max_ms'), ' ms')} | Redis audit stream vs the emulator's record; "
        f"same-key grant gap min {fmt(g.get('min_same_key_grant_gap_ms'), ' ms', 0)}, median "
        f"{fmt(g.get('median_same_key_grant_gap_ms'), ' ms', 0)}; refused identifies' median delay "
        f"{fmt(g.get('refused_median_ms'), ' ms')} |",
        f"| queue grants no Identify followed | {fmt(g.get('unused_grants'))} of {fmt(g.get('grants'))} | "
        "each spent its key's window and a unit of the daily budget |",
        f"| bucket violations (all violations) | {fmt(viol.get('identify_concurrency'))} ({fmt(viol.get('total'))}) | "
        f"`emu.violations`{': ' + json.dumps(viol.get('by_kind')) if viol.get('by_kind') else ''} |",
        f"| resumes during the start (displacing a live connection) | {fmt(result.get('resumes'))} "
        f"({fmt(result.get('resumes_displacing'))}) | handoffs; 0 when every member claims its share once |",
        f"| shards in two members' status at once, max | {fmt(result.get('max_held_twice'))} | sampled every 1 s from "
        "the status lines (a handoff may show for a second) |",
        f"| longest time a member went without renewing its leases | "
        f"{fmt(max(result.get('max_renewal_age_s', {}).values(), default=None), ' s')} | sampled every 1 s; "
        f"leases expire after the TTL ({s['lease_ttl_s'] or DEFAULT_LEASE_TTL:g} s) |",
        f"| shards per member | {fmt(mem.get('holds_min'))}–{fmt(mem.get('holds_max'))} | |",
        f"| CPU during the start (spawn → all Active) | members {fmt(cores.get('members'), '', 2)}, Redis "
        f"{fmt(cores.get('redis'), '', 2)}, emulator + bench {fmt(cores.get('emulator_and_bench'), '', 2)} cores | "
        f"machine {fmt(cores.get('machine'), '', 2)} of {os.cpu_count()} cores busy over {fmt(cores.get('wall_s'), ' s')}; "
        f"other processes {fmt(cores.get('other'), '', 2)} |",
        f"| busiest second of the identify phase | members {fmt(peak.get('members'), '', 2)}, Redis "
        f"{fmt(peak.get('redis'), '', 2)}, emulator + bench {fmt(peak.get('bench'), '', 2)} cores | "
        f"machine {fmt(peak.get('machine'), '', 2)}; each the maximum over 1-s samples |",
        f"| Redis script calls/s, identify phase → all Active | {fmt(ip.get('script_calls_per_s'))} | "
        f"members {fmt(ip.get('members_cores'), ' cores', 2)} over {fmt(ip.get('span_s'), ' s')}: "
        f"{fmt(ip.get('member_cpu_us_per_script_call'), ' µs')} of members' CPU per script call |",
        f"| emulator loop lag during the start, p50 / p99 / max | {fmt(lag.get('p50_ms'), ' ms')} / "
        f"{fmt(lag.get('p99_ms'), ' ms')} / {fmt(lag.get('max_ms'), ' ms')} | a {LAG_PROBE_S * 1000:g} ms sleep's "
        f"lateness; GC pauses over 50 ms: {len(result.get('gc_pauses', []))}"
        + (f" (longest {max(p['ms'] for p in result['gc_pauses'])} ms)" if result.get("gc_pauses") else "")
        + (f"; the collection after the start took {result['gc_after_start_ms']} ms"
           if result.get("gc_after_start_ms") is not None else "") + " |",
        f"| memory per shard (member RSS − its idle RSS) / shards, median (min–max) | "
        f"{fmt(mem.get('kb_per_shard_median'), ' KiB')} ({fmt(mem.get('kb_per_shard_min'), '')}–"
        f"{fmt(mem.get('kb_per_shard_max'), '')}) | over the {s['processes']} members, {s['settle_s']:g} s after all "
        "were Active |",
        f"| idle member RSS (no shard), median | {fmt(mem.get('idle_rss_mb_median'), ' MiB')} | "
        "its last status line before its first claim |",
        f"| members' RSS total (over idle) | {fmt(mem.get('members_rss_mb_total'), ' MiB')} "
        f"({fmt(mem.get('members_over_idle_mb_total'), ' MiB')}) | peak (VmHWM) total "
        f"{fmt(mem.get('members_hwm_mb_total'), ' MiB')}; emulator + bench process "
        f"{fmt(mem.get('emulator_and_bench_rss_mb'), ' MiB')} |",
        f"| Redis operations/s at steady state | {fmt(st.get('redis_ops_per_s'))} | "
        f"`total_commands_processed` over {fmt(st.get('wall_s'), ' s')} (counts commands inside scripts); "
        f"script calls {fmt(st.get('redis_script_calls_per_s'))}/s |",
        f"| Redis CPU at steady state | {fmt(st.get('redis_cores'), ' cores', 4)} | used_cpu_user + sys; "
        f"{fmt(result.get('redis_clients_at_steady'))} client connections open (the members') |",
        f"| members' CPU at steady state | {fmt(st.get('members_cores'), ' cores', 3)} | "
        f"{fmt(st.get('member_cpu_us_per_shard_per_s'), ' µs')} CPU per shard per second |",
        f"| emulator + bench CPU at steady state | {fmt(st.get('emulator_and_bench_cores'), ' cores', 3)} | "
        f"machine {fmt(st.get('machine_busy_cores'), '', 2)} cores busy; all still Active: "
        f"{st.get('still_all_active', '-')} |",
        f"| stopping (SIGTERM → every member exited) | {fmt(result.get('stop_s'), ' s')} | each hands its shards "
        f"off (close 4000, sessions saved, leases released); exit codes {result.get('exit_codes')} |",
    ]  # fmt: skip
    by_command = st.get("redis_calls_per_s_by_command")
    if by_command:
        lines += ["", "Redis calls per second at steady state, by command (inside scripts included):", "",
                  "| command | calls/s |", "|---|---|"]  # fmt: skip
        lines += [f"| {k} | {v:,.1f} |" for k, v in by_command.items()]
    problems = result.get("member_log_problems")
    lines += ["", "Members' log records of level WARNING and above (`-v`), by message shape (numbers as #):", ""]
    if problems:
        lines += ["| count | record |", "|---|---|"]
        lines += [f"| {n:,} | {k.replace('|', '/')[:160]} |" for k, n in list(problems.items())[:15]]
    else:
        lines += ["none"]
    if result.get("members_at_end"):
        lines += ["", "Members when it stopped:", ""]
        lines += [f"- {json.dumps(m)}" for m in result["members_at_end"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", type=int, default=DEFAULT_SHARDS, help=f"shard total (default {DEFAULT_SHARDS})")
    parser.add_argument("--processes", type=int, default=DEFAULT_PROCESSES, help=f"members (default {DEFAULT_PROCESSES})")
    parser.add_argument("--max-concurrency", type=int, default=DEFAULT_MAX_CONCURRENCY,
                        help=f"identify rate-limit keys (default {DEFAULT_MAX_CONCURRENCY})")  # fmt: skip
    parser.add_argument("--window", type=float, default=DEFAULT_WINDOW,
                        help=f"the emulator's identify window and the members' --identify-interval (default {DEFAULT_WINDOW})")  # fmt: skip
    parser.add_argument("--margin", type=float, default=DEFAULT_MARGIN,
                        help=f"the members' --identify-margin (default {DEFAULT_MARGIN})")  # fmt: skip
    parser.add_argument("--steady", type=float, default=DEFAULT_STEADY, help=f"steady-state seconds (default {DEFAULT_STEADY:g})")
    parser.add_argument("--settle", type=float, default=DEFAULT_SETTLE, help=f"seconds before it (default {DEFAULT_SETTLE:g})")
    parser.add_argument("--guilds", type=int, default=DEFAULT_GUILDS, help=f"guilds in the world (default {DEFAULT_GUILDS})")
    parser.add_argument("--compression", default="zstd-stream", help="the members' transport compression (default zstd-stream)")
    parser.add_argument("--lease-ttl", type=float, default=None, help="the members' --lease-ttl (default theirs: 30 s)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds allowed from spawn to all Active (default 60 + 4 x the minimum with margin)")  # fmt: skip
    parser.add_argument("--emulator-gc", choices=("paused", "on"), default="paused",
                        help="the emulator's (this process's) garbage collector from spawn to all Active: "
                             "paused (default; collected afterwards) or on")  # fmt: skip
    parser.add_argument("--emulator-nice", type=int, default=0,
                        help="nice value for this process (the emulator) once the members run, e.g. -10 "
                             "(needs the privilege to raise priority); 0: unchanged (default)")  # fmt: skip
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="directory for cluster.md / cluster.json")
    args = parser.parse_args(argv)
    if min(args.shards, args.processes, args.max_concurrency) < 1 or args.window <= 0 or args.margin < 0:
        parser.error("shards, processes and max-concurrency must be >= 1, window > 0, margin >= 0")
    if args.timeout is None:
        args.timeout = 60 + 4 * math.ceil(args.shards / args.max_concurrency) * (args.window + args.margin)

    command = "python benchmarks/cluster_scale.py " + " ".join(argv if argv is not None else sys.argv[1:])
    busy0 = machine_jiffies()
    time.sleep(1.0)
    busy1 = machine_jiffies()
    code = 1
    with RedisServer() as redis:
        bench = Bench(args, redis)
        bench.result.update(
            date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            command=command.strip(),
            machine=f"{cpu_model()} x{os.cpu_count()}, {platform.platform()}",
            commit=git_head(),
            busy_before=round((busy1[0] - busy0[0]) / (busy1[1] - busy0[1]), 2),
        )
        print(f"redis-server on {redis.url}; spawning {args.processes} members for {args.shards} shards "
              f"(timeout {args.timeout:.0f} s)", file=sys.stderr, flush=True)  # fmt: skip
        try:
            asyncio.run(_run(bench))
        except KeyboardInterrupt:  # before the loop's handlers were installed
            bench.result["status"] = "interrupted (Ctrl-C)"
        except Exception as exc:  # report what we have
            bench.result["status"] = f"failed: {exc!r}"
        finally:
            # Belt and braces: nothing started here outlives the benchmark.
            for m in bench.members:
                if m.process.returncode is None:
                    try:
                        os.kill(m.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        result = bench.result
        result["samples"] = bench.samples
        result.pop("spawned_at", None)
        ids = result.get("identifies", {})
        viol = result.get("violations", {})
        ok = (
            result["status"] == "all active"
            and ids.get("accepted") == args.shards
            and ids.get("distinct_shards") == args.shards
            and viol.get("total") == 0
            and ids.get("shards_identified_twice") == 0
            and result.get("resumes_displacing") == 0
            and not (result.get("steady") or {}).get("problem")
        )
        code = 0 if ok else 1
    if "setup" in result:
        table = render(result)
        print(table, flush=True)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "cluster.md").write_text(table)
        (out / "cluster.json").write_text(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
        print(f"wrote {out / 'cluster.md'} and {out / 'cluster.json'}", file=sys.stderr)
    return code


async def _run(bench: Bench) -> None:
    """Run the benchmark; the first Ctrl-C / SIGTERM ends the current phase early (the
    figures so far are still reported and everything is stopped), a second cancels."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def interrupted(name: str) -> None:
        if bench.interrupted is None:
            bench.interrupted = name
            bench.wake.set()
            print(f"benchmark: {name}: stopping (again to cancel)", file=sys.stderr, flush=True)
        else:
            task.cancel()

    for sig, name in ((signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")):
        loop.add_signal_handler(sig, interrupted, name)
    try:
        await bench.run()
    except asyncio.CancelledError:
        bench.result["status"] = f"cancelled ({bench.interrupted})"


if __name__ == "__main__":
    sys.exit(main())
