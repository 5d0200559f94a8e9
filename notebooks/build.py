"""Build the notebooks of this folder from the cells written below.

    python notebooks/build.py            # (re)write every .ipynb, outputs cleared
    python notebooks/build.py --check    # exit 1 if a notebook differs from this file

The notebooks are generated so that a review reads plain Python here rather than
JSON, and so that they are committed without outputs. Cell ids are stable
(``<notebook>-<index>``), so building twice gives the same bytes. A cell's tags
(``display-shard``, ``checks`` ...) let ``tests/test_notebooks.py`` find its outputs.

Every notebook runs against the gateway emulator in the kernel's own process and
event loop (top-level ``await``), takes seconds, and ends with a cell of ``assert``s.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


@dataclass
class Cell:
    kind: str  # "md" or "code"
    source: str
    tags: list[str] = field(default_factory=list)


def md(source: str) -> Cell:
    return Cell("md", textwrap.dedent(source).strip())


def code(source: str, *tags: str) -> Cell:
    return Cell("code", textwrap.dedent(source).strip(), list(tags))


# -----------------------------------------------------------------------------------
# 01 · Getting started
# -----------------------------------------------------------------------------------

GETTING_STARTED = [
    md(
        """
        # 01 · Getting started

        One shard, connected to the gateway emulator that ships with rxgateway, on
        loopback. Everything runs on this notebook's event loop: cells use top-level
        `await`, and the shard goes on heartbeating between cells.
        """
    ),
    code(
        """
        import asyncio

        from rxgateway import Config, EventTypeFlags, InMemoryQueue, Intents, Shard, ShardId, ops
        from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
        from rxgateway.events import GuildCreate, MessageCreate

        # A gateway on a free loopback port: 3 guilds, a heartbeat every 500 ms, and an
        # identify window of 0.2 s (Discord's is 5 s).
        emu = GatewayEmulator(guilds=3, heartbeat_interval_ms=500, identify_window_s=0.2)
        await emu.start()
        print("gateway", emu.url, "| REST", emu.api_url)
        """
    ),
    md(
        """
        ## A shard is an Observable

        `Shard(id, config)` connects nothing yet. Subscribers say what they want:
        `ops.on(flags)` and `ops.of_type(cls)` push the event types they keep down to
        the shard, which never parses a frame of another type.
        """
    ),
    code(
        """
        config = Config(
            DEFAULT_TOKEN,
            Intents.GUILDS | Intents.GUILD_MESSAGES | Intents.MESSAGE_CONTENT,
            gateway_url=emu.url,
            queue=InMemoryQueue(identify_interval=0.2),  # the emulator's identify window
        )
        shard = Shard(ShardId(0, 1), config)

        guilds = []    # guild names, from typed GuildCreate events
        contents = []  # what people said
        shard.pipe(ops.of_type(GuildCreate)).subscribe(lambda g: guilds.append(g.guild_name))
        shard.pipe(
            ops.on(EventTypeFlags.MESSAGE_CREATE),
            ops.map(lambda m: m.content),
        ).subscribe(contents.append)

        wanted = shard.demand   # the union of what its subscribers asked for
        print("this shard parses:", wanted.name)
        shard
        """
    ),
    md(
        """
        ## Connect

        `start()` returns at once; `ready()` waits until the shard is Active (READY
        received). Displayed, a shard is a table of its state.
        """
    ),
    code(
        """
        await shard.start()
        await shard.ready(timeout=10)
        display(shard)
        """,
        "display-shard",
    ),
    code(
        """
        await emu.wait_for(lambda: len(guilds) == 3, timeout=5)
        guilds
        """
    ),
    md(
        """
        ## Say something in the emulated world

        The emulator holds a world of guilds, channels and members. `emu.dispatch`
        routes an event to the shard that owns its guild, as Discord does.
        """
    ),
    code(
        """
        world = emu.state.world
        guild = world.guilds[0]
        author = world.members(guild)[0]


        def message(n, content):
            \"\"\"A MESSAGE_CREATE payload: a member of the guild says ``content``.\"\"\"
            return {
                "id": str(1_300_000_000_000_000_000 + n),
                "channel_id": str(guild.text_channels[0].id),
                "guild_id": str(guild.id),
                "author": {"id": str(author.id), "username": author.username, "discriminator": "0"},
                "content": content,
                "timestamp": "2025-07-01T12:00:00.000000+00:00",
                "edited_timestamp": None,
                "tts": False,
                "mention_everyone": False,
                "mentions": [],
                "mention_roles": [],
                "attachments": [],
                "embeds": [],
                "pinned": False,
                "type": 0,
            }


        for n, text in enumerate(["hello", "!ping", "bye"]):
            emu.dispatch("MESSAGE_CREATE", message(n, text))
        await emu.wait_for(lambda: len(contents) == 3, timeout=5)
        contents
        """
    ),
    md(
        """
        ## Or pull, with `async for`

        `shard.events(flags)` is an async iterator over the same events, subscribed
        when it is made; `shard.next_event(flags)` takes one.
        """
    ),
    code(
        """
        ack = await shard.next_event(EventTypeFlags.GATEWAY_HEARTBEAT_ACK, timeout=5)
        print(ack, shard.latency)

        async with shard.events(EventTypeFlags.MESSAGE_CREATE) as stream:
            emu.dispatch("MESSAGE_CREATE", message(10, "one more"))
            async for event in stream:
                print(event.author.username, "said", repr(event.content))
                break
        """
    ),
    md(
        """
        ## Close

        `CloseFrame.NORMAL` (the default) ends the session; subscribers get
        `on_completed`.
        """
    ),
    code(
        """
        shard.close()
        await shard.closed()
        display(shard)
        await emu.stop()
        """
    ),
    code(
        """
        assert wanted == EventTypeFlags.GUILD_CREATE | EventTypeFlags.MESSAGE_CREATE
        assert sorted(guilds) == sorted(g.name for g in world.guilds)
        assert contents == ["hello", "!ping", "bye", "one more"]
        assert str(shard.state) == "Closed"
        assert emu.record.connections[0].close_received == 1000
        assert emu.violations == []
        print("checks passed")
        """,
        "checks",
    ),
]


# -----------------------------------------------------------------------------------
# 02 · Operators and routing
# -----------------------------------------------------------------------------------

OPERATORS = [
    md(
        """
        # 02 · Operators and routing

        The gateway operators on hand-made events, drawn as marble diagrams. A
        diagram is one line per stream, one column per tick of virtual time:
        `-` nothing, a letter an event, `|` completion, `#` an error, and
        `(a|)` several things in one tick (the group takes one tick, though it is
        wider than one character).

        The sources are `reactivex.cold(...)` marble strings on a `TestScheduler`, so
        every diagram is exact and the same on every run. `spawn`, which runs
        asyncio tasks, is drawn from real time at the end.
        """
    ),
    code(
        """
        import asyncio

        import reactivex
        from reactivex import abc
        from reactivex.subject import Subject
        from reactivex.testing import TestScheduler

        from rxgateway import EventTypeFlags, ShardId, ops
        from rxgateway.events import GuildCreate, MessageCreate, TypingStart
        from rxgateway.protocol import EventType


        class Tape(abc.ObserverBase):
            \"\"\"Records what a stream emits as ``(time, symbol)`` marks, the time read
            from ``clock()``: a TestScheduler's virtual clock, or the event loop's.\"\"\"

            def __init__(self, clock, label=str):
                self.clock, self.label, self.marks = clock, label, []

            def on_next(self, value):
                self.marks.append((self.clock(), self.label(value)))

            def on_error(self, error):
                self.marks.append((self.clock(), "#"))

            def on_completed(self):
                self.marks.append((self.clock(), "|"))


        def marble(marks, tick=1.0):
            \"\"\"``[(time, symbol)]`` as a marble string, one column per ``tick``.\"\"\"
            slots = {}
            for time, symbol in marks:
                slots.setdefault(round(time / tick), []).append(symbol)
            cells = []
            for column in range(max(slots, default=-1) + 1):
                symbols = slots.get(column, [])
                cells.append("-" if not symbols else symbols[0] if len(symbols) == 1 else f"({''.join(symbols)})")
            return "".join(cells)


        def diagram(*rows, tick=1.0):
            \"\"\"Print ``(name, tape)`` rows under each other; returns the marble strings.\"\"\"
            width = max(len(name) for name, _ in rows)
            lines = {name: marble(tape.marks, tick) for name, tape in rows}
            for name, line in lines.items():
                print(f"{name:>{width}}  {line}")
            return lines
        """
    ),
    md(
        """
        Events for the diagrams: `g` a guild becomes available, `m` a message, `p` the
        message `!ping`, `t` someone typing. Shard 0 of 2 unless said otherwise.
        """
    ),
    code(
        """
        S0, S1 = ShardId(0, 2), ShardId(1, 2)
        GUILD_A, GUILD_B = 81_000_000_000_000_000, 82_000_000_000_000_000


        def message(content, shard=S0, guild=GUILD_A, seq=0):
            author = {"id": "1", "username": "alice", "discriminator": "0"}
            d = {"id": str(seq + 1000), "channel_id": "7", "guild_id": str(guild), "author": author, "content": content}
            return MessageCreate(shard, seq, "MESSAGE_CREATE", d, EventType.MESSAGE_CREATE)


        EVENTS = {
            "g": GuildCreate(S0, 1, "GUILD_CREATE", {"id": str(GUILD_A), "name": "A"}, EventType.GUILD_CREATE),
            "m": message("hello", seq=2),
            "p": message("!ping", seq=3),
            "t": TypingStart(S0, 4, "TYPING_START", {"channel_id": "7", "guild_id": str(GUILD_B), "user_id": "1"},
                             EventType.TYPING_START),
            "n": message("news", guild=GUILD_B, seq=5),
        }
        LETTERS = {id(event): symbol for symbol, event in EVENTS.items()}


        def letter(event):
            \"\"\"The marble symbol of one of the EVENTS.\"\"\"
            return LETTERS.get(id(event), "?")


        def run(source_marbles, *operators, lookup=EVENTS, label=letter):
            \"\"\"Apply ``operators`` to a cold marble source; returns the source's and
            the result's tapes.\"\"\"
            scheduler = TestScheduler()
            source = reactivex.cold(source_marbles, timespan=1, lookup=lookup, scheduler=scheduler)
            source_tape = Tape(lambda: scheduler.clock, letter)
            out_tape = Tape(lambda: scheduler.clock, label)
            source.subscribe(source_tape)
            source.pipe(*operators).subscribe(out_tape)
            scheduler.start()
            return source_tape, out_tape
        """
    ),
    md(
        """
        ## `on(flags)`: keep some event types

        On a shard, `on` also tells the shard which types to parse. Here, on a plain
        Observable, it filters.
        """
    ),
    code(
        """
        src, out = run("g-m-t-p-n-|", ops.on(EventTypeFlags.MESSAGE_CREATE))
        on_lines = diagram(("source", src), ("on(MESSAGE_CREATE)", out))
        """
    ),
    md(
        """
        ## `of_type(cls)`, then ordinary reactivex operators

        `of_type(MessageCreate)` keeps the typed events (a type checker sees
        `Observable[MessageCreate]`), so `m.content` is there to filter and map on.
        """
    ),
    code(
        """
        src, out = run(
            "g-m-t-p-n-|",
            ops.of_type(MessageCreate),
            ops.filter(lambda m: m.content.startswith("!")),
            ops.map(lambda m: m.content[1:]),
            label=lambda command: command[0],   # "ping" -> "p"
        )
        command_lines = diagram(("source", src), ("of_type|filter(!)|map", out))
        """
    ),
    md(
        """
        ## `merge` and `with_shard`

        `ops.merge` joins shards, groups and Observables (keeping the push-down of
        `on`), in arrival order. `with_shard` pairs each event with its shard: drawn
        here as the shard number.
        """
    ),
    code(
        """
        scheduler = TestScheduler()
        shard0 = reactivex.cold("m--m-m|", timespan=1, scheduler=scheduler,
                                lookup={"m": message("a", shard=S0)})
        shard1 = reactivex.cold("-m--m-m|", timespan=1, scheduler=scheduler,
                                lookup={"m": message("b", shard=S1)})
        clock = lambda: scheduler.clock
        tapes = {"shard 0": Tape(clock, lambda e: "0"), "shard 1": Tape(clock, lambda e: "1"),
                 "merge|with_shard": Tape(clock, lambda pair: str(pair[0].number))}
        shard0.subscribe(tapes["shard 0"])
        shard1.subscribe(tapes["shard 1"])
        ops.merge(shard0, shard1).pipe(ops.with_shard()).subscribe(tapes["merge|with_shard"])
        scheduler.start()
        merge_lines = diagram(*tapes.items())
        """
    ),
    md(
        """
        ## `route`: a table of handlers, one subscription

        Each event goes to every key it matches, in table order: a fan-out, not a
        switch. Keys are event classes, flags, predicates, or `(class, predicate)`;
        handlers are functions, `async def`s (run as tasks), Observers, or
        `pipeline(...)`s of operators. A handler that raises is reported on the
        `errors` stream (`!` below) and the others carry on.
        """
    ),
    code(
        """
        scheduler = TestScheduler()
        clock = lambda: scheduler.clock
        source = reactivex.cold("g-m-t-p-n-t-|", timespan=1, lookup=EVENTS, scheduler=scheduler)
        source_tape = Tape(clock, letter)
        source.subscribe(source_tape)

        messages = Tape(clock, letter)      # an Observer handler: hears the end too
        guilds_ = Tape(clock, letter)
        in_b = Tape(clock, letter)
        commands = Tape(clock, lambda c: c[0])
        errors_tape = Tape(clock, lambda failure: "!")
        failures = Subject()
        failures.subscribe(errors_tape)


        def typing_bug(event):
            raise RuntimeError("a bug in the typing handler")


        routing = source.pipe(ops.route({
            MessageCreate: messages,                                         # class -> Observer
            EventTypeFlags.GUILD_CREATE: guilds_.on_next,                    # flags -> function
            lambda e: e.guild_id == GUILD_B: in_b.on_next,                   # predicate -> function
            (MessageCreate, lambda m: m.content.startswith("!")): ops.pipeline(
                ops.map(lambda m: m.content[1:]), sink=commands,             # (class, predicate) -> pipeline
            ),
            TypingStart: typing_bug,                                         # raises every time
        }, errors=failures))
        scheduler.start()

        route_lines = diagram(
            ("source", source_tape),
            ("MessageCreate", messages),
            ("GUILD_CREATE", guilds_),
            ("guild_id == B", in_b),
            ("(Message, '!') pipeline", commands),
            ("errors", errors_tape),
        )
        print("route ended with its source:", routing.ended)
        """
    ),
    md(
        """
        ## `spawn`: async handlers as owned tasks

        `spawn(handler)` runs an `async def` per event as a task, at most
        `max_concurrency` at once, and emits results as they finish: the producer (a
        shard's read loop) never waits. Drawn from real time, one column per 50 ms:
        `a` takes 300 ms, `b` 50 ms, `c` 150 ms.
        """
    ),
    code(
        """
        TICK = 0.05
        DELAYS = {"a": 0.30, "b": 0.05, "c": 0.15}
        loop = asyncio.get_running_loop()


        async def slow(name):
            await asyncio.sleep(DELAYS[name])
            return name


        async def spawn_diagram(max_concurrency):
            start = loop.time()
            clock = lambda: loop.time() - start
            source = Subject()
            source_tape, out_tape = Tape(clock), Tape(clock)
            source.subscribe(source_tape)
            handler = ops.spawn(slow, max_concurrency=max_concurrency)
            source.pipe(handler).subscribe(out_tape)
            for name in "abc":
                source.on_next(name)
                await asyncio.sleep(TICK)
            source.on_completed()
            await handler.join()
            await asyncio.sleep(0)
            return source_tape, out_tape


        src, parallel = await spawn_diagram(4)
        _, serial = await spawn_diagram(1)
        spawn_lines = diagram(("source", src), ("spawn(max_concurrency=4)", parallel),
                              ("spawn(max_concurrency=1)", serial), tick=TICK)
        """
    ),
    md(
        """
        A failing handler is reported on `errors` as a `HandlerError` (which handler,
        which event) and the stream goes on.
        """
    ),
    code(
        """
        async def fragile(name):
            if name == "b":
                raise ValueError("b is bad")
            return name.upper()


        spawn_errors, results = [], []
        failing = Subject()
        source = Subject()
        handler = ops.spawn(fragile, errors=failing)
        failing.subscribe(spawn_errors.append)
        source.pipe(handler).subscribe(results.append)
        for name in "abc":
            source.on_next(name)
        source.on_completed()
        await handler.join()
        print("results:", results)
        print("errors: ", [str(e) for e in spawn_errors])
        """
    ),
    code(
        """
        assert on_lines["on(MESSAGE_CREATE)"] == "--m---p-n-|"
        assert command_lines["of_type|filter(!)|map"] == "------p---|"
        assert merge_lines["merge|with_shard"] == "01-0101|"
        assert route_lines == {
            "source": "g-m-t-p-n-t-|",
            "MessageCreate": "--m---p-n---|",
            "GUILD_CREATE": "g",
            "guild_id == B": "----t---n-t",
            "(Message, '!') pipeline": "------p-----|",
            "errors": "----!-----!",
        }
        assert routing.ended
        assert [v for _, v in parallel.marks] == ["b", "c", "a", "|"]   # completion order
        assert [v for _, v in serial.marks] == ["a", "b", "c", "|"]     # one at a time: arrival order
        assert sorted(results) == ["A", "C"] and len(spawn_errors) == 1
        assert isinstance(spawn_errors[0], ops.HandlerError) and spawn_errors[0].event == "b"
        print("checks passed")
        """,
        "checks",
    ),
]


# -----------------------------------------------------------------------------------
# 03 · Live traffic
# -----------------------------------------------------------------------------------

LIVE_TRAFFIC = [
    md(
        """
        # 03 · Live traffic

        Two shards on the emulator, a few seconds of mixed traffic, and two plots:
        events per second by type (counted with `buffer_with_time` on the notebook's
        event loop), and each shard's heartbeat round trip.
        """
    ),
    code(
        """
        %matplotlib inline
        import asyncio
        from collections import Counter

        import matplotlib.pyplot as plt
        from reactivex.scheduler.eventloop import AsyncIOScheduler

        from rxgateway import Config, InMemoryQueue, Intents, create_recommended, ops
        from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
        from rxgateway.events import Dispatch, GatewayHeartbeatAck

        SECONDS = 4.0   # of traffic
        RATE = 400      # events per second, both shards together
        WINDOW = 0.25   # seconds per point of the rate plot
        MIX = "messages=40,presences=25,typing=20,reactions=15"
        """
    ),
    code(
        """
        emu = GatewayEmulator(shards=2, max_concurrency=2, heartbeat_interval_ms=250, identify_window_s=0.2, guilds=8)
        await emu.start()
        config = Config(
            DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url, api_url=emu.api_url,
            queue=InMemoryQueue(identify_interval=0.2),
        )
        group = await create_recommended(config)   # GET /gateway/bot: the recommended 2 shards
        loop = asyncio.get_running_loop()
        group
        """
    ),
    md(
        """
        ## The measuring pipelines
        """
    ),
    code(
        """
        # Events per WINDOW, by type: a Counter per time window.
        windows = []   # (end of the window, Counter of event names)
        rate_subscription = group.pipe(
            ops.of_type(Dispatch),
            ops.map(lambda e: e.name),
            ops.buffer_with_time(WINDOW, scheduler=AsyncIOScheduler(loop)),
            ops.map(Counter),
        ).subscribe(lambda counts: windows.append((loop.time(), counts)))

        # Heartbeat round trips, per shard.
        acks = []      # (time, shard number, milliseconds)
        ack_subscription = group.pipe(
            ops.of_type(GatewayHeartbeatAck),
            ops.filter(lambda ack: ack.latency is not None),
        ).subscribe(lambda ack: acks.append((loop.time(), ack.shard.number, ack.latency * 1000)))
        """
    ),
    code(
        """
        await group.start()
        await group.ready(timeout=10)
        t0 = loop.time()
        emu.start_traffic(RATE, MIX)
        await asyncio.sleep(SECONDS)
        emu.stop_traffic()
        await asyncio.sleep(2 * WINDOW)   # the last window closes
        display(group)
        """
    ),
    md(
        """
        Close before plotting: drawing is synchronous and holds the event loop, and
        with a 250 ms heartbeat a pause of 375 ms would already count as a missed
        heartbeat (the emulator would record it as a rule violation). The same holds
        for any long computation in a cell while shards are connected.
        """
    ),
    code(
        """
        group.close()
        await group.closed()
        await emu.stop()
        """
    ),
    code(
        """
        during = [(t - t0, counts) for t, counts in windows if t >= t0]
        totals = sum((counts for _, counts in during), Counter())
        top_types = [name for name, _ in totals.most_common(5)]

        fig, (rates, latency) = plt.subplots(2, 1, figsize=(11, 6), sharex=True)
        times = [t for t, _ in during]
        for name in top_types:
            rates.plot(times, [counts[name] / WINDOW for _, counts in during], label=name)
        rates.set_ylabel("events / s")
        rates.set_title(f"{sum(totals.values())} events in {SECONDS:.0f} s, by type")
        rates.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
        for number in sorted({shard for _, shard, _ in acks}):
            points = [(t - t0, ms) for t, shard, ms in acks if shard == number]
            latency.plot([t for t, _ in points], [ms for _, ms in points], marker="o", label=f"shard {number}")
        latency.set_ylabel("heartbeat round trip (ms)")
        latency.set_xlabel("seconds since the traffic started")
        latency.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
        plt.tight_layout()
        plt.show()
        """,
        "plot",
    ),
    code(
        """
        for name, count in totals.most_common():
            print(f"{name:<30} {count:6d}  {count / SECONDS:7.1f}/s")
        for number in (0, 1):
            round_trips = [ms for _, shard, ms in acks if shard == number]
            print(f"shard {number}: {len(round_trips)} heartbeats, "
                  f"average round trip {sum(round_trips) / len(round_trips):.2f} ms")
        """
    ),
    code(
        """
        assert sum(totals.values()) > 0.5 * RATE * SECONDS
        assert {"MESSAGE_CREATE", "PRESENCE_UPDATE", "TYPING_START"} <= set(totals)
        assert {shard for _, shard, _ in acks} == {0, 1}
        assert len(acks) >= 2 * (SECONDS / 0.25) / 2      # heartbeats kept going under load
        assert all(0 < ms < 1000 for _, _, ms in acks)
        assert emu.violations == []
        print("checks passed")
        """,
        "checks",
    ),
]


# -----------------------------------------------------------------------------------
# 04 · Faults and resumes
# -----------------------------------------------------------------------------------

FAULTS = [
    md(
        """
        # 04 · Faults and resumes

        The emulator injects faults into live connections while traffic flows: a
        reconnect request (op 7), a dropped TCP connection, a zombie connection that
        stops acknowledging heartbeats, and a resumable invalid session (op 9). Each
        time the shard resumes its session, and the gateway replays what it missed.

        We watch each shard's state stream, and a `SequenceAudit` counts gaps and
        repeats in every session's dispatch sequence: both must stay at zero.
        """
    ),
    code(
        """
        import asyncio

        from rxgateway import Config, InMemoryQueue, Intents, create_recommended, ops
        from rxgateway.audit import SequenceAudit
        from rxgateway.emulator import DEFAULT_TOKEN, Fault, GatewayEmulator
        from rxgateway.events import GatewayClose, Resumed

        emu = GatewayEmulator(
            shards=2, max_concurrency=2, guilds=6,
            heartbeat_interval_ms=300, identify_window_s=0.2,
            reconnect_close_delay_s=0.3, invalid_session_close_delay_s=0.3,
        )
        await emu.start()
        config = Config(
            DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url, api_url=emu.api_url,
            queue=InMemoryQueue(identify_interval=0.2),
        )
        group = await create_recommended(config)
        loop = asyncio.get_running_loop()
        """
    ),
    md(
        """
        ## Watch

        `shard.states` is an Observable of the shard's state (a new subscriber gets
        the current one first); `GatewayClose` events say who closed and with which
        code; `Resumed` marks each successful resume.
        """
    ),
    code(
        """
        audit = SequenceAudit()
        group.subscribe(audit)   # every dispatch of both shards

        t0 = loop.time()
        timeline = []            # (seconds, shard, state)
        for shard in group:
            shard.states.subscribe(lambda state, n=shard.id.number: timeline.append((loop.time() - t0, n, str(state))))

        closes = []
        group.pipe(ops.of_type(GatewayClose)).subscribe(
            lambda c: closes.append((round(loop.time() - t0, 2), c.shard.number, c.code, c.initiator)))
        resumes = {0: 0, 1: 0}
        group.pipe(ops.of_type(Resumed)).subscribe(
            lambda r: resumes.update({r.shard.number: resumes[r.shard.number] + 1}))

        await group.start()
        await group.ready(timeout=10)
        RATE = 300
        emu.start_traffic(RATE, "messages=50,presences=30,typing=20")
        traffic_started = loop.time()
        display(group)
        """
    ),
    md(
        """
        ## Break things
        """
    ),
    code(
        """
        PLAN = [
            ("op 7: reconnect", Fault.reconnect(), 0),
            ("dropped TCP connection", Fault.drop(), 1),
            ("zombie: no heartbeat ACKs", Fault.zombie(), 0),
            ("op 9: invalid session, resumable", Fault.invalid_session(resumable=True), 1),
        ]


        async def resumed_again(number, before, timeout=10):
            async with asyncio.timeout(timeout):
                while resumes[number] == before:
                    await asyncio.sleep(0.01)


        for label, fault, number in PLAN:
            before = resumes[number]
            injected = loop.time()
            emu.inject(fault, shard=number)
            await resumed_again(number, before)
            print(f"{label:<34} shard {number}: resumed {loop.time() - injected:.2f} s later")
            await asyncio.sleep(0.3)   # traffic goes on in between

        emu.stop_traffic()
        traffic_seconds = loop.time() - traffic_started
        await asyncio.sleep(0.3)
        """
    ),
    code(
        """
        print(" time   shard  state")
        for t, number, state in timeline:
            print(f"{t:5.2f}s  {number:^5}  {state}")
        print()
        print("closes (time, shard, code, initiator):")
        for close in closes:
            print(" ", close)
        """
    ),
    code(
        """
        group.close()
        await group.closed()
        await emu.stop()
        print(f"dispatches {audit.delivered}, sessions {audit.sessions}, "
              f"gaps {audit.gaps}, duplicates {audit.duplicates}, resumes {resumes}")
        """
    ),
    code(
        """
        assert audit.gaps == 0 and audit.duplicates == 0
        assert audit.delivered > 0.5 * RATE * traffic_seconds, audit.delivered
        assert audit.sessions == 2                 # one READY per shard: every fault ended in a resume
        assert resumes == {0: 2, 1: 2}
        assert sum(len(c.identifies) for c in emu.record.connections) == 2
        assert all(r.accepted for c in emu.record.connections for r in c.resumes)
        assert sum(s == "Resuming" for _, _, s in timeline) == 4
        assert emu.violations == []
        print("checks passed")
        """,
        "checks",
    ),
]


# -----------------------------------------------------------------------------------
# 05 · The bus
# -----------------------------------------------------------------------------------

BUS = [
    md(
        """
        # 05 · The bus

        A gateway that holds the shards, and services that act on its events,
        elsewhere: the gateway side publishes every dispatch to a bus as the bytes it
        received (`ops.publish(broker)`); a service reads a `Bus`, an Observable of the
        same typed events a local shard gives, and sends commands back through
        `bus.sender` to whichever process holds the guild's shard.

        Here all of it runs in this kernel, on a throwaway `nats-server -js` (NATS
        JetStream; `RedisStreamsBroker` is the same on Redis Streams): the emulator, a
        gateway `ShardGroup`, a work-sharing consumer and a fan-out consumer. In
        production each is its own process (see `examples/bus_services.py`).
        """
    ),
    code(
        """
        import asyncio
        from collections import Counter

        from rxgateway import Config, EventTypeFlags, InMemoryQueue, Intents, create_recommended, ops
        from rxgateway.bus import Bus, JetStreamBroker
        from rxgateway.emulator import DEFAULT_TOKEN, GatewayEmulator
        from rxgateway.emulator.shapes import message
        from rxgateway.events import Dispatch, GuildMembersChunk, MessageCreate
        from rxgateway.protocol import RequestGuildMembers, shard_for_guild
        from rxgateway.tools.nats_server import NatsServer

        emu = GatewayEmulator(shards=2, max_concurrency=2, guilds=4, heartbeat_interval_ms=500, identify_window_s=0.2)
        await emu.start()
        nats = NatsServer()   # nats-server -js on a free loopback port, its store in a temporary directory
        nats.start()
        print("gateway", emu.url, "| bus", nats.url)
        """
    ),
    md(
        """
        ## The consumers

        A consumer receives what is published from its start on, so the services
        start first.

        - **fan-out**, `Bus(broker)`: this consumer sees every event. Here it counts
          them by type.
        - **work-sharing**, `Bus(broker, group="moderation")`: each event goes to one
          member of the group, wherever the members run. `consume(flags, handler)`
          runs an async handler per event and acknowledges the event once the handler
          finished: a member that dies mid-handler leaves it to another. The broker is
          asked for `MESSAGE_CREATE` only; nothing else crosses the wire to it.

        Each has its own broker connection, as separate processes would.
        """
    ),
    code(
        """
        counts = Counter()
        fanout = Bus(JetStreamBroker(nats.url, app="notebook"))
        fanout.pipe(ops.of_type(Dispatch)).subscribe(lambda event: counts.update([event.name]))

        workers = Bus(JetStreamBroker(nats.url, app="notebook"), group="moderation")
        handled = []   # (author, content)


        async def moderate(event):
            \"\"\"``!members`` asks the gateway for the guild's members: a command back.\"\"\"
            handled.append((event.author.username, event.content))
            if event.content == "!members":
                await workers.sender.deliver(RequestGuildMembers(event.guild_id, query="", limit=0, nonce="moderation"))


        consuming = asyncio.create_task(workers.consume(EventTypeFlags.MESSAGE_CREATE, moderate))
        await asyncio.sleep(0.5)   # both subscribe to the broker
        print(fanout)
        print(workers)
        """
    ),
    md(
        """
        ## The gateway side

        The recommended shards, and `ops.publish(broker)`: a sink on each shard queues
        the dispatch's bytes unparsed, a task publishes them in batches, and the
        commands of the bus go to the shard that owns each guild. Its result emits a
        `GatewayErrorEvent` for each problem of the bus, and completes after the shards
        did, once what was queued is published.
        """
    ),
    code(
        """
        config = Config(
            DEFAULT_TOKEN, Intents.all(), gateway_url=emu.url, api_url=emu.api_url,
            queue=InMemoryQueue(identify_interval=0.2),
        )
        gateway_broker = JetStreamBroker(nats.url, app="notebook")
        group = await create_recommended(config)
        problems = []
        published = asyncio.Event()
        group.pipe(ops.publish(gateway_broker)).subscribe(problems.append, lambda e: published.set(), published.set)

        await group.start()
        await group.ready(timeout=10)
        await emu.wait_for(lambda: counts["GUILD_CREATE"] == 4, timeout=10)
        dict(counts)
        """
    ),
    md(
        """
        ## Events flowing, a command going back

        A member of each guild says something; in the first guild, `!members`. The
        moderation consumer gets each message once; its `!members` becomes a Request
        Guild Members (op 8) through the bus to the gateway, which hands it to the
        shard of that guild; the emulator answers with a GUILD_MEMBERS_CHUNK, which
        comes back over the bus to the fan-out consumer.
        """
    ),
    code(
        """
        world = emu.state.world
        said = []
        for n, guild in enumerate(world.guilds):
            author = world.members(guild)[0]
            content = "!members" if n == 0 else f"hello from {guild.name}"
            message_id = 1_300_000_000_000_000_000 + n
            emu.dispatch("MESSAGE_CREATE", message(message_id, guild.text_channels[0].id, author, content,
                                                   1_751_371_200_000, guild.id))
            said.append(content)

        await emu.wait_for(lambda: len(handled) == len(said) and counts["GUILD_MEMBERS_CHUNK"] >= 1, timeout=10)
        for author, content in handled:
            print(f"moderation: {author} said {content!r}")
        request = next(c for c in emu.record.commands if c.op == 8)
        print(f"the emulator got op 8 on shard {request.shard}: {request.data}")
        print("fan-out counts:", dict(counts))
        print("fan-out consumer:", fanout.stats)
        """
    ),
    md(
        """
        ## Stop

        The consumers first, then the shards (with `CloseFrame.NORMAL`); the publisher
        completes once what the shards received last is published. Then the brokers,
        the server and the emulator.
        """
    ),
    code(
        """
        consuming.cancel()
        await asyncio.gather(consuming, return_exceptions=True)
        await fanout.aclose()
        await workers.aclose()
        group.close()
        await group.closed()
        await asyncio.wait_for(published.wait(), 15)
        for broker in (fanout.broker, workers.broker, gateway_broker):
            await broker.aclose()
        nats.close()
        await emu.stop()
        print("stopped; nats-server running:", nats.running)
        """
    ),
    code(
        """
        guild = world.guilds[0]
        assert sorted(content for _, content in handled) == sorted(said)   # each message once
        assert request.data["guild_id"] == str(guild.id) and request.data["nonce"] == "moderation"
        assert request.shard.number == shard_for_guild(guild.id, 2)   # the guild's own shard
        assert counts["READY"] == 2 and counts["GUILD_CREATE"] == len(world.guilds)
        assert counts["MESSAGE_CREATE"] == len(said) and counts["GUILD_MEMBERS_CHUNK"] >= 1
        assert workers.stats["failed_handlers"] == 0 and not problems
        assert all(c.close_received == 1000 for c in emu.record.connections)
        assert emu.violations == [] and not nats.running
        print("checks passed")
        """,
        "checks",
    ),
]


NOTEBOOKS: dict[str, list[Cell]] = {
    "01_getting_started": GETTING_STARTED,
    "02_operators_and_routing": OPERATORS,
    "03_live_traffic": LIVE_TRAFFIC,
    "04_faults_and_resumes": FAULTS,
    "05_bus": BUS,
}


def build(name: str, cells: list[Cell]) -> nbformat.NotebookNode:
    """The notebook ``name`` with ``cells``, outputs empty, ids stable."""
    notebook = new_notebook(
        metadata={"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}},
    )
    for index, cell in enumerate(cells):
        cell_id = f"{name[:2]}-{index:02d}"
        if cell.kind == "md":
            notebook.cells.append(new_markdown_cell(cell.source, id=cell_id))
        else:
            metadata = {"tags": cell.tags} if cell.tags else {}
            notebook.cells.append(new_code_cell(cell.source, id=cell_id, metadata=metadata))
    return notebook


def render(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="report notebooks that differ from this file")
    args = parser.parse_args(argv)
    stale = []
    for name, cells in NOTEBOOKS.items():
        path = HERE / f"{name}.ipynb"
        text = render(build(name, cells))
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(HERE.parent)}")
    if stale:
        print(f"out of date (run python notebooks/build.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
