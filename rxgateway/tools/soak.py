"""The chaos soak: 16 shards under steady traffic while the emulator injects random
faults, then a check that nothing was lost, repeated, or done against the rules.

Run it with ``python3 dev.py soak --seconds 1800`` (or ``python -m rxgateway.tools.soak``).
A CI-sized run (about a minute) is part of the test suite.

How the check works. :class:`~rxgateway.audit.SequenceAudit` counts, per shard and
session, sequence numbers skipped or repeated as delivered to a subscriber. A READY
starts a new count: after op 9 d=false the old session's undelivered events are gone
by Discord's design. At the end, with traffic stopped and every shard Active, each
shard's last delivered sequence must equal the last sequence the emulator assigned
to that session, so no event at the tail is missing either.

Example::

    report = await run_soak(seconds=60, seed=7)
    assert report.ok, report.failures()
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
from reactivex import abc

from ..audit import SequenceAudit
from ..config import Config
from ..emulator import DEFAULT_TOKEN, Fault, GatewayEmulator, ViolationKind
from ..emulator.settings import HEARTBEAT_TIMEOUT_FACTOR
from ..events.base import Event, ShardStateChanged
from ..group import ShardGroup, create_recommended
from ..machine.state import ShardState, StateKind
from ..protocol import EventTypeFlags, Intents, ShardId
from ..queue import InMemoryQueue

#: The issue's shape: 16 shards, identify concurrency 4.
SOAK_SHARDS = 16
SOAK_MAX_CONCURRENCY = 4
#: Heartbeats every 1 s so zombies are found quickly.
SOAK_HEARTBEAT_MS = 1000
#: Traffic, events per second across all shards.
SOAK_RATE = 400.0
#: A fault every 0.3–1.5 s, at a random shard.
FAULT_GAP_S = (0.3, 1.5)
#: Every fault the emulator has, with the resumable close codes spelled out.
FAULT_KINDS: dict[str, Fault] = {
    "drop": Fault.drop(),
    "zombie": Fault.zombie(),
    "reconnect": Fault.reconnect(),
    "invalid_session_true": Fault.invalid_session(resumable=True),
    "invalid_session_false": Fault.invalid_session(resumable=False),
    "close_4000": Fault.close(4000),
    "close_4001": Fault.close(4001),
    "close_4002": Fault.close(4002),
    "close_4003": Fault.close(4003),
    "close_4005": Fault.close(4005),
    "close_4007": Fault.close(4007),
    "close_4008": Fault.close(4008),
    "close_4009": Fault.close(4009),
    "corrupt_frame": Fault.corrupt_frame(),
    "invalid_json": Fault.invalid_json(),
    "request_heartbeat": Fault.request_heartbeat(),
    "slow_link": Fault.slow_link(),
}
#: Faults the shard absorbs on the same connection.
IN_PLACE = frozenset({"request_heartbeat", "slow_link"})
#: How long the end of the run may take to settle (all Active, traffic drained).
SETTLE_S = 30.0


@dataclass
class SoakReport:
    """What a soak run measured and whether it passed."""

    seconds: float
    shards: int
    events: int
    faults: dict[str, int]
    gaps: int
    duplicates: int
    tail_missing: int
    sessions: int
    identifies: int
    resumes: int
    violations: list[str]
    rate_limited_closes: int
    identify_violations: int
    tasks_left: int
    rss_start_kib: int
    rss_end_kib: int
    recovery: dict[str, tuple[float, float, int]] = field(default_factory=dict)
    all_active: bool = False

    def failures(self) -> list[str]:
        """The checks that failed (empty when the run passed)."""
        problems = []
        if self.gaps:
            problems.append(f"{self.gaps} dispatches lost (gaps)")
        if self.duplicates:
            problems.append(f"{self.duplicates} dispatches repeated")
        if self.tail_missing:
            problems.append(f"{self.tail_missing} dispatches missing at the end of a session")
        if self.identify_violations:
            problems.append(f"{self.identify_violations} identify-bucket violations")
        if self.rate_limited_closes:
            problems.append(f"{self.rate_limited_closes} 4008 closes caused by the client")
        if self.violations:
            problems.append(f"rule violations: {self.violations[:5]}")
        if self.tasks_left:
            problems.append(f"{self.tasks_left} tasks left after close")
        if not self.all_active:
            problems.append("not every shard was Active at the end")
        return problems

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.failures()

    def lines(self) -> list[str]:
        """The report as text."""
        out = [
            f"soak: {self.seconds:.0f} s, {self.shards} shards, {self.events} dispatches delivered",
            f"faults injected: {sum(self.faults.values())} "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())),
            f"lost {self.gaps}, duplicated {self.duplicates}, missing at session ends {self.tail_missing}",
            f"sessions {self.sessions}; identifies {self.identifies} vs resumes {self.resumes}",
            f"identify-bucket violations {self.identify_violations}; 4008 closes {self.rate_limited_closes}; "
            f"other violations {len(self.violations)}",
            f"tasks left after close {self.tasks_left}",
            f"RSS {self.rss_start_kib} KiB -> {self.rss_end_kib} KiB ({self.rss_end_kib - self.rss_start_kib:+d} KiB)",
            "time to recover (median / max / count):",
        ]
        for kind, (median, worst, count) in sorted(self.recovery.items()):
            out.append(f"  {kind:24s} {median * 1000:7.0f} ms {worst * 1000:7.0f} ms  x{count}")
        out.append("result: OK" if self.ok else "result: FAILED: " + "; ".join(self.failures()))
        return out


class _Recovery(abc.ObserverBase[Event]):
    """Times from a fault's injection to its shard being Active again."""

    def __init__(self) -> None:
        self.pending: dict[int, tuple[str, float]] = {}
        self.left_active: set[int] = set()
        self.times: dict[str, list[float]] = defaultdict(list)

    def fault(self, shard: int, kind: str) -> None:
        if shard not in self.pending:
            self.pending[shard] = (kind, time.monotonic())
            self.left_active.discard(shard)

    def on_next(self, value: Event) -> None:
        if not isinstance(value, ShardStateChanged):
            return
        number = value.shard.number
        if number not in self.pending:
            return
        if value.new.kind is not StateKind.ACTIVE:
            self.left_active.add(number)
        elif number in self.left_active:
            kind, started = self.pending.pop(number)
            self.left_active.discard(number)
            self.times[kind].append(time.monotonic() - started)

    def on_error(self, error: Exception) -> None:
        pass

    def on_completed(self) -> None:
        pass


def _rss_kib() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() // 1024
    except OSError:  # pragma: no cover - not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def run_soak(
    *,
    seconds: float = 60.0,
    seed: int = 1,
    shards: int = SOAK_SHARDS,
    rate: float = SOAK_RATE,
    identify_window: float = 1.0,
    late_heartbeat_factor: float = HEARTBEAT_TIMEOUT_FACTOR,
    log: Any = None,
) -> SoakReport:
    """Run the soak and return its report. ``identify_window`` shrinks Discord's 5 s
    (emulator and queue alike) so a short run spends its time on faults.
    ``late_heartbeat_factor``: the emulator counts a heartbeat as missed after this
    many intervals (1.5 by default, as the emulator does); a shared CI machine whose
    event loop stalls needs more."""
    rng = random.Random(seed)
    before = set(asyncio.all_tasks())
    async with GatewayEmulator(
        shards=shards,
        max_concurrency=SOAK_MAX_CONCURRENCY,
        identify_window_s=identify_window,
        heartbeat_interval_ms=SOAK_HEARTBEAT_MS,
        heartbeat_timeout_factor=late_heartbeat_factor,
        reconnect_close_delay_s=0.5,
        invalid_session_close_delay_s=0.5,
        guilds=shards * 4,
        seed=seed,
    ) as emu:
        queue = InMemoryQueue(identify_interval=identify_window)
        config = Config(DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url, api_url=emu.api_url, queue=queue)

        def per_shard(shard_id: ShardId, base: Config) -> Config:
            # Half the shards on zlib-stream (slow links split its messages), half zstd.
            return base.replace(compression="zlib-stream" if shard_id.number % 2 == 0 else "zstd-stream")

        group = await create_recommended(config, per_shard)
        audit = SequenceAudit()
        recovery = _Recovery()
        group.subscribe_flags(audit, EventTypeFlags.DISPATCHES)
        group.subscribe_flags(recovery, EventTypeFlags.SHARD_STATE_CHANGED)
        injected: dict[str, int] = defaultdict(int)
        started = time.monotonic()
        async with group:
            await group.ready(timeout=60)
            rss_start = _rss_kib()
            emu.start_traffic(rate)
            names = sorted(FAULT_KINDS)
            next_report = 10.0
            while (elapsed := time.monotonic() - started) < seconds:
                await asyncio.sleep(rng.uniform(*FAULT_GAP_S))
                kind = rng.choice(names)
                number = rng.randrange(len(group))
                if kind == "slow_link" and number % 2:
                    number -= 1  # zlib shards only
                if emu.inject(FAULT_KINDS[kind], shard=number):
                    injected[kind] += 1
                    if kind not in IN_PLACE:
                        recovery.fault(number, kind)
                if log is not None and elapsed >= next_report:
                    print(f"[{elapsed:6.0f}s] {audit.delivered} dispatches, {sum(injected.values())} faults", file=log, flush=True)
                    next_report += 10.0
            emu.stop_traffic()
            all_active = await _settle(group)
            tail_missing = _tail_missing(group, emu, audit)
            rss_end = _rss_kib()
        duration = time.monotonic() - started
        records = emu.record.connections
        violations = emu.violations
    await asyncio.sleep(0)
    left = [t for t in asyncio.all_tasks() - before if not t.done()]
    return SoakReport(
        seconds=duration,
        shards=len(group),
        events=audit.delivered,
        faults=dict(injected),
        gaps=audit.gaps,
        duplicates=audit.duplicates,
        tail_missing=tail_missing,
        sessions=audit.sessions,
        identifies=sum(1 for c in records for i in c.identifies if i.accepted),
        resumes=sum(1 for c in records for r in c.resumes if r.accepted),
        violations=[f"{v.kind.value}: {v.detail}" for v in violations],
        rate_limited_closes=sum(1 for v in violations if v.kind is ViolationKind.RATE_LIMITED),
        identify_violations=sum(1 for v in violations if v.kind is ViolationKind.IDENTIFY_CONCURRENCY),
        tasks_left=len(left),
        rss_start_kib=rss_start,
        rss_end_kib=rss_end,
        recovery={
            kind: (statistics.median(times), max(times), len(times)) for kind, times in recovery.times.items()
        },
        all_active=all_active,
    )


async def _settle(group: ShardGroup) -> bool:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        if all(s.state == ShardState.ACTIVE for s in group):
            await asyncio.sleep(1.0)  # let in-flight frames arrive
            if all(s.state == ShardState.ACTIVE for s in group):
                return True
        await asyncio.sleep(0.1)
    return False


def _tail_missing(group: ShardGroup, emu: GatewayEmulator, audit: SequenceAudit) -> int:
    """Events the emulator numbered for each shard's final session but that the shard
    did not deliver (after the last one it did)."""
    assigned = {s.id: s.seq for s in emu.state.sessions}
    missing = 0
    for shard in group:
        session = shard.session
        if session is None or session.id not in assigned:
            continue
        missing += max(0, assigned[session.id] - session.sequence)
    return missing


def main(argv: list[str] | None = None) -> int:
    """``python -m rxgateway.tools.soak``: run, print the report, exit 1 on failure."""
    parser = argparse.ArgumentParser(prog="rxgateway-soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the run (default 60)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fault schedule (default 1)")
    parser.add_argument("--rate", type=float, default=SOAK_RATE, help=f"events per second (default {SOAK_RATE:.0f})")
    parser.add_argument(
        "--identify-window", type=float, default=1.0, help="identify window in seconds (Discord: 5; default 1)"
    )
    parser.add_argument("--json", help="also write the report as JSON to this file")
    args = parser.parse_args(argv)
    report = asyncio.run(
        run_soak(seconds=args.seconds, seed=args.seed, rate=args.rate, identify_window=args.identify_window, log=sys.stdout)
    )
    for line in report.lines():
        print(line)
    if args.json:
        with open(args.json, "wb") as out:
            out.write(orjson.dumps(report.__dict__, option=orjson.OPT_INDENT_2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
