"""One websocket connection: the gateway protocol as the server plays it.

Theory of operation. The aiohttp handler task runs :meth:`Connection.run`: it sends
Hello, then reads client frames and handles each one synchronously (rules decide,
handlers answer by queueing payloads). A second task, the writer, owns the encoder
and sends queued payloads in order; heartbeat ACKs and heartbeat requests jump the
queue, so a burst of dispatches cannot starve them. Dispatches are queued by the
session (see :mod:`.sessions`), which numbers and buffers them first.

Closing is one door, :meth:`close`: it stops the writer (queued frames are dropped;
dispatches stay in the session's replay buffer) and sends the close frame. Closes
decided elsewhere (faults, a missed heartbeat, the delay after op 7 / op 9) go through
:meth:`close_soon`, whose task the connection owns and awaits when it ends. When the
socket ends, the session is deleted if the client closed with 1000/1001 and kept for
the resume window otherwise.

Resume (§3.6). An accepted Resume queues every buffered dispatch after the client's
``seq``, in order and with its original ``s``, and only then pushes ``RESUMED`` (the
next ``s``) through the session: RESUMED is therefore written strictly after the last
replayed dispatch, and a connection that ends in the middle of its replay (a fault,
a drop) never sends RESUMED at all; the client resumes again from the last sequence
it received and gets the rest, then RESUMED.

Faults by dispatch count (``fault_every_dispatches``, see
:class:`~.faults.DispatchFaultPlan`). The writer counts the dispatch frames it hands
to the socket (so a replay, queued at once, is cut exactly after N of its frames).
Only while a plan is set, or a corrupt_dispatch is pending, does the writer take the
counting path; otherwise its batching loop is unchanged. At the fault point the batch
ends and is written; a closing fault then halts the connection (its queue is dropped
and no dispatch is queued any more, the session's replay buffer keeping them all),
sends op 7 / op 9 if the fault has one, and closes after the usual delay. A drop
first waits (bounded) for the written bytes to leave the socket buffer.

Example::

    connection = Connection(state, ws, request, record, make_encoder(None, config))
    await connection.run(version_ok=True)
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from ..protocol import CloseCode, OpCode
from . import rules, shapes
from .accounts import BOT_PREFIX
from .compression import Encoder, Frame, PayloadZlibEncoder, ZlibStreamEncoder
from .dispatch import OutgoingDispatch
from .faults import CLOSING_FAULTS, DispatchFaultPlan, Fault, FaultKind
from .framing import frame
from .gateway_state import GatewayState
from .journal import (
    CommandRecord,
    ConnectionRecord,
    DispatchFaultRecord,
    HeartbeatRecord,
    IdentifyRecord,
    PayloadRecord,
    ResumeRecord,
)
from .journal import ViolationKind as V
from .limits import SlidingWindow
from .loop_watch import PERIOD
from .rules import Refusal
from .sessions import ServerSession

#: Client close codes that end the session at once (§3.9).
SESSION_ENDING_CODES = frozenset({1000, 1001})
#: A payload that is not JSON (the invalid-json fault); compressed like any payload.
INVALID_JSON = b'{"t":null,"s":null,"op":0,"d":{"unterminated'
#: Where a dispatch envelope's head ends (``{"t":"NAME","s":N,"op":0,"d":``).
DISPATCH_HEAD_END = b',"op":0,"d":'
#: A drop fired by the dispatch count waits at most this long for the written bytes
#: to leave the socket buffer (a client that stopped reading must not stall it).
DROP_FLUSH_TIMEOUT_S = 5.0
#: A burst waits while a connection has more than this many frames queued.
DRAIN_LOW_WATER = 1024
#: The writer joins frames until a batch holds this many bytes, then writes it.
WRITE_BATCH_BYTES = 64 * 1024
#: The API version READY reports (§3.5).
API_VERSION = 10

Handler = Callable[[Any, float], None]


class Payload:
    """A queued payload that is not a dispatch (Hello, op 7, op 9, hostile bytes):
    encoded like a dispatch, but not counted as one by the dispatch-count faults.
    (Dispatches are queued as plain ``bytes``, raw frames as :data:`Frame` tuples.)"""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def corrupt_dispatch(frame: bytes) -> bytes:
    """``frame`` (a dispatch envelope) with its head intact and the second half of its
    ``d`` cut off: a proper prefix of a JSON object, so never valid JSON.

    >>> corrupt_dispatch(b'{"t":"X","s":3,"op":0,"d":{"id":"12"}}')
    b'{"t":"X","s":3,"op":0,"d":{"id"'
    """
    head = frame.index(DISPATCH_HEAD_END) + len(DISPATCH_HEAD_END)
    body = frame[head:-1]
    return frame[:head] + body[: max(1, len(body) // 2)]


def dispatch_seq(frame: bytes) -> int:
    """The ``s`` of a dispatch envelope built by the session.

    >>> dispatch_seq(b'{"t":"X","s":42,"op":0,"d":{}}')
    42
    """
    return int(frame[frame.index(b'"s":') + 4 : frame.index(DISPATCH_HEAD_END)])


class Connection:
    """The server side of one client websocket."""

    def __init__(
        self,
        state: GatewayState,
        ws: web.WebSocketResponse,
        request: web.Request,
        record: ConnectionRecord,
        encoder: Encoder,
    ) -> None:
        self.state = state
        self.ws = ws
        self.request = request
        self.record = record
        self.encoder = encoder
        self.session: ServerSession | None = None
        config = state.config
        self._payloads = SlidingWindow(config.payload_limit, config.payload_window_s)
        self._presences = SlidingWindow(config.presence_limit, config.presence_window_s)
        #: Dispatches (bytes), other payloads (:class:`Payload`) and raw frames, in order.
        self._queue: deque[bytes | Payload | Frame] = deque()
        self._urgent: deque[tuple[bytes, HeartbeatRecord | None]] = deque()
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._zombie = not config.ack_heartbeats
        self._closing = False
        #: A closing fault fired by the dispatch count: no more dispatches are queued.
        self._halted = False
        #: The dispatch-fault plan this connection counts for, and its count so far.
        self._plan: DispatchFaultPlan | None = None
        self._written = 0
        #: The fault-cycle position when no session is attached (restarts with a new plan).
        self._faults_fired = 0
        #: corrupt_dispatch faults waiting for the next dispatch.
        self._corrupt_pending = 0
        self._watchdog: asyncio.TimerHandle | None = None
        self._closer: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._handlers: dict[int, Handler] = {
            OpCode.HEARTBEAT: self._heartbeat,
            OpCode.IDENTIFY: self._identify,
            OpCode.RESUME: self._resume,
            OpCode.PRESENCE_UPDATE: self._presence,
            OpCode.VOICE_STATE_UPDATE: self._voice_state,
            OpCode.REQUEST_GUILD_MEMBERS: self._request_members,
            OpCode.REQUEST_SOUNDBOARD_SOUNDS: self._soundboard,
            OpCode.REQUEST_CHANNEL_INFO: self._channel_info,
        }

    @property
    def id(self) -> int:
        return self.record.id

    # -- lifecycle ---------------------------------------------------------------

    async def run(self, version_ok: bool) -> None:
        """Greet the client, serve it until the socket ends, then settle its session."""
        state = self.state
        state.connections[self.id] = self
        self._writer = asyncio.get_running_loop().create_task(self._write())
        try:
            if not version_ok:
                await self._refuse(Refusal(CloseCode.INVALID_API_VERSION, V.INVALID_API_VERSION, "bad v"))
                return
            if state.reconnects_before_hello > 0:
                state.reconnects_before_hello -= 1
                self.apply(Fault.reconnect())
            elif state.bad_hellos:
                self.send_op(OpCode.HELLO, {"heartbeat_interval": state.bad_hellos.pop(0)})
                self._arm_watchdog()
            else:
                self.send_op(OpCode.HELLO, {"heartbeat_interval": state.config.heartbeat_interval_ms})
                self._arm_watchdog()
            await self._read()
        finally:
            await self._end()

    async def _read(self) -> None:
        ws = self.ws
        while True:
            msg = await ws.receive()
            if msg.type is WSMsgType.TEXT or msg.type is WSMsgType.BINARY:
                try:
                    self._receive(msg.data)
                except Refusal as refusal:
                    await self._refuse(refusal)
                    return
            elif msg.type is WSMsgType.CLOSE:
                self.record.close_received = msg.data
                return
            else:  # CLOSING (we closed), CLOSED or ERROR (the link broke)
                return

    async def _end(self) -> None:
        state = self.state
        self.record.closed_at = state.clock()
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._closer is not None:
            if not self._closing:  # still waiting out its delay: the socket ended first
                self._closer.cancel()
            await asyncio.gather(self._closer, return_exceptions=True)
        self._closing = True
        self._drained.set()
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        session = self.session
        if session is not None and session.connection is self:
            client_ended = self.record.close_sent is None and self.record.close_received in SESSION_ENDING_CODES
            if client_ended:
                state.sessions.delete(session)
            else:
                state.sessions.detach(session, state.clock())
        state.connections.pop(self.id, None)

    async def close(self, code: int, reason: str = "") -> None:
        """Close the websocket with ``code`` (queued payloads are dropped)."""
        if self._closing:
            return
        self._closing = True
        self.record.close_sent = code
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()
        await self.ws.close(code=code, message=reason.encode())

    def drop(self) -> None:
        """Cut the TCP connection without a close frame."""
        if self._closing:
            return
        self._closing = True
        self.record.dropped = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def drained(self) -> None:
        """Wait until at most :data:`DRAIN_LOW_WATER` payloads are queued (or it closed)."""
        while len(self._queue) > DRAIN_LOW_WATER and not self._closing:
            self._drained.clear()
            await self._drained.wait()

    def close_soon(self, code: int, reason: str = "", delay_s: float = 0.0) -> None:
        """Close with ``code`` after ``delay_s`` from a task this connection owns
        (the first such request wins)."""
        if self._closer is None and not self._closing:
            self._closer = asyncio.get_running_loop().create_task(self._close_after(delay_s, code, reason))

    async def _close_after(self, delay_s: float, code: int, reason: str) -> None:
        await asyncio.sleep(delay_s)
        await self.close(code, reason)

    async def _refuse(self, refusal: Refusal) -> None:
        self.state.violate(self.record, refusal.kind, refusal.detail, refusal.code)
        await self.close(refusal.code, refusal.detail[:100])

    # -- sending -----------------------------------------------------------------

    def send_dispatch(self, seq: int, frame: bytes) -> None:
        """Queue a numbered dispatch (called by the attached session); dropped once the
        connection is closing or halted (the session's replay buffer keeps it)."""
        if self._closing or self._halted:
            return
        self._queue.append(frame)
        self.record.sequences.append(seq)
        self._wake.set()

    def send_op(self, op: int, d: Any) -> None:
        """Queue a non-dispatch payload, in order with the dispatches."""
        self._queue.append(Payload(orjson.dumps({"t": None, "s": None, "op": op, "d": d})))
        self.record.ops_sent.append((self.state.clock(), op))
        self._wake.set()

    def _send_urgent(self, op: int, beat: HeartbeatRecord | None = None) -> None:
        self._urgent.append((orjson.dumps({"t": None, "s": None, "op": op, "d": None}), beat))
        self.record.ops_sent.append((self.state.clock(), op))
        self._wake.set()

    async def _write(self) -> None:
        """Send queued payloads, many frames per ``transport.write`` (see :mod:`.framing`)."""
        queue, urgent, wake, drained = self._queue, self._urgent, self._wake, self._drained
        state = self.state
        clock = state.clock
        drain = self.request.writer.drain
        while True:
            if not queue and not urgent:
                wake.clear()
                await wake.wait()
                continue
            transport = self.request.transport
            if transport is None or transport.is_closing():
                return
            encode = self.encoder.encode
            parts: list[bytes] = []
            acked: list[HeartbeatRecord] = []
            while urgent:
                payload, beat = urgent.popleft()
                parts.extend(frame(opcode, data) for opcode, data in encode(payload))
                if beat is not None:
                    acked.append(beat)
            plan = state.fault_plan
            if plan is not self._plan:
                self._plan, self._written, self._faults_fired = plan, 0, 0
            fault = None
            if plan is None and not self._corrupt_pending:
                size = 0
                while queue and size < WRITE_BATCH_BYTES:
                    item = queue.popleft()
                    if isinstance(item, bytes):
                        frames = encode(item)
                    elif isinstance(item, Payload):
                        frames = encode(item.data)
                    else:
                        frames = [item]
                    for opcode, data in frames:
                        parts.append(frame(opcode, data))
                        size += len(data)
            else:
                fault = self._batch_counted(parts, encode, plan)
            transport.write(b"".join(parts))
            now = clock()
            for beat in acked:
                beat.acked_at = now
            if fault is not None:
                await self._fire(fault)
            if len(queue) <= DRAIN_LOW_WATER:
                drained.set()
            await drain()

    def _batch_counted(
        self, parts: list[bytes], encode: Callable[[bytes], list[Frame]], plan: DispatchFaultPlan | None
    ) -> Fault | None:
        """Fill a batch like :meth:`_write` does, counting the dispatches and corrupting
        one if asked; the batch ends at a fault point, whose fault is returned."""
        queue = self._queue
        size = 0
        while queue and size < WRITE_BATCH_BYTES:
            item = queue.popleft()
            if isinstance(item, bytes):
                if self._corrupt_pending:
                    self._corrupt_pending -= 1
                    self.record.corrupted.append(dispatch_seq(item))
                    frames = encode(corrupt_dispatch(item))
                else:
                    frames = encode(item)
            elif isinstance(item, Payload):
                frames = encode(item.data)
            else:
                frames = [item]
            for opcode, data in frames:
                parts.append(frame(opcode, data))
                size += len(data)
            if plan is not None and isinstance(item, bytes):
                self._written += 1
                if self._written % plan.every == 0:
                    fault = self._next_fault(plan)
                    record = DispatchFaultRecord(self.state.clock(), fault, self._written, dispatch_seq(item))
                    self.record.dispatch_faults.append(record)
                    return fault
        return None

    def _next_fault(self, plan: DispatchFaultPlan) -> Fault:
        """The next fault of the cycle: per session, so its order does not depend on timing."""
        session = self.session
        if session is not None:
            if session.dispatch_fault_plan is not plan:
                session.dispatch_fault_plan, session.dispatch_faults_fired = plan, 0
            index = session.dispatch_faults_fired
            session.dispatch_faults_fired = index + 1
        else:
            index = self._faults_fired
            self._faults_fired = index + 1
        return plan.faults[index % len(plan.faults)]

    async def _fire(self, fault: Fault) -> None:
        """Apply ``fault`` at the point of the stream the writer reached: a closing one
        halts the connection first; payloads a fault queues go before the rest."""
        if fault.kind in CLOSING_FAULTS:
            self._halt()
            if fault.kind is FaultKind.DROP:
                await self._flush()
        queued = len(self._queue)
        if self.apply(fault):
            self._queue.rotate(len(self._queue) - queued)

    def _halt(self) -> None:
        """Write no more dispatches: drop the queue (the session's replay buffer keeps
        the dispatches) and refuse new ones until the connection closes."""
        self._halted = True
        self._queue.clear()
        self._drained.set()

    async def _flush(self) -> None:
        """Wait (at most :data:`DROP_FLUSH_TIMEOUT_S`) until the socket buffer is empty."""
        transport = self.request.transport
        if transport is None or transport.is_closing():
            return
        transport.set_write_buffer_limits(high=0)  # drain() now waits for an empty buffer
        try:
            await asyncio.wait_for(self.request.writer.drain(), DROP_FLUSH_TIMEOUT_S)
        except (TimeoutError, ConnectionError):
            pass

    # -- receiving ---------------------------------------------------------------

    def _receive(self, frame: bytes) -> None:
        now = self.state.clock()
        payloads = self.record.payloads
        if not self._payloads.hit(now):
            payloads.append(PayloadRecord(now, None, len(frame)))
            limit = self.state.config.payload_limit
            raise Refusal(CloseCode.RATE_LIMITED, V.RATE_LIMITED, f"more than {limit} payloads in the window")
        try:
            op, d = rules.decode(frame)
        except Refusal:
            payloads.append(PayloadRecord(now, None, len(frame)))
            raise
        payloads.append(PayloadRecord(now, op, len(frame)))
        rules.check_op(op, self.session is not None)
        self._handlers[op](d, now)

    def _heartbeat(self, d: Any, now: float) -> None:
        beat = HeartbeatRecord(now, rules.parse_heartbeat(d))
        self.record.heartbeats.append(beat)
        self._arm_watchdog()
        if not self._zombie:
            self._send_urgent(OpCode.HEARTBEAT_ACK, beat)

    def _arm_watchdog(self) -> None:
        timeout = self.state.config.heartbeat_timeout_s
        if timeout is None or self._closing:
            return
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._watchdog = asyncio.get_running_loop().call_later(timeout, self._heartbeat_missed)

    def _heartbeat_missed(self) -> None:
        """The deadline passed; look once more after the loop has read what is waiting.

        The timer can fire in the same pass of the loop that reads a heartbeat sent in
        time (after the emulator was held up), before the heartbeat's handler runs; a
        second look :data:`~rxgateway.emulator.loop_watch.PERIOD` later comes after it,
        and a heartbeat handled meanwhile re-arms the watchdog, cancelling this look.
        """
        self._watchdog = asyncio.get_running_loop().call_later(PERIOD, self._heartbeat_still_missed)

    def _heartbeat_still_missed(self) -> None:
        code = self.state.config.heartbeat_timeout_close_code
        timeout = self.state.config.heartbeat_timeout_s
        self.state.violate(self.record, V.MISSED_HEARTBEAT, f"no heartbeat for {timeout} s", code)
        self.close_soon(code, "heartbeat timed out")

    def _identify(self, d: Any, now: float) -> None:
        if self.session is not None:
            raise Refusal(CloseCode.ALREADY_AUTHENTICATED, V.ALREADY_AUTHENTICATED, "second Identify")
        state, config = self.state, self.state.config
        identify = rules.parse_identify(d, config.shard_multiple)
        shard = identify.shard
        account = state.accounts.find(identify.token)

        def attempt(accepted: bool, session_id: str | None = None) -> None:
            self.record.identifies.append(
                IdentifyRecord(
                    now,
                    shard,
                    shard.number % config.max_concurrency,
                    identify.intents,
                    identify.token.startswith(BOT_PREFIX),
                    accepted,
                    session_id,
                )
            )

        self.record.shard = shard
        try:
            if account is None:
                raise Refusal(CloseCode.AUTHENTICATION_FAILED, V.AUTHENTICATION_FAILED, "unknown token")
            rules.check_privileged(identify.intents, account.application_flags)
            guilds = state.world.guilds_of(shard)
            if len(guilds) > config.max_guilds_per_shard:
                raise Refusal(CloseCode.SHARDING_REQUIRED, V.SHARDING_REQUIRED, f"{len(guilds)} guilds on {shard}")
            gap = account.gate.try_pass(shard.number, now, state.watch.behind())
            if gap is not None:
                attempt(False)
                detail = (
                    f"bucket {account.gate.key(shard.number)} again {gap * 1000:.1f} ms after its last Identify "
                    f"(window {account.gate.window_s * 1000:g} ms)"
                )
                state.violate(self.record, V.IDENTIFY_CONCURRENCY, detail)
                self._invalid_session(False)
                return
            if not account.budget.take(now):
                state.revoke(account)
                raise Refusal(CloseCode.AUTHENTICATION_FAILED, V.SESSION_START_LIMIT, "session starts exhausted")
        except Refusal:
            attempt(False)
            raise
        session = state.sessions.create(account, identify.intents, shard, identify.large_threshold)
        session.presence = identify.presence
        for note in identify.notes:
            state.note(self.record, OpCode.IDENTIFY, note)
        attempt(True, session.id)
        self._attach(session)
        if identify.compress and self.record.compression is None:
            self.encoder = PayloadZlibEncoder(config.zlib_level, config.payload_compression_threshold)
        ready = {
            "v": API_VERSION,
            "user": {**shapes.user(account.user), "verified": True, "email": None, "flags": 0, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": state.resume_url,
            "application": {"id": str(account.user.id), "flags": account.application_flags},
        }
        if identify.shard_sent:
            ready["shard"] = shard.to_list()
        if state.replay is not None:  # a recording is served: its user and guilds
            state.replay.ready(ready, shard)
        session.push(OutgoingDispatch.build("READY", ready))
        if state.replay is not None:  # its GUILD_CREATEs and the rest, at its pace
            state.replay.serve(session)
            return
        for guild in guilds:
            members = state.world.members(guild)
            d = shapes.guild_create(guild, members, account.user, identify.intents, identify.large_threshold)
            session.push(OutgoingDispatch.build("GUILD_CREATE", d))

    def _resume(self, d: Any, now: float) -> None:
        """Replay every buffered dispatch after ``seq``, then RESUMED (queued last, so
        written strictly after the replay, or never if the connection ends first)."""
        if self.session is not None:
            raise Refusal(CloseCode.ALREADY_AUTHENTICATED, V.ALREADY_AUTHENTICATED, "Resume after a session began")
        state = self.state
        resume = rules.parse_resume(d)
        if state.accounts.find(resume.token) is None:
            raise Refusal(CloseCode.AUTHENTICATION_FAILED, V.AUTHENTICATION_FAILED, "unknown token")
        session = state.sessions.get(resume.session_id, now)
        resumes = self.record.resumes
        if session is None or session.account.token != resume.token.removeprefix(BOT_PREFIX):
            resumes.append(ResumeRecord(now, resume.session_id, resume.seq, False))
            self._invalid_session(False)
            return
        self.record.shard = session.shard
        if resume.seq > session.seq:
            resumes.append(ResumeRecord(now, resume.session_id, resume.seq, False))
            raise Refusal(CloseCode.INVALID_SEQUENCE, V.INVALID_SEQUENCE, f"seq {resume.seq} > {session.seq}")
        if not session.can_replay_from(resume.seq):
            resumes.append(ResumeRecord(now, resume.session_id, resume.seq, False))
            state.sessions.delete(session)
            self._invalid_session(False)
            return
        previous = session.connection
        displaced = None
        if isinstance(previous, Connection):
            displaced = previous.id
            previous.session = None
            previous.close_soon(state.config.server_close_code, "session resumed elsewhere")
        frames = session.frames_after(resume.seq)
        self._attach(session)
        for seq, frame in enumerate(frames, resume.seq + 1):
            self.send_dispatch(seq, frame)
        session.push(OutgoingDispatch.build("RESUMED", {}))
        resumes.append(ResumeRecord(now, resume.session_id, resume.seq, True, len(frames), displaced))

    def _attach(self, session: ServerSession) -> None:
        self.session = session
        self.record.shard = session.shard
        self.record.session_id = session.id
        session.connection = self
        session.expires_at = None
        if self._closer is not None and not self._closing:  # an Identify after op 9 on this socket
            self._closer.cancel()
            self._closer = None
            self._halted = False  # the close is called off: the new session's dispatches flow

    def _invalid_session(self, resumable: bool) -> None:
        config = self.state.config
        self.send_op(OpCode.INVALID_SESSION, resumable)
        self.close_soon(config.server_close_code, "invalid session", config.invalid_session_close_delay_s)

    # -- commands ----------------------------------------------------------------

    def _command(self, op: int, d: dict[str, Any], now: float) -> ServerSession:
        command = CommandRecord(now, self.id, self.record.shard, op, d)
        self.record.commands.append(command)
        self.state.record.commands.append(command)
        assert self.session is not None  # rules.check_op let only ops 1/2/6 through before
        return self.session

    def _violate(self, kind: V, detail: str) -> None:
        self.state.violate(self.record, kind, detail)

    def _presence(self, d: Any, now: float) -> None:
        notes: list[str] = []
        presence = rules.parse_presence(d, notes)
        session = self._command(OpCode.PRESENCE_UPDATE, presence, now)
        for note in notes:
            self.state.note(self.record, OpCode.PRESENCE_UPDATE, note)
        if not self._presences.hit(now):
            self._violate(V.PRESENCE_RATE_LIMITED, "more than 5 presence updates in 20 s; ignored")
            return
        self.state.commands.presence(session, presence)

    def _voice_state(self, d: Any, now: float) -> None:
        request = rules.parse_voice_state(d)
        self.state.commands.voice_state(self._command(OpCode.VOICE_STATE_UPDATE, d, now), request, self._violate)

    def _request_members(self, d: Any, now: float) -> None:
        request = rules.parse_request_members(d)
        session = self._command(OpCode.REQUEST_GUILD_MEMBERS, d, now)
        self.state.commands.request_members(session, request, now, self._violate)

    def _soundboard(self, d: Any, now: float) -> None:
        guild_ids = rules.parse_soundboard(d)
        session = self._command(OpCode.REQUEST_SOUNDBOARD_SOUNDS, d, now)
        self.state.commands.soundboard(session, guild_ids, self._violate)

    def _channel_info(self, d: Any, now: float) -> None:
        guild_id, fields = rules.parse_channel_info(d)
        session = self._command(OpCode.REQUEST_CHANNEL_INFO, d, now)
        self.state.commands.channel_info(session, guild_id, fields, self._violate)

    # -- faults ------------------------------------------------------------------

    def apply(self, fault: Fault) -> bool:
        """Inject ``fault`` into this connection; False if it does not apply here."""
        if self._closing:
            return False
        config = self.state.config
        kind = fault.kind
        if kind is FaultKind.CLOSE:
            self.close_soon(fault.code, "fault injected")
        elif kind is FaultKind.DROP:
            self.drop()
        elif kind is FaultKind.ZOMBIE:
            self._zombie = True
        elif kind is FaultKind.RECONNECT:
            self.send_op(OpCode.RECONNECT, None)
            self.close_soon(config.server_close_code, "reconnect", config.reconnect_close_delay_s)
        elif kind is FaultKind.INVALID_SESSION:
            if not fault.resumable and self.session is not None:
                self.state.sessions.delete(self.session)
                self.session = None
            self._invalid_session(fault.resumable)
        elif kind is FaultKind.CORRUPT_FRAME:
            self._queue.append(self.encoder.corrupt())
            self._wake.set()
        elif kind is FaultKind.INVALID_JSON:
            self._queue.append(Payload(INVALID_JSON))
            self._wake.set()
        elif kind is FaultKind.CORRUPT_DISPATCH:
            self._corrupt_pending += 1
        elif kind is FaultKind.REQUEST_HEARTBEAT:
            self._send_urgent(OpCode.HEARTBEAT)
        elif kind is FaultKind.SLOW_LINK:
            if not isinstance(self.encoder, ZlibStreamEncoder):
                return False
            self.encoder.split_bytes = fault.chunk_bytes
        elif kind is FaultKind.RAW:
            if fault.frame == "payload":
                self._queue.append(Payload(fault.data))
            else:
                opcode = {"text": WSMsgType.TEXT, "binary": WSMsgType.BINARY, "close": WSMsgType.CLOSE}[fault.frame]
                if opcode is WSMsgType.CLOSE:
                    # The server started this close: the client's echo must not count as
                    # a client close that ends the session.
                    self.record.close_sent = int.from_bytes(fault.data[:2], "big") if len(fault.data) >= 2 else 1005
                self._queue.append((opcode, fault.data))
            self._wake.set()
        else:  # RECONNECT_BEFORE_HELLO and BAD_HELLO concern the next connection
            return False
        return True
