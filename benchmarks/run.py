"""rxgateway's benchmark suite: rxgateway against a bare-aiohttp floor, hikari and
discord.py, on one emulator stream over loopback.

    python3 dev.py bench                     # the whole suite (about 45 minutes)
    python3 dev.py bench --quick --no-peers  # a smoke run (under a minute)
    python3 dev.py bench --only raw,typed --runs 7 --events 200000

What runs (see README.md beside this file for the method):

* one emulator host process (``emulator_host.py``) pinned to CPU 1, every client a
  separate process pinned to CPU 0 (``taskset``; the output says when pinning is not
  possible), each printing one JSON line timed from the burst request after READY to
  the Nth event;
* levels ``raw``, ``typed``, ``filtered`` × compressions zstd-stream, zlib-stream,
  none × clients, ``--runs`` runs each, interleaved (every round runs every client
  once, in a rotated order);
* ``latency``: fixed-rate stamped traffic at 50 % of the floor's sustained maximum for
  every client, on asyncio's loop and on uvloop, p50/p99/p99.9 at the subscriber;
* ``scale``: 1, 64, 512 and 1,000 shards in one process (heartbeat every 2 s): time to
  all READY, idle RSS and CPU per shard, reconnects, RSS after traffic;
* ``many``: 5,000 rxgateway shards in one process at Discord's heartbeat interval with
  a trickle of events (``scale5k.py``; its table is ``results/scale5k.md``);
* ``profile``: rxgateway's raw and typed paths under py-spy and cProfile;
* ``instructions``: instructions per event of the receive path replayed under
  callgrind (``hotpath.py``): the floor, ``pipe(on)``, ``shard.subscribe``, the
  unwanted event and its transport floor, zstd-stream and zlib-stream. Unlike CPU
  time, these do not move with what else a shared machine runs (needs valgrind).

hikari and discord.py are installed with their speed-ups into
``benchmarks/.cache/peers-venv`` (never as rxgateway dependencies); ``--no-peers``
skips them. Results: the printed tables, ``benchmarks/results/latest.md`` and
``benchmarks/results/latest.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import loops  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402

RESULTS = HERE / "results"
DRIVERS = HERE / "drivers"
LEVELS = ("raw", "typed", "filtered")
ALL_PARTS = ("raw", "typed", "filtered", "latency", "scale", "many", "profile", "instructions")
#: The paths of the instructions part, each with the path its ratio is taken against.
INSTRUCTION_PATHS = {"floor": "floor", "pipe": "floor", "raw": "floor",
                     "transport-filtered": "transport-filtered", "none": "transport-filtered"}  # fmt: skip
COMPRESSIONS = report.COMPRESSIONS
#: Driver script and venv ("main": rxgateway's, "peers") of each client.
CLIENTS = {
    "floor": ("floor.py", "main"),
    "transport": ("floor.py", "main"),
    "rxgateway": ("rxgw.py", "main"),
    "rxgateway-all": ("rxgw.py", "main"),
    "rxgateway-none": ("rxgw.py", "main"),
    "rxgateway-pipe": ("rxgw.py", "main"),
    "rxgateway-chain": ("rxgw.py", "main"),
    "rxgateway-group": ("rxgw.py", "main"),
    "hikari": ("hikari_driver.py", "peers"),
    "discord.py": ("dpy_driver.py", "peers"),
}
LEVEL_CLIENTS = {
    "raw": ["floor", "transport", "rxgateway", "rxgateway-pipe", "rxgateway-chain", "rxgateway-group", "hikari", "discord.py"],
    "typed": ["floor", "rxgateway", "rxgateway-pipe", "rxgateway-chain", "rxgateway-group", "hikari", "discord.py"],
    "filtered": ["transport", "floor", "rxgateway-none", "rxgateway", "rxgateway-all", "hikari", "discord.py"],
}
FULL = {
    # typed: at least 20k asked; runs of 20k (~0.4 s for rxgateway) gave IQRs of +-20 %.
    "events": {"raw": 100_000, "typed": 50_000, "filtered": 100_000},
    "runs": 5,
    "shards": [1, 64, 512, 1000],
    # The two largest counts, where idle CPU is compared with hikari's (at the most
    # shards hikari holds without a reconnect), run this many times, interleaved
    # (client, then compression, then run): median and range.
    "scale_runs": 3,
    "idle_s": 6.0,
    "traffic_shards": 64,
    "traffic_per_shard": 600,
    "latency_s": 4.0,
    "latency_probe_s": 2.0,
    "latency_runs": 5,
    "profile_events": {"raw": 200_000, "typed": 50_000},
    "instruction_events": 1000,
    "instruction_seeds": 3,
    "timeout_s": 60,
}
QUICK = {
    "events": {"raw": 5_000, "typed": 2_000, "filtered": 5_000},
    "runs": 1,
    "shards": [1, 16],
    "scale_runs": 1,
    "idle_s": 2.0,
    "traffic_shards": 16,
    "traffic_per_shard": 100,
    "latency_s": 1.0,
    "latency_probe_s": 0.5,
    "latency_runs": 1,
    "profile_events": {"raw": 20_000, "typed": 5_000},
    "instruction_events": 100,
    "instruction_seeds": 1,
    "timeout_s": 30,
}
#: The latency part: these clients at 50 % of the floor's sustained maximum, which is
#: the first rate of the ladder (shares of the floor's burst maximum) the floor holds
#: paced with a p99 under SUSTAINED_P99_MS (beyond it its queue grows all run long).
LATENCY_CLIENTS = [("floor", "raw"), ("rxgateway", "raw"), ("rxgateway", "typed"), ("hikari", "raw")]
SUSTAINED_LADDER = (0.9, 0.75, 0.6, 0.5, 0.4, 0.3)
SUSTAINED_P99_MS = 20.0
#: The scale part's emulator: short heartbeats, every shard its own identify bucket.
SCALE_HOST = ["--heartbeat-ms", "2000", "--max-concurrency", "1000", "--shards", "1000", "--guilds", "64"]
RUN_TIMEOUT_S = 300
#: Extra environment of the emulator host (the snapshot's PYTHONPATH).
HOST_ENV: dict[str, str] = {}
SCALE_TIMEOUT_S = 600


def say(text: str = "") -> None:
    print(text, flush=True)


class Pinning:
    """CPU 1 for the emulator (and this script, which mostly waits), CPU 0 for clients."""

    def __init__(self) -> None:
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self.taskset = shutil.which("taskset")
        self.enabled = len(cpus) >= 2
        self.client_cpu, self.emulator_cpu = (cpus[0], cpus[1]) if self.enabled else (None, None)
        if not self.enabled:
            self.note = f"NOT pinned: {len(cpus) or 'unknown'} CPU(s) available, emulator and clients share them"
        elif self.taskset:
            self.note = f"pinned with taskset: emulator on CPU {self.emulator_cpu}, clients on CPU {self.client_cpu}"
        else:
            self.note = (f"pinned with sched_setaffinity (no taskset): emulator on CPU {self.emulator_cpu}, "
                         f"clients on CPU {self.client_cpu}")  # fmt: skip
        if self.enabled:
            os.sched_setaffinity(0, {self.emulator_cpu})

    def wrap(self, command: list[str], cpu: int | None) -> list[str]:
        if not self.enabled or cpu is None:
            return command
        if self.taskset:
            return [self.taskset, "-c", str(cpu), *command]
        # sched_setaffinity through a tiny re-exec, when taskset is missing.
        code = f"import os,sys; os.sched_setaffinity(0, {{{cpu}}}); os.execv(sys.argv[1], sys.argv[1:])"
        return [sys.executable, "-c", code, *command]


class Host:
    """An emulator host process and its addresses."""

    def __init__(self, pin: Pinning, extra: list[str], log: Path) -> None:
        command = pin.wrap([sys.executable, str(HERE / "emulator_host.py"), *extra], pin.emulator_cpu)
        self.log = open(log, "a")
        env = dict(os.environ, **HOST_ENV)
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=ROOT, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the emulator host did not start; see {log}")
        info = json.loads(line)
        self.url, self.api_url, self.control = info["url"], info["api_url"], info["control"]
        self.pool_bytes = info["pool_bytes"]

    def forget(self) -> None:
        import urllib.request

        request = urllib.request.Request(self.control + "/bench/forget", data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.plan = dict(QUICK if args.quick else FULL)
        if args.runs:
            self.plan["runs"] = args.runs
        if args.events:
            self.plan["events"] = dict.fromkeys(LEVELS, args.events)
        self.parts = [p.strip() for p in (args.only or ",".join(ALL_PARTS)).split(",") if p.strip()]
        unknown = set(self.parts) - set(ALL_PARTS)
        if unknown:
            raise SystemExit(f"--only: unknown part(s) {sorted(unknown)}; known: {', '.join(ALL_PARTS)}")
        if args.quick and not args.only:
            self.parts = [p for p in self.parts if p not in ("profile", "instructions")]
        self.clients = set(args.clients.split(",")) if args.clients else None
        self.pin = Pinning()
        self.out = Path(args.out).resolve() if args.out else RESULTS
        (self.out / "logs").mkdir(parents=True, exist_ok=True)
        self.log = self.out / "logs" / f"run-{time.strftime('%Y%m%d-%H%M%S')}.log"
        self.python = {"main": sys.executable}
        self.peer_versions: dict[str, str] = {}
        self.peer_note = ""
        self.results: list[dict[str, Any]] = []
        self.latency: list[dict[str, Any]] = []
        self.scale: list[dict[str, Any]] = []
        self.instructions: list[dict[str, Any]] = []
        self.idle_instructions: list[dict[str, Any]] = []
        self.failures: list[str] = []
        self.profile_md = ""
        self.env: dict[str, Any] = {}

    # -- set-up --------------------------------------------------------------------

    def snapshot(self) -> None:
        """Copy ``rxgateway/`` as it is now: every driver and the emulator import this copy,
        so edits made to the working tree while the suite runs do not mix versions."""
        target = self.out / "snapshot"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ROOT / "rxgateway", target / "rxgateway", ignore=shutil.ignore_patterns("__pycache__"))
        diff = _git("diff", "HEAD", "--", "rxgateway")
        (self.out / "snapshot.diff").write_text(diff + "\n" if diff else "")
        self.pythonpath = {"main": f"{DRIVERS}{os.pathsep}{target}", "peers": str(DRIVERS)}
        HOST_ENV["PYTHONPATH"] = str(target)

    def setup(self) -> None:
        self.snapshot()
        self.env = {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "cpu": _cpu_model(),
            "pinning": self.pin.note,
            "rxgateway_commit": _git("rev-parse", "--short", "HEAD"),
            "rxgateway_dirty": bool(_git("status", "--porcelain", "--", "rxgateway")),
            "rxgateway_snapshot": str(self.out / "snapshot"),
            "main_venv": {k: v for k, v in _main_versions().items()},
            "compiled_probe": _compiled_probe(self.out / "snapshot"),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "command": " ".join(["python3 dev.py bench", *sys.argv[1:]]),
        }
        say(f"python {self.env['python']} on {self.env['cpu']} x{self.env['cpus']}; {self.pin.note}")
        say(f"rxgateway {self.env['rxgateway_commit']}{' (+ uncommitted changes)' if self.env['rxgateway_dirty'] else ''}; "
            + ", ".join(f"{k} {v}" for k, v in self.env["main_venv"].items())
            + f"; dispatch probe: {PROBES[self.env['compiled_probe']]}")  # fmt: skip
        if self.args.no_peers:
            self.peer_note = "peers skipped (--no-peers)"
        else:
            try:
                path = peers.ensure("peers", peers.PEERS, say)
                self.python["peers"] = str(peers.python_of(path))
                self.peer_versions = peers.versions(path)
                keep = ("hikari", "discord.py", "orjson", "zstandard", "backports.zstd", "aiohttp", "ciso8601", "aiodns")
                shown = ", ".join(f"{k} {self.peer_versions[k]}" for k in keep if k in self.peer_versions)
                self.peer_note = f"peers venv {path.relative_to(ROOT)}: {shown}"
                (self.out / "peers-freeze.txt").write_text(
                    "\n".join(f"{k}=={v}" for k, v in sorted(self.peer_versions.items())) + "\n"
                )
            except Exception as exc:  # noqa: BLE001 - report and go on without them
                self.peer_note = f"peers NOT available: {exc}"
                self.failures.append(self.peer_note)
        say(self.peer_note)
        self.env["peers"] = self.peer_note

    def client_ok(self, client: str) -> bool:
        venv = CLIENTS[client][1]
        return venv in self.python and (self.clients is None or client in self.clients)

    # -- one driver run ------------------------------------------------------------

    def drive(
        self, client: str, host: Host, extra: list[str], timeout: float = RUN_TIMEOUT_S, loop: str = "asyncio"
    ) -> dict | None:
        script, venv = CLIENTS[client]
        from rxgateway.emulator import DEFAULT_TOKEN

        command = [
            self.python[venv], "-O", str(DRIVERS / script), "--client", client,
            "--url", host.url, "--api-url", host.api_url, "--control", host.control, "--token", DEFAULT_TOKEN,
            "--timeout", str(self.plan["timeout_s"]), *extra,
        ]  # fmt: skip
        command = self.pin.wrap(command, self.pin.client_cpu)
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=self.pythonpath[venv])
        if loop != "asyncio":
            env = loops.environment(loop, env)
        busy0 = _busy_jiffies()
        started = time.monotonic()
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
        except subprocess.TimeoutExpired as exc:
            self._log(f"TIMEOUT {client} {extra}\n{exc.stderr or ''}")
            self.failures.append(f"{client} {' '.join(extra)}: timed out after {timeout:.0f} s")
            return None
        finally:
            try:
                host.forget()
            except OSError:
                pass
        with open(self.log, "a") as log:
            log.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}\n")
        for line in done.stdout.splitlines():
            if line.startswith("RESULT "):
                result = json.loads(line[7:])
                # Busy CPU of the whole machine while the driver ran (cores): ours is at
                # most ~2 (client + emulator); more means other tenants were running too.
                if busy0 is not None:
                    busy, steal = _machine_cores(busy0)
                    result["machine_busy_cores"] = round(busy, 2)
                    if steal is not None:  # CPU the hypervisor gave to other guests meanwhile
                        result["machine_steal_cores"] = round(steal, 3)
                result["process_s"] = round(time.monotonic() - started, 2)
                return result
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        self.failures.append(f"{client} {' '.join(extra)}: exit {done.returncode}: {tail[-400:]}")
        return None

    def _log(self, text: str) -> None:
        with open(self.log, "a") as log:
            log.write(text + "\n")

    # -- parts -----------------------------------------------------------------------

    def throughput(self, host: Host) -> None:
        levels = [lv for lv in LEVELS if lv in self.parts]
        runs = self.plan["runs"]
        plan = []
        for rnd in range(runs):
            for level in levels:
                for comp in COMPRESSIONS:
                    clients = [c for c in LEVEL_CLIENTS[level] if self.client_ok(c)]
                    shift = rnd % len(clients) if clients else 0
                    for client in clients[shift:] + clients[:shift]:
                        plan.append((rnd, level, comp, client))
        say(f"\nthroughput: {len(plan)} runs ({runs} rounds x levels {', '.join(levels)} x 3 compressions x clients)")
        for index, (rnd, level, comp, client) in enumerate(plan, 1):
            extra = ["--level", level, "--compression", comp, "--events", str(self.plan["events"][level])]
            result = self.drive(client, host, extra, timeout=self.plan["timeout_s"] + 60)
            if result is None:
                say(f"  [{index}/{len(plan)}] {level:8} {comp:11} {client:15} FAILED")
                continue
            result["round"] = rnd
            self.results.append(result)
            bad = "" if result["events"] == result["expected"] else f"  COUNT {result['events']} != {result['expected']}"
            say(f"  [{index}/{len(plan)}] {level:8} {comp:11} {client:15} {result['cpu_us_per_event']:8.2f} µs/ev "
                f"{result['events_per_s'] / 1000:7.1f}k ev/s  util {result['util']:.2f} emu {result.get('emu_util') or 0:.2f} "
                f"busy {result.get('machine_busy_cores', 0):.2f}{bad}")  # fmt: skip

    def latency_part(self, host: Host) -> None:
        """Every client at one paced rate: 50 % of the floor's own *sustained* maximum
        (the highest of a descending ladder of paced rates the floor holds with a p99
        under ``SUSTAINED_P99_MS``), on asyncio's loop and on uvloop, rounds interleaved."""
        comp = "zstd-stream"
        targets = [(c, lv) for c, lv in LATENCY_CLIENTS if self.client_ok(c)]
        if not self.client_ok("floor"):
            say("\nlatency: skipped (the floor sets the rate and is not selected)")
            return
        s = report.summary(self.results).get(("raw", comp, "floor"))
        if s and s.get("runs"):
            top = s["eps"][0]
        else:
            calib = self.drive("floor", host, ["--level", "raw", "--compression", comp, "--events", "50000"])
            if calib is None:
                return
            top = calib["events_per_s"]
        self.latency_loops = ["asyncio"]
        try:
            loops.ensure_uvloop(say)
            self.latency_loops.append("uvloop")
        except Exception as exc:  # noqa: BLE001 - report and measure asyncio only
            self.failures.append(f"latency: uvloop unavailable: {exc}")
        sustained = None
        say(f"\nlatency: the floor's sustained maximum (burst max {top:.0f} ev/s; paced, p99 <= {SUSTAINED_P99_MS} ms)")
        for share in SUSTAINED_LADDER:
            rate = round(top * share)
            extra = ["--mode", "latency", "--level", "raw", "--compression", comp, "--rate", str(rate),
                     "--duration", str(self.plan["latency_probe_s"])]  # fmt: skip
            probe = self.drive("floor", host, extra)
            held = probe is not None and probe["events"] == probe["expected"] and (probe["p99_ms"] or 1e9) <= SUSTAINED_P99_MS
            say(f"  floor paced at {rate} ev/s: " + (f"p99 {probe['p99_ms']} ms" if probe else "FAILED")
                + (" (held)" if held else ""))  # fmt: skip
            if held:
                sustained = rate
                break
        if sustained is None:
            self.failures.append("latency: the floor held none of the paced rates tried")
            return
        rate = round(sustained * 0.5)
        self.latency_rate = {"burst_max": top, "sustained": sustained, "rate": rate}
        plan = [(c, lv, lp) for c, lv in targets for lp in self.latency_loops]
        say(f"latency: {comp}, every client at {rate} ev/s (50 % of the floor's sustained {sustained}), "
            f"{self.plan['latency_runs']} round(s), loops {', '.join(self.latency_loops)}")  # fmt: skip
        for rnd in range(self.plan["latency_runs"]):
            shift = rnd % len(plan)
            for client, level, loop in plan[shift:] + plan[:shift]:
                extra = ["--mode", "latency", "--level", level, "--compression", comp,
                         "--rate", str(rate), "--duration", str(self.plan["latency_s"])]  # fmt: skip
                result = self.drive(client, host, extra, loop=loop)
                if result is None:
                    say(f"  {client:10} {level:6} {loop:8} FAILED")
                    continue
                result.update(load="50% of floor sustained", loop=loop, round=rnd, floor_sustained_eps=sustained,
                              max_measured_eps=top)  # fmt: skip
                self.latency.append(result)
                say(f"  {client:10} {level:6} {loop:8} {rate:7d} ev/s  p50 {result['p50_ms']} ms  "
                    f"p99 {result['p99_ms']} ms  p99.9 {result['p999_ms']} ms  ({result['events']}/{result['expected']}) "
                    f"{result['cpu_us_per_event']} µs/ev, busy {result.get('machine_busy_cores', 0):.2f}")  # fmt: skip

    def many_part(self) -> None:
        """5,000 shards in one process at Discord's heartbeat interval with a trickle
        of events (``scale5k.py``'s defaults; a small smoke with ``--quick``): its own
        table, in ``scale5k.md`` beside the suite's results. rxgateway only: the floor
        and hikari did not reach 5,000 here (the ``scale`` part compares all three at
        1,000)."""
        args = ["--clients", "rxgateway", "--out", str(self.out)]
        if self.args.quick:
            args += ["--shards", "32", "--heartbeat-ms", "1000", "--window", "0.05", "--idle", "3"]
        say("many: 5,000 shards in one process (scale5k.py)" if not self.args.quick else "many: scale5k.py smoke")
        self.scale5k("many", args)

    def scale5k(self, part: str, args: list[str]) -> bool:
        """Run ``scale5k.py`` with ``args``, unpinned (it pins its own processes); a
        failure is recorded under ``part``."""
        cpus = set(range(os.cpu_count() or 1))  # this script is pinned to one CPU

        def unpinned() -> None:
            if hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, cpus)

        done = subprocess.run([sys.executable, str(HERE / "scale5k.py"), *args], cwd=ROOT, preexec_fn=unpinned)
        if done.returncode != 0:
            self.failures.append(f"{part}: scale5k.py exit {done.returncode}")
        return done.returncode == 0

    def scale_part(self) -> None:
        host = Host(self.pin, SCALE_HOST, self.out / "logs" / "scale-host.log")
        try:
            clients = [c for c in ("floor", "rxgateway", "hikari") if self.client_ok(c)]
            say(f"\nscale: shards {self.plan['shards']}, heartbeat 2 s, idle window {self.plan['idle_s']} s")
            repeated = sorted(self.plan["shards"])[-2:]
            for shards in self.plan["shards"]:
                runs = self.plan["scale_runs"] if shards in repeated else 1
                for rnd, comp, client in itertools.product(range(runs), ("zstd-stream", "zlib-stream"), clients):
                    extra = ["--mode", "scale", "--compression", comp, "--shards", str(shards),
                             "--idle", str(self.plan["idle_s"])]  # fmt: skip
                    if shards == self.plan["traffic_shards"]:
                        extra += ["--traffic", str(self.plan["traffic_per_shard"])]
                    result = self.drive(client, host, extra, timeout=SCALE_TIMEOUT_S)
                    if result is None:
                        say(f"  {client:10} {comp:11} {shards:5} shards FAILED")
                        continue
                    result["round"] = rnd
                    self.scale.append(result)
                    after = result.get("after_traffic_kib_per_shard")
                    say(f"  {client:10} {comp:11} {shards:5} shards: ready {result['ready_s']:.2f} s, "
                        f"active {result['active']}, idle {result['idle_kib_per_shard']:.1f} KiB/shard, "
                        f"{result['idle_cpu_cores']:.3f} cores, reconnects {result['reconnects']}"
                        + (f", after traffic {after:.0f} KiB/shard" if after is not None else ""))  # fmt: skip
        finally:
            host.stop()

    def profile_part(self, host: Host) -> None:
        import profiling

        say("\nprofile: rxgateway raw and typed (zstd-stream) under py-spy and cProfile")
        try:
            tools = peers.ensure("tools", peers.TOOLS, say)
        except Exception as exc:  # noqa: BLE001
            self.failures.append(f"profile: py-spy unavailable: {exc}")
            tools = None
        self.profile_md = profiling.run(self, host, tools, self.plan["profile_events"])
        say(self.profile_md)

    def instructions_part(self) -> None:
        """Instructions per event of each path in INSTRUCTION_PATHS (hotpath.py under
        callgrind, two lengths differenced), zstd-stream and zlib-stream."""
        import hotpath

        if shutil.which("valgrind") is None:
            self.failures.append("instructions: valgrind is not installed")
            return
        events = self.plan["instruction_events"]
        seeds = hotpath.SEEDS[: self.plan["instruction_seeds"]]
        say(f"\ninstructions: the receive path replayed under callgrind ({events} and {5 * events} events, differenced;"
            f" the median over hash seeds {', '.join(map(str, seeds))})")
        for comp in ("zstd-stream", "zlib-stream"):
            for path in INSTRUCTION_PATHS:
                try:
                    per = hotpath.callgrind(path, comp, events, seeds)
                except (RuntimeError, OSError) as exc:
                    self.failures.append(f"instructions {path} {comp}: {exc}")
                    continue
                self.instructions.append({"path": path, "compression": comp, "instructions": round(per)})
                say(f"  {comp:11} {path:18} {per:8.0f} instructions/event")
        # An idle heartbeat, the whole client process counted (scale5k.py --callgrind):
        # 64 shards, which hikari holds under valgrind.
        clients = [c for c in ("rxgateway", "hikari") if self.client_ok(c)]
        say(f"\ninstructions: an idle heartbeat, whole process, 64 shards at 2 s ({', '.join(clients)})")
        for comp in ("zstd-stream", "zlib-stream"):
            out = self.out / f"idle-instructions-{comp}"
            args = ["--shards", "64", "--heartbeat-ms", "2000", "--trickle", "0", "--max-concurrency", "0",
                    "--idle", "10", "--clients", ",".join(clients), "--callgrind", "--compression", comp,
                    "--out", str(out)]  # fmt: skip
            if not self.scale5k("instructions", args):
                continue
            for r in json.loads((out / "scale5k.json").read_text())["callgrind"]:
                if r["reconnects"]:  # not idle: its Identifies and READYs are in the count
                    self.failures.append(f"instructions: {r['client']} {comp} reconnected {r['reconnects']} times "
                                         "under callgrind; its count is left out")  # fmt: skip
                    continue
                self.idle_instructions.append({"path": r["client"], "compression": comp, "reconnects": 0,
                                               "instructions": r["instructions_per_beat"]})  # fmt: skip

    # -- output --------------------------------------------------------------------------

    def tables(self) -> str:
        summ = report.summary(self.results)
        text, md = [], []
        for level in LEVELS:
            rows = report.level_rows(level, summ, LEVEL_CLIENTS[level])
            if not rows:
                continue
            n = self.plan["events"][level]
            title = f"{report.LEVEL_TITLES[level]}; {n:,} events, {self.plan['runs']} run(s)"
            text += [f"\n## {title}", report.text_table(rows)]
            md += [f"\n### {title}\n", report.md_table(rows)]
            typed_by = {s.get("typed_by") for (lv, _, c), s in summ.items() if lv == level and c.startswith("rxgateway")}
            if "driver" in typed_by:
                note = ("note: the shard emitted generic Dispatch objects; the rxgateway typed clients built "
                        "rxgateway.events.MessageCreate from each one in the subscriber")  # fmt: skip
                text.append(note)
                md.append(f"\n{note}.")
        targets = (
            report.throughput_targets(summ)
            + report.scale_targets(self.scale)
            + report.idle_instruction_targets(self.idle_instructions)
            + report.latency_targets(self.latency)
        )
        if self.latency:
            rows = report.latency_rows(self.latency)
            text += ["\n## latency (zstd-stream, perf_counter_ns at the subscriber - emu_sent_ns)",
                     report.text_table(rows, report.LATENCY_HEADER)]  # fmt: skip
            md += ["\n### Latency (zstd-stream)\n", report.md_table(rows, report.LATENCY_HEADER)]
        if self.scale:
            rows = report.scale_rows(self.scale)
            text += ["\n## scale (one process, heartbeat 2 s)", report.text_table(rows, report.SCALE_HEADER)]
            md += ["\n### Scale (one process, heartbeat every 2 s)\n", report.md_table(rows, report.SCALE_HEADER)]
        if self.instructions:
            rows = report.instruction_rows(self.instructions, INSTRUCTION_PATHS)
            title = "instructions per event (callgrind, the receive path replayed; aiohttp's frame parsing not included)"
            text += [f"\n## {title}", report.text_table(rows, report.INSTRUCTION_HEADER)]
            md += [f"\n### {title[0].upper()}{title[1:]}\n", report.md_table(rows, report.INSTRUCTION_HEADER)]
        if self.idle_instructions:
            rows = report.instruction_rows(self.idle_instructions, {"hikari": "hikari", "rxgateway": "hikari"})
            title = "instructions per idle heartbeat (callgrind, the whole client process, 64 shards at 2 s)"
            text += [f"\n## {title}", report.text_table(rows, report.IDLE_INSTRUCTION_HEADER)]
            md += [f"\n### {title[0].upper()}{title[1:]}\n", report.md_table(rows, report.IDLE_INSTRUCTION_HEADER)]
        if targets:
            rows = [list(t) for t in targets]
            text += ["\n## targets of the Performance issue", report.text_table(rows, report.TARGET_HEADER)]
            md += ["\n### Targets\n", report.md_table(rows, report.TARGET_HEADER)]
        if self.failures:
            text += ["\n## failures"] + [f"- {f}" for f in self.failures]
            md += ["\n### Failures\n"] + [f"- {f}" for f in self.failures]
        self.markdown = "\n".join(md)
        return "\n".join(text)

    def write(self) -> None:
        env = self.env
        head = [
            "# rxgateway benchmark results",
            "",
            f"- date: {env.get('date')}; command: `{env.get('command')}`",
            f"- machine: {env.get('cpu')} x{env.get('cpus')}, {env.get('platform')}; {env.get('pinning')}",
            f"- python {env.get('python')} (`-O` for every client); rxgateway {env.get('rxgateway_commit')}"
            + (" + uncommitted changes" if env.get("rxgateway_dirty") else ""),
            "- rxgateway venv: " + ", ".join(f"{k} {v}" for k, v in env.get("main_venv", {}).items())
            + ("" if "compiled_probe" not in env else f"; dispatch probe: {PROBES[env['compiled_probe']]}"),
            f"- {env.get('peers')}",
            "- emulator: rxgateway.emulator (zlib level 1, zstd level 1 with a 256 KiB window), one host process; "
            "every client reads the same 1,000-event pools (see benchmarks/README.md)",
            "- CPU µs/event = client process user+sys CPU / events on the wire, from the burst request to the Nth "
            "event; [low-high] = inter-quartile range (min-max under 4 runs); ev/s = median wall-clock rate",
        ]
        md = "\n".join(head) + "\n" + self.markdown + "\n"
        if self.profile_md:
            md += "\n### Profile\n\n" + self.profile_md + "\n"
        (self.out / "latest.md").write_text(md)
        (self.out / "latest.json").write_text(json.dumps(
            {"env": env, "plan": self.plan, "throughput": self.results, "latency": self.latency,
             "scale": self.scale, "instructions": self.instructions, "idle_instructions": self.idle_instructions,
             "failures": self.failures}, indent=1))  # fmt: skip
        say(f"\nwritten: {self.out}/latest.md, latest.json; driver logs in {self.log}")

    def render(self, path: Path) -> int:
        """Print the tables and rewrite latest.md from a saved latest.json (no runs)."""
        data = json.loads(path.read_text())
        self.env, self.plan = data["env"], data["plan"]
        self.env.setdefault("command", "python3 dev.py bench")
        self.results, self.latency, self.scale = data["throughput"], data["latency"], data["scale"]
        self.instructions = data.get("instructions", [])
        self.idle_instructions = data.get("idle_instructions", [])
        self.failures = data["failures"]
        profile = path.parent / "profile.md"
        self.profile_md = profile.read_text().strip() if profile.exists() else ""
        self.command = self.env.get("command", "")
        say(self.tables())
        self.write()
        return 0

    def run(self) -> int:
        started = time.perf_counter()
        self.setup()
        needs_host = any(p in self.parts for p in (*LEVELS, "latency", "profile"))
        if needs_host:
            host = Host(self.pin, [], self.out / "logs" / "host.log")
            say(f"emulator host: {host.url} (pool sizes, bytes per event: {host.pool_bytes})")
            try:
                if any(lv in self.parts for lv in LEVELS):
                    self.throughput(host)
                if "latency" in self.parts:
                    self.latency_part(host)
                if "profile" in self.parts:
                    self.profile_part(host)
            finally:
                host.stop()
        if "scale" in self.parts:
            self.scale_part()
        if "many" in self.parts:
            self.many_part()
        if "instructions" in self.parts:
            self.instructions_part()
        say(self.tables())
        self.write()
        say(f"total {time.perf_counter() - started:.0f} s")
        return 0


def _busy_jiffies() -> tuple[float, float | None, float] | None:
    """(busy, steal, time): the machine's busy CPU jiffies from /proc/stat, its steal
    jiffies (CPU the hypervisor gave to other guests; None where not reported) and the
    time now, or None."""
    try:
        with open("/proc/stat") as stat:
            fields = [float(x) for x in stat.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return sum(fields) - idle, fields[7] if len(fields) > 7 else None, time.monotonic()


def _machine_cores(before: tuple[float, float | None, float]) -> tuple[float, float | None]:
    """(busy, steal) cores of the machine since ``before`` (from :func:`_busy_jiffies`)."""
    now = _busy_jiffies()
    if now is None or now[2] <= before[2]:
        return 0.0, None
    ticks_per_s = os.sysconf("SC_CLK_TCK") * (now[2] - before[2])
    steal = (now[1] - before[1]) / ticks_per_s if now[1] is not None and before[1] is not None else None
    return (now[0] - before[0]) / ticks_per_s, steal


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    except OSError:
        return "?"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


#: How the results name the dispatch probe the drivers used.
PROBES = {True: "compiled (rxgateway.protocol._cprobe)", False: "pure Python (no compiled module, or RXGATEWAY_NO_EXTENSIONS)"}


def _compiled_probe(snapshot: Path) -> bool:
    """Whether the drivers, importing ``snapshot``, read dispatches with the compiled
    probe (``RXGATEWAY_NO_EXTENSIONS`` and a build without a compiler make it pure)."""
    code = "from rxgateway.protocol.envelope import compiled_probe_dispatch as c; print(c is not None)"
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(snapshot)},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return done.stdout.strip() == "True"


def _main_versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {}
    for name in ("aiohttp", "orjson", "zstandard", "reactivex"):
        try:
            out[name] = version(name)
        except Exception:  # noqa: BLE001
            out[name] = "?"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few events, one run, small shard counts, no profile")
    parser.add_argument("--only", metavar="PARTS", help=f"comma-separated parts: {', '.join(ALL_PARTS)}")
    parser.add_argument("--runs", type=int, help="runs per client, level and compression (default 5; quick 1)")
    parser.add_argument("--events", type=int, help="events per run at every level (default 100k raw/filtered, 50k typed)")
    parser.add_argument("--no-peers", action="store_true", help="skip hikari and discord.py")
    parser.add_argument("--clients", help="comma-separated client names to keep (default: all)")
    parser.add_argument("--out", help="directory for latest.md, latest.json and logs (default benchmarks/results)")
    parser.add_argument("--render", metavar="JSON", help="no runs: print the tables of a saved latest.json again")
    args = parser.parse_args(argv)
    suite = Suite(args)
    if args.render:
        return suite.render(Path(args.render))
    return suite.run()


if __name__ == "__main__":
    sys.exit(main())
