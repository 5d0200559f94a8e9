"""What Prometheus metrics cost a shard: CPU per event with metrics off and on.

    .venv/bin/python benchmarks/metrics_cost.py                      # 7 rounds of 100k events
    .venv/bin/python benchmarks/metrics_cost.py --runs 3 --events 20000   # a quick look

Method (as benchmarks/README.md): the emulator host (``emulator_host.py``: the
emulator's burst, from a fixed pool) runs in its own process pinned to CPU 1; each
run is a fresh client process pinned to CPU 0, under ``python -O``, with one shard
(zstd-stream, every intent). After READY and the GUILD_CREATEs it notes its process
CPU, asks for a burst of N events of the ``filtered`` pool (peers.md §5's mix: seven
types), and stops at the Nth dispatch. The figure is client CPU µs per event.

Modes, per level:

* ``off``: no :class:`~rxgateway.metrics.Metrics` at all (prometheus_client is not
  even imported): the shard as every user runs it;
* ``on``: ``Metrics().watch(shard)`` and ``/metrics`` served on the loop: the frame
  sink counts every payload by type. After the window (never inside it) the run
  scrapes ``/metrics`` once and checks the counts by type against what the host sent;
* ``sink`` (with ``--noop-sink``): no metrics, one frame sink that does nothing: what
  the shard's frame-sink mechanism costs by itself, apart from the counting.

Levels: ``all`` (``shard.subscribe``: every dispatch parsed and delivered) and
``none`` (a subscriber of a type the stream never carries: nothing is parsed, the
cheapest path a shard has, where a sink weighs most; frames are counted through
``shard.stats``, polled every 2 ms in both modes).

Rounds are interleaved (each round runs every level and mode once, the order rotated)
and each ``on`` is divided by the ``off`` of the same level in the same round; the
table gives the median of those ratios, and the medians of the µs per event. Nothing
is asserted on time: the script prints figures (and exits 1 only if a run lost events
or a scrape disagreed with the host).
"""

from __future__ import annotations

import argparse
import asyncio
import json
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

MODES = ("off", "on", "sink")
LEVELS = ("all", "none")


# --------------------------------------------------------------------- the client


async def client(args: argparse.Namespace) -> None:
    from _common import ALL_INTENTS, SETTLE_S, TOKEN, Meter, emit

    from rxgateway import Config, EventTypeFlags, Intents, Shard, ShardId
    from rxgateway.events import Dispatch

    shard = Shard(ShardId(0, 1), Config(TOKEN, Intents(ALL_INTENTS), gateway_url=args.url, compression="zstd-stream"))
    meter = Meter()
    server = None
    if args.mode == "sink":
        shard.add_frame_sink(lambda shard_id, time_ns, payload: None)
    if args.mode == "on":
        from rxgateway.metrics import Metrics

        metrics = Metrics()
        metrics.watch(shard)
        server = await metrics.serve(0)
    if args.level == "all":
        hit = meter.hit

        def count(event: Any) -> None:
            if isinstance(event, Dispatch):
                hit()

        shard.subscribe(count)
    else:
        shard.subscribe_flags(_Ignore(), EventTypeFlags.GUILD_BAN_ADD)  # never in the stream
    await shard.start()
    await shard.ready(timeout=30)
    await asyncio.sleep(SETTLE_S)
    before = dict(await _types(server)) if server is not None else {}
    burst = argparse.Namespace(
        client=f"metrics-{args.mode}", level="filtered", compression="zstd-stream", pool="filtered",
        control=args.control, events=args.events, timeout=120.0, cprofile="",
    )
    if args.level == "none":
        base = shard.stats["dispatches"]

        async def poll() -> None:
            while meter.target < 0 or shard.stats["dispatches"] - base < meter.target:
                await asyncio.sleep(0.002)
            meter.count = shard.stats["dispatches"] - base
            meter.finish()

        poller = asyncio.get_running_loop().create_task(poll())
        await meter.run_burst(burst)
        meter.final = shard.stats["dispatches"] - base
        poller.cancel()
    else:
        await meter.run_burst(burst)
    check = None
    if server is not None:  # after the window: do the counts by type agree with the host?
        after = await _types(server)
        counted = {t: n - before.get(t, 0) for t, n in after.items() if n - before.get(t, 0)}
        check = counted == meter.expected_by_type
        await server.aclose()
    shard.close()
    await shard.closed()
    result = meter.result(burst, mode=args.mode, metrics_level=args.level, check=check)
    emit(result)


class _Ignore:
    def on_next(self, value: Any) -> None:
        pass

    def on_error(self, error: Exception) -> None:
        pass

    def on_completed(self) -> None:
        pass


async def _types(server: Any) -> dict[str, float]:
    """``rxgateway_events_total`` by type, dispatches only, from the real endpoint."""
    import aiohttp
    from prometheus_client.parser import text_string_to_metric_families

    async with aiohttp.ClientSession() as http:
        async with http.get(server.url) as response:
            text = await response.text()
    return {
        s.labels["type"]: s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "rxgateway_events_total" and not s.labels["type"].startswith("GATEWAY_")
    }


# --------------------------------------------------------------------- the runner


def run_one(pin: Any, host: Any, mode: str, level: str, events: int) -> dict[str, Any]:
    command = pin.wrap(
        [sys.executable, "-O", str(Path(__file__).resolve()), "--child", "--mode", mode, "--level", level,
         "--url", host.url, "--control", host.control, "--events", str(events)],
        pin.client_cpu,
    )  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    raise RuntimeError(f"a {mode}/{level} run printed no result:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def spread(values: list[float]) -> str:
    if len(values) < 4:
        return f"{min(values):.3f}–{max(values):.3f}"
    q = statistics.quantiles(values, n=4)
    return f"{q[0]:.3f}–{q[2]:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="rounds (default 7)")
    parser.add_argument("--events", type=int, default=100_000, help="events per burst (default 100,000)")
    parser.add_argument("--noop-sink", action="store_true", help="also run a shard with a frame sink that does nothing")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--level", choices=LEVELS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--control", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        asyncio.run(client(args))
        return 0

    from run import Host, Pinning

    pin = Pinning()
    log = HERE / "results" / "logs" / "metrics_cost_host.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    host = Host(pin, [], log)
    print(f"metrics cost: {args.runs} rounds x {args.events:,} events (filtered pool, zstd-stream); {pin.note}", flush=True)
    modes = MODES if args.noop_sink else MODES[:2]
    results: dict[tuple[str, str], list[dict[str, Any]]] = {(m, lv): [] for m in modes for lv in LEVELS}
    ratios: dict[tuple[str, str], list[float]] = {(m, lv): [] for m in modes[1:] for lv in LEVELS}
    failed = False
    started = time.monotonic()
    try:
        order = [(m, lv) for lv in LEVELS for m in modes]
        for round_no in range(args.runs):
            shift = round_no % len(order)
            this_round: dict[tuple[str, str], dict[str, Any]] = {}
            for mode, level in order[shift:] + order[:shift]:
                result = run_one(pin, host, mode, level, args.events)
                ok = result["events"] == result["expected"] and result.get("check") is not False
                failed |= not ok
                this_round[(mode, level)] = result
                results[(mode, level)].append(result)
                print(f"  round {round_no + 1} {level:>4} {mode:>3}: {result['cpu_us_per_event']:7.3f} µs/event"
                      f"{'' if ok else '  LOST EVENTS OR MISCOUNTED'}"
                      f"{'  (scrape agrees with the host)' if result.get('check') else ''}", flush=True)  # fmt: skip
            for mode, level in ratios:
                off = this_round[("off", level)]["cpu_us_per_event"]
                ratios[(mode, level)].append(this_round[(mode, level)]["cpu_us_per_event"] / off)
            host.forget()
    finally:
        host.stop()
    print()
    print("| level | mode | µs/event (median, IQR) | − off µs/event | / off (median of per-round ratios, IQR) |")
    print("|---|---|---|---|---|")
    for level in LEVELS:
        off = statistics.median(r["cpu_us_per_event"] for r in results[("off", level)])
        for mode in modes:
            values = [r["cpu_us_per_event"] for r in results[(mode, level)]]
            median = statistics.median(values)
            if mode == "off":
                print(f"| {level} | off | {median:.3f} ({spread(values)}) | | |")
                continue
            ratio = ratios[(mode, level)]
            print(f"| {level} | {mode} | {median:.3f} ({spread(values)}) | {median - off:+.3f} | "
                  f"{statistics.median(ratio):.3f} ({spread(ratio)}) |")  # fmt: skip
    print(f"\n{args.runs * len(modes) * len(LEVELS)} runs in {time.monotonic() - started:.0f} s"
          f"{'; SOME RUNS FAILED (see above)' if failed else ''}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
