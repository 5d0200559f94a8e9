"""What the bus costs: publishing to NATS JetStream and Redis Streams, against local
delivery in the same run; end-to-end latency at a paced rate; a consumer's CPU.

    .venv/bin/python benchmarks/bus_throughput.py                          # the full run (~6 min)
    .venv/bin/python benchmarks/bus_throughput.py --events 20000 --runs 3  # a quicker look
    .venv/bin/python benchmarks/bus_throughput.py --events 2000 --runs 1 --latency-runs 1 --duration 1  # smoke

The script starts a throwaway ``nats-server -js`` and ``redis-server``
(:class:`~rxgateway.tools.nats_server.NatsServer`, :class:`~rxgateway.tools.redis_server.RedisServer`)
and the emulator host (``emulator_host.py``, its own process, the fixed ``messages``
pool of ~720 B MESSAGE_CREATEs, zstd-stream), pinned as the suite pins: the emulator,
both brokers and this script on CPU 1, every measured client process on CPU 0. Each
measured run is a fresh process under ``python -O`` with one shard (every intent).

Parts:

* **gateway**: a shard receives a burst of N MESSAGE_CREATE. ``local``: a typed
  subscriber on the shard (``shard.pipe(ops.on(MESSAGE_CREATE))`` reading ``.content``
  and ``.author.id``: the suite's typed level, the reference). ``nats``/``redis``: a
  :class:`~rxgateway.bus.Publisher` (MESSAGE_CREATE) on the shard and nothing else;
  the window ends when the broker acknowledged the Nth event (the broker's
  ``publish`` returned for it). Figures: events/s (wall) and the gateway process's
  CPU (user + sys) µs per event; the ratio of each to ``local`` in the same round
  (median of per-round ratios); the broker server's own CPU µs per event over the
  same window, from ``/proc``.
* **consumer**: before each bus gateway run a consumer process creates a group on
  the broker (new events from then on); after it, told to go, it reads the N events
  the run published as a backlog through ``Bus(broker, group=...)``
  ``.pipe(ops.on(MESSAGE_CREATE))``, reading ``.content`` and ``.author.id``, and
  acknowledging each. Figure: the consumer's CPU µs per event, against the ``local``
  gateway run of the same round (a shard's typed path from the wire: inflate, parse,
  type).
* **latency**: the host paces stamped events (``emu_sent_ns`` = perf_counter_ns()
  when handed to the connection) at ``--rate`` for ``--duration`` s; a fan-out
  ``Bus`` subscriber in a second process records perf_counter_ns() − emu_sent_ns
  (one clock, CLOCK_MONOTONIC, one machine); ``local`` records it in a subscriber on
  the shard. The first 10 % of samples are warm-up. The gateway and the consumer
  both run on CPU 0.

Rounds interleave the variants (the order rotated each round). The machine's load
average and busy cores (from ``/proc/stat``) are printed with the figures. Nothing is
asserted on time; the script exits 1 if a run lost events or failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "drivers"))

VARIANTS = ("local", "nats", "redis")
BROKERS = ("nats", "redis")
#: Seconds a child may take for one run (start-up included).
CHILD_TIMEOUT = 180.0


# ======================================================================== children


def _broker(kind: str, url: str, app: str, events: int) -> Any:
    from rxgateway.bus import JetStreamBroker, RedisStreamsBroker

    keep = max(4 * events, 20_000)  # bounded: the stores of a full run stay small
    if kind == "nats":
        return JetStreamBroker(url, app=app, max_msgs=keep)
    return RedisStreamsBroker(url, app=app, maxlen=keep)


def _shard(args: argparse.Namespace) -> Any:
    from _common import ALL_INTENTS, TOKEN

    from rxgateway import Config, Intents, Shard, ShardId

    return Shard(ShardId(0, 1), Config(TOKEN, Intents(ALL_INTENTS), gateway_url=args.url, compression="zstd-stream"))


def _ns(args: argparse.Namespace, **more: Any) -> argparse.Namespace:
    base = dict(client=f"bus-{args.variant}", level="typed", compression="zstd-stream", pool="messages",
                control=args.control, events=args.events, timeout=120.0, cprofile=args.cprofile or "")  # fmt: skip
    base.update(more)
    return argparse.Namespace(**base)


class _Typed:
    """Reads ``content`` and ``author.id`` of a typed MESSAGE_CREATE, then counts."""

    def __init__(self, hit: Any) -> None:
        from rxgateway.events import MessageCreate

        self.hit = hit
        self.typed = True
        self.kind = MessageCreate

    def on_next(self, event: Any) -> None:
        if type(event) is not self.kind:
            self.typed = False
        event.content, event.author.id
        self.hit()


async def _warm_up(broker: Any) -> None:
    """Connect and create the streams before any window: one event of a type no run
    asks for (a duplicate after the first run, which the broker skips)."""
    from rxgateway.bus import BusEvent

    payload = b'{"op":0,"s":1,"t":"TYPING_START","d":{}}'
    await broker.publish([BusEvent(0, 1, "warmup", 1, "TYPING_START", payload, 0, time.time())])


async def _bounded(coro: Any, what: str, hung: list[str], timeout: float = 5.0) -> None:
    """Await a close for ``timeout`` s at most; one that hangs is noted (and reported)."""
    task = asyncio.ensure_future(coro)
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        hung.append(f"{what} did not return within {timeout:g} s")


def _exit_if_hung(hung: list[str]) -> None:
    if hung:  # a task that ignores cancellation would keep asyncio.run from returning
        sys.stdout.flush()
        sys.stderr.write("HUNG: " + "; ".join(hung) + "\n")
        sys.stderr.flush()
        os._exit(0)


async def _stdin_line() -> str:
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def child_gateway(args: argparse.Namespace) -> None:
    """One shard, a burst of N; local typed delivery or a publisher to a broker."""
    from _common import SETTLE_S, Meter, emit

    from rxgateway import EventTypeFlags, ops
    from rxgateway.bus import Publisher

    meter = Meter()
    shard = _shard(args)
    publisher = broker = None
    calls = [0]
    reader = _Typed(meter.hit)
    if args.variant == "local":
        shard.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(reader.on_next)
    else:
        broker = _broker(args.variant, args.broker_url, args.app, args.events)
        await _warm_up(broker)
        original = broker.publish

        async def counted(events: Any) -> int:  # the window ends at the Nth acknowledged
            new = await original(events)
            calls[0] += 1
            meter.count += len(events)
            if 0 <= meter.target <= meter.count:
                meter.finish()
            return new

        broker.publish = counted
        publisher = Publisher(broker, flags=EventTypeFlags.MESSAGE_CREATE)
        publisher.attach(shard)
    await shard.start()
    await shard.ready(timeout=30)
    await asyncio.sleep(SETTLE_S)
    if publisher is not None:
        await publisher.flush()  # the connection and the streams exist before the window
    meter.count = 0
    calls[0] = 0
    await meter.run_burst(_ns(args), lambda by_type: by_type.get("MESSAGE_CREATE", 0))
    extra: dict[str, Any] = {"variant": args.variant}
    if publisher is not None:
        extra.update(publish_calls=calls[0], events_per_call=round(meter.final / max(calls[0], 1), 1),
                     publisher=dict(publisher.stats))  # fmt: skip
        await publisher.aclose()
    else:
        extra["typed"] = reader.typed
    shard.close()
    await shard.closed()
    if broker is not None:
        await broker.aclose()
    emit(meter.result(_ns(args), **extra))


async def child_serve(args: argparse.Namespace) -> None:
    """A shard publishing to a broker until told to stop (for the latency part)."""
    from _common import SETTLE_S, cpu_s, emit

    from rxgateway import EventTypeFlags
    from rxgateway.bus import Publisher

    shard = _shard(args)
    broker = _broker(args.variant, args.broker_url, args.app, args.events)
    await _warm_up(broker)
    publisher = Publisher(broker, flags=EventTypeFlags.MESSAGE_CREATE)
    publisher.attach(shard)
    await shard.start()
    await shard.ready(timeout=30)
    await asyncio.sleep(SETTLE_S)
    await publisher.flush()
    print("READY", flush=True)
    c0, t0, q0 = cpu_s(), time.perf_counter(), publisher.stats["queued"]
    await _stdin_line()
    cpu, wall, n = cpu_s() - c0, time.perf_counter() - t0, publisher.stats["queued"] - q0
    await publisher.aclose()
    shard.close()
    await shard.closed()
    await broker.aclose()
    emit({"variant": args.variant, "publisher": dict(publisher.stats), "events": n,
          "cpu_us_per_event": round(cpu / max(n, 1) * 1e6, 2), "util": round(cpu / wall, 3)})  # fmt: skip


async def child_consumer(args: argparse.Namespace) -> None:
    """Create a group, wait for "go", read N events of its backlog through a Bus."""
    from _common import Meter, cpu_s, emit, maxrss_mb

    from rxgateway import EventTypeFlags, ops
    from rxgateway.bus import Bus

    broker = _broker(args.variant, args.broker_url, args.app, args.events)
    subscription = broker.subscribe({"MESSAGE_CREATE"}, group=args.group, consumer="bench")
    await subscription.start()  # the group exists: what is published from now on is its backlog
    await subscription.aclose()
    print("READY", flush=True)
    await _stdin_line()
    meter = Meter()
    meter.target = args.events
    done = asyncio.get_running_loop().create_future()

    def finish() -> None:
        meter.t1, meter.c1 = time.perf_counter(), cpu_s()
        if not done.done():
            done.set_result(None)

    meter.finish = finish  # type: ignore[method-assign]
    reader = _Typed(meter.hit)
    bus = Bus(broker, group=args.group, consumer="bench")
    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
    meter.t0, meter.c0 = time.perf_counter(), cpu_s()
    if profiler is not None:
        profiler.enable()
    bus.pipe(ops.on(EventTypeFlags.MESSAGE_CREATE)).subscribe(reader.on_next)
    try:
        await asyncio.wait_for(done, 120)
    except TimeoutError:
        meter.t1, meter.c1 = time.perf_counter(), cpu_s()
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.cprofile)
    await asyncio.sleep(0.15)
    final = meter.count
    hung: list[str] = []
    await _bounded(bus.aclose(), "Bus.aclose()", hung)
    await _bounded(broker.aclose(), "broker.aclose()", hung)
    wall, cpu = meter.t1 - meter.t0, meter.c1 - meter.c0
    emit({"variant": args.variant, "events": final, "expected": args.events, "wall_s": round(wall, 4),
          "events_per_s": round(final / wall, 1) if wall > 0 else None, "cpu_s": round(cpu, 4),
          "cpu_us_per_event": round(cpu / max(args.events, 1) * 1e6, 3), "util": round(cpu / wall, 3) if wall > 0 else None,
          "typed": reader.typed, "bus_stats": dict(bus.stats), "maxrss_mb": round(maxrss_mb(), 1), "hung": hung})  # fmt: skip
    _exit_if_hung(hung)


async def child_latency(args: argparse.Namespace) -> None:
    """Latency at a paced rate: on the shard (local) or through a fan-out Bus."""
    from _common import SETTLE_S, Latencies, emit

    from rxgateway import EventTypeFlags, ops
    from rxgateway.bus import Bus

    lat = Latencies()
    record = lat.record
    on = ops.on(EventTypeFlags.MESSAGE_CREATE)
    shard = broker = bus = None
    if args.variant == "local":
        shard = _shard(args)
        shard.pipe(on).subscribe(lambda event: record(event.raw["emu_sent_ns"]))
        await shard.start()
        await shard.ready(timeout=30)
        await asyncio.sleep(SETTLE_S)
    else:
        broker = _broker(args.variant, args.broker_url, args.app, args.events)
        bus = Bus(broker)
        bus.pipe(on).subscribe(lambda event: record(event.raw["emu_sent_ns"]))
        await asyncio.sleep(1.0)  # the fan-out subscription is in place (it starts with its task)
    result = await lat.run(_ns(args, rate=args.rate, duration=args.duration))
    if shard is not None:
        shard.close()
        await shard.closed()
    hung: list[str] = []
    if bus is not None:
        await _bounded(bus.aclose(), "Bus.aclose()", hung)
        await _bounded(broker.aclose(), "broker.aclose()", hung)  # type: ignore[union-attr]
    result["variant"] = args.variant
    result["hung"] = hung
    emit(result)
    _exit_if_hung(hung)


# ========================================================================= runner


def busy_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except OSError:
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def proc_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of a process (a broker server), from /proc."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Machine:
    """Load average and busy cores over a part."""

    def __init__(self) -> None:
        self.start_load = os.getloadavg()
        self.b0, self.t0 = busy_jiffies()

    def busy_cores(self) -> float | None:
        b1, t1 = busy_jiffies()
        if t1 <= self.t0:
            return None
        return round((b1 - self.b0) / (t1 - self.t0) * (os.cpu_count() or 1), 2)


class Children:
    """Every child process started, so that all of them are stopped in the end."""

    def __init__(self, pin: Any, log: Path, common: list[str]) -> None:
        self.pin = pin
        self.log = open(log, "a")
        self.common = common
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, mode: str, variant: str, *more: str) -> subprocess.Popen[str]:
        command = self.pin.wrap(
            [sys.executable, "-O", str(Path(__file__).resolve()), "--child", mode, "--variant", variant, *self.common, *more],
            self.pin.client_cpu,
        )
        self.log.write(f"--- {' '.join(command)}\n")
        self.log.flush()
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=ROOT)
        self.procs.append(proc)
        return proc

    @staticmethod
    def line(proc: subprocess.Popen[str], prefix: str, timeout: float = CHILD_TIMEOUT) -> str:
        """The child's first stdout line starting with ``prefix`` (skipping the rest)."""
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"a child printed no {prefix!r} line within {timeout:.0f} s")
            ready, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
            if not ready:
                if proc.poll() is not None:
                    raise RuntimeError(f"a child exited ({proc.returncode}) before printing {prefix!r}; see the log")
                continue
            text = proc.stdout.readline()
            if not text:
                raise RuntimeError(f"a child closed its output ({proc.poll()}) before printing {prefix!r}; see the log")
            if text.startswith(prefix):
                return text[len(prefix):].strip()

    def result(self, proc: subprocess.Popen[str]) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.line(proc, "RESULT "))
        self.reap(proc)
        return result

    @staticmethod
    def tell(proc: subprocess.Popen[str], text: str) -> None:
        assert proc.stdin is not None
        proc.stdin.write(text + "\n")
        proc.stdin.flush()

    def reap(self, proc: subprocess.Popen[str], timeout: float = 30) -> None:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in list(self.procs):
            self.reap(proc, 5)
        self.log.close()


def spread(values: list[float], digits: int = 2) -> str:
    if not values:
        return "–"
    if len(values) < 4:
        return f"{min(values):.{digits}f}–{max(values):.{digits}f}"
    q = statistics.quantiles(values, n=4)
    return f"{q[0]:.{digits}f}–{q[2]:.{digits}f}"


def med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def versions() -> dict[str, str]:
    from importlib.metadata import version

    from rxgateway.tools.nats_server import find_nats_server
    from rxgateway.tools.redis_server import find_redis_server

    out = {"python": sys.version.split()[0]}
    for name in ("nats-py", "redis"):
        try:
            out[name] = version(name)
        except Exception:
            out[name] = "?"
    for name, binary in (("nats-server", find_nats_server()), ("redis-server", find_redis_server())):
        try:
            text = subprocess.run([binary or name, "--version"], capture_output=True, text=True, timeout=10).stdout
            out[name] = text.strip().split("\n")[0]
        except Exception:
            out[name] = "?"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000, help="events per burst (default 50,000)")
    parser.add_argument("--runs", type=int, default=5, help="rounds of the gateway and consumer parts (default 5)")
    parser.add_argument("--rate", type=float, default=1000.0, help="latency part: events/s (default 1,000)")
    parser.add_argument("--duration", type=float, default=5.0, help="latency part: seconds of paced traffic (default 5)")
    parser.add_argument("--latency-runs", type=int, default=3, help="rounds of the latency part (default 3)")
    parser.add_argument("--profile", action="store_true", help="then one cProfiled gateway run per variant and one consumer run per broker")
    parser.add_argument("--out", default=str(HERE / "results"), help="where bus.md and bus.json go")
    parser.add_argument("--child", choices=["gateway", "serve", "consumer", "latency"], help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--control", help=argparse.SUPPRESS)
    parser.add_argument("--broker-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--app", default="bench", help=argparse.SUPPRESS)
    parser.add_argument("--group", default="bench", help=argparse.SUPPRESS)
    parser.add_argument("--cprofile", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child = {"gateway": child_gateway, "serve": child_serve, "consumer": child_consumer, "latency": child_latency}
        asyncio.run(child[args.child](args))
        return 0
    if args.events < 1 or args.runs < 1 or args.rate <= 0 or args.duration <= 0 or args.latency_runs < 0:
        parser.error("--events, --runs, --rate, --duration must be positive")
    return Runner(args).run()


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Path(args.out).resolve()
        (self.out / "logs").mkdir(parents=True, exist_ok=True)
        self.failures: list[str] = []
        self.gateway: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
        self.ratios: dict[str, dict[str, list[float]]] = {v: {"cpu": [], "rate": []} for v in BROKERS}
        self.consumer: dict[str, list[dict[str, Any]]] = {v: [] for v in BROKERS}
        self.consumer_ratios: dict[str, list[float]] = {v: [] for v in BROKERS}
        self.latency: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
        self.serve: dict[str, list[dict[str, Any]]] = {v: [] for v in BROKERS}
        self.machine: dict[str, Any] = {}
        self.profiles: dict[str, str] = {}
        self.notes: list[str] = []

    def run(self) -> int:
        from run import Host, Pinning

        from rxgateway.tools.nats_server import NatsServer
        from rxgateway.tools.redis_server import RedisServer

        args = self.args
        started = time.monotonic()
        pin = Pinning()  # this process (and so the brokers it starts) on the emulator's CPU
        self.pin_note = pin.note
        self.versions = versions()
        self.load_start = os.getloadavg()
        print(f"bus benchmark: {args.runs} rounds x {args.events:,} MESSAGE_CREATE (messages pool, zstd-stream); "
              f"latency {args.latency_runs} rounds at {args.rate:,.0f}/s for {args.duration:g} s", flush=True)  # fmt: skip
        print(f"{pin.note}; brokers pinned with the emulator", flush=True)
        print(f"load average at start: {' '.join(f'{x:.2f}' for x in self.load_start)} ({os.cpu_count()} cores)", flush=True)
        log = self.out / "logs" / f"bus-{time.strftime('%Y%m%d-%H%M%S')}.log"
        host = None
        children = None
        interrupted = False
        with NatsServer() as nats_server, RedisServer() as redis_server:
            servers = {"nats": nats_server, "redis": redis_server}
            self.pids = {k: getattr(s, "_process").pid if getattr(s, "_process", None) else None for k, s in servers.items()}
            try:
                host = Host(pin, [], log)
                common = ["--url", host.url, "--control", host.control, "--events", str(args.events)]
                children = Children(pin, log, common)
                self.urls = {k: s.url for k, s in servers.items()}
                machine = Machine()
                self.part_gateway(children, host)
                self.machine["gateway"] = {"busy_cores": machine.busy_cores(), "load": os.getloadavg()}
                if args.latency_runs:
                    machine = Machine()
                    self.part_latency(children, host)
                    self.machine["latency"] = {"busy_cores": machine.busy_cores(), "load": os.getloadavg()}
                if args.profile:
                    self.part_profile(children)
            except KeyboardInterrupt:
                interrupted = True
                self.failures.append("interrupted: the figures so far")
            except Exception as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
                print(f"FAILED: {exc!r} (log: {log})", flush=True)
            finally:
                if children is not None:
                    children.stop_all()
                if host is not None:
                    host.stop()
        self.load_end = os.getloadavg()
        self.elapsed = time.monotonic() - started
        text = self.render()
        print()
        print(text)
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "bus.md").write_text(text)
        (self.out / "bus.json").write_text(json.dumps(self.dump(), indent=1))
        print(f"\nwritten: {self.out / 'bus.md'}, {self.out / 'bus.json'}; child logs: {log}")
        return 1 if (self.failures or interrupted) else 0

    # ------------------------------------------------------------------ parts

    def part_gateway(self, children: Children, host: Any) -> None:
        args = self.args
        print("\n## gateway side (and consumers of the bus runs)", flush=True)
        for round_no in range(args.runs):
            shift = round_no % len(VARIANTS)
            this: dict[str, dict[str, Any]] = {}
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                extra = [] if variant == "local" else ["--broker-url", self.urls[variant], "--app", f"g{variant}"]
                consumer = None
                if variant != "local":
                    consumer = children.start("consumer", variant, *extra, "--group", f"r{round_no}")
                    children.line(consumer, "READY")
                broker0 = proc_cpu_s(self.pids.get(variant))
                result = children.result(children.start("gateway", variant, *extra))
                if variant != "local":
                    result["broker_cpu_us_per_event"] = round((proc_cpu_s(self.pids.get(variant)) - broker0) / args.events * 1e6, 2)
                ok = result["events"] == result["expected"] == args.events
                if not ok:
                    self.failures.append(f"gateway {variant} round {round_no + 1}: {result['events']} of {result['expected']}")
                result["round"] = round_no + 1
                self.gateway[variant].append(result)
                this[variant] = result
                note = "" if variant == "local" else f", broker {result['broker_cpu_us_per_event']:.2f} µs/event, {result['events_per_call']:.0f} events per publish"
                print(f"  round {round_no + 1} gateway {variant:>5}: {result['events_per_s']:9,.0f} events/s "
                      f"{result['cpu_us_per_event']:7.2f} µs/event (util {result['util']:.2f}){note}"
                      f"{'' if ok else '  LOST EVENTS'}", flush=True)  # fmt: skip
                if consumer is not None:
                    children.tell(consumer, "go")
                    got = children.result(consumer)
                    got["round"] = round_no + 1
                    if got.get("hung"):
                        self.notes.append(f"consumer {variant} round {round_no + 1}: {'; '.join(got['hung'])}")
                    ok = got["events"] == args.events and got["typed"]
                    if not ok:
                        self.failures.append(f"consumer {variant} round {round_no + 1}: {got['events']} of {args.events}")
                    self.consumer[variant].append(got)
                    this[f"consumer-{variant}"] = got
                    print(f"  round {round_no + 1} consumer {variant:>4}: {got['events_per_s']:9,.0f} events/s "
                          f"{got['cpu_us_per_event']:7.2f} µs/event (util {got['util']:.2f}){'' if ok else '  LOST EVENTS'}", flush=True)  # fmt: skip
            local = this["local"]
            for variant in BROKERS:
                self.ratios[variant]["cpu"].append(this[variant]["cpu_us_per_event"] / local["cpu_us_per_event"])
                self.ratios[variant]["rate"].append(this[variant]["events_per_s"] / local["events_per_s"])
                self.consumer_ratios[variant].append(this[f"consumer-{variant}"]["cpu_us_per_event"] / local["cpu_us_per_event"])
            host.forget()

    def part_latency(self, children: Children, host: Any) -> None:
        args = self.args
        print(f"\n## end-to-end latency at {args.rate:,.0f} events/s", flush=True)
        timing = ["--rate", str(args.rate), "--duration", str(args.duration)]
        for round_no in range(args.latency_runs):
            shift = round_no % len(VARIANTS)
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                if variant == "local":
                    result = children.result(children.start("latency", variant, *timing))
                else:
                    extra = ["--broker-url", self.urls[variant], "--app", f"l{variant}"]
                    gateway = children.start("serve", variant, *extra)
                    children.line(gateway, "READY")
                    result = children.result(children.start("latency", variant, *extra, *timing))
                    children.tell(gateway, "stop")
                    served = children.result(gateway)
                    self.serve[variant].append(served)
                    result["gateway_cpu_us_per_event"] = served["cpu_us_per_event"]
                ok = result["events"] == result["expected"]
                if not ok:
                    self.failures.append(f"latency {variant} round {round_no + 1}: {result['events']} of {result['expected']}")
                result["round"] = round_no + 1
                if result.get("hung"):
                    self.notes.append(f"latency {variant} round {round_no + 1}: {'; '.join(result['hung'])}")
                self.latency[variant].append(result)
                print(f"  round {round_no + 1} {variant:>5}: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
                      f"p99.9 {result['p999_ms']} ms, max {result['max_ms']} ms ({result['events']}/{result['expected']})"
                      f"{'' if ok else '  LOST EVENTS'}", flush=True)  # fmt: skip
            host.forget()

    def part_profile(self, children: Children) -> None:
        import pstats
        from io import StringIO

        print("\n## cProfile (one run each, not counted in the tables)", flush=True)
        for kind, variant in [("gateway", v) for v in VARIANTS] + [("consumer", v) for v in BROKERS]:
            path = self.out / "logs" / f"bus-{kind}-{variant}.prof"
            extra = [] if variant == "local" else ["--broker-url", self.urls[variant], "--app", f"p{variant}"]
            if kind == "gateway":
                children.result(children.start("gateway", variant, *extra, "--cprofile", str(path)))
            else:
                consumer = children.start("consumer", variant, *extra, "--group", "profile", "--cprofile", str(path))
                children.line(consumer, "READY")
                children.result(children.start("gateway", variant, *extra))
                children.tell(consumer, "go")
                children.result(consumer)
            stream = StringIO()
            stats = pstats.Stats(str(path), stream=stream)
            stats.sort_stats("tottime").print_stats(14)
            body = stream.getvalue()
            body = body[body.find("ncalls"):] if "ncalls" in body else body
            total = stats.total_tt  # type: ignore[attr-defined]
            self.profiles[f"{kind} {variant}"] = f"total {total:.3f} s over {self.args.events:,} events\n" + body.replace(str(ROOT) + "/", "")
            print(f"  {kind} {variant}: {path}", flush=True)

    # ----------------------------------------------------------------- output

    def render(self) -> str:
        args = self.args
        lines = [
            f"# Bus benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
            "",
            f"`{' '.join(['.venv/bin/python', 'benchmarks/bus_throughput.py', *sys.argv[1:]])}`: {args.runs} rounds x "
            f"{args.events:,} MESSAGE_CREATE (messages pool, ~720 B, zstd-stream); latency {args.latency_runs} rounds "
            f"at {args.rate:,.0f} events/s for {args.duration:g} s. {self.pin_note}; the brokers on the emulator's CPU.",
            "",
            f"Machine: {os.cpu_count()} cores, load average {' / '.join(f'{x:.2f}' for x in self.load_start)} (1/5/15 min) "
            f"at start, {' / '.join(f'{x:.2f}' for x in self.load_end)} at the end; busy cores (whole machine, /proc/stat): "
            + ", ".join(f"{part} {v['busy_cores']}" for part, v in self.machine.items())
            + f". {', '.join(f'{k} {v}' for k, v in self.versions.items())}. {self.elapsed:.0f} s in all.",
            "",
            "### Gateway side: a shard receiving a burst, until the broker acknowledged the last event",
            "",
            "| variant | events/s (median, IQR) | / local events/s | CPU µs/event (median, IQR) | / local CPU | − local µs | broker CPU µs/event | events per publish call |",
            "|---|---|---|---|---|---|---|---|",
        ]
        local_cpu = med([r["cpu_us_per_event"] for r in self.gateway["local"]])
        for variant in VARIANTS:
            runs = self.gateway[variant]
            if not runs:
                continue
            rate = [r["events_per_s"] for r in runs]
            cpu = [r["cpu_us_per_event"] for r in runs]
            if variant == "local":
                lines.append(f"| local (typed subscriber, the reference) | {fmt(med(rate), 0)} ({spread(rate, 0)}) | 1 | "
                             f"{fmt(med(cpu))} ({spread(cpu)}) | 1 | | | |")  # fmt: skip
                continue
            ratio = self.ratios[variant]
            broker = [r["broker_cpu_us_per_event"] for r in runs]
            per_call = [r["events_per_call"] for r in runs]
            diff = (med(cpu) - local_cpu) if local_cpu is not None else None  # type: ignore[operator]
            lines.append(
                f"| {variant} publisher | {fmt(med(rate), 0)} ({spread(rate, 0)}) | {fmt(med(ratio['rate']))} ({spread(ratio['rate'])}) | "
                f"{fmt(med(cpu))} ({spread(cpu)}) | {fmt(med(ratio['cpu']))} ({spread(ratio['cpu'])}) | {diff:+.2f} | "
                f"{fmt(med(broker))} | {fmt(med(per_call), 0)} |"
            )
        lines += [
            "",
            "### Consumer side: a `Bus` consumer reading the N events (a backlog) typed, acknowledging each",
            "",
            "| variant | events/s (median, IQR) | CPU µs/event (median, IQR) | / local shard's typed path CPU |",
            "|---|---|---|---|",
        ]
        if self.gateway["local"]:
            cpu = [r["cpu_us_per_event"] for r in self.gateway["local"]]
            lines.append(f"| local shard, typed (the gateway part's reference) | | {fmt(med(cpu))} ({spread(cpu)}) | 1 |")
        for variant in BROKERS:
            runs = self.consumer[variant]
            if not runs:
                continue
            rate = [r["events_per_s"] for r in runs]
            cpu = [r["cpu_us_per_event"] for r in runs]
            ratio = self.consumer_ratios[variant]
            lines.append(f"| {variant} `Bus` consumer | {fmt(med(rate), 0)} ({spread(rate, 0)}) | {fmt(med(cpu))} ({spread(cpu)}) | "
                         f"{fmt(med(ratio))} ({spread(ratio)}) |")  # fmt: skip
        if any(self.latency.values()):
            lines += [
                "",
                f"### End-to-end latency at {args.rate:,.0f} events/s: emulator send → subscriber called "
                f"(median over {args.latency_runs} rounds of each round's percentile; ms)",
                "",
                "| path | p50 | p99 | p99.9 | max (worst round) | events | gateway CPU µs/event at this rate | consumer CPU µs/event at this rate |",
                "|---|---|---|---|---|---|---|---|",
            ]
            names = {"local": "local: shard → subscriber", "nats": "nats: shard → JetStream → `Bus` subscriber",
                     "redis": "redis: shard → Redis Streams → `Bus` subscriber"}  # fmt: skip
            for variant in VARIANTS:
                runs = self.latency[variant]
                if not runs:
                    continue
                col = lambda key: [r[key] for r in runs if r.get(key) is not None]  # noqa: E731
                events = f"{sum(r['events'] for r in runs):,}/{sum(r['expected'] for r in runs):,}"
                if variant == "local":  # one process: the shard is the consumer
                    gw, consumer = fmt(med(col("cpu_us_per_event"))), "(the same process)"
                else:
                    gw, consumer = fmt(med(col("gateway_cpu_us_per_event"))), fmt(med(col("cpu_us_per_event")))
                lines.append(f"| {names[variant]} | {fmt(med(col('p50_ms')), 3)} | {fmt(med(col('p99_ms')), 3)} | "
                             f"{fmt(med(col('p999_ms')), 3)} | {fmt(max(col('max_ms'), default=None), 3)} | {events} | {gw} | {consumer} |")  # fmt: skip
        if self.profiles:
            lines += ["", "### cProfile, one run each (tottime, top functions)", ""]
            for name, body in self.profiles.items():
                lines += [f"{name}:", "", "```", body.rstrip(), "```", ""]
        if self.notes:
            lines += ["", "**Noticed:** " + "; ".join(self.notes)]
        if self.failures:
            lines += ["", "**Failures:** " + "; ".join(self.failures)]
        return "\n".join(lines) + "\n"

    def dump(self) -> dict[str, Any]:
        return {
            "args": vars(self.args), "pin": self.pin_note, "versions": self.versions,
            "load_start": self.load_start, "load_end": self.load_end, "machine": self.machine,
            "gateway": self.gateway, "ratios": self.ratios, "consumer": self.consumer,
            "consumer_ratios": self.consumer_ratios, "latency": self.latency, "serve": self.serve,
            "failures": self.failures, "notes": self.notes, "elapsed_s": round(self.elapsed, 1),
        }  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
