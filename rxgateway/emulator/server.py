"""The emulator itself: an aiohttp server with the gateway websocket, the REST
endpoints and the control API, plus the Python API tests and benchmarks drive.

Routes: the websocket at ``/`` and ``/resume`` (with or without a trailing slash),
REST under ``/api/v10`` (see :mod:`.rest`), the control API under ``/_emulator`` (see
:mod:`.control`).

Example::

    async with GatewayEmulator(heartbeat_interval_ms=500) as emu:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{emu.url}/?v=10&encoding=json")
            hello = await ws.receive_json()
            ...
        emu.dispatch("MESSAGE_CREATE", {...})           # to every session that owns the guild
        await emu.burst(100_000, mix="messages=1")      # as fast as the clients read
        emu.push(30_000, "MESSAGE_CREATE", shard=0)     # into shard 0's session now (a backlog
                                                        # for its Resume if it is detached)
        emu.inject(Fault.reconnect(), shard=0)          # op 7 to shard 0
        emu.schedule_dispatch_faults(5000, ["reconnect", "drop"])  # every 5000 dispatches written
        await emu.wait_for(lambda: emu.record.for_shard(0)[-1].resumes)
        assert not emu.violations
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any, TypeVar

from aiohttp import web

from ..protocol import ShardId
from .compression import COMPRESSIONS, make_encoder
from .connection import Connection
from .control import ControlApi
from .dispatch import OutgoingDispatch
from .faults import DEFAULT_DISPATCH_FAULTS, DispatchFaultPlan, Fault, FaultKind
from .gateway_state import GatewayState
from .journal import ConnectionRecord, Note, Record, RestCall, SentMessage, Violation
from .payloads import BUILDERS
from .playback import ReplaySource
from .rest import RestApi, json_response
from .sessions import ServerSession
from .settings import DEFAULT_GATEWAY_VERSION, EmulatorConfig
from .traffic import DEFAULT_MIX, TrafficGenerator

T = TypeVar("T")

#: Websocket paths: the gateway URL and the ``resume_gateway_url`` of READY.
GATEWAY_PATHS = ("/", "/resume", "/resume/")
#: Read client frames up to 1 MiB, so an oversized payload earns 4002 (§4.2) rather
#: than aiohttp's own 1009 at 4096 bytes.
MAX_RECEIVE_BYTES = 1 << 20
#: How long a close handshake may take before the socket is cut.
CLOSE_TIMEOUT_S = 5.0
#: How long ``stop()`` waits for clients to answer the close frames.
STOP_TIMEOUT_S = 5.0
#: ``wait_for`` checks its condition this often.
WAIT_POLL_S = 0.005
#: A burst cycles through this many distinct pre-serialised events: generating a fresh
#: event costs ~25 us, which would cap a burst near 40k events/s.
BURST_POOL_SIZE = 1024
#: A burst hands this many events to the sessions, then lets the writers catch up.
BURST_BATCH = 256
#: :meth:`GatewayEmulator.push` generates this many distinct events per shard, then
#: cycles through them with fresh ids (a generated MESSAGE_CREATE costs ~0.1 ms).
PUSH_POOL_SIZE = 256
#: Rate-mode traffic is produced in ticks of 10 ms, and never catches up more than 1 s.
TRAFFIC_TICK_S = 0.01
MAX_CATCH_UP_S = 1.0
#: Detached sessions past their resume window are deleted this often.
SWEEP_INTERVAL_S = 0.5
#: Hosts that mean "every interface": the URLs then name loopback.
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


class GatewayEmulator:
    """A local Discord gateway on a real socket (GATEWAY.md §12).

    ``GatewayEmulator(config, **changes)``: any :class:`EmulatorConfig` field can be
    given as a keyword, e.g. ``GatewayEmulator(shards=4, heartbeat_interval_ms=200)``.
    Use it as ``async with``, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, config: EmulatorConfig | None = None, **changes: Any) -> None:
        self.config = dataclasses.replace(config or EmulatorConfig(), **changes)
        self.state = GatewayState(self.config)
        self.record: Record = self.state.record
        self._runner: web.AppRunner | None = None
        self._generators: dict[str, TrafficGenerator] = {}
        self._pusher: TrafficGenerator | None = None
        self._chaos = random.Random(f"chaos-{self.config.seed}")
        self._tasks: set[asyncio.Task[None]] = set()
        self._traffic: asyncio.Task[None] | None = None
        self.port = 0
        #: The recording served to every session (``replay=path``), loaded now.
        self.replay: ReplaySource | None = None
        if self.config.replay is not None:
            self.replay = ReplaySource(
                self.config.replay, speed=self.config.replay_speed, route=self.config.replay_route
            )
            self.replay.bind(self._spawn, self.state.sessions, self.record.replays, self.state.clock)
            self.state.replay = self.replay

    # -- lifecycle ---------------------------------------------------------------

    async def __aenter__(self) -> GatewayEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Bind the server (a free port unless ``config.port`` is set)."""
        app = web.Application()
        for path in GATEWAY_PATHS:
            app.router.add_get(path, self._websocket)
        RestApi(self.state).install(app)
        ControlApi(self).install(app)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=STOP_TIMEOUT_S)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.state.gateway_url = self.url
        self.state.resume_url = f"{self.url}/resume"
        self._own(asyncio.get_running_loop().create_task(self._sweep()))
        self.state.watch.start()

    async def stop(self) -> None:
        """Stop traffic, close every connection with 1001, and unbind."""
        self.stop_traffic()
        self.state.watch.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for connection in list(self.state.connections.values()):
            connection.close_soon(1001, "emulator stopping")
        try:
            await self.wait_for(lambda: not self.state.connections, timeout=STOP_TIMEOUT_S)
        except TimeoutError:
            pass  # the runner's cleanup cuts what is left
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- addresses ---------------------------------------------------------------

    @property
    def host(self) -> str:
        return "127.0.0.1" if self.config.host in WILDCARD_HOSTS else self.config.host

    @property
    def url(self) -> str:
        """The gateway URL, ``ws://127.0.0.1:PORT`` (what ``GET /gateway`` returns)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The REST base, ``http://127.0.0.1:PORT/api/v10`` (hikari's ``rest_url``)."""
        return f"{self.http_url}/api/v10"

    # -- what happened -----------------------------------------------------------

    @property
    def violations(self) -> list[Violation]:
        """Every rule a client broke; empty when all behaved."""
        return self.record.violations

    @property
    def messages_sent(self) -> list[SentMessage]:
        """Messages created with ``POST /channels/{id}/messages``."""
        return self.record.messages

    @property
    def rest_calls(self) -> list[RestCall]:
        """Every REST request under ``/api/v10``, in order (never its token)."""
        return self.record.rest_calls

    @property
    def notes(self) -> list[Note]:
        """What clients sent that Discord accepts but GATEWAY.md does not describe,
        accepted and noted rather than closed (see :class:`~.journal.Note`)."""
        return self.record.notes

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock ``seconds`` forward: every window it keeps expires
        as if that time had passed (identify concurrency, the daily session starts, the
        resume window of detached sessions, payload / presence / member-request rate
        limits). Heartbeat timeouts and the close delays after op 7 / op 9 are timers
        of the event loop: they keep real time (shrink them in the config instead).
        Record times are read from the same clock, so they jump too.

        Example::

            emu.advance(emu.config.resume_window_s)   # detached sessions can no longer resume
        """
        self.state.clock.advance(seconds)
        self.state.sessions.sweep(self.state.clock())

    @property
    def connections(self) -> list[ConnectionRecord]:
        """The records of the connections open now."""
        return [c.record for c in self.state.connections.values()]

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy and return its value.

        Raises ``TimeoutError`` after ``timeout`` seconds. Example::

            conn = await emu.wait_for(lambda: emu.record.for_shard(1), timeout=2)
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            await asyncio.sleep(WAIT_POLL_S)

    async def _sweep(self) -> None:
        """Forget expired sessions, so they stop buffering events."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            self.state.sessions.sweep(self.state.clock())

    # -- sharding ----------------------------------------------------------------

    def recommend_shards(self, shards: int) -> None:
        """Change the shard count ``GET /gateway/bot`` recommends, at runtime (as
        Discord does when a bot grows). Sessions of any shard count keep being served
        side by side, each routed by its own count (a reshard's two generations).

        Example::

            emu.recommend_shards(8)    # GET /gateway/bot now answers "shards": 8
        """
        if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
            raise ValueError(f"the recommended shard count must be a positive integer, got {shards!r}")
        self.config = dataclasses.replace(self.config, shards=shards)
        self.state.config = self.config

    # -- traffic -----------------------------------------------------------------

    def dispatch(self, t: str, d: dict[str, Any]) -> None:
        """Deliver a dispatch to every session it is routed to (by ``guild_id``; shard
        0 without one), filtered by intents and content rules as Discord does."""
        self._deliver(OutgoingDispatch.build(t, d))

    def traffic(self, mix: str | Mapping[str, float] = DEFAULT_MIX) -> TrafficGenerator:
        """The generator for ``mix`` (one per mix, so its stream continues)."""
        key = mix if isinstance(mix, str) else ",".join(f"{k}={v}" for k, v in sorted(mix.items()))
        generator = self._generators.get(key)
        if generator is None:
            bot = self.state.accounts.all[0].user
            generator = self._generators[key] = TrafficGenerator(self.state.world, bot, self.config.seed, mix)
        return generator

    async def burst(self, count: int, mix: str | Mapping[str, float] = DEFAULT_MIX) -> None:
        """Deliver ``count`` generated events as fast as the clients read them.

        Events cycle through :data:`BURST_POOL_SIZE` distinct pre-serialised ones.
        """
        pool = self.traffic(mix).take(min(count, BURST_POOL_SIZE))
        deliver = self._deliver
        for start in range(0, count, BURST_BATCH):
            for index in range(start, min(count, start + BURST_BATCH)):
                deliver(pool[index % len(pool)])
            await self._drained()

    def push(
        self, count: int, t: str = "MESSAGE_CREATE", *, shard: int | None = None, session: str | None = None
    ) -> int:
        """Push ``count`` generated ``t`` events into sessions *now*, attached or not: a
        detached session buffers them for its Resume (mind ``replay_buffer_length``), an
        attached one queues them all at once (for a flood paced to the reader use
        :meth:`burst`). Returns how many dispatches the sessions received in all.

        Targets: the live sessions of ``shard`` (a shard number), or ``session`` (a
        session id), or every live session. Routing is bypassed, nothing else: each
        session numbers and buffers the events as usual and filters them by its intents
        and the content rules (a session without the needed intent gets nothing). Guild
        events happen in guilds the target's shard owns (any guild if it owns none);
        events that can happen in a DM (MESSAGE_CREATE, ...) are always guild events.
        The first :data:`PUSH_POOL_SIZE` events per shard are generated afresh; later
        ones repeat them, ``*_CREATE`` events with a fresh ``id`` each (so 30,000
        MESSAGE_CREATEs are 30,000 distinct messages). Deterministic for the seed; no
        duplicates chaos; stamped when ``stamp`` is on.

        Raises ``ValueError`` for an unknown ``t``, a negative ``count`` or no matching
        session. Example (the client is away, then resumes into a 30,000-event replay)::

            await client.close(4000)
            await emu.wait_for(lambda: not emu.connections)
            assert emu.push(30_000, "MESSAGE_CREATE", shard=0) == 30_000
        """
        if t not in BUILDERS:
            raise ValueError(f"unknown event {t!r}; known: {sorted(BUILDERS)}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a non-negative integer, got {count!r}")
        now = self.state.clock()
        targets = [
            s
            for s in self.state.sessions
            if (shard is None or s.shard.number == shard)
            and (session is None or s.id == session)
            and (s.expires_at is None or now < s.expires_at)
        ]
        if not targets:
            raise ValueError(f"no live session matches shard={shard} session={session}")
        by_shard: dict[ShardId, list[ServerSession]] = {}
        for target in targets:
            by_shard.setdefault(target.shard, []).append(target)
        if self._pusher is None:
            bot = self.state.accounts.all[0].user
            self._pusher = TrafficGenerator(self.state.world, bot, self.config.seed, "all")
        generator, stamp = self._pusher, self.config.stamp
        before = sum(target.seq for target in targets)
        for shard_id, sessions in by_shard.items():
            guilds = self.state.world.guilds_of(shard_id)
            pool = [generator.make_in(t, guilds) for _ in range(min(count, PUSH_POOL_SIZE))]
            for index in range(count):
                dispatch = pool[index] if index < len(pool) else generator.renew(pool[index % len(pool)])
                if stamp:
                    dispatch = dispatch.with_stamp(time.perf_counter_ns())
                for target in sessions:
                    target.push(dispatch)
        return sum(target.seq for target in targets) - before

    def start_burst(self, count: int, mix: str | Mapping[str, float] = DEFAULT_MIX) -> None:
        """Run :meth:`burst` in the background (cancelled by :meth:`stop`)."""
        self._own(asyncio.get_running_loop().create_task(self.burst(count, mix)))

    def start_traffic(self, rate: float, mix: str | Mapping[str, float] = DEFAULT_MIX) -> None:
        """Generate ``rate`` events per second of ``mix`` until :meth:`stop_traffic`."""
        self.stop_traffic()
        self._traffic = asyncio.get_running_loop().create_task(self._pump(rate, self.traffic(mix)))

    def stop_traffic(self) -> None:
        if self._traffic is not None:
            self._traffic.cancel()
            self._own(self._traffic)
            self._traffic = None

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run ``coroutine`` as a task of the emulator (cancelled by :meth:`stop`)."""
        self._own(asyncio.get_running_loop().create_task(coroutine))

    def _own(self, task: asyncio.Task[None]) -> None:
        """Keep ``task`` until it ends; :meth:`stop` cancels and awaits it."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pump(self, rate: float, generator: TrafficGenerator) -> None:
        due = 0.0
        last = time.monotonic()
        while True:
            await asyncio.sleep(TRAFFIC_TICK_S)
            now = time.monotonic()
            due = min(due + (now - last) * rate, rate * MAX_CATCH_UP_S)
            last = now
            for _ in range(int(due)):
                self._deliver(generator.next())
            due -= int(due)
            await self._drained()

    def _deliver(self, dispatch: OutgoingDispatch) -> None:
        if self.config.stamp:
            dispatch = dispatch.with_stamp(time.perf_counter_ns())
        route = self.state.sessions.route
        route(dispatch)
        if self.config.duplicate_rate and self._chaos.random() < self.config.duplicate_rate:
            route(dispatch)

    async def _drained(self) -> None:
        """Let every writer run, and wait for those with a backlog."""
        await asyncio.sleep(0)
        for connection in list(self.state.connections.values()):
            await connection.drained()

    # -- faults ------------------------------------------------------------------

    def inject(
        self, fault: Fault, *, shard: int | None = None, connection: int | None = None, session: str | None = None
    ) -> list[int]:
        """Inject ``fault`` into the open connections of ``shard`` (a shard number), or
        ``connection`` (a connection id), or ``session`` (a session id); every open
        connection if none is given. Returns the ids of the connections affected.

        ``Fault.reconnect_before_hello()`` and ``Fault.bad_hello()`` take no target: they
        arm the next connection.
        """
        if fault.kind is FaultKind.RECONNECT_BEFORE_HELLO:
            self.state.reconnects_before_hello += 1
            return []
        if fault.kind is FaultKind.BAD_HELLO:
            self.state.bad_hellos.append(fault.interval_ms)
            return []
        hit = []
        for conn in list(self.state.connections.values()):
            if shard is not None and (conn.record.shard is None or conn.record.shard.number != shard):
                continue
            if connection is not None and conn.id != connection:
                continue
            if session is not None and (conn.session is None or conn.session.id != session):
                continue
            if conn.apply(fault):
                hit.append(conn.id)
        return hit

    def schedule_faults(self, faults: list[Fault], every_s: float, shard: int | None = None) -> None:
        """Inject ``faults`` in turn, one every ``every_s`` seconds, until :meth:`stop`."""

        async def loop() -> None:
            for fault in itertools.cycle(faults):
                await asyncio.sleep(every_s)
                self.inject(fault, shard=shard)

        self._own(asyncio.get_running_loop().create_task(loop()))

    def schedule_dispatch_faults(
        self, every: int, faults: Iterable[Fault | str] = DEFAULT_DISPATCH_FAULTS
    ) -> DispatchFaultPlan:
        """From now on, on every connection, apply the next of ``faults`` each time
        ``every`` more dispatch frames have been written to its socket (see
        :class:`~.faults.DispatchFaultPlan`: the cycle is kept per session, a closing
        fault cuts the stream exactly there). ``faults`` are :class:`Fault` objects or
        ``KIND[:ARG]`` strings; by default reconnect, invalid_session:true, close:4000,
        drop. Replaces any earlier plan; every connection restarts its count at its
        next write and every session its cycle at the first fault. The same as ``GatewayEmulator(fault_every_dispatches=every,
        dispatch_faults=faults)`` from the start. Raises ``ValueError`` for a bad plan.

        Example::

            emu.schedule_dispatch_faults(1000, ["reconnect", "invalid_session:true", "close:4000", "drop"])
        """
        plan = DispatchFaultPlan.make(every, faults)
        self.state.fault_plan = plan
        return plan

    def stop_dispatch_faults(self) -> None:
        """Stop the faults of :meth:`schedule_dispatch_faults` (or of the config)."""
        self.state.fault_plan = None

    # -- the websocket -----------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        compression = query.get("compress")
        if compression not in COMPRESSIONS:
            return json_response({"message": f"unsupported compress {compression!r}", "code": 0}, 400)
        if query.get("encoding", "json") != "json":
            return json_response({"message": "this emulator speaks encoding=json only", "code": 0}, 400)
        ws = web.WebSocketResponse(
            timeout=CLOSE_TIMEOUT_S, compress=False, max_msg_size=MAX_RECEIVE_BYTES, decode_text=False
        )
        await ws.prepare(request)
        state = self.state
        record = ConnectionRecord(state.new_connection_id(), request.path, dict(query), compression, state.clock())
        state.record.connections.append(record)
        connection = Connection(state, ws, request, record, make_encoder(compression, self.config))
        await connection.run(version_ok=_version(query.get("v")) in self.config.versions)
        return ws


def _version(value: str | None) -> int | None:
    """The ``v`` query value as a number (6 when absent, §1.2), ``None`` if not a number."""
    if value is None:
        return DEFAULT_GATEWAY_VERSION
    return int(value) if value.isdigit() else None
