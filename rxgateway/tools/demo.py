"""``rxgateway demo``: shards on the embedded emulator, with faults, watched live.

It starts the emulator on a free loopback port, creates the recommended shards from
its ``GET /gateway/bot``, streams mixed traffic, injects a reconnect request, a
dropped connection and a zombie, and shows every shard resuming without losing an
event. At the end it prints a summary and checks it: sequence gaps 0, duplicates 0,
rule violations 0.

Example::

    summary = await run_demo(shards=4, seconds=15, rate=400)
    assert summary.gaps == 0
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

from reactivex import abc

from ..audit import SequenceAudit
from ..config import Config
from ..emulator import DEFAULT_MIX, DEFAULT_TOKEN, Fault, GatewayEmulator
from ..events.base import Dispatch, Event
from ..group import ShardGroup, create_recommended
from ..machine.state import ShardState
from ..protocol import EventTypeFlags, Intents
from ..queue import InMemoryQueue
from ..record import Recorder
from ..shard import Shard

#: The demo's emulator lets each identify bucket go every second (Discord: 5 s) so a
#: demo of many shards starts quickly; the queue is told the same.
DEMO_IDENTIFY_WINDOW = 1.0
#: Heartbeats every 2 s: latency shows up within the first seconds.
DEMO_HEARTBEAT_MS = 2000
#: Identifies per window the demo's emulator allows.
DEMO_MAX_CONCURRENCY = 4
#: How often the screen refreshes, per second.
REFRESH_PER_SECOND = 4
#: The faults injected, at these fractions of the run, into these shards (modulo count).
FAULT_PLAN: tuple[tuple[float, str, Fault, int], ...] = (
    (0.25, "reconnect request (op 7)", Fault.reconnect(), 0),
    (0.45, "dropped connection", Fault.drop(), 1),
    (0.60, "zombie (no heartbeat ACKs)", Fault.zombie(), 2),
)


@dataclass
class ShardView:
    """What the dashboard shows of one shard."""

    state: str = "Disconnected(0)"
    latency_ms: float | None = None
    events: int = 0
    rate: float = 0.0
    resumes: int = 0
    last_count: int = 0


@dataclass
class DemoSummary:
    """The figures a demo run ends with."""

    seconds: float
    shards: int
    events: int
    by_type: dict[str, int]
    resumes: int
    reconnects: int
    gaps: int
    duplicates: int
    violations: int
    faults: list[str] = field(default_factory=list)
    all_active: bool = False

    def lines(self) -> list[str]:
        """The summary as plain text lines."""
        top = ", ".join(f"{name} {count}" for name, count in sorted(self.by_type.items(), key=lambda kv: -kv[1])[:8])
        return [
            f"demo finished after {self.seconds:.1f} s with {self.shards} shards",
            f"events: {self.events} ({top})",
            f"faults injected: {', '.join(self.faults) or 'none'}",
            f"resumes: {self.resumes}, reconnections: {self.reconnects}",
            f"sequence gaps: {self.gaps}, duplicates: {self.duplicates}, rule violations: {self.violations}",
            "result: OK" if self.ok else "result: FAILED",
        ]

    @property
    def ok(self) -> bool:
        """No gap, no duplicate, no violation, and every shard ended active."""
        return self.gaps == 0 and self.duplicates == 0 and self.violations == 0 and self.all_active


class Dashboard(abc.ObserverBase[Event]):
    """Collects what the shards do and renders it (rich when available, else text)."""

    def __init__(self, group: ShardGroup, emulator: GatewayEmulator) -> None:
        self.group = group
        self.emulator = emulator
        self.views = {s.id.number: ShardView() for s in group}
        self.by_type: Counter[str] = Counter()
        self.audit = SequenceAudit()
        self.faults: list[str] = []
        self.started = time.monotonic()
        self._last_tick = self.started
        group.subscribe_flags(self, EventTypeFlags.all())

    # observer of every event of the group
    def on_next(self, event: Event) -> None:
        view = self.views[event.shard.number]
        if isinstance(event, Dispatch):
            view.events += 1
            self.by_type[event.name] += 1
            self.audit.observe(event)
            if event.name == "RESUMED":
                view.resumes += 1

    def on_error(self, error: Exception) -> None:
        self.faults.append(f"error: {error}")

    def on_completed(self) -> None:
        pass

    def tick(self) -> None:
        """Refresh per-shard state, latency and rates."""
        now = time.monotonic()
        elapsed = max(now - self._last_tick, 1e-6)
        self._last_tick = now
        for shard in self.group:
            view = self.views[shard.id.number]
            view.state = str(shard.state)
            average = shard.latency.recent
            view.latency_ms = average[0] * 1000 if average else view.latency_ms
            view.rate = (view.events - view.last_count) / elapsed
            view.last_count = view.events

    def queue_line(self) -> str:
        """The identify queue while shards start."""
        queue = self.group.shard(0).config.queue
        waiting = getattr(queue, "waiting", None)
        identifying = sum(1 for s in self.group if s.state == ShardState.IDENTIFYING)
        active = sum(1 for s in self.group if s.state == ShardState.ACTIVE)
        extra = f", {waiting} waiting for a permit" if waiting is not None else ""
        return f"identify queue: {active}/{len(self.views)} active, {identifying} identifying{extra}"

    def text_line(self) -> str:
        """One plain progress line (for a non-terminal stdout)."""
        elapsed = time.monotonic() - self.started
        parts = [
            f"{n}:{v.state}/{v.events}ev/{'-' if v.latency_ms is None else f'{v.latency_ms:.0f}ms'}"
            for n, v in sorted(self.views.items())
        ]
        return f"[{elapsed:5.1f}s] events {sum(self.by_type.values())} | " + " ".join(parts)

    def renderable(self) -> Any:
        """The rich renderable of the dashboard."""
        from rich.console import Group
        from rich.table import Table

        shards = Table(title="rxgateway demo: shards on the local gateway emulator", expand=False)
        for column in ("shard", "state", "latency", "events", "events/s", "resumes"):
            shards.add_column(column, justify="right" if column not in ("state",) else "left")
        for number, view in sorted(self.views.items()):
            style = "green" if view.state == "Active" else "yellow"
            shards.add_row(
                str(number),
                f"[{style}]{view.state}[/]",
                "-" if view.latency_ms is None else f"{view.latency_ms:.1f} ms",
                str(view.events),
                f"{view.rate:.0f}",
                str(view.resumes),
            )
        types = Table(title="events by type", expand=False)
        types.add_column("type")
        types.add_column("count", justify="right")
        for name, count in self.by_type.most_common(10):
            types.add_row(name, str(count))
        lines = [self.queue_line(), f"sequence gaps: {self.audit.gaps}   duplicates: {self.audit.duplicates}"]
        if self.faults:
            lines.append("faults: " + "; ".join(self.faults))
        return Group(shards, types, *lines)


async def run_demo(
    *,
    shards: int = 4,
    seconds: float = 20.0,
    rate: float = 500.0,
    compression: str | None = "zstd-stream",
    mix: str = DEFAULT_MIX,
    out: TextIO | None = None,
    console: Any = None,
    live: bool | None = None,
    record: str | os.PathLike[str] | None = None,
) -> DemoSummary:
    """Run the demo and return its summary.

    ``console`` is a ``rich.console.Console`` (tests pass a recording one); ``live``
    forces the live dashboard on or off (default: on when ``out`` is a terminal and
    rich is installed). ``record`` names a file to record every payload the shards
    receive to (:mod:`rxgateway.record`), complete when this returns.
    """
    out = out or sys.stdout
    if console is None and live is not False:
        try:
            from rich.console import Console
        except ImportError:
            live = False
        else:
            console = Console(file=out)
    if live is None:
        live = console is not None and console.is_terminal
    async with GatewayEmulator(
        shards=shards,
        max_concurrency=DEMO_MAX_CONCURRENCY,
        identify_window_s=DEMO_IDENTIFY_WINDOW,
        heartbeat_interval_ms=DEMO_HEARTBEAT_MS,
        guilds=max(8, shards * 4),
        reconnect_close_delay_s=1.0,
    ) as emu:
        config = Config(
            DEFAULT_TOKEN,
            Intents.all(),
            gateway_url=emu.url,
            api_url=emu.api_url,
            compression=compression,
            queue=InMemoryQueue(identify_interval=DEMO_IDENTIFY_WINDOW),
        )
        group = await create_recommended(config)
        board = Dashboard(group, emu)
        recorder = None
        if record is not None:
            meta = {"command": "demo", "shards": len(group), "compression": compression, "intents": int(Intents.all())}
            recorder = Recorder(record, meta=meta)
            recorder.attach(group)
        async with group:
            await _run(group, emu, board, seconds, rate, mix, out, console, bool(live))
            all_active = all(s.state == ShardState.ACTIVE for s in group)
        board.tick()
        summary = DemoSummary(
            seconds=time.monotonic() - board.started,
            shards=len(group),
            events=sum(board.by_type.values()),
            by_type=dict(board.by_type),
            resumes=sum(v.resumes for v in board.views.values()),
            reconnects=sum(s.stats["connections"] for s in group) - len(group),
            gaps=board.audit.gaps,
            duplicates=board.audit.duplicates,
            violations=len(emu.violations),
            faults=board.faults,
            all_active=all_active,
        )
    if console is not None and live:
        console.print(board.renderable())
    for line in summary.lines():
        print(line, file=out, flush=True)
    if recorder is not None:
        await recorder.aclose()  # closed already when the shards ended: this waits for it
        print(f"recorded {recorder.frames} payloads to {recorder.path}", file=out, flush=True)
    return summary


async def _run(
    group: ShardGroup,
    emu: GatewayEmulator,
    board: Dashboard,
    seconds: float,
    rate: float,
    mix: str,
    out: TextIO,
    console: Any,
    live: bool,
) -> None:
    traffic_started = False
    plan = list(FAULT_PLAN)
    #: Shards a fault hit, and how many connections each had opened by then.
    faulted: dict[Shard, int] = {}
    start = time.monotonic()
    display: Any = None
    if live:
        from rich.live import Live

        display = Live(board.renderable(), console=console, refresh_per_second=REFRESH_PER_SECOND, transient=False)
        display.start()
    try:
        next_line = 0.0
        while (elapsed := time.monotonic() - start) < seconds:
            if not traffic_started and all(s.state == ShardState.ACTIVE for s in group):
                emu.start_traffic(rate, mix)
                traffic_started = True
            while plan and elapsed >= plan[0][0] * seconds:
                _, label, fault, target = plan.pop(0)
                number = target % len(group)
                shard = group.shard(number)
                if emu.inject(fault, shard=number):
                    faulted[shard] = shard.stats["connections"]
                board.faults.append(f"{label} on shard {number}")
            board.tick()
            if display is not None:
                display.update(board.renderable())
            elif elapsed >= next_line:
                print(board.text_line(), file=out, flush=True)
                next_line = elapsed + 1.0
            await asyncio.sleep(1 / REFRESH_PER_SECOND)
        emu.stop_traffic()
        # Let every faulted shard notice its fault (a zombie takes up to two heartbeat
        # intervals), every shard finish resuming, and what is in flight arrive.
        await _settle(group, faulted)
    finally:
        if display is not None:
            display.update(board.renderable())
            display.stop()


async def _settle(group: ShardGroup, faulted: dict[Shard, int], timeout: float = 15.0) -> None:
    async def all_active() -> None:
        while not (
            all(s.state == ShardState.ACTIVE for s in group)
            and all(s.stats["connections"] > before for s, before in faulted.items())
        ):
            await asyncio.sleep(0.1)

    try:
        await asyncio.wait_for(all_active(), timeout)
    except asyncio.TimeoutError:
        pass
    await asyncio.sleep(0.5)
