"""Many shards in one process: rxgateway against the floor and hikari, at Discord's real
heartbeat interval, with a realistic trickle of events, and a scaled identify window.

    .venv/bin/python benchmarks/scale5k.py          # issue #17 part 4: 5,000 shards, heartbeat
                                                    # 41.25 s, 2 events/shard/s, max_concurrency 16,
                                                    # 0.1 s per bucket + 0.02 margin (~6 minutes)
    .venv/bin/python benchmarks/scale5k.py --shards 1000 --heartbeat-ms 2000 --trickle 0 \\
        --max-concurrency 0 --idle 10 --runs 3      # part 5: idle CPU at 2 s heartbeats
    .venv/bin/python benchmarks/scale5k.py --shards 200 --heartbeat-ms 2000 --trickle 0 \\
        --max-concurrency 0 --idle 8 --strace       # + syscalls per heartbeat (strace -c)
    .venv/bin/python benchmarks/scale5k.py --shards 64 --heartbeat-ms 2000 --trickle 0 \\
        --max-concurrency 0 --idle 10 --clients rxgateway,hikari --callgrind
                                                    # + instructions per heartbeat (callgrind)
    .venv/bin/python benchmarks/scale5k.py --shards 32 --heartbeat-ms 1000 --window 0.05 \\
        --idle 3 --clients rxgateway,floor          # smoke

What one run measures (each client a fresh process pinned to CPU 0, the emulator host
to CPU 1, as in ``run.py``):

* **start-up**: time from ``start`` to every shard READY, identifies paced by
  ``--max-concurrency`` keys and ``--window`` seconds per key, emulator and client
  agreeing (the emulator refuses an Identify that comes sooner, and counts it as a
  violation). rxgateway uses its own ``InMemoryQueue``; the floor a pacer of the same
  rule; hikari starts one bucket at a time as its ``GatewayBot`` does. The theoretical
  minimum is ``(ceil(S / max_concurrency) - 1) x window``: the last bucket's identify
  can go no sooner;
* **steady state** over ``--idle`` seconds, with the emulator sending ``--trickle``
  events per shard per second (the ``filtered`` pool's production-like mix, evenly
  spaced over all sessions): process CPU (cores, and per 1,000 shards), RSS per shard
  (after a full collection, minus the process's RSS with no shard), shards still
  Active, reconnects (connections the emulator saw beyond S), and the heartbeats as
  the emulator saw them: beats in the window, the gaps between a connection's beats
  against the interval (late = over 1.05 x), and its missed-heartbeat closes;
* with ``--strace``, one more run per client under ``strace -c -f`` attached for the
  idle window only: syscalls per heartbeat on the wire (not counted in the CPU
  figures: strace slows the process it traces);
* with ``--callgrind``, one more run per client under ``valgrind --tool=callgrind``,
  counting only during the idle window: the process's instructions per heartbeat on
  the wire, which unlike its CPU time do not move with the machine's load. Valgrind
  runs the client some 50x slower: keep it to a count it can hold (64 shards at 2 s
  beats); a run that reconnects is reported, and means nothing.

Runs are interleaved (each round runs every client once, rotated) and the table gives
the median and the min-max of the rounds. Output: the table on stdout,
``results/scale5k.md`` and ``results/scale5k.json``; drivers' stderr in
``results/logs/scale5k-*.log``. Exits 1 if a run failed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import loops  # noqa: E402
import peers  # noqa: E402
from run import DRIVERS, RESULTS, Host, Pinning, _busy_jiffies, _machine_cores  # noqa: E402

CLIENTS = {"rxgateway": "rxgw.py", "floor": "floor.py", "hikari": "hikari_driver.py"}
TOKEN = "ODE1NzM1MDg1NDY1NzMxMDcy.emulator.token"


def say(text: str = "") -> None:
    print(text, flush=True)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.pin = Pinning()
        self.out = Path(args.out).resolve() if args.out else RESULTS
        (self.out / "logs").mkdir(parents=True, exist_ok=True)
        self.log = self.out / "logs" / f"scale5k-{time.strftime('%Y%m%d-%H%M%S')}.log"
        self.clients = [c.strip() for c in args.clients.split(",") if c.strip()]
        if args.before:
            self.clients.append("rxgateway-before")
        unknown = set(self.clients) - set(CLIENTS) - {"rxgateway-before"}
        if unknown:
            raise SystemExit(f"--clients: unknown {sorted(unknown)}; known: {', '.join(CLIENTS)}")
        self.loops = list(loops.LOOPS) if args.loop == "both" else [args.loop]
        self.python = {"main": sys.executable}
        self.results: list[dict[str, Any]] = []
        self.straces: list[dict[str, Any]] = []
        self.callgrinds: list[dict[str, Any]] = []
        self.failures: list[str] = []

    def python_for(self, client: str) -> str:
        if client != "hikari":
            return sys.executable
        if "peers" not in self.python:
            try:
                self.python["peers"] = str(peers.python_of(peers.ensure("peers", peers.PEERS, say)))
            except Exception as exc:  # noqa: BLE001 - hikari from our own venv, if it has it
                say(f"peers venv unavailable ({exc}); hikari from {sys.executable}")
                self.python["peers"] = sys.executable
        return self.python["peers"]

    def command(self, client: str, host: Host, callgrind: Path | None = None) -> list[str]:
        a = self.args
        driver = "rxgateway" if client == "rxgateway-before" else client
        # Counting starts switched off; ``drive`` switches it on for the idle window.
        tool = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={callgrind}"] if callgrind else []
        command = [
            *tool,
            self.python_for(client), "-O", str(DRIVERS / CLIENTS[driver]), "--client", driver, "--mode", "scale",
            "--url", host.url, "--api-url", host.api_url, "--control", host.control, "--token", TOKEN,
            "--compression", a.compression, "--shards", str(a.shards), "--idle", str(a.idle),
            "--max-concurrency", str(a.max_concurrency), "--window", str(a.window), "--margin", str(a.margin),
            "--trickle", str(a.trickle), "--settle", str(a.settle),
        ]  # fmt: skip
        return self.pin.wrap(command, self.pin.client_cpu)

    def env(self, client: str, loop: str) -> dict[str, str]:
        tree = Path(self.args.before).resolve() if client == "rxgateway-before" else ROOT
        path = str(DRIVERS) if client == "hikari" else f"{DRIVERS}{os.pathsep}{tree}"
        return loops.environment(loop, dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=path))

    def drive(
        self, client: str, loop: str, host: Host, strace: bool = False, callgrind: bool = False
    ) -> dict[str, Any] | None:
        count_file = self.out / "logs" / f"callgrind-{client}-{loop}.out"
        count_file.unlink(missing_ok=True)  # never read an earlier run's count
        command = self.command(client, host, count_file if callgrind else None)
        busy0 = _busy_jiffies()
        started = time.monotonic()
        env = self.env(client, loop)
        if callgrind:
            env["PYTHONHASHSEED"] = "1"  # str hashes salted alike from run to run
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=open(self.log, "a"), text=True, cwd=ROOT, env=env)
        assert proc.stdout is not None
        result: dict[str, Any] | None = None
        tracer: subprocess.Popen[str] | None = None
        counting: Counting | None = None
        trace_file = self.out / "logs" / f"strace-{client}-{loop}.txt"
        deadline = started + self.args.timeout
        watchdog = threading.Timer(self.args.timeout, proc.kill)  # a hung driver ends the read below
        watchdog.start()
        try:
            for line in proc.stdout:
                if line.startswith("IDLE ") and strace:
                    # Attach for the idle window only (less a margin at each end).
                    span = max(1.0, self.args.idle - 1.0)
                    tracer = subprocess.Popen(
                        ["timeout", "-s", "INT", str(span), "strace", "-c", "-f", "-o", str(trace_file),
                         "-p", str(proc.pid)],  # fmt: skip
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )
                elif line.startswith("IDLE ") and callgrind:
                    # Count within the idle window only: it ends half a second early,
                    # before the driver's own calls to the host after it.
                    counting = Counting(proc.pid, self.args.idle - 0.5)
                elif line.startswith("RESULT "):
                    result = json.loads(line[7:])
                if time.monotonic() > deadline:
                    break
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        finally:
            watchdog.cancel()
            if counting is not None:
                counting.finish()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if tracer is not None:
                tracer.wait(timeout=60)
            try:
                host.forget()
            except OSError:
                pass
        if result is None:
            self.failures.append(f"{client} ({loop}): no result, exit {proc.returncode}; see {self.log}")
            return None
        result["loop_name"] = loop
        result["machine_busy_cores"] = round(_machine_cores(busy0)[0], 2) if busy0 else None
        result["load_average"] = load_average()
        result["process_s"] = round(time.monotonic() - started, 1)
        if tracer is not None:
            result["strace"] = parse_strace(trace_file)
        if callgrind:
            total = callgrind_total(count_file)
            if counting is None or counting.seconds is None or not total:
                self.failures.append(f"{client} ({loop}): callgrind counted nothing (switching it on or off failed)")
                return None
            # The beats are the emulator's over the whole window; the instructions
            # over the part of it counted: per beat, at the counted rate.
            beats = max(result["emulator_beats"]["beats"], 1)
            window = result["emulator_beats"]["window_s"]
            result["instructions"] = total
            result["counted_s"] = round(counting.seconds, 3)
            result["instructions_per_beat"] = round(total / (beats * counting.seconds / window))
        return result

    def theoretical_min(self, margin: float = 0.0) -> float:
        """Seconds to the last bucket's Identify at ``window`` (plus ``margin``) per bucket."""
        a = self.args
        if not a.max_concurrency:
            return 0.0
        return (math.ceil(a.shards / a.max_concurrency) - 1) * (a.window + margin)

    def run(self) -> int:
        a = self.args
        say(f"scale5k: {a.shards} shards, heartbeat {a.heartbeat_ms} ms, trickle {a.trickle} ev/shard/s, "
            f"max_concurrency {a.max_concurrency or 'all'}, window {a.window} s, idle {a.idle} s, {a.compression}; "
            f"{self.pin.note}; load average {load_average()}")  # fmt: skip
        extra = [
            "--heartbeat-ms", str(a.heartbeat_ms), "--shards", str(a.shards), "--guilds", str(a.guilds),
            "--max-concurrency", str(a.max_concurrency or a.shards), "--identify-window", str(a.window),
        ]  # fmt: skip
        host = Host(self.pin, extra, self.out / "logs" / "scale5k-host.log")
        try:
            plan = []
            for rnd in range(a.runs):
                order = [(c, lp) for c in self.clients for lp in self.loops]
                shift = rnd % len(order)
                plan += [(rnd, c, lp) for c, lp in order[shift:] + order[:shift]]
            for index, (rnd, client, loop) in enumerate(plan, 1):
                result = self.drive(client, loop, host)
                if result is None:
                    say(f"  [{index}/{len(plan)}] {client:10} {loop:8} FAILED")
                    continue
                result["round"] = rnd
                result["client"] = client  # rxgateway-before runs the rxgateway driver
                self.results.append(result)
                say(f"  [{index}/{len(plan)}] {line_of(result, a)}")
            if a.strace:
                for client in self.clients:
                    result = self.drive(client, self.loops[0], host, strace=True)
                    if result is not None and result.get("strace"):
                        result["client"] = client
                        self.straces.append(result)
                        st = result["strace"]
                        beats = result["emulator_beats"]["beats"]
                        say(f"  strace {client:10} {st['calls']} syscalls, {st['seconds']:.3f} s in the kernel "
                            f"over {beats} beats: {st['calls'] / max(beats, 1):.2f} syscalls/beat")  # fmt: skip
            if a.callgrind:
                for client in self.clients:
                    result = self.drive(client, self.loops[0], host, callgrind=True)
                    if result is not None:  # (a run that counted nothing is a failure, and None)
                        result["client"] = client
                        self.callgrinds.append(result)
                        say(f"  callgrind {client:10} {result['instructions']:,} instructions in {result['counted_s']} s "
                            f"of the window: {result['instructions_per_beat']:,} per beat, reconnects "
                            f"{result['reconnects']}")  # fmt: skip
        finally:
            host.stop()
        md = self.table()
        say("\n" + md)
        (self.out / "scale5k.md").write_text(md + "\n")
        (self.out / "scale5k.json").write_text(json.dumps(
            {"args": vars(a), "results": self.results, "strace": self.straces, "callgrind": self.callgrinds,
             "failures": self.failures}, indent=1))  # fmt: skip
        say(f"\nwritten: {self.out}/scale5k.md, scale5k.json; logs in {self.log}")
        for failure in self.failures:
            say(f"FAILED: {failure}")
        return 1 if self.failures else 0

    def table(self) -> str:
        a = self.args
        lines = [
            f"{a.shards} shards in one process; heartbeat {a.heartbeat_ms / 1000:g} s; trickle {a.trickle:g} "
            f"events/shard/s ({a.compression}); identify: max_concurrency {a.max_concurrency or 'unlimited'}, "
            f"window {a.window:g} s (theoretical minimum to the last identify {self.theoretical_min():.1f} s; "
            f"{self.theoretical_min(a.margin):.1f} s at the clients' window + margin {a.margin:g} s); "
            f"idle window {a.idle:g} s; {a.runs} round(s); median [min-max]",
            "",
            "| client | loop | all READY s | / min | active | reconnects | violations | beats (emulator) | late gaps | "
            "max gap / interval | missed-beat closes | CPU cores | cores per 1,000 | KiB/shard | machine busy |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        tmin = self.theoretical_min()
        for client in self.clients:
            for loop in self.loops:
                rows = [r for r in self.results if r["client"] == client and r["loop_name"] == loop]
                if not rows:
                    continue
                beats = [r["emulator_beats"] for r in rows]
                ready = [r["ready_s"] for r in rows]
                cores = [r["idle_cpu_cores"] for r in rows]
                per1k = [c * 1000 / r["shards"] for c, r in zip(cores, rows)]
                kib = [r["idle_kib_per_shard"] for r in rows]
                expected = a.shards * a.idle / (a.heartbeat_ms / 1000)
                lines.append(
                    f"| {client} | {loop} | {spread(ready, 1)} | "
                    f"{(statistics.median(ready) / tmin if tmin else float('nan')):.2f} | "
                    f"{min(r['active'] for r in rows)}/{a.shards} | {max(r['reconnects'] for r in rows)} | "
                    f"{max(r['violations'] for r in rows)} | "
                    f"{statistics.median(b['beats'] for b in beats):.0f} (~{expected:.0f}) | "
                    f"{max(b['late_gaps'] for b in beats)}/{statistics.median(b['gaps'] for b in beats):.0f} | "
                    f"{max((b['gap_max_s'] or 0) for b in beats) / (a.heartbeat_ms / 1000):.3f} | "
                    f"{max(b['missed_heartbeat_closes'] for b in beats)} | {spread(cores, 3)} | {spread(per1k, 4)} | "
                    f"{spread(kib, 1)} | {spread([r['machine_busy_cores'] or 0 for r in rows], 2)} |"
                )
        if self.straces:
            lines += ["", "Syscalls during the idle window (`strace -c -f`, a separate run; beats as the emulator saw them):",
                      "", "| client | syscalls | per beat | kernel s | top calls |", "|---|---|---|---|---|"]  # fmt: skip
            for r in self.straces:
                st = r["strace"]
                beats = max(r["emulator_beats"]["beats"], 1)
                top = ", ".join(f"{name} {n / beats:.2f}" for name, n in st["top"][:6])
                lines.append(f"| {r['client']} | {st['calls']} | {st['calls'] / beats:.2f} | {st['seconds']:.3f} | {top} |")
        if self.callgrinds:
            lines += ["", "Instructions during the idle window (callgrind, a separate run; the whole process; per "
                      "beat = instructions over the seconds counted, times the window, over the beats the emulator "
                      "saw in it; a run with reconnects is not idle):", "",
                      "| client | instructions | seconds counted | beats in the window | per beat | reconnects |",
                      "|---|---|---|---|---|---|"]  # fmt: skip
            for r in self.callgrinds:
                lines.append(f"| {r['client']} | {r['instructions']:,} | {r['counted_s']} | {r['emulator_beats']['beats']} "
                             f"| {r['instructions_per_beat']:,} | {r['reconnects']} |")  # fmt: skip
        return "\n".join(lines)


def spread(values: list[float], digits: int) -> str:
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def line_of(r: dict[str, Any], a: argparse.Namespace) -> str:
    b = r["emulator_beats"]
    return (f"{r['client']:10} {r['loop_name']:8} ready {r['ready_s']:.1f} s, active {r['active']}, "
            f"reconnects {r['reconnects']}, violations {r['violations']}, {r['idle_cpu_cores']:.3f} cores "
            f"({r['idle_cpu_cores'] * 1000 / r['shards']:.4f} per 1,000), {r['idle_kib_per_shard']:.1f} KiB/shard, "
            f"beats {b['beats']} late {b['late_gaps']}/{b['gaps']} max gap {b['gap_max_s']} s, "
            f"missed {b['missed_heartbeat_closes']}, trickle {r.get('trickle_sent')}, busy {r['machine_busy_cores']}, "
            f"load {r['load_average']}")  # fmt: skip


class Counting:
    """Callgrind's counting in process ``pid``, switched on now and off ``seconds``
    later (by a timer thread). :attr:`seconds` is how long it was on, measured between
    the two switches, or ``None`` if either failed."""

    def __init__(self, pid: int, seconds: float) -> None:
        self.pid = pid
        self.seconds: float | None = None
        self._on = self._switch(True)
        self._started = time.monotonic()
        self._timer = threading.Timer(seconds, self._off)
        self._timer.start()

    def _switch(self, on: bool) -> bool:
        done = subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(self.pid)], capture_output=True)
        return done.returncode == 0

    def _off(self) -> None:
        ended = time.monotonic()
        if self._switch(False) and self._on:
            self.seconds = ended - self._started

    def finish(self) -> None:
        """Wait for the switch off (it runs while the process is still counting)."""
        self._timer.join()


def callgrind_total(path: Path) -> int:
    """The instructions a callgrind output file counted; 0 if none. (With counting
    switched on and off by ``callgrind_control``, ``summary:`` can say 0 where
    ``totals:`` has the count: the larger is taken.)"""
    try:
        text = path.read_text()
    except OSError:
        return 0
    counts = [int(line.split()[1]) for line in text.splitlines() if line.startswith(("summary:", "totals:"))]
    return max(counts, default=0)


def parse_strace(path: Path) -> dict[str, Any]:
    """``strace -c`` summary: total calls, kernel seconds, calls per syscall (most first)."""
    calls: dict[str, int] = {}
    seconds = 0.0
    try:
        text = path.read_text()
    except OSError:
        return {"calls": 0, "seconds": 0.0, "top": []}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5 or not parts[0].replace(".", "").isdigit() or parts[-1] == "total":
            continue
        name = parts[-1]
        try:
            seconds += float(parts[1])
            calls[name] = int(parts[3])
        except ValueError:
            continue
    top = sorted(calls.items(), key=lambda kv: -kv[1])
    return {"calls": sum(calls.values()), "seconds": seconds, "top": top}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shards", type=int, default=5000)
    p.add_argument("--clients", default="rxgateway,floor,hikari")
    p.add_argument("--heartbeat-ms", type=int, default=41_250, help="Discord's is 41,250 ms")
    p.add_argument("--max-concurrency", type=int, default=16, help="identify buckets; 0: all shards at once")
    p.add_argument("--window", type=float, default=0.1, help="seconds per identify bucket (Discord's 5 s, scaled)")
    p.add_argument("--margin", type=float, default=0.02,
                   help="seconds the clients add to --window: what lies between a grant and the emulator's read that "
                        "the emulator cannot see (its own stalls it allows for). 0.005, the library's 5 %% scaled, "
                        "earned 33 refusals at 5,000 shards, gaps of 97.9-99.9 ms; 0.02 none")
    p.add_argument("--trickle", type=float, default=2.0, help="events per shard per second while measuring")
    p.add_argument("--idle", type=float, default=45.0, help="seconds measured (over one heartbeat interval)")
    p.add_argument("--settle", type=float, default=2.0, help="seconds after all READY before measuring")
    p.add_argument("--guilds", type=int, default=64)
    p.add_argument("--compression", default="zlib-stream", choices=["zlib-stream", "zstd-stream", "none"])
    p.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop", "both"])
    p.add_argument("--runs", type=int, default=1, help="rounds (every client once per round)")
    p.add_argument("--strace", action="store_true", help="one more run per client under strace -c (syscalls per beat)")
    p.add_argument("--callgrind", action="store_true",
                   help="one more run per client under callgrind, counting the idle window (instructions per beat)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds one client run may take")
    p.add_argument("--out", help="output directory (default benchmarks/results)")
    p.add_argument("--before", metavar="DIR", help="also run rxgateway from the tree DIR (holding rxgateway/), as "
                   "'rxgateway-before': e.g. `git archive HEAD rxgateway | tar -x -C DIR` (before/after a change)")
    args = p.parse_args(argv)
    if args.callgrind and args.idle < 2:
        p.error("--callgrind needs --idle of 2 s or more (it counts all but the window's last half second)")
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
